"""Sweeps: one exact plan per value of a scenario key, run on dask.distributed.

The question a planner brings to the board is the trade-off curve: coverage per level as
the budget grows (``max_coverage``), or cost as a coverage target grows (``min_cost``),
with the plan behind each point. :func:`run_sweep` solves one plan per point and returns a
:class:`SweepResult` (one row per point, the baseline, the knees); :func:`write_sweep`
writes ``sweep.csv``, ``sweep.png`` and one plan folder per point, atomically.

How a sweep is spelled (the CLI options map one to one onto :func:`budget_axis`,
:func:`target_axis` and :func:`key_axis`):

- ``--budgets 1e6:10e6:10``: ``budget.total`` from 1e6 to 10e6 in 10 points, both ends
  included (``numpy.linspace``); ``--budgets 0.8x:1.4x:7`` in multiples of today's cost
  (``'0.8 x baseline'``); a comma list ``2e6,3e6,5e6`` gives the values themselves.
- ``--targets community=0.8:0.95:4``: a ``min_cost`` sweep of ``objective.targets.community``;
  several ``--targets`` move together (same number of points).
- ``--set KEY=VALUES``: any scenario key, dotted (``solver.mip_rel_gap=0,0.01``,
  ``counts[0].max=1:3:3``, ``costs.direct.city.open=3e5:5e5:3``). Values are ``a:b:n`` or a
  comma list read as YAML scalars (``35 km``, ``true``). The key is checked by the
  scenario's own strict validation, so a typo gets a "did you mean".

Several axes move together (zipped), they are not crossed. A sweep has at most
:data:`MAX_POINTS` (1000) points at once: each point is a full plan, and ``1:2:100000000``
would otherwise fill the memory before the first solve; split a longer sweep into several.

Sharing: the inputs and coverage matrices are built once on the client and scattered to
every worker (``client.scatter(..., broadcast=True)``), with today's network evaluated once.
A key that changes the inputs or the coverage (tiers, reach, travel, costs, capacity, input
layers) cannot share them: each point of such a sweep prepares its own.

Determinism: each point runs the same code as a sequential run (:func:`solve_point`), the
solver with the scenario's threads and seed (default one thread, seed 0) and the exact
lexicographic tie-break, so a sweep on any number of workers gives the same plans as
running the points one by one.

Failures: a point that raises (infeasible, validation) is caught inside its task and
reported as ``failed`` with the reason while the others complete. A sweep whose every
point failed raises :class:`SweepFailedError` (nothing is written). A point whose worker
process dies is rescheduled by Dask; after ``retries`` deaths
(``distributed.scheduler.allowed-failures``, set for the local cluster) it is reported as
failed (``KilledWorker``).

Knees: coverage is the level-weighted covered share (``coverage_pct``). Between consecutive
successful points the marginal gain is Δcoverage / Δx (x = the budget for budget sweeps,
else the plan's cost). A point is a **knee** when the step into it bought at least
``knee_threshold`` × the sweep's average gain per unit and the step out of it buys less:
beyond it, extra money buys little. The default threshold 0.25 is scale-free (a quarter of
the average slope over the sweep).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import re
import tempfile
import time
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from pydantic import ValidationError

from netplan._errors import NetplanError, ScenarioError
from netplan.present.markup import html_text, mpl_text
from netplan.optimize.prechecks import check_prepared
from netplan.evaluation.kpis import Evaluation, baseline_outlets, evaluate
from netplan.planner import Prepared, plan, prepare
from netplan.scenario import Scenario, _explain_validation_error

# Scenario sections the prepared inputs and coverage depend on (see planner.build_problem):
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
)

# Test hook: "INDEX:TIMES:PATH" makes the worker process solving point INDEX exit abruptly
# the first TIMES times (counted in the file PATH, so a later retry succeeds). Used by
# tests/test_sweep.py only.
CRASH_ONCE_ENV = "NETPLAN_TEST_CRASH_ONCE"

PointCallback = Callable[["PointResult"], None]

# Points of one sweep at most (see the module docstring; the CLI's --help says the same).
MAX_POINTS = 1000


class SweepFailedError(NetplanError):
    """Every point of a sweep failed; ``result`` holds the table with each point's reason."""

    def __init__(self, message: str, result: SweepResult | None = None):
        super().__init__(message)
        self.result = result


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


