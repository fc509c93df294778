"""Bad input through the CLI: one clear line, the right exit code, no traceback, nothing left.

Table-driven (issue 20 §4): every case runs through the CLI (exit code, exactly one
``error:`` line on stderr with the expected fragment, no "Traceback" on either stream,
nothing left in the parent of --out, input files byte-identical) and, where the library has
the same door, through the library (a :class:`netplan.NetplanError`). The last-resort
handler (exit 70, traceback saved, never printed), Ctrl-C (130), names printed literally,
a page that cannot be rendered after a finished plan, and plans at the antimeridian are
tested below the table.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

import netplan
from netplan import sweep as sw
from netplan.cli import app

from conftest import write_small_case

try:
    runner = CliRunner(mix_stderr=False)
except TypeError:
    runner = CliRunner()


@pytest.fixture(autouse=True)
def traceback_dir(tmp_path, monkeypatch):
    """The system temp folder of every test here: a traceback saved by a failing case stays in
    the test's own folder."""
    folder = tmp_path / "temp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


# ------------------------------------------------------------------ case set-up
def _edit_scenario(path: Path, edit: Callable[[dict], None]) -> None:
    raw = yaml.safe_load(path.read_text())
    edit(raw)
    path.write_text(yaml.safe_dump(raw, sort_keys=False))


def _set(section: str, key: str, value) -> Callable[[Path], None]:
    def setup(scenario: Path) -> None:
        _edit_scenario(scenario, lambda raw: raw.setdefault(section, {}).__setitem__(key, value))

    return setup


def _latin1(scenario: Path) -> None:
    text = scenario.read_text().replace("name: small", "name: Zürich Süd")
    scenario.write_bytes(text.encode("latin-1"))


def _reach_1e999(scenario: Path) -> None:
    scenario.write_text(scenario.read_text().replace("reach: 8 km", "reach: 1e999 km"))


def _raw_text(scenario: Path, old: str, new: str) -> None:
    text = scenario.read_text()
    assert old in text
    scenario.write_text(text.replace(old, new))


def _demand(edit: Callable[[pd.DataFrame], pd.DataFrame]) -> Callable[[Path], None]:
    def setup(scenario: Path) -> None:
        path = scenario.parent / "demand.csv"
        path.write_text(edit(pd.read_csv(path, dtype=str)).to_csv(index=False))

    return setup


def _outlets(edit: Callable[[pd.DataFrame], pd.DataFrame]) -> Callable[[Path], None]:
    def setup(scenario: Path) -> None:
        path = scenario.parent / "outlets.csv"
        path.write_text(edit(pd.read_csv(path, dtype=str)).to_csv(index=False))

    return setup


def _blank_id(frame: pd.DataFrame) -> pd.DataFrame:
    frame.loc[5, "cid"] = ""
    return frame


def _bad_policy(frame: pd.DataFrame) -> pd.DataFrame:
    frame.loc[1, "policy"] = "maybe"
    return frame


def _missing_file(scenario: Path) -> None:
    (scenario.parent / "candidates.csv").unlink()


def _empty_file(scenario: Path) -> None:
    (scenario.parent / "demand.csv").write_bytes(b"")


def _nothing(scenario: Path) -> None:
    pass


@dataclass
class Case:
    """One bad input: how to make it, the command, and what must come out."""

    id: str
    args: list[str]  # {scenario} and {out} are filled in
    fragment: str
    setup: Callable[[Path], None] = _nothing
    code: int = 2
    library: Callable[[Path], object] | None = None  # must raise a NetplanError
    other: bool = False  # the expectation depends on scenario.py / inputs.py (another part)
    extra: dict = field(default_factory=dict)


def _load(path: Path):
    return netplan.Scenario.from_yaml(path)


def _prepare(path: Path):
    return netplan.prepare(netplan.Scenario.from_yaml(path))


def _solver(**changes):
    def library(path: Path):
        s = netplan.Scenario.from_yaml(path)
        return s.replace(solver={**s.solver.model_dump(), **changes})

    library.keys = [f"solver.{key}" for key in changes]  # what the library's message names
    return library


def _all_points_fail(path: Path):
    return sw.run_sweep(_load(path), [sw.budget_axis("1,2")], sequential=True)


RUN = ["run", "{scenario}", "--out", "{out}"]
VALIDATE = ["validate", "{scenario}"]
SWEEP = ["sweep", "{scenario}", "--out", "{out}", "--sequential"]

