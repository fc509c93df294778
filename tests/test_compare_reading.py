"""netplan compare on run folders edited by hand: the file and field named, never a silent zero.

Small runs (not the demo), so these run with the fast tests; the comparisons of real plans
are in test_compare.py.
"""

from __future__ import annotations

import json
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
from typer.testing import CliRunner

import netplan
from netplan.cli import app

from conftest import write_small_case

try:
    runner = CliRunner(mix_stderr=False)
except TypeError:
    runner = CliRunner()


@pytest.fixture(scope="module")
def small_run(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("small_run")
    scenario = write_small_case(folder / "case")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        netplan.write_run(netplan.run_scenario(netplan.Scenario.from_yaml(scenario)), folder / "a")
    return folder / "a"


def _record(edit: Callable[[dict], None]) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        record = json.loads((folder / "run.json").read_text())
        edit(record)
        (folder / "run.json").write_text(json.dumps(record))

    return apply


def _kpis(edit: Callable[[pd.DataFrame], pd.DataFrame]) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        frame = pd.read_csv(folder / "kpis.csv", dtype=str, keep_default_na=False)
        edit(frame).to_csv(folder / "kpis.csv", index=False)

    return apply


def _outlets(edit: Callable[[pd.DataFrame], None]) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        gpkg = folder / "plan.gpkg"
        outlets = pyogrio.read_dataframe(gpkg, layer="outlets")
        demand = pyogrio.read_dataframe(gpkg, layer="demand")
        edit(outlets)
        gpkg.unlink()
        pyogrio.write_dataframe(outlets, gpkg, layer="outlets", driver="GPKG")
        pyogrio.write_dataframe(demand, gpkg, layer="demand", driver="GPKG")

    return apply


def _cell(column: str, value: str, row: int = 0):
    def edit(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[row, column] = value
        return frame

    return edit


def _set_path(record: dict, dotted: str, value) -> None:
    *parents, last = dotted.split(".")
    node = record
    for key in parents:
        node = node[key]
    node[last] = value


def _del_path(record: dict, dotted: str) -> None:
    *parents, last = dotted.split(".")
    node = record
    for key in parents:
        node = node[key]
    del node[last]


EDITS = [
    ("cost-total-null", _record(lambda r: _set_path(r, "cost.plan.total", None)),
     "run.json: field 'cost.plan.total' is null, not a number; not what netplan writes"),
    ("cost-capex-text", _record(lambda r: _set_path(r, "cost.plan.capex", "12")),
     "run.json: field 'cost.plan.capex' is \"12\", not a number"),
    ("cost-total-missing", _record(lambda r: _del_path(r, "cost.plan.total")),
     "run.json: field 'cost.plan.total' is missing"),
    ("cost-plan-missing", _record(lambda r: _del_path(r, "cost.plan")),
     "run.json: field 'cost.plan' is null"),
    ("cost-bool", _record(lambda r: _set_path(r, "cost.plan.open", True)),
     "run.json: field 'cost.plan.open' is True, not a number"),
    ("budget-text", _record(lambda r: _set_path(r, "budget.total", "lots")),
     "run.json: field 'budget.total' is \"lots\""),
    ("scenario-list", _record(lambda r: _set_path(r, "scenario", [])),
     "run.json: field 'scenario' is []"),
    ("scenario-name-number", _record(lambda r: _set_path(r, "scenario.name", 7)),
     "run.json: field 'scenario.name' is 7"),
    ("inputs-hash-number", _record(lambda r: _set_path(r, "inputs.demand.sha256", 5)),
     "run.json: field 'inputs' is"),
    ("kpi-text", _kpis(_cell("covered_pct_plan", "abc", 1)),
     "kpis.csv: row 3: column 'covered_pct_plan' is \"abc\", not what netplan writes"),
    ("kpi-count-empty", _kpis(_cell("demand_plan", "")),
     "kpis.csv: row 2: column 'demand_plan' is empty"),
    ("kpi-count-negative", _kpis(_cell("covered_plan", "-4")),
     "kpis.csv: row 2: column 'covered_plan' is -4"),
    ("kpi-inf", _kpis(_cell("dist_mean_km_plan", "inf")),
     "kpis.csv: row 2: column 'dist_mean_km_plan' is inf"),
    ("kpi-duplicate-row", _kpis(lambda f: pd.concat([f, f.iloc[[0]]], ignore_index=True)),
     "a second row of the same region and level"),
    ("outlet-tier-unknown", _outlets(lambda o: o.__setitem__("tier", o["tier"].where(o.index != 0, "mega"))),
     "plan.gpkg: layer 'outlets', row 1: tier \"mega\" is not a level of kpis.csv"),
    ("outlet-id-duplicate", _outlets(lambda o: o.__setitem__("site_id", o["site_id"].where(o.index != 1, o["site_id"].iloc[0]))),
     "plan.gpkg: layer 'outlets', row 2: a duplicate site_id \"E1\""),
    ("outlet-cost-text", _outlets(lambda o: o.__setitem__("cost", o["cost"].astype(str).where(o.index != 0, "free"))),
     "plan.gpkg: layer 'outlets': column 'cost' is not a number everywhere"),
]  # fmt: skip


@pytest.mark.parametrize("edit, message", [e[1:] for e in EDITS], ids=[e[0] for e in EDITS])
def test_an_edited_run_folder_is_refused_naming_file_and_field(small_run, tmp_path, edit, message):
    edited = tmp_path / "b"
    shutil.copytree(small_run, edited)
    edit(edited)
    before = {p.name: p.read_bytes() for p in edited.iterdir()}
    with pytest.raises(netplan.CompareError) as info:
        netplan.compare(small_run, edited)
    assert message in str(info.value)
    assert str(info.value).startswith(str(edited))
    out = tmp_path / "outs" / "cmp"
    result = runner.invoke(app, ["compare", str(small_run), str(edited), "--out", str(out)])
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and message in errors[0], result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert not out.parent.exists() or not any(out.parent.iterdir())
    assert {p.name: p.read_bytes() for p in edited.iterdir()} == before


def test_an_unedited_copy_compares_as_equal(small_run, tmp_path):
    """The checks pass what netplan wrote: a copy of the run differs from it in nothing."""
    copy = tmp_path / "b"
    shutil.copytree(small_run, copy)
    c = netplan.compare(small_run, copy)
    assert c.change_counts() == {"added": 0, "removed": 0, "retiered": 0}
    record = json.loads((small_run / "run.json").read_text())
    assert c.cost.loc["total", "a"] == record["cost"]["plan"]["total"] == c.cost.loc["total", "b"]
    assert (c.cost["delta"] == 0).all()