# ----------------------------------------------------------------------- axes
@dataclass(frozen=True)
class SweepAxis:
    """One swept scenario key and its values; ``fixed`` keys are set on every point."""

    key: str
    values: tuple[Any, ...]
    fixed: tuple[tuple[str, Any], ...] = ()

    @property
    def column(self) -> str:
        return self.key


def parse_values(text: str, what: str) -> list[Any]:
    """``a:b:n`` (linspace, both ends) or a comma list of YAML scalars.

    Raises
    ------
    ScenarioError
        ``n`` is not a positive integer, or ``a``/``b`` are not numbers.
    """
    text = text.strip()
    parts = text.split(":")
    if len(parts) == 3 and all(p.strip() for p in parts):
        try:
            a, b = float(parts[0]), float(parts[1])
            n = int(parts[2])
        except ValueError:
            raise ScenarioError(
                f"{what}: cannot read {text!r} as FROM:TO:N (start, stop, number of points); e.g. 1e6:10e6:10"
            ) from None
        if n < 1:
            raise ScenarioError(f"{what}: the number of points in {text!r} must be at least 1")
        if n > MAX_POINTS:  # refuse before allocating: 1e8 points would fill the memory
            raise ScenarioError(
                f"{what}: {n} points in {text!r}; a sweep has at most {MAX_POINTS} points at once, split it into several"
            )
        if not (math.isfinite(a) and math.isfinite(b)):
            raise ScenarioError(f"{what}: FROM and TO must be finite numbers, got {text!r}")
        return [float(v) for v in np.linspace(a, b, n)]
    if ":" in text:  # never let YAML read '1:2' as a base-60 number
        raise ScenarioError(
            f"{what}: cannot read {text!r}; give FROM:TO:N (start, stop, number of points) or v1,v2,..."
        )
    items = text.split(",")
    if len(items) > MAX_POINTS:
        raise ScenarioError(
            f"{what}: {len(items)} values; a sweep has at most {MAX_POINTS} points at once, split it into several"
        )
    values = []
    for item in items:
        if not item.strip():
            raise ScenarioError(f"{what}: empty value in {text!r}; give FROM:TO:N or v1,v2,...")
        values.append(yaml.safe_load(item.strip()))
    return values


def budget_axis(text: str) -> SweepAxis:
    """``--budgets``: ``a:b:n`` or a comma list of money; a trailing ``x`` on every value
    means multiples of today's cost (``0.8x:1.4x:7``)."""
    what = "--budgets"
    compact = text.replace(" ", "")
    parts = compact.split(":")
    items = parts[:2] if len(parts) == 3 else compact.split(",")
    relative = [item.endswith("x") for item in items]
    if any(relative) and not all(relative):
        raise ScenarioError(
            f"{what}: write every value as a multiple (0.8x:1.4x:7) or none of them, got {text!r}"
        )
    if all(relative):
        cleaned = re.sub(r"x(?=(:|,|$))", "", compact)
        values = [f"{_number(v, what):g} x baseline" for v in parse_values(cleaned, what)]
    else:
        values = [_number(v, what) for v in parse_values(text, what)]
        for v in values:
            if v < 0:
                raise ScenarioError(f"{what}: a budget must be >= 0, got {v:g}")
    return SweepAxis("budget.total", tuple(values))


def target_axis(text: str, scenario: Scenario) -> SweepAxis:
    """``--targets LEVEL=VALUES``: a ``min_cost`` sweep of one level's coverage target."""
    what = "--targets"
    if "=" not in text:
        raise ScenarioError(f"{what}: write LEVEL=VALUES, e.g. community=0.8:0.95:4 (got {text!r})")
    level, values = text.split("=", 1)
    key = scenario.tiers[scenario.tier_index(level.strip(), f"{what} {level.strip()}")].key
    numbers = [_number(v, what) for v in parse_values(values, f"{what} {key}")]
    for v in numbers:
        if not 0 <= v <= 1:
            raise ScenarioError(
                f"{what} {key}: a target is a share between 0 and 1, got {v:g}; e.g. {key}=0.8:0.95:4"
            )
    return SweepAxis(
        f"objective.targets.{key}", tuple(numbers), fixed=(("objective.type", "min_cost"),)
    )


