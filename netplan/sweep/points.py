"""Sweep points: each point's scenario, and solving one point (the task a Dask worker runs).

Workers unpickle :func:`solve_point`, :class:`Shared` and :class:`SweepPoint` by their module
path, ``netplan.sweep.points``: a worker needs the same netplan installed (or importable).
"""

from __future__ import annotations

import math
import os
import tempfile
import time
import types
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from netplan._errors import ScenarioError
from netplan.evaluation.kpis import Evaluation, baseline_outlets, evaluate
from netplan.optimize.prechecks import check_prepared
from netplan.planner import plan
from netplan.preparation import Prepared, prepare
from netplan.scenario import Scenario
from netplan.scenario.phases import phase_columns
from netplan.sweep.axes import SweepAxis, with_keys

# Scenario sections the prepared inputs and coverage depend on (see preparation.build_problem):
# a sweep over one of them prepares every point on its own.
PREPARED_KEYS = (
    "tiers",
    "reach_overrides",
    "reach_order",
    "travel",
    "demand",
    "outlets",
    "candidates",
    "regions",
    "competitors",  # they discount the demand weights when the inputs are loaded
    "costs",
    "capacity",
    "siting",  # exclusion zones decide which sites may host which tiers
)

# Test hook: "INDEX:TIMES:PATH" makes the worker process solving point INDEX exit abruptly
# the first TIMES times (counted in the file PATH, so a later retry succeeds). Used by
# tests/test_sweep.py only.
CRASH_ONCE_ENV = "NETPLAN_TEST_CRASH_ONCE"


@dataclass
class SweepPoint:
    """One point of a sweep: its position, the keys it sets and its validated scenario."""

    index: int
    changes: tuple[tuple[str, Any], ...]
    scenario: Scenario
    own_inputs: bool = False

    @property
    def name(self) -> str:
        return f"p{self.index:03d}"

    def __repr__(self) -> str:
        changes = ", ".join(f"{k}={v!r}" for k, v in self.changes)
        return f"SweepPoint({self.name}: {changes})"


def sweep_points(scenario: Scenario, axes: Sequence[SweepAxis]) -> list[SweepPoint]:
    """The points of a sweep: axes zipped, every point validated now (bad input fails early).

    Raises
    ------
    ScenarioError
        No axis, axes of different lengths, or a value the scenario rejects.
    """
    if not axes:
        raise ScenarioError("sweep: give --budgets, --targets or --set KEY=VALUES")
    n = {len(a.values) for a in axes}
    if len(n) != 1:
        raise ScenarioError(
            "sweep: swept keys move together and need the same number of values; got "
            + ", ".join(f"{a.key}: {len(a.values)}" for a in axes)
        )
    keys = [a.key for a in axes]
    if len(set(keys)) != len(keys):
        raise ScenarioError(f"sweep: a key is swept twice: {keys}")
    points = []
    for i in range(n.pop()):
        changes = [kv for a in axes for kv in a.fixed] + [(a.key, a.values[i]) for a in axes]
        where = f"sweep point {i} ({', '.join(f'{k}={v}' for k, v in changes)})"
        point_scenario = with_keys(scenario, changes, where)
        own = any(getattr(point_scenario, k) != getattr(scenario, k) for k in PREPARED_KEYS)
        # a phase's weight columns are read with the inputs (budgets and growth are not)
        own = own or phase_columns(point_scenario) != phase_columns(scenario)
        points.append(SweepPoint(i, tuple(changes), point_scenario, own))
    return points


@dataclass
class Shared:
    """What every point shares: the prepared inputs and today's network, built once."""

    prepared: Prepared
    baseline: Evaluation

    def __repr__(self) -> str:
        return f"Shared(prepared={self.prepared!r}, baseline={self.baseline!r})"