CASES = [
    Case("time-limit-0", [*RUN, "--time-limit", "0"], "--time-limit: must be a number of seconds > 0, got 0", library=_solver(time_limit=0), other=True),
    Case("time-limit-negative", [*RUN, "--time-limit", "-5"], "--time-limit: must be a number of seconds > 0, got -5", library=_solver(time_limit=-5), other=True),
    Case("time-limit-nan", [*RUN, "--time-limit", "nan"], "--time-limit: must be a number of seconds > 0, got nan", library=_solver(time_limit=float("nan")), other=True),
    Case("backend-glpk", [*RUN, "--backend", "glpk"], "--backend: unknown solver 'glpk'; use one of highs, cbc", library=_solver(backend="glpk"), other=True),
    Case("demo-time-limit-0", ["demo", "--out", "{out}", "--time-limit", "0"], "--time-limit: must be a number of seconds > 0, got 0"),
    Case("sweep-budgets-1e18", [*SWEEP, "--budgets", "1:2:1e18"], "--budgets: cannot read '1:2:1e18' as FROM:TO:N", library=lambda p: sw.budget_axis("1:2:1e18")),
    Case("sweep-budgets-1e8-points", [*SWEEP, "--budgets", "1:2:100000000"], "--budgets: 100000000 points in '1:2:100000000'; a sweep has at most 1000 points at once", library=lambda p: sw.budget_axis("1:2:100000000")),
    Case("sweep-budgets-1001-values", [*SWEEP, "--budgets", ",".join(["1e3"] * 1001)], "--budgets: 1001 values; a sweep has at most 1000 points at once", library=lambda p: sw.budget_axis(",".join(["1e3"] * 1001))),
    Case("sweep-budget-nan", [*SWEEP, "--budgets", "nan,300"], "--budgets: 'nan' is not a finite number", library=lambda p: sw.budget_axis("nan,300")),
    Case("sweep-budget-inf-range", [*SWEEP, "--budgets", "1:inf:3"], "--budgets: FROM and TO must be finite numbers", library=lambda p: sw.budget_axis("1:inf:3")),
    Case("sweep-every-point-fails", [*SWEEP, "--budgets", "1,2"], "sweep: all 2 points failed; the first (point 0): InfeasiblePlanError: budget.total 1 is below the 200", library=_all_points_fail),
    Case("sweep-workers-0", [*SWEEP, "--budgets", "300", "--workers", "0"], "--workers must be at least 1, got 0", library=lambda p: sw.run_sweep(_load(p), [sw.budget_axis("300")], workers=0)),
    Case("sweep-retries-negative", [*SWEEP, "--budgets", "300", "--retries", "-1"], "--retries must be >= 0, got -1", library=lambda p: sw.run_sweep(_load(p), [sw.budget_axis("300")], retries=-1)),
    Case("sweep-knee-threshold-nan", [*SWEEP, "--budgets", "300", "--knee-threshold", "nan"], "--knee-threshold must be a finite number >= 0, got nan", library=lambda p: sw.run_sweep(_load(p), [sw.budget_axis("300")], knee_threshold=float("nan"))),
    Case("sweep-time-limit-0", [*SWEEP, "--budgets", "300", "--time-limit", "0"], "--time-limit: must be a number of seconds > 0, got 0"),
    Case("latin1-scenario", VALIDATE, "UTF-8", setup=_latin1, library=_load, other=True),
    Case("reach-1e999-km", VALIDATE, "reach", setup=_reach_1e999, library=_load, other=True),
    Case("mip-rel-gap-2", VALIDATE, "mip_rel_gap", setup=_set("solver", "mip_rel_gap", 2), library=_load, other=True),
    Case("budget-total-nan", VALIDATE, "budget.total", setup=lambda p: _raw_text(p, "total: 1.5 x baseline", "total: .nan"), library=_load, other=True),
    Case("level-weight-nan", VALIDATE, "level_weights", setup=lambda p: _raw_text(p, "name: small\n", "name: small\nobjective:\n  type: max_coverage\n  level_weights:\n    hub: .nan\n"), library=_load, other=True),
    Case("time-limit-0-in-file", VALIDATE, "time_limit", setup=_set("solver", "time_limit", 0), library=_load),
    Case("missing-input-file", VALIDATE, "candidates.csv", setup=_missing_file, library=_prepare),
    Case("empty-csv", VALIDATE, "demand.csv", setup=_empty_file, library=_prepare),
    Case("csv-header-only", VALIDATE, "demand.csv: the demand layer has no rows", setup=_demand(lambda f: f.iloc[:0]), library=_prepare),
    Case("blank-id", VALIDATE, "demand.csv: row 7: empty id in column 'cid'; give every row an id", setup=_demand(_blank_id), library=_prepare),
    Case("unknown-policy", VALIDATE, "outlets.csv: row 3: policy 'maybe' (did you mean 'may_close'?) is not one of", setup=_outlets(_bad_policy), library=_prepare),
    Case("blank-id-run", RUN, "demand.csv: row 7: empty id in column 'cid'", setup=_demand(_blank_id)),
    Case("unknown-policy-run", RUN, "outlets.csv: row 3: policy 'maybe'", setup=_outlets(_bad_policy)),
    Case("missing-scenario", ["validate", "{out}.yaml"], "o.yaml: scenario file not found; check the path"),
]  # fmt: skip

