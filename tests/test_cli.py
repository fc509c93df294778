"""The command line through typer's test runner: validate, run, demo, and bad input."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import yaml
from shapely.geometry import Point
from typer.testing import CliRunner

from netplan.cli import app

from conftest import DEMO_SCENARIO, RUN_FILES, write_small_case

try:  # click < 8.2 mixes stderr into stdout unless told not to
    runner = CliRunner(mix_stderr=False)
except TypeError:
    runner = CliRunner()


def _errors(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


def _no_leftovers(parent: Path, name: str) -> None:
    assert not (parent / name).exists(), "an output folder was left behind"
    assert not [p for p in parent.iterdir() if p.name.startswith(f".{name}.tmp-")], (
        "a temporary folder was left behind"
    )


def test_validate_demo_prints_a_summary():
    result = runner.invoke(app, ["validate", str(DEMO_SCENARIO)])
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert re.search(r"demand\s+│\s+21012", text)
    assert re.search(r"candidates\s+│\s+400", text)
    assert "EPSG:32632" in text
    assert re.search(r"community\s+│\s+community point\s+│\s+3 km\s+│\s+20 km", text)
    assert re.search(r"city\s+│\s+2525\s+│\s+7,530", text)  # city demand no site can reach
    assert text.rstrip().endswith("valid")


def test_run_small_case_writes_every_output(tmp_path):
    scenario = write_small_case(tmp_path / "case")
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(scenario), "--out", str(out)])
    assert result.exit_code == 0, result.stderr + result.stdout
    assert sorted(p.name for p in out.iterdir()) == RUN_FILES
    assert "status optimal" in result.stdout
    outlets = pyogrio.read_dataframe(out / "plan.gpkg", layer="outlets")
    assert outlets["site_id"].is_unique and len(outlets) >= 3
    run = json.loads((out / "run.json").read_text())
    assert run["solver"]["status"] == "optimal"
    kpis = pd.read_csv(out / "kpis.csv")
    assert list(kpis["level"]) == ["hub", "point"]
    page = (out / "map.html").read_text()
    assert not re.search(r"<script[^>]+src=", page)
    # a second run into the same folder is refused without --overwrite, allowed with it
    again = runner.invoke(app, ["run", str(scenario), "--out", str(out)])
    assert again.exit_code == 2 and "exists and is not empty" in _errors(again)[0]
    again = runner.invoke(app, ["run", str(scenario), "--out", str(out), "--overwrite"])
    assert again.exit_code == 0


def test_cbc_backend_gives_the_same_plan(tmp_path):
    scenario = write_small_case(tmp_path / "case")
    outs = {}
    for backend in ("highs", "cbc"):
        out = tmp_path / backend
        result = runner.invoke(app, ["run", str(scenario), "--out", str(out), "--backend", backend])
        assert result.exit_code == 0, result.stderr
        outs[backend] = json.loads((out / "run.json").read_text())["solver"]
    assert outs["cbc"]["stages"][0]["solver"] == "CBC"
    assert outs["cbc"]["objective"] == pytest.approx(outs["highs"]["objective"])
    for a, b in zip(outs["cbc"]["stages"], outs["highs"]["stages"], strict=False):
        if (
            a["extra"].get("exact_objective") is not None
            and b["extra"].get("exact_objective") is not None
        ):
            assert a["extra"]["exact_objective"] == pytest.approx(
                b["extra"]["exact_objective"], rel=1e-9
            )


def test_demo_command(tmp_path):
    out = tmp_path / "demo"
    result = runner.invoke(app, ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    assert "status optimal" in result.stdout
    assert (out / "map.html").stat().st_size > 100_000
    assert json.loads((out / "run.json").read_text())["solver"]["gap"] == 0


def _break(folder: Path, what: str) -> Path:
    scenario = write_small_case(folder)
    raw = yaml.safe_load(scenario.read_text())
    demand = pd.read_csv(folder / "demand.csv", dtype=str)
    if what == "missing file":
        (folder / "candidates.csv").unlink()
    elif what == "unknown column":
        raw["demand"]["weight"] = "custmers"
    elif what == "negative weight":
        demand.loc[7, "customers"] = "-2"
    elif what == "NaN weight":
        demand.loc[7, "customers"] = "NaN"
    elif what == "reach <= 0":
        raw["tiers"][1]["reach"] = "0 m"
    elif what == "geographic CRS with planar":
        raw["travel"]["crs"] = "EPSG:4326"
    elif what == "empty layer":
        demand = demand.iloc[:0]
    elif what == "unreadable layer":
        (folder / "outlets.csv").write_bytes(b"\x00\xff\xfe garbage\n\x00\x01")
    elif what == "unknown GeoPackage layer":
        cand = pd.read_csv(folder / "candidates.csv")
        frame = gpd.GeoDataFrame(cand, geometry=gpd.points_from_xy(cand.lon, cand.lat), crs=4326)
        frame.to_file(folder / "cand.gpkg", layer="sites")
        raw["candidates"].update(path="cand.gpkg", layer="site")
    elif what == "no CRS":
        frame = gpd.GeoDataFrame(demand, geometry=gpd.points_from_xy(demand.lon, demand.lat))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pyogrio warns about the missing CRS it writes
            frame.to_file(folder / "dem.gpkg")
        raw["demand"] = {"path": "dem.gpkg", "id": "cid", "weight": "customers"}
    elif what == "non-numeric weight":
        demand.loc[4, "customers"] = "many"
    elif what == "non-numeric cost":
        cand = pd.read_csv(folder / "candidates.csv", dtype=str)
        cand["open_cost_point"] = ["abc" if i == 3 else "10" for i in range(len(cand))]
        cand.to_csv(folder / "candidates.csv", index=False)
    elif what == "all-zero demand":
        demand["customers"] = "0"
    elif what == "empty geometry":
        cand = pd.read_csv(folder / "candidates.csv")
        frame = gpd.GeoDataFrame(cand, geometry=gpd.points_from_xy(cand.lon, cand.lat), crs=4326)
        frame.loc[5, "geometry"] = Point()
        frame.to_file(folder / "cand.gpkg")
        raw["candidates"]["path"] = "cand.gpkg"
    elif what == "duplicate id":
        cand = pd.read_csv(folder / "candidates.csv", dtype=str)
        cand.loc[3, "site"] = "S2"
        cand.to_csv(folder / "candidates.csv", index=False)
    elif what == "id shared by outlet and candidate":
        cand = pd.read_csv(folder / "candidates.csv", dtype=str)
        cand.loc[3, "site"] = "E1"
        cand.to_csv(folder / "candidates.csv", index=False)
    elif what == "unknown tier":
        outlets = pd.read_csv(folder / "outlets.csv", dtype=str)
        outlets.loc[1, "tier"] = "pont"
        outlets.to_csv(folder / "outlets.csv", index=False)
    elif what == "contradicting counts":
        raw["counts"] = [{"tier": "hub", "min": 3, "max": 1}]
    elif what == "unknown key":
        raw["budgte"] = raw.pop("budget")
    elif what == "wrong type":
        raw["solver"]["time_limit"] = "fast"
    elif what == "reach not decreasing":
        raw["tiers"][1]["reach"] = "20 km"
    elif what == "relative path missing":
        raw["demand"]["path"] = "../nowhere/demand.csv"
    elif what == "lon/lat swapped, out of range":
        demand.loc[0, ["lon", "lat"]] = [demand.loc[0, "lat"], "95.5"]
    elif what == "lon/lat swapped, in range":
        # the whole outlets file with x and y exchanged: every point is valid lon/lat
        outlets = pd.read_csv(folder / "outlets.csv")
        outlets[["lon", "lat"]] = outlets[["lat", "lon"]].to_numpy()
        outlets.to_csv(folder / "outlets.csv", index=False)
    elif what == "linkage missing":
        raw["tiers"].insert(1, {"key": "mid", "name": "mid", "reach": "5 km", "linkage": "20 km"})
        raw["costs"]["direct"]["mid"] = raw["costs"]["direct"]["hub"]
        del raw["tiers"][2]["linkage"]
    demand.to_csv(folder / "demand.csv", index=False)
    scenario.write_text(yaml.safe_dump(raw, sort_keys=False))
    return scenario


BAD_INPUT = {
    "missing file": r"candidates\.path: file not found: .*candidates\.csv; fix the path",
    "unknown column": r"column 'custmers' \(from 'demand\.weight'\) not found \(did you mean 'customers'\?\)",
    "negative weight": r"demand\.csv: row 9: column 'customers' is -2; it must be a finite number >= 0",
    "NaN weight": r"demand\.csv: row 9: column 'customers' is empty or NaN",
    "reach <= 0": r"tiers\[1\]\.reach: reach must be greater than 0, got '0 m'",
    "geographic CRS with planar": r"travel\.crs: EPSG:4326 is geographic \(degrees\) and 'planar' travel needs metres",
    "empty layer": r"demand\.csv: the demand layer has no rows; give a file with at least one row",
    "unreadable layer": r"outlets\.csv: cannot read the outlets CSV \(.*\); save it as UTF-8 CSV",
    "unknown GeoPackage layer": r"cand\.gpkg: no layer 'site' \(did you mean 'sites'\?\); layers are \['sites'\]; fix 'candidates\.layer'",
    "no CRS": r"dem\.gpkg: the demand layer has no CRS; set it in the file or give 'demand\.crs'",
    "non-numeric weight": r"demand\.csv: row 6: column 'customers' holds 'many', not a number \(1 such rows\); fix the values",
    "non-numeric cost": r"candidates\.csv: row 5: column 'open_cost_point' holds 'abc', not a number",
    "all-zero demand": r"demand\.csv: every demand weight is 0; there is nothing to cover\. Check the weight column 'customers'",
    "empty geometry": r"cand\.gpkg: row 6: empty or missing geometry \(1 such rows\); fix or remove them",
    "duplicate id": r"candidates\.csv: row 5: duplicate id 'S2' in column 'site' \(1 duplicates\); ids must be unique",
    "id shared by outlet and candidate": r"site id 'E1' appears 2 times \(in candidate, outlet\); ids of outlets and candidates must be unique",
    "unknown tier": r"outlets\.csv: row 3: unknown tier 'pont' in column 'tier' \(did you mean 'point'\?\)",
    "contradicting counts": r"counts\[0\]: min 3 is above max 1; swap or fix them",
    "unknown key": r"unknown key 'budgte' \(did you mean 'budget'\?\)",
    "wrong type": r"solver\.time_limit: Input should be a valid number.*\(got 'fast'\); fix the value",
    "reach not decreasing": r"tiers\[1\]\.reach: 20 km is longer than the reach of the level above \('hub', 8 km\); .*set reach_order: any",
    "relative path missing": r"demand\.path: file not found: .*nowhere/demand\.csv; fix the path \(relative paths start at the scenario's folder\)",
    "lon/lat swapped, out of range": r"demand\.csv: row 2: coordinates \(47\.\d+, 95\.5\) are outside longitude/latitude range; longitude and latitude look swapped",
    "lon/lat swapped, in range": r"outlets\.csv: row 2: point \(47\.17, 9\.62\) lies [\d,]+ km outside the extent of the other layers \(demand, candidates\) \(3 such rows\); longitude and latitude look swapped; exchange the x and y columns",
    "linkage missing": r"tiers\[2\]\.linkage: missing while tiers\[1\] \('mid'\) has one; give a reach \(e\.g\. '20 km'\) or 'none'",
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_raises_the_typed_error_from_the_library(tmp_path, case):
    """The same cases from Python: a NetplanError (a ValueError) with the same one line."""
    import netplan

    scenario = _break(tmp_path / "case", case)
    with pytest.raises(netplan.NetplanError) as err:
        netplan.prepare(netplan.Scenario.from_yaml(scenario))
    assert isinstance(err.value, ValueError)
    assert re.search(BAD_INPUT[case], str(err.value)), str(err.value)
    assert len(str(err.value).splitlines()) == 1


@pytest.mark.parametrize("case", list(BAD_INPUT))
@pytest.mark.parametrize("command", ["run", "validate"])
def test_bad_input_is_one_clear_line(tmp_path, case, command):
    scenario = _break(tmp_path / "case", case)
    before = {p.name: p.read_bytes() for p in scenario.parent.iterdir()}
    args = [command, str(scenario)] + (["--out", str(tmp_path / "out")] if command == "run" else [])
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.stdout + result.stderr
    errors = _errors(result)
    assert len(errors) == 1, result.stderr
    assert re.search(BAD_INPUT[case], errors[0]), errors[0]
    assert "Traceback" not in result.stderr + result.stdout
    _no_leftovers(tmp_path, "out")
    assert {p.name: p.read_bytes() for p in scenario.parent.iterdir()} == before, (
        "an input file was modified"
    )


def test_keep_outlet_that_can_never_be_supported(tmp_path):
    scenario = write_small_case(tmp_path / "case")
    raw = yaml.safe_load(scenario.read_text())
    raw["tiers"][1]["linkage"] = "100 m"
    scenario.write_text(yaml.safe_dump(raw, sort_keys=False))
    outlets = pd.read_csv(scenario.parent / "outlets.csv")
    outlets.loc[1, "policy"] = "keep"
    outlets.to_csv(scenario.parent / "outlets.csv", index=False)
    result = runner.invoke(app, ["validate", str(scenario)])
    assert result.exit_code == 2
    errors = _errors(result)
    assert len(errors) == 1
    assert "outlet 'E2' (point, policy keep) can never be supported" in errors[0]
    assert "raise tiers[1].linkage" in errors[0]


def test_budget_below_what_must_stay_open(tmp_path):
    scenario = write_small_case(tmp_path / "case", budget={"total": 100})
    result = runner.invoke(app, ["run", str(scenario), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    # E1 is a kept hub: its operating cost over the 2-year horizon is 100 x 2 = 200
    assert (
        "budget.total 100 is below the 200 that the outlets which must stay open cost (short by 100)"
        in _errors(result)[0]
    )
    _no_leftovers(tmp_path, "out")
