"""Exact lexicographic optimisation: solve stage by stage, fixing each optimum before the next.

``max_coverage`` ranks plans by coverage (higher), then cost, then distance, then site id;
``min_cost`` by cost, then coverage, then distance, then site id. After each stage its
objective is fixed at the optimum within ``s · (STAGE_TOLERANCE_REL · max(1, |optimum / s|) +
STAGE_TOLERANCE_ABS)`` (:mod:`netplan.optimize.stage_fixing`), where ``s`` is the power of two
at the objective's largest coefficient (:func:`netplan.optimize.scaling.pow2_scale`): the same
tolerance whatever the unit of weights or costs, exact while the smallest difference between
two plans is above 1e-6 of the largest coefficient. The next stage starts from the previous solution. Every stage is solved with the
requested MIP gap (default 0), on the program with each row and the objective divided by a
power of two (:mod:`netplan.optimize.scaling`).

Each stage's result is re-evaluated from the plan: a stage is ``optimal`` only when the
solver's objective is that of its solution and the gap between the plan's exact value and the
solver's bound, computed here in scaled units, meets ``mip_rel_gap``
(:func:`netplan.optimize.scaling.certify`); otherwise the run stops there with status ``feasible``
(gap not met) or ``unproven`` (objective and solution, or plan and bound, disagree).

The distance stage uses :class:`netplan.optimize.assignment.NearestAssignment`: a relaxation with
truncated candidate lists that is re-solved with longer lists until its optimum attains the
bound, so the distance optimum is exact. The site-id stage keeps the distance fixed the same
way.

One time limit covers all stages; a stage stopped early ends the run with status
``time_limit`` naming the stage.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from netplan.optimize.aggregation import solve_max_coverage_aggregated
from netplan.optimize.assignment import NearestAssignment
from netplan.optimize.lpguided import solve_max_coverage_lp_guided
from netplan.optimize.model import TieredModel
from netplan.optimize.problem import TieredProblem
from netplan.optimize.program import LinearProgram
from netplan.optimize.records import SolverOptions, SolverRecord
from netplan.optimize.scaling import certify, equilibrate, pow2_scale, solve_scaled
from netplan.optimize.stage_fixing import fix_columns, fix_row, stage_value, tolerance
from netplan.optimize.tie_stages import decided_record, second_stage, solve_with_distance

PROBING_SECONDS = 20.0  # before the distance model, where fixings shrink the lists
FIRST_PROBING_SECONDS = 2.0  # after stage 1, where reduced-cost fixing does most of the work
MAX_ENUMERATED_OPTIMA = 8
MIP_FEASIBILITY = 1e-6  # HiGHS' default mip_feasibility_tolerance
# a stage is not started with less than this share of the time limit left, after keeping
# STAGE_RESERVE_SHARE of the limit back (national: a 2 % keep-back left 0.2-1.4 s to spare)
STAGE_MIN_SHARE = 0.02
STAGE_RESERVE_SHARE = 0.04

STAGE_ORDER = {
    "max_coverage": ("coverage", "cost", "distance", "site_id"),
    "min_cost": ("cost", "coverage", "distance", "site_id"),
}


@dataclass
class LexicographicResult:
    """Outcome of the staged solve.

    Attributes
    ----------
    tiers : ndarray (m,) or None
        Tier of each site in the final solution (-1 = none); None if no solution.
    x : ndarray or None
        Base-column values (x and y) of the final solution.
    records : list of SolverRecord
        One per solve, in order (the distance stages may take several rounds).
    status : str
        ``optimal`` only if every stage was solved to optimality.
    stopped_stage : str or None
        The stage that did not finish (time limit, infeasible, ...).
    values : dict
        Exact optimum of each finished stage, by name.
    sizes : dict
        Size of the distance model.
    """

    tiers: np.ndarray | None
    x: np.ndarray | None
    records: list[SolverRecord]
    status: str
    stopped_stage: str | None
    values: dict[str, float] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)


def solve_lexicographic(
    model: TieredModel,
    objective: str,
    options: SolverOptions,
    tie_break: bool = True,
    on_stage: Callable[[str], None] | None = None,
    max_enumerated: int = MAX_ENUMERATED_OPTIMA,
    aggregate: tuple[np.ndarray, np.ndarray] | str | None = None,
) -> LexicographicResult:
    """Solve the tiered model lexicographically.

    Parameters
    ----------
    model : TieredModel
    objective : {"max_coverage", "min_cost"}
    options : SolverOptions
        ``time_limit`` is shared by all stages.
    tie_break : bool
        Run the distance and site-id stages (otherwise only the first two).
    aggregate : (xy, cells) or "lp_guided", optional
        Solve a max-coverage first stage by iterative aggregation
        (:func:`netplan.optimize.aggregation.solve_max_coverage_aggregated`) with these demand
        coordinates and grid cells per level, or by the LP-guided search
        (:func:`netplan.optimize.lpguided.solve_max_coverage_lp_guided`); later stages use the exact
        model.
    on_stage : callable, optional
        Called with the stage name before each stage (for progress displays).
    max_enumerated : int
        The distance and site-id stages first list every plan optimal for the first two
        stages when there are at most this many; beyond, they solve the distance model.
    """
    if model.has_extensions:
        return _solve_with_assignments(model, objective, options, tie_break, on_stage)
    stages = STAGE_ORDER[objective] if tie_break else STAGE_ORDER[objective][:2]
    base_objectives = {
        "coverage": model.coverage_objective(),
        "cost": model.cost_objective(),
        "site_id": model.tie_objective(),
    }
    lp = model.lp  # base columns (x, y) with the rows fixing finished stages
    records: list[SolverRecord] = []
    values: dict[str, float] = {}
    sizes: dict[str, int] = {}
    tiers: np.ndarray | None = None
    x: np.ndarray | None = None
    t_start = time.perf_counter()

    def remaining() -> float | None:
        if options.time_limit is None:
            return None
        return options.time_limit - (time.perf_counter() - t_start)

    def run(
        stage: str, stage_lp: LinearProgram, start: np.ndarray | None
    ) -> tuple[np.ndarray | None, SolverRecord]:
        left = remaining()
        if left is not None:
            # HiGHS checks its limit loosely while it builds and presolves a big model
            # (national cost stage: 0.6-1.4 s past its own limit); keep that share back
            left -= STAGE_RESERVE_SHARE * options.time_limit
        # a stage given a sliver of the limit cannot build, let alone solve, a model the
        # earlier stages needed the rest for (national: 1.5 s left for the cost stage of a
        # 190 000-row model ran 1 s past the limit); skip it instead of overrunning
        if left is not None and left <= STAGE_MIN_SHARE * options.time_limit:
            return None, _skipped(stage, options)
        stage_options = dataclasses.replace(options, time_limit=left)
        new_x, record = solve_scaled(stage_lp, stage_options, start=start)
        record.stage = stage
        return new_x, record

    first, second = stages[0], STAGE_ORDER[objective][1]
    # ---- stage 1
    if on_stage is not None:
        on_stage(first)
    obj1 = base_objectives[first]
    start = _feasible_start(model, lp)
    if isinstance(aggregate, str) and first == "coverage":
        guided = solve_max_coverage_lp_guided(
            model,
            dataclasses.replace(options, time_limit=remaining()),
            start_tiers=None if start is None else model.site_tiers(start),
        )
        record = guided.record
        new_x = None if guided.tiers is None else model.x_from_tiers(guided.tiers)
    elif aggregate is not None and first == "coverage":
        left = remaining()
        agg = solve_max_coverage_aggregated(
            model.problem,
            aggregate[0],
            aggregate[1],
            dataclasses.replace(options, time_limit=left),
            start_tiers=None if start is None else model.site_tiers(start),
        )
        record = agg.record
        new_x = None if agg.tiers is None else model.x_from_tiers(agg.tiers)
    else:
        new_x, record = run(first, lp.with_objective(obj1.c, obj1.sense, obj1.offset), start)
    records.append(record)
    record.extra["start"] = "today's network" if start is not None else "none"
    if new_x is not None:
        tiers = model.site_tiers(new_x)
        x = model.x_from_tiers(tiers)
        # the plan's own value, re-evaluated here, decides (never the solver's word alone)
        certify(record, stage_value(obj1, x), obj1.sense, options.mip_rel_gap, pow2_scale(obj1.c))
    if record.status != "optimal":
        return LexicographicResult(tiers, x, records, record.status, first, values, sizes)
    values[first] = stage_value(obj1, x)
    lp = lp.with_rows(*fix_row(obj1.c, obj1.sense, values[first], obj1.offset))
    # columns constant in every stage-1 optimal plan: valid for all later stages
    lp, fixed = fix_columns(model, lp, obj1, values[first], x, remaining(), FIRST_PROBING_SECONDS)
    sizes.update(
        {
            "fixed_zero_after_first": int(fixed.zero.sum()),
            "fixed_one_after_first": int(fixed.one.sum()),
            "fixing_seconds": round(fixed.seconds, 3),
        }
    )

    # ---- stage 2, together with the list of every plan optimal for both stages
    if on_stage is not None:
        on_stage(second)
    obj2 = base_objectives[second]
    if not tie_break:  # no tie-break: a plain solve from the stage-1 plan is all that is needed
        new_x, record = run(second, lp.with_objective(obj2.c, obj2.sense, obj2.offset), x)
        records.append(record)
        if new_x is not None:
            tiers = model.site_tiers(new_x)
            x = model.x_from_tiers(tiers)
        values[second] = stage_value(obj2, x)
        if new_x is not None:
            certify(record, values[second], obj2.sense, options.mip_rel_gap, pow2_scale(obj2.c))
        stopped = None if record.status == "optimal" else second
        return LexicographicResult(tiers, x, records, record.status, stopped, values, sizes)
    plans, values[second], outcome = second_stage(
        model, lp, obj2, tiers, max_enumerated, second, run, records, options.mip_rel_gap
    )
    tiers = plans[0]
    x = model.x_from_tiers(tiers)
    records[-1].extra["exact_objective"] = values[second]
    sizes["plans_optimal_for_first_stages"] = len(plans) if outcome == "complete" else -1
    if outcome not in ("complete", "too_many"):
        return LexicographicResult(tiers, x, records, outcome, second, values, sizes)
    tie = base_objectives["site_id"]
    if outcome == "complete":
        # every plan optimal for the first two stages is known: rank them exactly
        ranked = sorted(
            plans, key=lambda t: (model.distance_of(t), stage_value(tie, model.x_from_tiers(t)))
        )
        tiers = ranked[0]
        x = model.x_from_tiers(tiers)
        values["distance"] = model.distance_of(tiers)
        values["site_id"] = stage_value(tie, x)
        for stage in ("distance", "site_id"):
            if on_stage is not None:
                on_stage(stage)
            records.append(decided_record(records[-1], stage, values[stage], len(plans)))
        return LexicographicResult(tiers, x, records, "optimal", None, values, sizes)

    # ---- many plans tie: exact distance model over truncated, aggregated lists
    if on_stage is not None:
        on_stage("distance")
    lp = lp.with_rows(*fix_row(obj2.c, obj2.sense, values[second], obj2.offset))
    lp, fixed = fix_columns(model, lp, obj2, values[second], x, remaining(), PROBING_SECONDS)
    possible = np.zeros_like(model.problem.allowed)
    sure = np.zeros_like(model.problem.allowed)
    possible[model.x_site, model.x_tier] = ~fixed.zero
    sure[model.x_site, model.x_tier] = fixed.one
    nearest = NearestAssignment(model, possible, sure)
    nearest.seed(tiers)
    for stage in ("distance", "site_id"):
        if stage == "site_id" and on_stage is not None:
            on_stage(stage)
        result = solve_with_distance(
            stage,
            model,
            nearest,
            lp,
            tie,
            values.get("distance"),
            tiers,
            run,
            records,
            options.mip_rel_gap,
        )
        if result is None:
            return LexicographicResult(tiers, x, records, records[-1].status, stage, values, sizes)
        tiers, built = result
        sizes.update(built)
        x = model.x_from_tiers(tiers)
        values[stage] = model.distance_of(tiers) if stage == "distance" else stage_value(tie, x)
    return LexicographicResult(tiers, x, records, "optimal", None, values, sizes)


def _solve_with_assignments(
    model: TieredModel,
    objective: str,
    options: SolverOptions,
    tie_break: bool,
    on_stage: Callable[[str], None] | None,
) -> LexicographicResult:
    """Stages for models with capacities or a span of control, where a plan is its tiers *and*
    its assignments: each stage is one MILP over every column, fixing the finished stages'
    optima and starting from the previous stage's solution.

    Stages: the first two of the objective; then, with ``tie_break``, the assigned distance
    (under capacities: weight x distance of every assignment), the site-id rank, and under a
    span of control the total distance from supported outlets to their parents.
    """
    stages = list(STAGE_ORDER[objective][:2])
    if tie_break:
        if model.problem.capacity is not None:
            stages.append("distance")
        stages.append("site_id")
        if model.problem.span is not None:
            stages.append("support_distance")
    objectives = {
        "coverage": model.coverage_objective(),
        "cost": model.cost_objective(),
        "distance": model.assigned_distance_objective(),
        "site_id": model.tie_objective(),
        "support_distance": model.support_distance_objective(),
    }
    lp = model.lp
    # HiGHS 1.16's MIP presolve is unreliable on these models: on 3 of 29 small random
    # instances (tests/test_capacity_bruteforce.py) it declared feasible tie-break stages
    # infeasible or returned columns whose objective (300 363) differs from the value it
    # reported (268 588) while enumeration, CBC and HiGHS without presolve agree on 287 076.
    # Switching off single rules did not fix every case; presolve off did.
    options = dataclasses.replace(options, highs_presolve=False)
    records: list[SolverRecord] = []
    values: dict[str, float] = {}
    x = tiers = start = None
    t_start = time.perf_counter()
    for stage in stages:
        if on_stage is not None:
            on_stage(stage)
        obj = objectives[stage]
        left = (
            None
            if options.time_limit is None
            else options.time_limit - (time.perf_counter() - t_start)
        )
        if left is not None and left <= 0:
            records.append(_skipped(stage, options))
            return LexicographicResult(tiers, x, records, "time_limit", stage, values)
        new_x, record = solve_scaled(
            lp.with_objective(obj.c, obj.sense, obj.offset),
            dataclasses.replace(options, time_limit=left),
            start=start,
        )
        record.stage = stage
        records.append(record)
        scale = pow2_scale(obj.c)
        if new_x is not None:
            start = new_x  # the solver's own values: feasible within its tolerances
            x = np.where(lp.integer, np.round(new_x), new_x)
            tiers = model.site_tiers(x)
            certify(record, stage_value(obj, x), obj.sense, options.mip_rel_gap, scale)
        if record.status != "optimal":
            return LexicographicResult(tiers, x, records, record.status, stage, values)
        values[stage] = stage_value(obj, x)
        # continuous assignments carry the solver's feasibility noise (up to ~1e-6 each, on
        # rows scaled to unit largest coefficient), so a stage fixed on them gets that much
        # more slack; binary-only stages stay tight
        noise = MIP_FEASIBILITY * float(np.abs(obj.c[~lp.integer]).sum())
        row, lo, hi = fix_row(obj.c, obj.sense, values[stage], obj.offset)
        lp = lp.with_rows(row, lo - noise, hi + noise)
        record.extra["fix_slack"] = tolerance(values[stage], scale) + noise
    sizes = {"assignment_columns": int(model.na), "parent_columns": int(model.nv)}
    return LexicographicResult(tiers, x, records, "optimal", None, values, sizes)


def _feasible_start(model: TieredModel, lp: LinearProgram) -> np.ndarray | None:
    """Today's network as the first incumbent, without its unsupported outlets, when that
    satisfies every rule of the scenario.

    On large models the root LP can take longer than the time limit; without an incumbent
    a stopped run would have no plan at all. Today's network (every outlet at its current
    tier) is often feasible, e.g. under a budget of today's cost, and then a stopped run is
    never worse than today.
    """
    tiers = start_tiers(model.problem)
    if tiers is None:
        return None
    x = model.x_from_tiers(tiers)
    # judged on the scaled rows: a budget in 1e12 cents is met to 1e-6 of its scale
    if equilibrate(lp).lp.max_violation(x) > 1e-6:
        return None
    return x


def start_tiers(p: TieredProblem) -> np.ndarray | None:
    """Today's tiers without the outlets that lack a supporting outlet (None when one of
    those may not close); the caller checks the other rules."""
    tiers = p.costs.current_tier.copy()
    # close today's outlets that lack a supporting outlet (top tier first: a closure may leave
    # outlets below it unsupported), where their policy allows closing
    for k in range(1, p.n_tiers):
        pairs = p.linkage[k] if p.linkage is not None else None
        if pairs is None:
            continue
        upper = tiers[pairs.site]
        supported = np.zeros(p.n_sites, dtype=bool)
        supported[pairs.demand[(upper >= 0) & (upper < k)]] = True
        lost = (tiers == k) & ~supported
        if not lost.any():
            continue
        if np.isin(p.policy[lost], ("keep", "may_retier")).any():
            return None
        tiers[lost] = -1
    return tiers


def _skipped(stage: str, options: SolverOptions) -> SolverRecord:
    return SolverRecord(
        status="time_limit",
        objective=math.nan,
        bound=math.nan,
        gap=math.nan,
        seconds=0.0,
        solver=options.backend,
        version="",
        time_limit=options.time_limit,
        mip_rel_gap=options.mip_rel_gap,
        stage=stage,
        message="not started: earlier stages used (nearly) all of the time limit",
    )
