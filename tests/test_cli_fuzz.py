"""Fuzzing the CLI: whatever the flags and scenario values, exit 0 or 2 and never a traceback.

Hypothesis draws CLI flags and scenario values (NaN, inf, negative, huge, empty, wrong type,
non-UTF-8 bytes in the files) on the tiny case of conftest.write_small_case. ``netplan
validate`` takes most examples; ``netplan run`` (with a small time limit) a few. The
examples are derandomized, so CI sees the same ones every time. Through typer's CliRunner
the last-resort handler is in the path (it lives in the command group), so an unexpected
exception shows up as exit 70 here, and a traceback would show up in the output; two cases
also run in a real process through ``netplan.cli.main``.
"""

from __future__ import annotations

import math
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from netplan.cli import app

from conftest import ROOT, write_small_case

try:
    runner = CliRunner(mix_stderr=False)
except TypeError:
    runner = CliRunner()

FUZZ = settings(
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# scenario keys of the small case, as (path of keys) into its YAML
KEYS = [
    ("name",),
    ("tiers", 0, "reach"),
    ("tiers", 1, "linkage"),
    ("tiers", 0, "key"),
    ("budget", "total"),
    ("costs", "horizon_years"),
    ("costs", "direct", "hub", "open"),
    ("costs", "direct", "point", "operate"),
    ("solver", "time_limit"),
    ("solver", "mip_rel_gap"),
    ("solver", "backend"),
    ("objective",),
    ("travel", "mode"),
    ("travel", "crs"),
    ("demand", "weight"),
    ("demand", "path"),
    ("outlets", "policy"),
]

WEIRD_TEXT = [
    "1e999 km", "-5 km", "nan km", "inf", ".inf", "", " ", "0 x baseline", "1e308",
    "-0", "1e9 x baseline", "NaN", "null", "[/]", "<img src=x>", "8 lightyears", "km",
]  # fmt: skip

VALUES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -math.inf, -1.0, 0.0, 1e300, -1e300, 5e-324]),
    st.integers(-(10**30), 10**30),
    st.sampled_from(WEIRD_TEXT),
    st.text(max_size=12),
    st.none(),
    st.booleans(),
    st.lists(st.integers(-3, 3), max_size=2),
    st.dictionaries(st.sampled_from(["type", "total", "hub"]), st.integers(-2, 2), max_size=2),
)

CSV_EDITS = st.sampled_from(
    [
        None,
        ("demand.csv", "customers", "nan"),
        ("demand.csv", "customers", "inf"),
        ("demand.csv", "customers", "-1"),
        ("demand.csv", "customers", "1e300"),
        ("demand.csv", "lon", "1e999"),
        ("demand.csv", "lat", ""),
        ("demand.csv", "cid", ""),
        ("outlets.csv", "tier", ""),
        ("outlets.csv", "policy", "sometimes"),
        ("candidates.csv", "tiers", "hub;hub;nothing"),
    ]
)

BYTES = st.sampled_from(
    [None, "scenario-latin1", "demand-latin1", "demand-binary", "outlets-empty", "scenario-empty"]
)


def _set_key(raw: dict, path: tuple, value) -> None:
    node = raw
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


def _write_case(folder: Path, key, value, csv_edit, raw_bytes) -> Path:
    scenario = write_small_case(folder)
    if key is not None:
        raw = yaml.safe_load(scenario.read_text())
        _set_key(raw, key, value)
        scenario.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True))
    if csv_edit is not None:
        name, column, cell = csv_edit
        lines = (folder / name).read_text().splitlines()
        head = lines[0].split(",")
        row = lines[2].split(",")
        row[head.index(column)] = cell
        lines[2] = ",".join(row)
        (folder / name).write_text("\n".join(lines) + "\n")
    if raw_bytes == "scenario-latin1":
        text = scenario.read_text(encoding="utf-8", errors="replace").replace("small", "Zürich Süd")
        scenario.write_bytes(text.encode("latin-1", errors="replace"))
    elif raw_bytes == "demand-latin1":
        data = (folder / "demand.csv").read_bytes().replace(b"D1,", "Dé1,".encode("latin-1"), 1)
        (folder / "demand.csv").write_bytes(data)
    elif raw_bytes == "demand-binary":
        (folder / "demand.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff\xfe" * 20)
    elif raw_bytes == "outlets-empty":
        (folder / "outlets.csv").write_bytes(b"")
    elif raw_bytes == "scenario-empty":
        scenario.write_bytes(b"")
    return scenario


def _check(result) -> None:
    both = result.stdout + result.stderr
    assert "Traceback" not in both, both[-2000:]
    assert "internal error" not in result.stderr, result.stderr
    assert result.exit_code in (0, 2), (result.exit_code, both[-2000:])