def key_axis(text: str) -> SweepAxis:
    """``--set KEY=VALUES`` for any scenario key (checked when the points are built)."""
    if "=" not in text:
        raise ScenarioError(
            f"--set: write KEY=VALUES, e.g. solver.mip_rel_gap=0,0.01 (got {text!r})"
        )
    key, values = text.split("=", 1)
    key = key.strip()
    return SweepAxis(key, tuple(parse_values(values, f"--set {key}")))


def _number(value: Any, what: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise ScenarioError(f"{what}: {value!r} is not a number") from None
    if not math.isfinite(number):
        raise ScenarioError(f"{what}: {value!r} is not a finite number")
    return number


def _key_parts(key: str) -> list[str | int]:
    """``counts[0].max`` or ``counts.0.max`` -> ['counts', 0, 'max']."""
    parts: list[str | int] = []
    for piece in re.split(r"\.|(?=\[)", key):
        if not piece:
            continue
        m = re.fullmatch(r"\[(\d+)\]", piece)
        if m:
            parts.append(int(m.group(1)))
        elif piece.isdigit():
            parts.append(int(piece))
        else:
            parts.append(piece)
    return parts


def with_key(scenario: Scenario, key: str, value: Any, where: str = "--set") -> Scenario:
    """A copy of ``scenario`` with the (dotted) ``key`` set to ``value``, validated again.

    Raises
    ------
    ScenarioError
        Unknown key (with a suggestion), bad value, or a rule the new value breaks.
    """
    return with_keys(scenario, [(key, value)], where)


def with_keys(scenario: Scenario, changes: Sequence[tuple[str, Any]], where: str) -> Scenario:
    """A copy of ``scenario`` with several dotted keys set, validated once."""
    data = scenario.model_dump()
    for key, value in changes:
        parts = _key_parts(key)
        if not parts:
            raise ScenarioError(f"{where}: empty key")
        node: Any = data
        for i, part in enumerate(parts[:-1]):
            nxt = node[part] if _has(node, part) else None
            if nxt is None:  # an optional section not given: create it
                nxt = {} if not isinstance(parts[i + 1], int) else []
                if isinstance(node, dict):
                    node[part] = nxt
                else:
                    raise ScenarioError(f"{where}: {key}: no item [{part}] in the scenario")
            node = nxt
        last = parts[-1]
        if isinstance(node, list):
            if not isinstance(last, int) or last >= len(node):
                raise ScenarioError(f"{where}: {key}: no item [{last}] in the scenario")
            node[last] = value
        elif isinstance(node, dict):
            node[last] = value
        else:
            raise ScenarioError(f"{where}: {key}: {parts[:-1]} is a value, not a section")
    try:
        out = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError("\n".join(_explain_validation_error(exc, where))) from None
    out.source = scenario.source
    out._check_semantics(where)
    return out


def _has(node: Any, part: str | int) -> bool:
    if isinstance(node, dict):
        return part in node
    return isinstance(node, list) and isinstance(part, int) and part < len(node)


# --------------------------------------------------------------------- points
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
        points.append(SweepPoint(i, tuple(changes), point_scenario, own))
    return points


@dataclass
class Shared:
    """What every point shares: the prepared inputs and today's network, built once."""

    prepared: Prepared
    baseline: Evaluation


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
    from netplan.pipeline import RunResult
    from netplan.evaluation.validator import validate_plan

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
            written = write_outputs(result, tmp, html=html)
        except Exception as exc:
            if not html:
                raise
            # map.html / report.html failed: keep the plan's data files (never lose a plan)
            why = f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0]}".rstrip(": ")
            note = f"map.html and report.html could not be written ({why})"
            for child in Path(tmp).iterdir():
                child.unlink()
            written = write_outputs(result, tmp, html=False)
        return {path.name: path.read_bytes() for path in written.values()}, note


