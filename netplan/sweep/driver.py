"""Running a sweep: check the options, build the points, solve them sequentially or on Dask."""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from netplan._errors import ScenarioError
from netplan.evaluation.kpis import baseline_outlets, evaluate
from netplan.optimize.progress import in_kernel
from netplan.preparation import prepare
from netplan.scenario import Scenario
from netplan.sweep.axes import SweepAxis
from netplan.sweep.cluster import run_on_dask
from netplan.sweep.points import (
    PointResult,
    Shared,
    solve_point,
    sweep_points,
    weighted_coverage,
)
from netplan.sweep.results import SweepFailedError, SweepResult, _table
from netplan.sweep.writing import _write_point, _write_summary

PointCallback = Callable[["PointResult"], None]


def check_sweep_options(
    workers: int | None = None, retries: int = 2, knee_threshold: float = 0.25
) -> None:
    """Check the options of :func:`run_sweep` (the CLI's ``--workers``, ``--retries``,
    ``--knee-threshold``) before anything is loaded.

    Raises
    ------
    ScenarioError
        ``workers`` < 1, ``retries`` < 0, or ``knee_threshold`` not a finite number >= 0.
    """
    if workers is not None and workers < 1:
        raise ScenarioError(
            f"--workers must be at least 1, got {workers}; leave it out to use every CPU core"
        )
    if retries < 0:
        raise ScenarioError(f"--retries must be >= 0, got {retries}")
    if not (math.isfinite(knee_threshold) and knee_threshold >= 0):
        raise ScenarioError(
            f"--knee-threshold must be a finite number >= 0, got {knee_threshold:g}; e.g. 0.25"
        )


def run_sweep(
    scenario: Scenario,
    axes: Sequence[SweepAxis],
    *,
    client: Any = None,
    scheduler: str | None = None,
    workers: int | None = None,
    sequential: bool = False,
    retries: int = 2,
    files: bool = True,
    html: bool = False,
    knee_threshold: float = 0.25,
    on_point: PointCallback | None = None,
    on_start: Callable[[int], None] | None = None,
    out: str | Path | None = None,
    overwrite: bool = False,
) -> SweepResult:
    """Solve one exact plan per point of a sweep, on dask.distributed or sequentially.

    Parameters
    ----------
    scenario : Scenario
        The base scenario; each point sets the swept keys on a copy.
    axes : sequence of SweepAxis
        From :func:`budget_axis`, :func:`target_axis` or :func:`key_axis`; zipped.
    client : distributed.Client, optional
        An existing client (its cluster is used as is).
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``); its workers need netplan and
        read access to the scenario's input files only for sweeps that prepare per point.
    workers : int, optional
        Workers of the local cluster (default: CPU cores), one thread each, processes.
    sequential : bool
        Solve the points one by one in this process (no Dask): the reference.
    retries : int
        Times a point is retried after its worker dies (and after an uncaught error).
    files : bool
        Keep each point's plan.gpkg, kpis.csv and run.json in :attr:`PointResult.files`.
    html : bool
        Also each point's map.html and report.html.
    knee_threshold : float
        See :func:`mark_knees`.
    on_point : callable, optional
        Called with each :class:`PointResult` as it finishes (progress).
    on_start : callable, optional
        Called with the number of points once they are validated.
    out : str or Path, optional
        Write the outputs of :func:`write_sweep` here, each point's plan as it finishes (so
        the plans are not all held in memory); atomic, like :func:`write_sweep`.
    overwrite : bool
        Replace a non-empty ``out``.

    Returns
    -------
    SweepResult

    Raises
    ------
    NetplanError
        Bad sweep or scenario (before anything is solved), or inputs that cannot be loaded.
    SweepFailedError
        Every point failed (its ``result`` holds the table of reasons; nothing is written).
    """
    check_sweep_options(workers, retries, knee_threshold)
    if out is not None:
        from netplan.outputs.folders import check_output_dir, scenario_paths

        check_output_dir(out, overwrite, protect=scenario_paths(scenario))  # before any work
    points = sweep_points(scenario, axes)
    if on_point is None and in_kernel():  # a notebook sees points done as they arrive
        on_point = _points_done(len(points))
    if on_start is not None:
        on_start(len(points))
    prep = prepare(scenario, check=False)  # the budget check runs per point
    base = evaluate(baseline_outlets(prep.inputs), prep.inputs.demand, scenario)
    shared = Shared(prep, base)
    x = "budget" if any(a.key == "budget.total" for a in axes) else "cost"
    with contextlib.ExitStack() as stack:
        tmp = None
        if out is not None:
            from netplan.outputs.folders import atomic_directory

            protect = scenario_paths(scenario)
            tmp = stack.enter_context(
                atomic_directory(out, overwrite=overwrite, protect=protect, kind="sweep")
            )

        def finished(res: PointResult) -> None:
            if tmp is not None:  # stream each plan to disk rather than hold every one in memory
                _write_point(tmp, res)
                res.files = {}
            if on_point is not None:
                on_point(res)

        t0 = time.perf_counter()
        if sequential:
            results = []
            for p in points:
                res = solve_point(shared, p, files or tmp is not None, html)
                results.append(res)
                finished(res)
            n_workers = 0
        else:
            results, n_workers = run_on_dask(
                shared,
                points,
                client,
                scheduler,
                workers,
                retries,
                files or tmp is not None,
                html,
                finished,
            )
        seconds = time.perf_counter() - t0
        lv = base.level_kpis()
        baseline = {
            "cost": float(prep.baseline_cost),
            "coverage_pct": weighted_coverage(lv, scenario),
        }
        for key, pct in zip(scenario.tier_keys, lv["covered_pct"], strict=True):
            baseline[f"covered_pct_{key}"] = float(pct)
        table = _table(results, scenario, x, knee_threshold)
        result = SweepResult(
            table,
            sorted(results, key=lambda r: r.index),
            baseline,
            x,
            [a.key for a in axes],
            seconds,
            n_workers,
            scenario,
            knee_threshold,
        )
        if results and not any(r.ok for r in results):  # raised inside: nothing is written
            first = min(results, key=lambda r: r.index)
            raise SweepFailedError(
                f"sweep: all {len(results)} points failed; the first (point {first.index}): {first.error}",
                result,
            )
        if tmp is not None:
            _write_summary(tmp, result)
    return result


def _points_done(n: int):
    """``sweep: 2 of 4 points done (p001: optimal, 3.1 s)``, one line per finished point."""
    done = 0

    def show(res: PointResult) -> None:
        nonlocal done
        done += 1
        status = res.row.get("status", "failed" if not res.ok else "?")
        seconds = res.row.get("seconds", float("nan"))
        print(f"sweep: {done} of {n} points done (p{res.index:03d}: {status}, {seconds:.1f} s)")

    return show