@dataclass
class PointResult:
    """The outcome of one point: its CSV row, the plan's tiers and stage optima, its files."""

    index: int
    row: dict[str, Any]
    tiers: np.ndarray | None = None
    values: dict[str, float] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def __repr__(self) -> str:
        # the row's few figures, not the files (a point's map is megabytes)
        if not self.ok:
            return f"PointResult(p{self.index:03d}: failed, {self.error!r:.200})"
        row = {k: v for k, v in self.row.items() if k in ("status", "cost", "coverage_pct")}
        figures = ", ".join(
            f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v!r}" for k, v in row.items()
        )
        files = ", ".join(f"{k} ({len(v):,} B)" for k, v in self.files.items())
        return f"PointResult(p{self.index:03d}: {figures}; files: {files or 'none'})"


def _maybe_crash(index: int) -> None:
    spec = os.environ.get(CRASH_ONCE_ENV)
    if not spec:
        return
    want, times, marker = spec.split(":", 2)
    if int(want) != index:
        return
    path = Path(marker)
    done = len(path.read_text().splitlines()) if path.exists() else 0
    if done < int(times):
        with path.open("a") as f:
            f.write("crashed\n")
        os._exit(17)  # simulate a worker process dying (OOM kill, node loss)


def solve_point(
    shared: Shared, point: SweepPoint, files: bool = True, html: bool = False
) -> PointResult:
    """Plan, evaluate and validate one point; never raises (a failure becomes the row's error).

    Parameters
    ----------
    shared : Shared
        Prepared inputs and today's evaluation of the sweep's base scenario.
    point : SweepPoint
    files : bool
        Return plan.gpkg, kpis.csv and run.json of the point (as bytes).
    html : bool
        Also map.html and report.html (several MB per point on the demo).

    Returns
    -------
    PointResult
    """
    from netplan.evaluation.validator import validate_plan
    from netplan.pipeline import RunResult

    _maybe_crash(point.index)
    t0 = time.perf_counter()
    scenario = point.scenario
    row: dict[str, Any] = {"point": point.index}
    row.update({k: _scalar(v) for k, v in point.changes if k != "objective.type"})
    try:
        if point.own_inputs:
            prep = prepare(scenario)
            base = evaluate(baseline_outlets(prep.inputs), prep.inputs.demand, scenario)
        else:
            prep, base = shared.prepared, shared.baseline
            row["budget"] = _budget(scenario, prep.baseline_cost)
            # the budget check of prepare(), against this point's budget
            check_prepared(
                types.SimpleNamespace(
                    inputs=prep.inputs,
                    scenario=scenario,
                    linkage=prep.linkage,
                    baseline_cost=prep.baseline_cost,
                )
            )
        row["budget"] = _budget(scenario, prep.baseline_cost)
        if scenario.phases:  # a roadmap per point: coverage-years of exact, final_first, greedy
            from netplan.roadmap_pipeline import run_roadmap

            run = run_roadmap(scenario, prepared=prep)
            row.update(_roadmap_row(run))
            row["seconds"] = time.perf_counter() - t0
            last = run.plan.tiers[-1] if run.plan.tiers is not None else None
            return PointResult(point.index, row, last, dict(run.plan.result.values))
        result_plan = plan(scenario, prepared=prep)
        ev = evaluate(
            result_plan.outlets, prep.inputs.demand, scenario, assignment=result_plan.assignment
        )
        checks = validate_plan(result_plan, ev)
        timings = dict(result_plan.timings)
        result = RunResult(result_plan, ev, base, checks, timings)
        row.update(_row(result))
        row["seconds"] = time.perf_counter() - t0
        payload, note = _files(result, html) if files else ({}, "")
        row["error"] = note  # a page that failed: the plan stands, the row says what is missing
        return PointResult(point.index, row, result_plan.tiers, dict(result_plan.values), payload)
    except Exception as exc:  # a failed point is a row, not the end of the sweep
        message = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        row.update({"status": "failed", "seconds": time.perf_counter() - t0, "error": message})
        return PointResult(point.index, row, error=message)