# ---------------------------------------------------------------------- knees
def mark_knees(
    x: np.ndarray, y: np.ndarray, threshold: float = 0.25
) -> tuple[np.ndarray, np.ndarray]:
    """Marginal gain into each point and the knee flags (see the module docstring).

    Parameters
    ----------
    x, y : ndarray
        Budget (or cost) and coverage of each point, NaN for failed points.
    threshold : float
        A step buys "little" below ``threshold`` × the average gain per unit over the sweep.

    Returns
    -------
    marginal : ndarray
        Δy / Δx from the previous successful point in x order (NaN for the first, for failed
        points and where x does not grow).
    knee : ndarray of bool
    """
    n = len(x)
    marginal = np.full(n, np.nan)
    knee = np.zeros(n, dtype=bool)
    ok = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    if len(ok) < 3:
        return marginal, knee
    order = ok[np.argsort(x[ok], kind="stable")]
    dx = np.diff(x[order])
    dy = np.diff(y[order])
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(dx > 0, dy / dx, np.nan)
    marginal[order[1:]] = slope
    span = x[order[-1]] - x[order[0]]
    if span <= 0:
        return marginal, knee
    average = (y[order[-1]] - y[order[0]]) / span
    if not average > 0:
        return marginal, knee
    cut = threshold * average
    # a knee: bought enough to get here, buys little beyond
    into = slope[:-1]
    out = slope[1:]
    flag = (into >= cut) & (out < cut)
    knee[order[1:-1][flag]] = True
    return marginal, knee


# --------------------------------------------------------------------- result
@dataclass
class SweepResult:
    """A finished sweep.

    Attributes
    ----------
    table : DataFrame
        One row per point (the content of sweep.csv).
    points : list of PointResult
    baseline : dict
        Today's network: ``cost``, ``coverage_pct`` and ``covered_pct_<level>``.
    x : str
        Column of the curve's x axis (``budget`` for budget sweeps, else ``cost``).
    keys : list of str
        The swept keys.
    seconds : float
        Wall time of the solves.
    workers : int
        Dask workers used (0 = sequential, in this process).
    scenario : Scenario
    """

    table: pd.DataFrame
    points: list[PointResult]
    baseline: dict[str, float]
    x: str
    keys: list[str]
    seconds: float
    workers: int
    scenario: Scenario
    knee_threshold: float = 0.25

    def figure(self):
        """The curve as a matplotlib figure: coverage per level and weighted, baseline and knees."""
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
        from matplotlib.ticker import FuncFormatter

        t = self.table
        ok = t["status"] != "failed"
        t_ok = t[ok].sort_values(self.x)
        fig, ax = plt.subplots(figsize=(8, 4.8), dpi=110)
        colours = ["#b2182b", "#2166ac", "#1b7837", "#762a83", "#e08214"]
        keys = self.scenario.tier_keys
        labels = self.scenario.tier_labels
        for k, (key, label) in enumerate(zip(keys, labels, strict=True)):
            c = colours[k % len(colours)]
            ax.plot(
                t_ok[self.x], t_ok[f"covered_pct_{key}"], "-o", ms=3.5, color=c, lw=1.2, label=mpl_text(label)
            )
            ax.plot(
                [self.baseline["cost"]],
                [self.baseline[f"covered_pct_{key}"]],
                marker="*",
                ms=11,
                color=c,
                mec="black",
                mew=0.6,
                ls="none",
            )
        ax.plot(
            t_ok[self.x],
            t_ok["coverage_pct"],
            "-",
            color="black",
            lw=2.2,
            label="weighted coverage",
        )
        ax.plot(
            [self.baseline["cost"]],
            [self.baseline["coverage_pct"]],
            marker="*",
            ms=15,
            color="gold",
            mec="black",
            ls="none",
            label="today's network (stars: weighted, per level)",
        )
        knees = t_ok[t_ok["knee"]]
        if len(knees):
            ax.plot(
                knees[self.x],
                knees["coverage_pct"],
                "o",
                ms=13,
                mfc="none",
                mec="#d6604d",
                mew=2,
                label=f"knee (next step buys < {self.knee_threshold:g} × average)",
            )
        failed = t[~ok]
        if len(failed) and self.x in failed and failed[self.x].notna().any():
            for xv in failed[self.x].dropna():
                ax.axvline(xv, color="grey", ls=":", lw=1)
        xlabel = "budget.total" if self.x == "budget" else "plan cost"
        ax.set_xlabel(f"{xlabel} (over {self.scenario.costs.horizon_years:g} years)")
        ax.set_ylabel("covered demand (%)")
        ax.xaxis.set_major_formatter(FuncFormatter(_money_tick(ax.get_xlim())))
        ax.grid(alpha=0.3)
        swept = "" if self.keys == ["budget.total"] else f" (sweep of {', '.join(self.keys)})"
        ax.set_title(mpl_text(f"{self.scenario.name}: coverage by {xlabel}{swept}"), fontsize=10)
        ax.legend(fontsize=8, loc="lower right")
        fig.tight_layout()
        return fig

    def _repr_html_(self) -> str:
        cols = [c for c in self.table.columns if c not in ("error",) or self.table["error"].any()]
        return (
            f"<p><b>sweep</b> of {html_text(', '.join(self.keys))}: {len(self.table)} points, "
            f"{int((self.table['status'] == 'failed').sum())} failed, {self.seconds:.1f} s on "
            f"{self.workers or 'no'} workers; today: cost {self.baseline['cost']:,.0f}, "
            f"coverage {self.baseline['coverage_pct']:.1f} %</p>"
            + self.table[cols].to_html(index=False, float_format=lambda v: f"{v:,.4g}", na_rep="")
        )


