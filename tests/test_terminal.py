"""Terminal and notebook manners: no solver banner anywhere, live solve progress, short reprs."""

from __future__ import annotations

import io
import math
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from rich.console import Console
from rich.progress import Progress

import netplan
from netplan import sweep as sw
from netplan.cli.progress import Steps
from netplan.compare.runs import read_run
from netplan.optimize.program import LinearProgram
from netplan.optimize.progress import KernelPrinter, SolveProgress, watch_solves
from netplan.optimize.records import SolverOptions
from netplan.optimize.solver import solve
from netplan.preparation import build_problem, prepare
from netplan.scenario import Scenario
from netplan.sweep.points import Shared, sweep_points

from conftest import write_small_case

ROOT = Path(__file__).resolve().parents[1]
# netplan's own solver line: "solver: HiGHS 1.16.0, status optimal, ..."
OWN_LINE = re.compile(r"^solver: HiGHS \d+\.\d+\.\d+, status .*$", re.MULTILINE)


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT), COLUMNS="200")
    return subprocess.run(
        [sys.executable, "-m", "netplan.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _banner_free(text: str) -> bool:
    rest = OWN_LINE.sub("", text)
    return "HiGHS" not in rest and "Copyright" not in rest and "THIRD_PARTY" not in rest


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return Scenario.from_yaml(write_small_case(tmp_path_factory.mktemp("terminal") / "case"))


# ------------------------------------------------------------------ the banner


def test_first_highs_of_a_process_prints_nothing(tmp_path):
    code = (
        "from netplan.optimize.highs import new_highs, highs_version\n"
        "h = new_highs(); print('version', highs_version())\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code],
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    assert re.fullmatch(r"version \d+\.\d+\.\d+\n", res.stdout), res.stdout
    assert res.stderr == ""


def test_cli_run_prints_no_banner_only_its_own_solver_line(small, tmp_path):
    res = _cli("run", str(small.source), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert len(OWN_LINE.findall(res.stdout)) == 1
    assert _banner_free(res.stdout), res.stdout
    assert _banner_free(res.stderr), res.stderr


def test_cli_run_with_cbc_prints_no_solver_log(small, tmp_path):
    res = _cli(
        "run", str(small.source), "--backend", "cbc", "--out", str(tmp_path / "out"), cwd=tmp_path
    )
    assert res.returncode == 0, res.stderr
    assert "solver: CBC" in res.stdout
    for stream in (res.stdout, res.stderr):
        assert "Welcome to the CBC" not in stream and "Result - Optimal" not in stream
        assert "Copyright" not in stream and "HiGHS" not in stream


@pytest.mark.slow
def test_cli_sweep_on_two_workers_prints_no_banner(small, tmp_path):
    res = _cli(
        "sweep",
        str(small.source),
        "--budgets",
        "1.1x,1.4x",
        "--workers",
        "2",
        "--out",
        str(tmp_path / "s"),
        cwd=tmp_path,
    )
    assert res.returncode == 0, res.stderr
    assert _banner_free(res.stdout), res.stdout
    assert _banner_free(res.stderr), res.stderr
    assert "2/2" in res.stderr  # points done of points asked for


# ------------------------------------------------------------- live progress


def _knapsack(n: int = 40, seed: int = 3) -> LinearProgram:
    """max v·x, w·x <= W, x binary: a MIP with an incumbent and a bound to report."""
    rng = np.random.default_rng(seed)
    w = rng.integers(10, 60, n).astype(float)
    v = w + rng.integers(-5, 6, n)
    return LinearProgram(
        c=v,
        A=sp.csr_matrix(w.reshape(1, -1)),
        row_lo=np.array([-np.inf]),
        row_hi=np.array([w.sum() / 3]),
        lb=np.zeros(n),
        ub=np.ones(n),
        integer=np.ones(n, dtype=bool),
        sense="max",
    )


def test_highs_reports_incumbent_and_bound_and_ends_with_the_records_figures():
    lp = _knapsack()
    seen: list[SolveProgress] = []
    with watch_solves(seen.append):
        x, record = solve(lp, SolverOptions())
    assert record.status == "optimal"
    assert seen and all(p.solver == "HiGHS" for p in seen)
    assert [p.done for p in seen].count(True) == 1 and seen[-1].done
    elapsed = [p.elapsed for p in seen]
    assert elapsed == sorted(elapsed) and elapsed[-1] <= record.seconds + 0.05
    last = seen[-1]
    assert last.incumbent == pytest.approx(lp.objective_value(x), abs=1e-6)
    assert last.bound == pytest.approx(record.bound, abs=1e-6)
    assert last.gap == pytest.approx(0.0, abs=1e-9)
    text = last.text()
    assert re.fullmatch(r"0:00:0\d · best [\d,]+ · bound [\d,]+ · gap 0\.0 %", text), text
    # every incumbent reported is a real plan's value, never better than the optimum
    assert all(p.incumbent <= last.incumbent + 1e-6 for p in seen if math.isfinite(p.incumbent))


def test_a_failing_display_does_not_stop_the_solve():
    def broken(_):
        raise RuntimeError("display gone")

    lp = _knapsack()
    with watch_solves(broken):
        _, record = solve(lp, SolverOptions())
    _, plain = solve(lp, SolverOptions())
    assert record.status == "optimal" and record.objective == plain.objective


def test_time_limit_holds_with_a_watcher():
    lp = _knapsack(n=400, seed=5)
    seen: list[SolveProgress] = []
    with watch_solves(seen.append):
        _, record = solve(lp, SolverOptions(time_limit=0.3, highs_presolve=False))
    assert record.seconds < 5.0
    assert seen[-1].done


def test_cbc_reports_elapsed_time():
    lp = _knapsack(n=20)
    seen: list[SolveProgress] = []
    with watch_solves(seen.append):
        _, record = solve(lp, SolverOptions(backend="cbc"))
    assert record.status == "optimal"
    assert seen[0].solver == "CBC" and seen[-1].done
    assert seen[-1].elapsed >= seen[0].elapsed
    assert re.fullmatch(r"0:00:\d\d", seen[-1].text())  # CBC: elapsed time only


def test_no_watcher_outside_a_kernel_means_no_callback(capsys):
    _, record = solve(_knapsack(), SolverOptions())
    assert record.status == "optimal"
    assert capsys.readouterr() == ("", "")


def test_kernel_printer_prints_at_most_every_few_seconds_and_nothing_for_short_solves():
    out = io.StringIO()
    short = KernelPrinter(every=3.0, stream=out)
    for t in (0.0, 0.5, 1.0, 2.9):
        short(SolveProgress("HiGHS", t, 10.0, 12.0))
    short(SolveProgress("HiGHS", 2.95, 11.0, 11.0, done=True))
    assert out.getvalue() == ""
    out = io.StringIO()
    long = KernelPrinter(every=3.0, stream=out)
    for t in np.arange(0.0, 10.0, 0.25):
        long(SolveProgress("HiGHS", float(t), 164375.0, 170000.0))
    long(SolveProgress("HiGHS", 10.0, 164375.0, 164375.0, done=True))
    lines = out.getvalue().splitlines()
    assert lines == [
        "HiGHS solving: 0:00:03 · best 164,375 · bound 170,000 · gap 3.4 %",
        "HiGHS solving: 0:00:06 · best 164,375 · bound 170,000 · gap 3.4 %",
        "HiGHS solving: 0:00:09 · best 164,375 · bound 170,000 · gap 3.4 %",
        "HiGHS done: 0:00:10 · best 164,375 · bound 164,375 · gap 0.0 %",
    ]


def test_cli_stage_line_shows_the_running_solve(small):
    console = Console(file=io.StringIO(), width=200)
    shown: list[str] = []

    class Recording(Steps):
        def solver_progress(self, p):
            super().solver_progress(p)
            shown.append(self.progress.tasks[self.tasks[self.solving]].description)

    with Progress(console=console) as progress:
        result = netplan.run_scenario(small, progress=Recording(progress))
    assert shown, "no solve progress reached the stage line"
    stages = {s.split(" [dim]")[0] for s in shown}
    assert stages <= {
        "solve: coverage",
        "solve: cost",
        "solve: distance tie-break",
        "solve: site-id tie-break",
    }
    assert "solve: coverage" in stages
    coverage = [s for s in shown if s.startswith("solve: coverage")][-1]
    value = result.plan.stages[0].objective
    assert f"best {value:,.0f}" in coverage and f"bound {value:,.0f}" in coverage
    # the cost stage searches for a plan other than the known one (no incumbent of its own):
    # its line shows the best known cost, which is the stage's optimum here
    cost_lines = [s for s in shown if s.startswith("solve: cost")]
    assert cost_lines, "the cost stage showed no progress"
    cost = next(s for s in result.plan.stages if s.stage == "cost").objective
    assert all(f"best {cost:,.0f}" in s for s in cost_lines), cost_lines
    # once done, the line is the plain check mark again and no watcher is left behind
    descriptions = [t.description for t in progress.tasks]
    assert all("best" not in d for d in descriptions)
    seen: list[SolveProgress] = []
    with watch_solves(seen.append):
        solve(_knapsack(), SolverOptions())
    assert seen


# --------------------------------------------------------------------- reprs


def test_every_repr_is_short(small, tmp_path):
    warnings.simplefilter("ignore")
    result = netplan.run_scenario(small)
    prep = prepare(small)
    sweep = sw.run_sweep(small, [sw.budget_axis("1.1x,1.4x,1.7x,2x")], sequential=True, html=True)
    netplan.write_run(result, tmp_path / "a")
    netplan.write_run(result, tmp_path / "b")
    comparison = netplan.compare(tmp_path / "a", tmp_path / "b")
    objects = {
        "Scenario": small,
        "Plan": result.plan,
        "RunResult": result,
        "Evaluation": result.evaluation,
        "Inputs": result.plan.inputs,
        "Prepared": prep,
        "TieredProblem": build_problem(prep)[0],
        "SolverRecord": result.plan.stages[0],
        "SweepResult": sweep,
        "PointResult": sweep.points[0],
        "SweepPoint": sweep_points(small, [sw.budget_axis("1.1x")])[0],
        "Shared": Shared(prep, result.baseline),
        "Comparison": comparison,
        "RunFolder": read_run(tmp_path / "a"),
        "LocationResult": netplan.classic.p_median(_line_data(), 1),
    }
    # the point's files alone are hundreds of kB: the repr must not carry them
    assert sum(len(v) for v in sweep.points[0].files.values()) > 100_000
    for name, obj in objects.items():
        text = repr(obj)
        assert len(text) <= 4096, f"{name}: {len(text):,} characters"
        assert text.startswith(name + "("), text[:80]
    assert "status='optimal'" in repr(result.plan)
    assert "points=4 (0 failed)" in repr(sweep)
    assert f"demand={len(result.plan.inputs.demand)} points" in repr(result.plan.inputs)
    assert f"outlets={len(result.evaluation.outlets)}" in repr(result.evaluation)


def _line_data():
    from netplan.classic import LocationData

    return LocationData.from_matrix(np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0]]))


def test_sweep_in_a_kernel_prints_points_done(small, monkeypatch, capsys):
    import netplan.sweep.driver as driver

    monkeypatch.setattr(driver, "in_kernel", lambda: True)
    warnings.simplefilter("ignore")
    sw.run_sweep(small, [sw.budget_axis("1.1x,1.4x")], sequential=True)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" (")[0] for line in lines] == [
        "sweep: 1 of 2 points done",
        "sweep: 2 of 2 points done",
    ]
    assert re.fullmatch(r"sweep: 1 of 2 points done \(p000: optimal, \d+\.\d s\)", lines[0])


def test_a_start_is_the_first_incumbent_reported():
    lp = _knapsack()
    start = np.zeros(lp.n_cols)
    start[0] = 1.0  # feasible: one item
    seen: list[SolveProgress] = []
    with watch_solves(seen.append):
        x, record = solve(lp, SolverOptions(), start=start)
    first = next(p.incumbent for p in seen if math.isfinite(p.incumbent))
    assert first == pytest.approx(lp.objective_value(start))
    assert first < record.objective  # the optimum packs more than one item
    assert seen[-1].done and seen[-1].incumbent == pytest.approx(record.objective)