# expectations that hold once the scenario validation of issue 20 (scenario.py, another
# part) is merged; listed in the report, not weakened here
NEEDS_SCENARIO_PART = {c.id for c in CASES if c.other}


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_cli_bad_input_is_one_line(tmp_path, case: Case):
    scenario = write_small_case(tmp_path / "case")
    case.setup(scenario)
    before = _snapshot(tmp_path / "case")
    parent = tmp_path / "outs"
    parent.mkdir()
    out = parent / "o"
    args = [a.format(scenario=scenario, out=out) for a in case.args]
    result = runner.invoke(app, args)
    assert "Traceback" not in result.stdout and "Traceback" not in result.stderr
    assert "internal error" not in result.stderr, result.stderr
    errors = _error_lines(result.stderr)
    assert len(errors) == 1, result.stderr
    assert case.fragment in errors[0], errors[0]
    assert result.exit_code == case.code, result.stderr
    assert sorted(p.name for p in parent.iterdir()) == []  # nothing left behind, no .tmp-*
    assert _snapshot(tmp_path / "case") == before  # inputs byte-identical


LIBRARY_CASES = [c for c in CASES if c.library is not None]


@pytest.mark.parametrize("case", LIBRARY_CASES, ids=[c.id for c in LIBRARY_CASES])
def test_library_bad_input_raises_a_netplan_error(tmp_path, case: Case):
    scenario = write_small_case(tmp_path / "case")
    case.setup(scenario)
    before = _snapshot(tmp_path / "case")
    with pytest.raises(netplan.NetplanError) as info:
        case.library(scenario)
    assert isinstance(info.value, ValueError)
    keys = getattr(case.library, "keys", None)
    if keys is not None:  # the library names the scenario key where the CLI names its flag
        assert all(key in str(info.value) for key in keys), str(info.value)
    elif case.fragment.startswith("--") or case.id.startswith("sweep-every"):
        assert case.fragment in str(info.value)
    assert _snapshot(tmp_path / "case") == before


def test_every_point_failed_keeps_the_reasons_on_the_error(tmp_path):
    scenario = write_small_case(tmp_path / "case")
    with pytest.raises(sw.SweepFailedError) as info:
        sw.run_sweep(_load(scenario), [sw.budget_axis("1,2")], sequential=True, out=tmp_path / "s")
    t = info.value.result.table
    assert list(t["status"]) == ["failed", "failed"]
    assert t.loc[1, "error"].startswith("InfeasiblePlanError: budget.total 2 is below the 200")
    assert not (tmp_path / "s").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case", "temp"]


def test_sweep_limit_is_documented_in_help_and_readme():
    result = runner.invoke(app, ["sweep", "--help"])
    assert result.exit_code == 0
    assert sw.MAX_POINTS == 1000
    assert "at most 1000 points" in " ".join(result.stdout.split())
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert "at most 1000 points at once" in " ".join(readme.split())


# --------------------------------------------------------------- dangling --out
def test_dangling_symlink_out_is_no_traceback(tmp_path):
    """The folder rules are another part's; here only: no traceback, no internal error."""
    scenario = write_small_case(tmp_path / "case")
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "nowhere" / "target")
    result = runner.invoke(app, ["run", str(scenario), "--out", str(link)])
    assert "Traceback" not in result.stdout + result.stderr
    assert "internal error" not in result.stderr
    assert result.exit_code != 70