def _budget(scenario: Scenario, baseline_cost: float) -> float:
    factor = scenario.budget_factor_of_baseline()
    total = baseline_cost * factor if factor is not None else scenario.budget.total
    return math.nan if total is None else float(total)


def _scalar(value: Any) -> Any:
    return value if isinstance(value, int | float | str | bool) or value is None else str(value)


def _row(result) -> dict[str, Any]:
    p = result.plan
    scenario = p.scenario
    lv = result.evaluation.level_kpis()
    row: dict[str, Any] = {"budget": p.budget["total"]}
    for key, pct in zip(scenario.tier_keys, lv["covered_pct"], strict=True):
        row[f"covered_pct_{key}"] = float(pct)
    row["coverage_pct"] = weighted_coverage(lv, scenario)
    cost = p.cost()
    row["cost"] = cost["total"]
    row["capex"] = cost["capex"] if "capex" in cost else math.nan
    on = p.tiers
    for k, key in enumerate(scenario.tier_keys):
        row[f"outlets_{key}"] = int((on == k).sum())
    rec = p.solver_record()
    row["status"] = p.status
    row["gap"] = rec["gap"]
    row["objective"] = rec["objective"]
    row["error"] = ""
    return row


def _roadmap_row(run) -> dict[str, Any]:
    """A roadmap point's row: the coverage-years of the exact roadmap, final_first and greedy,
    the last phase's coverage, the roadmap's cost and capex, status and the last stage's gap."""
    plan = run.plan
    scenario = plan.scenario
    figures = plan.coverage_years()
    last = run.evaluations[-1].level_kpis()
    row: dict[str, Any] = {
        "coverage_years": figures["exact"],
        "coverage_years_final_first": figures["final_first"],
        "coverage_years_greedy": figures["greedy"],
    }
    for key, pct in zip(scenario.tier_keys, last["covered_pct"], strict=True):
        row[f"covered_pct_{key}"] = float(pct)
    row["coverage_pct"] = weighted_coverage(last, scenario)
    money = plan.phase_table().iloc[1:]
    row["cost"] = float(money["total"].sum())
    row["capex"] = float(money["capex"].sum())
    for k, key in enumerate(scenario.tier_keys):
        row[f"outlets_{key}"] = int((plan.tiers[-1] == k).sum())
    record = plan.result.records[-1]
    row["status"] = plan.status
    row["gap"] = record.gap
    row["objective"] = plan.result.values.get("coverage_years", math.nan)
    row["error"] = ""
    return row


def weighted_coverage(level_kpis: pd.DataFrame, scenario: Scenario) -> float:
    """Level-weighted covered share in %: Σ w·covered / Σ w·demand (the curve's y)."""
    w = scenario.level_weights()
    demand = level_kpis["demand"].to_numpy(dtype=float)
    covered = level_kpis["covered"].to_numpy(dtype=float)
    if w.sum() == 0 or (w * demand).sum() == 0:
        w = np.ones_like(w)
    return float(100.0 * (w * covered).sum() / max((w * demand).sum(), 1e-12))


def _files(result, html: bool) -> tuple[dict[str, bytes], str]:
    """The point's output files as bytes, and a note when its pages could not be rendered."""
    from netplan.outputs.writer import write_outputs

    note = ""
    with tempfile.TemporaryDirectory(prefix="netplan-point-") as tmp:
        try:
            written = write_outputs(result, tmp, html=html, exports=False)
        except Exception as exc:
            if not html:
                raise
            # map.html / report.html failed: keep the plan's data files (never lose a plan)
            why = f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0]}".rstrip(": ")
            note = f"map.html and report.html could not be written ({why})"
            for child in Path(tmp).iterdir():
                child.unlink()
            written = write_outputs(result, tmp, html=False, exports=False)
        return {path.name: path.read_bytes() for path in written.values()}, note