def _money_tick(limits: tuple[float, float]):
    """Tick labels that stay short: 12 M, 350 k or 1,200 (long figures overlap)."""
    top = max(abs(limits[0]), abs(limits[1]))
    if top >= 1e6:
        return lambda v, _: f"{v / 1e6:g} M"
    if top >= 1e4:
        return lambda v, _: f"{v / 1e3:g} k"
    return lambda v, _: f"{v:,.0f}"


def _table(points: list[PointResult], scenario: Scenario, x: str, threshold: float) -> pd.DataFrame:
    rows = [p.row for p in sorted(points, key=lambda p: p.index)]
    table = pd.DataFrame(rows)
    numeric = [f"covered_pct_{k}" for k in scenario.tier_keys] + [
        f"outlets_{k}" for k in scenario.tier_keys
    ]
    for col in ["budget", "coverage_pct", "cost", "capex", "status", "gap", "objective"] + [
        "seconds",
        "error",
        *numeric,
    ]:
        if col not in table:
            table[col] = np.nan if col not in ("status", "error") else ""
    xs = pd.to_numeric(table[x], errors="coerce").to_numpy(dtype=float, copy=True)
    ys = pd.to_numeric(table["coverage_pct"], errors="coerce").to_numpy(dtype=float)
    failed = (table["status"] == "failed").to_numpy()
    xs[failed] = np.nan
    marginal, knee = mark_knees(xs, ys, threshold)
    table["marginal_pct_per_unit"] = marginal
    table["knee"] = knee
    table["error"] = table["error"].fillna("")
    front = ["point"] + [c for c in rows[0] if c not in ("point",)] if rows else []
    ordered = [c for c in front if c in table] + [c for c in table.columns if c not in front]
    level_cols = [f"covered_pct_{k}" for k in scenario.tier_keys]
    tier_cols = [f"outlets_{k}" for k in scenario.tier_keys]
    head = [
        c
        for c in ordered
        if c
        not in level_cols
        + tier_cols
        + [
            "coverage_pct",
            "cost",
            "capex",
            "status",
            "gap",
            "objective",
            "seconds",
            "marginal_pct_per_unit",
            "knee",
            "error",
        ]
    ]
    tail = (
        level_cols
        + ["coverage_pct", "cost", "capex"]
        + tier_cols
        + ["status", "gap", "objective", "seconds", "marginal_pct_per_unit", "knee", "error"]
    )
    return table[head + [c for c in tail if c in table]]