def test_out_dot_inside_the_output_folder_is_no_traceback(tmp_path, monkeypatch):
    """`--out . --overwrite` from inside a run folder (the folder rules are another part's)."""
    scenario = write_small_case(tmp_path / "case")
    first = runner.invoke(app, ["run", str(scenario), "--out", str(tmp_path / "o")])
    assert first.exit_code == 0, first.stderr
    monkeypatch.chdir(tmp_path / "o")
    result = runner.invoke(app, ["run", str(scenario), "--out", ".", "--overwrite"])
    assert "Traceback" not in result.stdout + result.stderr
    assert "internal error" not in result.stderr
    assert result.exit_code != 70


def test_duplicate_column_names(tmp_path):
    """Two columns of the same name in an input: a warning naming the file and the column when
    netplan does not read it; one error line when it does (which copy was meant is unknown)."""
    scenario = write_small_case(tmp_path / "case")
    path = tmp_path / "case" / "demand.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(f"{line},{line.split(',')[3]}" for line in lines) + "\n")
    assert path.read_text().splitlines()[0] == "cid,lon,lat,customers,customers"
    result = runner.invoke(app, ["validate", str(scenario)])
    assert result.exit_code == 2, result.stderr
    assert _error_lines(result.stderr) == [
        f"error: {path}: column 'customers' occurs more than once in the demand layer and "
        "netplan reads it; rename or remove the extra copies"
    ]
    path.write_text("\n".join(f"{line},x" for line in lines).replace("customers,x", "customers,note,note", 1).replace(",x", ",x,y") + "\n")
    assert path.read_text().splitlines()[0] == "cid,lon,lat,customers,note,note"
    result = runner.invoke(app, ["validate", str(scenario)])
    assert result.exit_code == 0, result.stderr
    warned = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warned) == 1, result.stderr
    assert "demand.csv" in warned[0] and "note" in warned[0], warned[0]
    assert "Traceback" not in result.stdout + result.stderr


# ------------------------------------------------------------ last-resort handler


@pytest.mark.parametrize(
    "exc, shown",
    [
        (RuntimeError("boom [bold]x[/]"), "RuntimeError: boom [bold]x[/]"),
        (MemoryError(), "MemoryError"),
        (UnicodeDecodeError("utf-8", b"\xfc", 0, 1, "invalid start byte"), "UnicodeDecodeError: 'utf-8' codec can't decode byte 0xfc"),
        (OSError(28, "No space left on device"), "OSError: [Errno 28] No space left on device"),
    ],
    ids=["runtime", "memory", "unicode", "oserror"],
)  # fmt: skip
def test_unexpected_error_is_one_internal_error_line_and_exit_70(
    tmp_path, monkeypatch, traceback_dir, exc, shown
):
    scenario = write_small_case(tmp_path / "case")

    def explode(path):
        raise exc

    monkeypatch.setattr(netplan.Scenario, "from_yaml", classmethod(lambda cls, p: explode(p)))
    result = runner.invoke(app, ["validate", str(scenario)])
    assert result.exit_code == 70
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    m = re.fullmatch(r"internal error: (.*), please report; traceback saved to (\S+)", lines[0])
    assert m, lines[0]
    assert m.group(1).startswith(shown)
    saved = Path(m.group(2))
    assert saved.parent == traceback_dir
    assert re.fullmatch(r"netplan-traceback-\d{8}T\d{6}-\d+\.txt", saved.name)
    text = saved.read_text()
    assert text.startswith("Traceback (most recent call last):")
    assert "in explode" in text and type(exc).__name__ in text


def test_pydantic_validation_error_that_escapes_is_internal_not_a_traceback(
    tmp_path, monkeypatch, traceback_dir
):
    from pydantic import BaseModel

    class Strict(BaseModel):
        x: int

    def explode(cls, path):
        Strict(x="not a number")

    monkeypatch.setattr(netplan.Scenario, "from_yaml", classmethod(explode))
    result = runner.invoke(app, ["validate", str(write_small_case(tmp_path / "case"))])
    assert result.exit_code == 70
    assert result.stderr.startswith("internal error: ValidationError: 1 validation error for Strict")
    assert "Traceback" not in result.stdout + result.stderr