@pytest.fixture(autouse=True)
def _own_temp(tmp_path, monkeypatch):
    """Tracebacks an internal error would save stay in the test's folder."""
    folder = tmp_path / "temp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))


@settings(FUZZ, max_examples=50)
@given(
    key=st.none() | st.sampled_from(KEYS),
    value=VALUES,
    csv_edit=CSV_EDITS,
    raw_bytes=BYTES,
)
def test_validate_never_crashes(tmp_path_factory, key, value, csv_edit, raw_bytes):
    folder = tmp_path_factory.mktemp("fuzz") / "case"
    scenario = _write_case(folder, key, value, csv_edit, raw_bytes)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    _check(runner.invoke(app, ["validate", str(scenario)]))
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


FLAG_VALUES = st.one_of(
    st.sampled_from(["0", "-5", "nan", "inf", "-inf", "1e999", "abc", "", "2", "1e-300"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=8),
)


@settings(FUZZ, max_examples=30)
@given(
    command=st.sampled_from(["run", "sweep", "demo"]),
    time_limit=st.none() | FLAG_VALUES,
    backend=st.none() | st.sampled_from(["glpk", "HiGHS", "", "cbc ", "gurobi"]) | st.text(max_size=6),
    budgets=st.sampled_from(
        ["1:2:1e18", "1:2:100000000", "nan,1", "1:inf:3", "1x:2", "", ",", "-1", "1e999",
         "0.5x,0.6x", "abc", "1:2:0", "1:2:-3", "1x:2x:1001"]
    ),  # fmt: skip
    workers=st.none() | st.sampled_from(["0", "-1", "abc", "1e3"]),
    retries=st.none() | st.sampled_from(["-1", "x", "-100"]),
    knee=st.none() | st.sampled_from(["nan", "-0.1", "inf", "x"]),
)
def test_cli_flags_never_crash(
    tmp_path_factory, command, time_limit, backend, budgets, workers, retries, knee
):
    """Flags only (valid scenario): each draw has at least one bad flag, so nothing solves."""
    folder = tmp_path_factory.mktemp("flags")
    scenario = write_small_case(folder / "case")
    args = [command] + ([str(scenario)] if command != "demo" else [])
    args += ["--out", str(folder / "out")]
    if time_limit is not None:
        args += ["--time-limit", time_limit]
    if command == "run" and backend is not None:
        args += ["--backend", backend]
    if command == "sweep":
        args += ["--budgets", budgets, "--sequential"]
        for flag, value in (("--workers", workers), ("--retries", retries), ("--knee-threshold", knee)):
            if value is not None:
                args += [flag, value]
    ok_time = time_limit is None or _positive(time_limit)
    ok_backend = command != "run" or backend is None or backend in ("highs", "cbc")
    if command == "demo" and ok_time or (command == "run" and ok_time and ok_backend):
        args += ["--time-limit", "0"]  # keep every draw a bad one: no demo solve in the fuzz
    result = runner.invoke(app, args)
    _check(result)
    assert result.exit_code == 2
    assert not (folder / "out").exists()


def _positive(text: str) -> bool:
    try:
        value = float(text)
    except ValueError:
        return False
    return math.isfinite(value) and value > 0


@settings(FUZZ, max_examples=8)
@given(key=st.sampled_from(KEYS), value=VALUES)
def test_run_never_crashes(tmp_path_factory, key, value):
    folder = tmp_path_factory.mktemp("fuzzrun")
    scenario = _write_case(folder / "case", key, value, None, None)
    result = runner.invoke(
        app, ["run", str(scenario), "--out", str(folder / "out"), "--time-limit", "5"]
    )
    _check(result)
    if result.exit_code == 2:
        assert not (folder / "out").exists()
    else:
        assert (folder / "out" / "run.json").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["run", "{scenario}", "--out", "{out}", "--time-limit", "nan"],
        ["sweep", "{scenario}", "--out", "{out}", "--budgets", "1:2:100000000"],
    ],
    ids=["run-time-limit-nan", "sweep-too-many-points"],
)
def test_real_process_is_one_line(tmp_path, args):
    """Through `netplan.cli.main` in a real process (warnings and exit codes as a user sees them)."""
    scenario = write_small_case(tmp_path / "case")
    argv = [a.format(scenario=scenario, out=tmp_path / "out") for a in args]
    proc = subprocess.run(
        [sys.executable, "-c", "from netplan.cli import main; main()", *argv],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stdout + proc.stderr
    assert [line for line in proc.stderr.splitlines() if line.strip()] == [
        line for line in proc.stderr.splitlines() if line.startswith("error:")
    ]
    assert len(proc.stderr.strip().splitlines()) == 1