# ---------------------------------------------------------------------- driver
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
            results, n_workers = _run_on_dask(
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


def _run_on_dask(shared, points, client, scheduler, workers, retries, files, html, on_point):
    import dask
    from distributed import Client, LocalCluster, as_completed

    own_client = own_cluster = None
    if retries < 0:
        raise ScenarioError(f"--retries must be >= 0, got {retries}")
    try:
        if client is None:
            if scheduler:
                try:
                    client = own_client = Client(scheduler, timeout="10s")
                except OSError as exc:
                    raise NetplanError(
                        f"--scheduler {scheduler}: cannot connect ({exc}); start it with `dask scheduler` or drop --scheduler for a local cluster"
                    ) from None
            else:
                n = workers or os.cpu_count() or 1
                # the local scheduler runs in this process: its config decides how often a
                # point whose worker died is retried before KilledWorker
                with dask.config.set({"distributed.scheduler.allowed-failures": retries}):
                    own_cluster = LocalCluster(
                        n_workers=n,
                        threads_per_worker=1,
                        processes=True,
                        dashboard_address=":0",  # any free port (8787 may be taken)
                        silence_logs=logging.ERROR,
                    )
                client = own_client = Client(own_cluster)
        n_workers = len(client.nthreads())
        shared_f = client.scatter(shared, broadcast=True, hash=False)

        def submit(p: SweepPoint, data):
            key = f"netplan-sweep-{p.name}-{os.getpid()}-{time.time_ns()}"
            return client.submit(
                solve_point, data, p, files, html, retries=retries, pure=False, key=key
            )

        futures = {submit(p, shared_f): p for p in points}
        attempts = dict.fromkeys(range(len(points)), 0)
        results = []
        pending = as_completed(list(futures))
        for fut in pending:
            p = futures.pop(fut)
            try:
                res = fut.result()
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as exc:  # KilledWorker after the retries, lost data, ...
                if fut.cancelled() and attempts[p.index] < retries:
                    # the only workers holding the scattered inputs (or this result) died:
                    # scattered data has no lineage, so send it again and resubmit the point
                    attempts[p.index] += 1
                    if shared_f.status != "finished":
                        shared_f = client.scatter(shared, broadcast=True, hash=False)
                    again = submit(p, shared_f)
                    futures[again] = p
                    pending.add(again)
                    continue
                message = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
                row = {
                    "point": p.index,
                    **{k: _scalar(v) for k, v in p.changes if k != "objective.type"},
                }
                row.update({"status": "failed", "error": message})
                res = PointResult(p.index, row, error=message)
            results.append(res)
            if on_point is not None:
                on_point(res)
        return results, n_workers
    finally:
        if own_client is not None:
            own_client.close()
        if own_cluster is not None:
            own_cluster.close()


def write_sweep(result: SweepResult, out: str | Path, overwrite: bool = False) -> Path:
    """Write sweep.csv, sweep.png and one folder per point (``points/p000`` ...) atomically.

    The points' files are those kept in memory (``run_sweep(..., files=True)``);
    ``run_sweep(..., out=...)`` writes the same outputs while the points finish.

    Raises
    ------
    OutputError
        ``out`` exists and is not empty (without ``overwrite``), holds the scenario or an
        input, was not written by netplan, or cannot be written.
    """
    from netplan.outputs.folders import atomic_directory, scenario_paths

    protect = scenario_paths(result.scenario)
    with atomic_directory(out, overwrite=overwrite, protect=protect, kind="sweep") as tmp:
        for p in result.points:
            _write_point(tmp, p)
        _write_summary(tmp, result)
    return Path(out)


def _write_point(folder: Path, point: PointResult) -> None:
    if point.files:
        target = folder / "points" / f"p{point.index:03d}"
        target.mkdir(parents=True)
        for name, data in point.files.items():
            (target / name).write_bytes(data)


def _write_summary(folder: Path, result: SweepResult) -> None:
    import matplotlib.pyplot as plt

    result.table.to_csv(
        folder / "sweep.csv", index=False, float_format="%.10g", lineterminator="\n"
    )
    fig = result.figure()
    fig.savefig(folder / "sweep.png")
    plt.close(fig)
