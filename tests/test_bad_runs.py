"""Output folders, interrupts and time limits from the command line; random defects to validate."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import netplan
from netplan.cli import app

from conftest import DEMO_SCENARIO, write_small_case

try:
    runner = CliRunner(mix_stderr=False)
except TypeError:
    runner = CliRunner()


def _no_leftovers(parent: Path, name: str) -> None:
    assert not (parent / name).exists()
    assert not [p for p in parent.iterdir() if p.name.startswith(f".{name}.tmp-")]


def test_non_empty_output_folder_is_refused_unless_overwrite(tmp_path):
    scenario = write_small_case(tmp_path / "case")
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = runner.invoke(app, ["run", str(scenario), "--out", str(out)])
    assert result.exit_code == 2
    assert re.search(
        r"output folder exists and is not empty; choose another folder or pass --overwrite",
        result.stderr,
    )
    assert (out / "keep.txt").read_text() == "mine"
    # --overwrite replaces only a folder netplan wrote (tests/test_output_safety.py)
    result = runner.invoke(app, ["run", str(scenario), "--out", str(out), "--overwrite"])
    assert result.exit_code == 2
    assert "not an output folder netplan wrote (it holds keep.txt" in result.stderr
    assert (out / "keep.txt").read_text() == "mine"
    (out / "keep.txt").unlink()
    assert runner.invoke(app, ["run", str(scenario), "--out", str(out)]).exit_code == 0
    result = runner.invoke(app, ["run", str(scenario), "--out", str(out), "--overwrite"])
    assert result.exit_code == 0, result.stderr
    assert (out / "run.json").exists() and (out / ".netplan-output").exists()


def test_output_path_that_cannot_be_a_folder(tmp_path):
    """Not writable: under a regular file (chmod cannot test it: CI runs as root)."""
    scenario = write_small_case(tmp_path / "case")
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    result = runner.invoke(app, ["run", str(scenario), "--out", str(blocker / "out")])
    assert result.exit_code == 2
    assert "cannot create the output's parent folder" in result.stderr
    result = runner.invoke(app, ["run", str(scenario), "--out", str(blocker)])
    assert result.exit_code == 2
    assert "exists and is a file; give a folder path for --out" in result.stderr


def test_interrupt_while_writing_leaves_nothing(tmp_path, monkeypatch):
    import netplan.outputs.writer as outputs

    real = outputs.write_outputs

    def write_then_interrupt(result, folder, started, **kwargs):
        (Path(folder) / "half.txt").write_text("partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(outputs, "write_outputs", write_then_interrupt)
    scenario = write_small_case(tmp_path / "case")
    result = runner.invoke(app, ["run", str(scenario), "--out", str(tmp_path / "out")])
    assert result.exit_code == 130
    _no_leftovers(tmp_path, "out")
    monkeypatch.setattr(outputs, "write_outputs", real)


def test_sigint_to_a_running_process_leaves_nothing(tmp_path):
    """A real Ctrl-C (SIGINT) to `netplan run`, sent as soon as its temporary output folder
    appears (the write stage); if the run finishes first, its output must be complete."""
    scenario = write_small_case(tmp_path / "case")
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from netplan.cli import main; main()",
            "run",
            str(scenario),
            "--out",
            str(out),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    sent = False
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        if any(p.name.startswith(".out.tmp-") for p in tmp_path.iterdir()):
            proc.send_signal(signal.SIGINT)
            sent = True
            break
        time.sleep(0.005)
    proc.communicate(timeout=120)
    if sent and proc.returncode == 130:
        _no_leftovers(tmp_path, "out")
    else:  # the run won the race: complete output, no temporary folder
        assert proc.returncode == 0
        assert (out / "run.json").exists() and (out / "map.html").exists()
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.tmp-")]


def test_time_limit_run_succeeds_but_is_never_optimal(tmp_path):
    """The demo region with a 3 s limit (its proof takes about 15 s): exit 0, status
    time_limit with a gap in run.json, never optimal; --require-optimal exits 3."""
    raw = yaml.safe_load(DEMO_SCENARIO.read_text())
    for key in ("demand", "outlets", "candidates", "regions"):
        raw[key]["path"] = str((DEMO_SCENARIO.parent / raw[key]["path"]).resolve())
    raw["solver"]["time_limit"] = 3
    scenario = tmp_path / "limited.yaml"
    scenario.write_text(yaml.safe_dump(raw, sort_keys=False))
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(scenario), "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    record = json.loads((out / "run.json").read_text())["solver"]
    assert record["status"] == "time_limit"
    assert record["gap"] is None or record["gap"] > 0
    assert "status time_limit" in result.stdout
    assert "status optimal" not in result.stdout
    result = runner.invoke(
        app, ["run", str(scenario), "--out", str(tmp_path / "out2"), "--require-optimal"]
    )
    assert result.exit_code == 3
    assert (tmp_path / "out2" / "run.json").exists()  # the plan is written, the exit code tells


# ------------------------------------------------------------------ property-based
DEFECTS = [
    "none", "nan", "negative", "text", "blank id", "duplicate id", "huge coordinate",
    "swap lon/lat", "drop column", "empty", "zero weights", "unknown tier", "bad policy",
]  # fmt: skip

# what the error of each defect says (the file is named too: demand.csv or outlets.csv)
FRAGMENTS = {
    "nan": r"demand\.csv: row \d+: column 'customers' is empty or NaN",
    "negative": r"demand\.csv: row \d+: column 'customers' is -3; it must be a finite number >= 0",
    "text": r"demand\.csv: row \d+: coordinates .* are not finite numbers",
    "blank id": r"demand\.csv: row \d+: empty id in column 'cid'; give every row an id",
    "duplicate id": r"demand\.csv: row \d+: duplicate id '.*' in column 'cid'",
    "huge coordinate": r"demand\.csv: row \d+: coordinates .* are outside longitude/latitude range",
    "swap lon/lat": r"demand\.csv: row \d+: .* longitude and latitude look swapped",
    "drop column": r"demand\.csv: column 'customers' \(from 'demand\.weight'\) not found",
    "empty": r"demand\.csv: the demand layer has no rows",
    "zero weights": r"demand\.csv: every demand weight is 0",
    "unknown tier": r"outlets\.csv: row \d+: unknown tier 'mega' in column 'tier'",
    "bad policy": r"outlets\.csv: row \d+: policy 'maybe' \(did you mean 'may_close'\?\) is not one of",
}


def _apply_defects(folder: Path, defects: list[str], row: int) -> None:
    demand = pd.read_csv(folder / "demand.csv", dtype=str)
    outlets = pd.read_csv(folder / "outlets.csv", dtype=str)
    for defect in defects:
        r = row % max(len(demand), 1)
        if defect == "nan" and len(demand) and "customers" in demand:
            demand.loc[r, "customers"] = "NaN"
        elif defect == "negative" and len(demand) and "customers" in demand:
            demand.loc[r, "customers"] = "-3"
        elif defect == "text" and len(demand):
            demand.loc[r, "lon"] = "east"
        elif defect == "blank id" and len(demand):
            demand.loc[r, "cid"] = ""
        elif defect == "duplicate id" and len(demand) > 1:
            demand.loc[r, "cid"] = demand.loc[(r + 1) % len(demand), "cid"]
        elif defect == "huge coordinate" and len(demand):
            demand.loc[r, "lat"] = "1e9"
        elif defect == "swap lon/lat":
            demand = demand.rename(columns={"lon": "lat", "lat": "lon"})
        elif defect == "drop column":
            demand = demand.drop(columns=["customers"], errors="ignore")  # may come twice
        elif defect == "empty":
            demand = demand.iloc[:0]
        elif defect == "zero weights" and "customers" in demand:
            demand["customers"] = "0"
        elif defect == "unknown tier":
            outlets.loc[row % len(outlets), "tier"] = "mega"
        elif defect == "bad policy":
            outlets.loc[row % len(outlets), "policy"] = "maybe"
    demand.to_csv(folder / "demand.csv", index=False)
    outlets.to_csv(folder / "outlets.csv", index=False)


def _defective(defects: list[str]) -> bool:
    """Whether the inputs are broken: every defect breaks them, except "none" and an even
    number of lon/lat swaps (which swap them back)."""
    real = [d for d in defects if d not in ("none", "swap lon/lat")]
    return bool(real) or defects.count("swap lon/lat") % 2 == 1


@pytest.mark.parametrize("defect", [d for d in DEFECTS if d != "none"])
def test_each_defect_raises_its_own_typed_error(tmp_path, defect):
    """One defect at a time: the exact message (removing any one check makes this fail)."""
    scenario = write_small_case(tmp_path / "case", seed=1)
    _apply_defects(tmp_path / "case", [defect], row=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", netplan.NetplanWarning)
        with pytest.raises(netplan.InputDataError) as info:
            netplan.prepare(netplan.Scenario.from_yaml(scenario))
    assert re.search(FRAGMENTS[defect], str(info.value)), str(info.value)
    assert len(str(info.value).splitlines()) == 1


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    defects=st.lists(st.sampled_from(DEFECTS), min_size=1, max_size=3),
    row=st.integers(0, 20),
    seed=st.integers(0, 3),
)
@example(defects=["none"], row=0, seed=0)
@example(defects=["swap lon/lat", "none", "swap lon/lat"], row=0, seed=1)
@example(defects=["blank id"], row=3, seed=2)
@example(defects=["bad policy"], row=1, seed=3)
def test_validate_accepts_or_raises_the_typed_error(tmp_path_factory, defects, row, seed):
    """Defective inputs always raise the typed error naming one of their defects; clean inputs
    (no defect, or lon/lat swapped twice) always pass. The inputs are never modified."""
    folder = tmp_path_factory.mktemp("prop")
    scenario = write_small_case(folder / "case", seed=seed)
    _apply_defects(folder / "case", defects, row)
    before = {p.name: p.read_bytes() for p in (folder / "case").iterdir()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", netplan.NetplanWarning)
        if _defective(defects):
            with pytest.raises(netplan.InputDataError) as info:
                netplan.prepare(netplan.Scenario.from_yaml(scenario))
            message = str(info.value)
            assert len(message.splitlines()) == 1
            named = [d for d in set(defects) if d != "none" and re.search(FRAGMENTS[d], message)]
            assert named, f"{defects}: {message}"
        else:
            prep = netplan.prepare(netplan.Scenario.from_yaml(scenario))
            assert len(prep.inputs.demand) == 300
    assert {p.name: p.read_bytes() for p in (folder / "case").iterdir()} == before