def test_netplan_error_anywhere_in_a_command_is_exit_2(tmp_path, monkeypatch):
    """A NetplanError raised outside a command's own try (here while printing) is still one line."""
    import netplan.cli.run as cli

    def bad_table(*args, **kwargs):
        raise netplan.InfeasiblePlanError("budget.total 1 is below the 200; raise it")

    scenario = write_small_case(tmp_path / "case")
    monkeypatch.setattr(cli, "_summary", bad_table)
    result = runner.invoke(app, ["run", str(scenario), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert _error_lines(result.stderr) == ["error: budget.total 1 is below the 200; raise it"]


def test_ctrl_c_is_130(tmp_path, monkeypatch):
    def interrupt(cls, path):
        raise KeyboardInterrupt

    monkeypatch.setattr(netplan.Scenario, "from_yaml", classmethod(interrupt))
    result = runner.invoke(app, ["validate", str(write_small_case(tmp_path / "case"))])
    assert result.exit_code == 130
    assert "interrupted" in result.stderr and "Traceback" not in result.stderr


# ------------------------------------------------------------------ markup names
MARKUP = "North [/] South [bold red]x[/] [link=http://e.x]y :smile:"


def test_names_with_rich_markup_print_literally(tmp_path):
    scenario = write_small_case(tmp_path / "case", name=MARKUP)
    _edit_scenario(scenario, lambda raw: raw["tiers"][0].__setitem__("name", "[bold]hub[/]"))
    result = runner.invoke(app, ["validate", str(scenario)])
    assert result.exit_code == 0, result.stderr
    assert MARKUP in result.stdout
    assert "[bold]hub[/]" in result.stdout
    out = tmp_path / "o"
    result = runner.invoke(app, ["run", str(scenario), "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    assert f"{MARKUP}: today → plan" in result.stdout
    assert json.loads((out / "run.json").read_text())["scenario"]["name"] == MARKUP
    result = runner.invoke(
        app, ["sweep", str(scenario), "--budgets", "1.5x", "--sequential", "--out", str(tmp_path / "s")]
    )
    assert result.exit_code == 0, result.stderr
    assert f"{MARKUP}: sweep of budget.total" in result.stdout


# ------------------------------------------------ a page fails after the solve
def test_map_failure_keeps_the_plan_and_says_what_failed(tmp_path, monkeypatch):
    import netplan.present.webmap as webmap

    def broken(result, *args, **kwargs):
        raise ValueError("side location conflict at 179.9 47.1")

    monkeypatch.setattr(webmap, "plan_map", broken)
    scenario = write_small_case(tmp_path / "case")
    out = tmp_path / "outs" / "o"
    result = runner.invoke(app, ["run", str(scenario), "--out", str(out)])
    assert result.exit_code == 2
    assert _error_lines(result.stderr) == [
        "error: map.html could not be written (ValueError: side location conflict at 179.9 47.1); "
        "plan.gpkg, kpis.csv, outlets.csv, plan.xlsx, run.json were written"
    ]
    assert "Traceback" not in result.stdout + result.stderr
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "kpis.csv",
        "outlets.csv",
        "plan.gpkg",
        "plan.xlsx",
        "run.json",
    ]
    assert sorted(p.name for p in out.parent.iterdir()) == ["o"]  # no .tmp-* or .old-*
    assert "outputs: " in result.stdout
    assert "(plan.gpkg, kpis.csv, outlets.csv, plan.xlsx, run.json)" in result.stdout
    record = json.loads((out / "run.json").read_text())
    assert record["solver"]["status"] == "optimal"


def test_report_failure_keeps_the_map_too(tmp_path, monkeypatch):
    import netplan.present.report as report

    def broken(result):
        raise KeyError("level")

    monkeypatch.setattr(report, "report_html", broken)
    out = tmp_path / "o"
    result = runner.invoke(app, ["run", str(write_small_case(tmp_path / "case")), "--out", str(out)])
    assert result.exit_code == 2
    assert _error_lines(result.stderr) == [
        "error: report.html could not be written (KeyError: 'level'); "
        "plan.gpkg, kpis.csv, outlets.csv, plan.xlsx, run.json, map.html were written"
    ]
    assert {"plan.gpkg", "kpis.csv", "run.json", "map.html"} <= {p.name for p in out.iterdir()}
    assert not (out / "report.html").exists()


# ---------------------------------------------------------------- antimeridian
def _wrap_lon(folder: Path, lon0: float) -> None:
    """Move the small case from lon 9.5 to ``lon0`` and wrap longitudes into [-180, 180)."""
    for name in ("demand.csv", "candidates.csv", "outlets.csv"):
        frame = pd.read_csv(folder / name)
        frame["lon"] = (frame["lon"] - 9.5 + lon0 + 180.0) % 360.0 - 180.0
        frame.to_csv(folder / name, index=False)


def test_plan_across_the_antimeridian_equals_the_plan_elsewhere(tmp_path):
    """Points at lon 179.8 .. 180 and -180 .. -179.95 plan as the same case at lon 9.5 (same
    shape, same latitude): same sites, tiers and objective values."""
    here = write_small_case(tmp_path / "here")
    there = write_small_case(tmp_path / "there")
    _wrap_lon(there.parent, 179.8)
    lon = pd.read_csv(there.parent / "demand.csv")["lon"]
    assert (lon > 179.8).any() and (lon < -179.9).any()  # both sides of the line
    a = netplan.plan(_load(here))
    b = netplan.plan(_load(there))
    np.testing.assert_array_equal(a.tiers, b.tiers)
    assert a.status == b.status == "optimal"
    assert a.values["coverage"] == pytest.approx(b.values["coverage"], rel=1e-12)


def test_run_across_the_antimeridian_writes_plan_and_map(tmp_path):
    """The whole run there: exit 0 with every output (the map's part of issue 20 makes
    map.html work across the line; before it, the plan is kept and the map reported)."""
    there = write_small_case(tmp_path / "there")
    _wrap_lon(there.parent, 179.8)
    out = tmp_path / "o"
    result = runner.invoke(app, ["run", str(there), "--out", str(out)])
    assert "Traceback" not in result.stdout + result.stderr
    assert {"plan.gpkg", "kpis.csv", "run.json"} <= {p.name for p in out.iterdir()}
    assert result.exit_code == 0, result.stderr
    assert (out / "map.html").exists() and (out / "report.html").exists()


def test_main_catches_what_escapes_the_commands(monkeypatch, traceback_dir, capsys):
    """An error before any command runs (start-up) gets the same last resort from main()."""
    import netplan.cli.entry as cli

    def broken_app():
        raise ImportError("cannot import name 'x' from 'netplan.y'")

    monkeypatch.setattr(cli, "app", broken_app)
    with pytest.raises(SystemExit) as info:
        cli.main()
    assert info.value.code == 70
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    assert captured.err.startswith(
        "internal error: ImportError: cannot import name 'x' from 'netplan.y', please report; "
        f"traceback saved to {traceback_dir}/netplan-traceback-"
    )


def test_validate_prints_each_warning_once_in_a_real_process(tmp_path):
    """`netplan validate` shows a warning as it is raised and again from the inputs' list
    only when it was not shown already (a real process installs the warning printer)."""
    scenario = write_small_case(tmp_path / "case")
    path = tmp_path / "case" / "demand.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0] + ",note,note"] + [f"{line},x,y" for line in lines[1:]]) + "\n")
    proc = subprocess.run(
        [sys.executable, "-m", "netplan.cli", "validate", str(scenario)],
        capture_output=True, text=True, timeout=300, env={**os.environ, "COLUMNS": "400"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    warned = [line for line in proc.stderr.splitlines() if line.startswith("warning:")]
    assert len(warned) == 1, proc.stderr
    assert "columns occurring more than once in the demand layer: 'note'" in warned[0]


@pytest.mark.parametrize(
    "args, line",
    [
        (["run", "{scenario}", "--time-limit", "abc"], "error: Invalid value for '--time-limit': Input should be a valid number, unable to parse string as a number. See 'netplan run --help'."),
        (["runn", "x"], "error: No such command 'runn'. Did you mean 'run'? See 'netplan --help'."),
        (["run"], "error: Missing argument 'scenario'. See 'netplan run --help'."),
        (["sweep", "{scenario}", "--workers", "x"], "error: Invalid value for '--workers': Input should be a valid integer, unable to parse string as an integer. See 'netplan sweep --help'."),
    ],
)  # fmt: skip
def test_usage_errors_are_one_line(tmp_path, args, line):
    """Typer/click usage errors: one ``error:`` line naming the command's help, exit 2 (click
    prints a usage block and a boxed message of its own)."""
    scenario = write_small_case(tmp_path / "case")
    result = runner.invoke(app, [a.format(scenario=scenario) for a in args], prog_name="netplan")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [line]
    assert "Traceback" not in result.stdout + result.stderr


def test_help_and_no_arguments_still_show_the_help():
    shown = runner.invoke(app, ["--help"], prog_name="netplan")
    assert shown.exit_code == 0 and "Usage: netplan [OPTIONS] COMMAND [ARGS]..." in shown.stdout
    bare = runner.invoke(app, [], prog_name="netplan")
    assert bare.exit_code == 2
    assert "Usage: netplan [OPTIONS] COMMAND [ARGS]..." in bare.stdout + bare.stderr
