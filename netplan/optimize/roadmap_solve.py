"""The exact roadmap: lexicographic stages on the roadmap MILP, each certified from the plan.

Stages of ``coverage_years``: coverage-years (max), then the roadmap's total cost (min), then
the years-weighted distance to the nearest serving outlet (min,
:mod:`netplan.optimize.roadmap_distance`), then the site-id tie-break (min); with ``min_cost``
(targets per phase) the cost comes first. Each stage's value is re-evaluated from the phase
tiers alone (:func:`coverage_years` from the coverage pairs, :func:`phase_money` from the cost
arrays, the distance from the coverage pairs), never taken from the solver; a stage is optimal
only when :func:`~netplan.optimize.scaling.certify` agrees. One time limit covers all stages;
a stage stopped early ends the run there.

``final_first`` (:func:`solve_final_first`) fixes the single-plan optimum of the last phase
first and orders its actions."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from netplan.optimize.lexicographic import STAGE_MIN_SHARE, STAGE_RESERVE_SHARE
from netplan.optimize.model import StageObjective
from netplan.optimize.records import SolverOptions, SolverRecord
from netplan.optimize.roadmap_distance import (
    RoadmapAsPlan,
    RoadmapNearest,
    assigned_distance_objective,
    fix_site_tiers,
    has_assignments,
    years_distance,
)
from netplan.optimize.roadmap_model import RETIER_POLICIES, RoadmapModel, RoadmapProblem
from netplan.optimize.scaling import certify, pow2_scale, solve_scaled
from netplan.optimize.solver import MIP_FEASIBILITY
from netplan.optimize.stage_fixing import fix_row, stage_value
from netplan.optimize.tie_stages import solve_with_distance

STAGES = ("coverage_years", "cost", "distance", "site_id")
# min_cost: the least total cost meeting every phase's targets, then the most coverage-years
MIN_COST_STAGES = ("cost", "coverage_years", "distance", "site_id")


@dataclass
class RoadmapResult:
    """Outcome of :func:`solve_roadmap`.

    Attributes
    ----------
    tiers : ndarray (P, m) or None
        Tier of each site in each phase (-1 = none).
    records : list of SolverRecord
    status : str
        ``optimal`` only if every stage was certified optimal.
    stopped_stage : str or None
    values : dict
        Exact value of each finished stage.
    end_tiers : ndarray (m,) or None
        ``final_first``: the end state whose actions were ordered.
    x : ndarray or None
        Under capacities (or a span of control): the roadmap program's solution of the last
        finished stage; its assignment columns are the plan's assignments.
    unreachable_end_coverage : float or None
        ``final_first`` when the single-plan end state cannot be reached: that end state's
        coverage; the roadmap is then the one whose last phase covers most among reachable
        ones (stage ``end_coverage``).
    """

    tiers: np.ndarray | None
    records: list[SolverRecord]
    status: str
    stopped_stage: str | None
    values: dict[str, float] = field(default_factory=dict)
    end_tiers: np.ndarray | None = None  # final_first: the end state it ordered
    x: np.ndarray | None = None  # with capacities: the solution, whose assignments are the plan's
    # final_first: the single-plan end state was out of reach; its (level-weighted) coverage
    unreachable_end_coverage: float | None = None


def coverage_years(problem: RoadmapProblem, tiers: np.ndarray) -> float:
    """Sum over phases of years × level-weighted demand within reach of an open serving outlet.

    Computed from the coverage pairs and the phase weights only (no model columns).
    """
    total = 0.0
    for phase, years, t in zip(problem.phases, problem.years, tiers, strict=True):
        lw = phase.lw()
        for level in np.flatnonzero(phase.modelled_levels()):
            pairs, mask = phase.coverage.level_pairs(int(level))
            k = t[pairs.site]
            serving = (k >= 0) & mask[np.arange(len(k)), np.maximum(k, 0)]
            covered = np.zeros(phase.n_demand, dtype=bool)
            covered[pairs.demand[serving]] = True
            total += years * lw[level] * float(phase.weights[covered, level].sum())
    return total


def phase_money(
    problem: RoadmapProblem, tiers: np.ndarray, before: np.ndarray | None = None
) -> list[dict[str, float]]:
    """Per phase: ``capex`` (open + convert + close paid in it), ``opex_per_year`` and
    ``total`` (capex + years × opex), from the tiers before and after each phase.

    ``before`` is the network before the first phase given (default: today's).
    """
    costs = problem.phases[0].costs
    before = costs.current_tier.copy() if before is None else np.asarray(before)
    out = []
    for t, years in zip(tiers, problem.years, strict=True):
        on, was = t >= 0, before >= 0
        opening = on & ~was & (costs.current_tier < 0)
        changing = on & was & (t != before)
        closing = ~on & was
        idx = np.flatnonzero(on)
        capex = float(
            costs.open[opening, t[opening]].sum()
            + costs.convert[changing, t[changing]].sum()
            + costs.close[closing].sum()
        )
        opex = float(costs.operate[idx, t[idx]].sum())
        out.append({"capex": capex, "opex_per_year": opex, "total": capex + years * opex})
        before = t
    return out


def transitions_broken(problem: RoadmapProblem, tiers: np.ndarray) -> list[str]:
    """The transition rules a phase-tier sequence breaks (empty: none), checked site by site
    on the sequence itself: new sites open once, stay open and only move up; at most one
    change of tier; today's outlets never reopen and do not change tier before closing."""
    first = problem.phases[0]
    current, policy = first.costs.current_tier, first.policy
    seq = np.vstack([current, tiers])  # row 0: today
    broken = []
    for j in range(first.n_sites):
        s = seq[:, j]
        open_ = s >= 0
        changes = int(np.sum(open_[:-1] & open_[1:] & (s[:-1] != s[1:])))
        if changes > 1:
            broken.append(f"site {j}: {changes} changes of tier")
        if current[j] < 0:
            if np.any(open_[:-1] & ~open_[1:]):
                broken.append(f"site {j}: a new outlet closes")
            # upward = towards tier 0: the index never grows while open
            if np.any(open_[:-1] & open_[1:] & (s[1:] > s[:-1])):
                broken.append(f"site {j}: a new outlet moves down a tier")
        else:
            if np.any(~open_[:-1] & open_[1:]):
                broken.append(f"site {j}: reopens")
            if changes and policy[j] not in RETIER_POLICIES:
                broken.append(f"site {j}: changes tier under policy {policy[j]}")
            retiered = open_ & (s != current[j])
            if np.any(retiered[:-1] & ~open_[1:]):
                broken.append(f"site {j}: changes tier before closing")
    return broken


def solve_roadmap(
    problem: RoadmapProblem,
    options: SolverOptions | None = None,
    tie_break: bool = True,
    progress: Callable[[str, str], None] | None = None,
    start_tiers: np.ndarray | None = None,
) -> RoadmapResult:
    """The exact roadmap: coverage-years, then total cost, then site id (see the module).

    Parameters
    ----------
    problem : RoadmapProblem
    options : SolverOptions, optional
        ``time_limit`` covers all stages.
    tie_break : bool
        Run the site-id stage.
    progress : callable, optional
        ``progress("solve:<stage>", "start" | "done")`` around each stage.
    start_tiers : ndarray (P, m), optional
        A roadmap to start from (e.g. the greedy one), used when it keeps every row.

    Returns
    -------
    RoadmapResult
    """
    options = options or SolverOptions()
    model = RoadmapModel(problem)
    start = None
    if start_tiers is not None:
        x = model.x_from_phase_tiers(np.asarray(start_tiers))
        if x is not None and model.lp.max_violation(x) <= 1e-6:
            start = x
    return _stages(
        problem, model, model.lp, options, time.perf_counter(), tie_break, progress, start
    )


def solve_final_first(
    problem: RoadmapProblem,
    options: SolverOptions | None = None,
    tie_break: bool = True,
    progress: Callable[[str, str], None] | None = None,
) -> RoadmapResult:
    """``final_first``: the best end state first, then the order of its actions.

    The end state is the single-plan optimum (coverage, then cost) for the last phase's demand
    under the phases' summed capex and the last phase's opex; the roadmap is then the best
    order (coverage-years, cost, site id) among those that end in it. An end state the phase
    budgets cannot reach gives the status ``unreachable`` and says so.
    """
    from netplan.optimize.lexicographic import solve_lexicographic
    from netplan.optimize.model import TieredModel

    options = options or SolverOptions()
    t0 = time.perf_counter()
    last = problem.phases[-1]
    phase_capex = [lim.capex for lim in problem.limits]
    # the summed capex of the phases (unbounded if a phase has none), within the roadmap's
    summed = None if any(c is None for c in phase_capex) else float(sum(phase_capex))
    opex = [problem.limits[-1].opex, problem.budget_opex]
    end_problem = dataclasses.replace(
        last,
        budget_total=None,
        budget_capex=_least([summed, problem.budget_capex]),
        budget_opex=_least(opex),
    )
    _tell(progress, "solve:end_state", "start")
    end = solve_lexicographic(TieredModel(end_problem), last.objective, options, tie_break=False)
    _tell(progress, "solve:end_state", "done")
    for record in end.records:
        record.stage = f"end_state:{record.stage}"
    if end.status != "optimal" or end.tiers is None:
        return RoadmapResult(None, end.records, end.status, "end_state", {})
    model = RoadmapModel(problem)
    p = problem.n_phases - 1
    cols = model.xcol(p)
    on = np.zeros(cols.shape, dtype=bool)
    sites = np.flatnonzero(end.tiers >= 0)
    on[sites, end.tiers[sites]] = True
    lp = model.lp.with_bounds(cols[(cols >= 0) & on], 1.0, 1.0).with_bounds(
        cols[(cols >= 0) & ~on], 0.0, 0.0
    )
    left = None if options.time_limit is None else options.time_limit - (time.perf_counter() - t0)
    result = _stages(
        problem,
        model,
        lp,
        dataclasses.replace(options, time_limit=left),
        time.perf_counter(),
        tie_break,
    )
    result.records = end.records + result.records
    result.end_tiers = end.tiers
    if result.status != "infeasible":
        return result
    result.records[
        -1
    ].message = "the best end state cannot be reached within the phase budgets and transition rules"
    # the best end state the phases can reach instead: the last phase's coverage first
    # (over every roadmap the rules allow), then coverage-years, cost and the tie-breaks
    left = None if options.time_limit is None else options.time_limit - (time.perf_counter() - t0)
    if left is not None and left <= 0.01:
        result.status = "unreachable"
        return result
    reached = _stages(
        problem, model, model.lp, dataclasses.replace(options, time_limit=left),
        time.perf_counter(), tie_break, progress, lead=_end_coverage(problem, model),
    )  # fmt: skip
    reached.records = result.records + reached.records
    reached.unreachable_end_coverage = float(end.values.get("coverage", np.nan))
    if reached.tiers is not None:
        reached.end_tiers = reached.tiers[-1]
    if reached.status == "infeasible":
        reached.status = "unreachable"
    return reached


def _end_coverage(problem: RoadmapProblem, model: RoadmapModel):
    """The stage ``end_coverage``: the last phase's level-weighted covered demand (max), its
    objective over the roadmap's columns and its exact value (from the coverage pairs, or the
    assignments under capacities)."""
    p = problem.n_phases - 1
    mdl = model.models[p]
    part = mdl.coverage_objective()
    c = np.zeros(model.n_cols)
    c[model.offsets[p] : model.offsets[p] + mdl.n_cols] = part.c
    obj = StageObjective("end_coverage", c, "max", part.offset)
    if mdl.problem.capacity is not None:
        return obj, lambda t, x: stage_value(obj, x)
    last = dataclasses.replace(problem, phases=problem.phases[-1:], limits=[
        dataclasses.replace(problem.limits[-1], years=1.0)])  # fmt: skip
    return obj, lambda t, x: coverage_years(last, t[-1:])


def _least(values: list[float | None]) -> float | None:
    given = [v for v in values if v is not None]
    return min(given) if given else None


def _stages(
    problem: RoadmapProblem,
    model: RoadmapModel,
    lp,
    options: SolverOptions,
    t0: float,
    tie_break: bool,
    progress: Callable[[str, str], None] | None = None,
    start: np.ndarray | None = None,
    lead: tuple[StageObjective, Callable] | None = None,
) -> RoadmapResult:
    """The stages of :data:`STAGES`, each solved, certified from the plan and fixed;
    ``lead`` (objective, exact value of (tiers, x)) is a stage before them."""
    objectives = {
        "coverage_years": model.coverage_years_objective(),
        "cost": model.cost_objective(),
        "site_id": model.tie_objective(),
    }
    exact = {
        "coverage_years": lambda t, x: coverage_years(problem, t),
        "cost": lambda t, x: sum(m["total"] for m in phase_money(problem, t)),
        "site_id": lambda t, x: _tie_value(model, t),
    }
    records: list[SolverRecord] = []
    values: dict[str, float] = {}
    tiers = None

    def run(stage: str, stage_lp, begin: np.ndarray | None):
        left = (
            None if options.time_limit is None else options.time_limit - (time.perf_counter() - t0)
        )
        if left is not None:
            # as the single plan: HiGHS overruns its limit while it builds and presolves a big
            # model (national roadmap, 3 phases: 122.5 s of 120), so keep a share back, and
            # skip a stage left with a sliver of the limit
            left -= STAGE_RESERVE_SHARE * options.time_limit
        if left is not None and left <= max(0.01, STAGE_MIN_SHARE * options.time_limit):
            nan = float("nan")
            return None, SolverRecord("time_limit", nan, nan, nan, 0.0, options.backend, "", options.time_limit,
                                      options.mip_rel_gap, stage=stage, message="no time left for this stage")  # fmt: skip
        _tell(progress, f"solve:{stage}", "start")
        x, record = solve_scaled(
            stage_lp, dataclasses.replace(options, time_limit=left), start=begin
        )
        _tell(progress, f"solve:{stage}", "done")
        record.stage = stage
        return x, record

    order = MIN_COST_STAGES if problem.phases[0].objective == "min_cost" else STAGES
    assigned = has_assignments(model)
    final_x = None
    if assigned:
        # as the single plan under capacities (lexicographic._solve_with_assignments): a plan
        # is its tiers and its assignments; capacitated coverage and the assigned distance are
        # read from the assignment columns, and HiGHS' MIP presolve is off on these models
        options = dataclasses.replace(options, highs_presolve=False)
        objectives["distance"] = assigned_distance_objective(model)
        exact["distance"] = lambda t, x: stage_value(objectives["distance"], x)
        if any(mdl.problem.capacity is not None for mdl in model.models):
            exact["coverage_years"] = lambda t, x: stage_value(objectives["coverage_years"], x)
    first = list(order[:2])
    if lead is not None:
        objectives[lead[0].name], exact[lead[0].name] = lead
        first.insert(0, lead[0].name)
    # without assignments, the nearest-outlet lists (their own rounds) decide the last two
    plain = first + list(order[2:]) if assigned else first
    for stage in plain if tie_break else first:
        obj = objectives[stage]
        x, record = run(stage, lp.with_objective(obj.c, obj.sense, obj.offset), start)
        records.append(record)
        if x is None:
            return RoadmapResult(tiers, records, record.status, stage, values, x=final_x)
        solver_x = x
        if assigned:  # binaries exactly 0/1; continuous assignments keep the solver's values
            x = np.where(lp.integer, np.round(x), x)
        tiers = model.phase_tiers(x)
        value = exact[stage](tiers, x)
        certify(record, value, obj.sense, options.mip_rel_gap, pow2_scale(obj.c))
        if not _rules_kept(problem, tiers, record):
            return RoadmapResult(tiers, records, record.status, stage, values, x=x)
        values[stage] = value
        row, lo, hi = fix_row(obj.c, obj.sense, value, obj.offset)
        # continuous assignments carry the solver's feasibility noise: that much more slack
        noise = MIP_FEASIBILITY * float(np.abs(obj.c[~lp.integer]).sum()) if assigned else 0.0
        lp = lp.with_rows(row, lo - noise, hi + noise)
        start = solver_x if assigned else x
        final_x = x
    if not tie_break or assigned:
        return RoadmapResult(tiers, records, "optimal", None, values, x=final_x)
    # site-tiers constant in every roadmap optimal so far: shorter lists, smaller models
    last = objectives[first[-1]]
    left = None if options.time_limit is None else options.time_limit - (time.perf_counter() - t0)
    lp, possible, sure, fixed = fix_site_tiers(model, lp, last, values[first[-1]], start, left)
    records[-1].extra.update(
        {"fixed_zero": float(fixed.zero.sum()), "fixed_one": float(fixed.one.sum()),
         "fixing_seconds": round(fixed.seconds, 3)}
    )  # fmt: skip
    nearest = RoadmapNearest(model, possible, sure)
    nearest.seed(tiers)
    plan = RoadmapAsPlan(model)
    for stage in ("distance", "site_id"):
        found = solve_with_distance(stage, plan, nearest, lp, objectives["site_id"],
                                    values.get("distance"), tiers, run, records, options.mip_rel_gap)  # fmt: skip
        if found is None:
            return RoadmapResult(tiers, records, records[-1].status, stage, values)
        tiers, _sizes = found
        if not _rules_kept(problem, tiers, records[-1]):
            return RoadmapResult(tiers, records, records[-1].status, stage, values)
        values[stage] = (
            years_distance(model, tiers) if stage == "distance" else _tie_value(model, tiers)
        )
    return RoadmapResult(tiers, records, "optimal", None, values)


def _rules_kept(problem: RoadmapProblem, tiers: np.ndarray, record: SolverRecord) -> bool:
    """The stage's roadmap keeps the transition rules and the stage was certified optimal."""
    broken = transitions_broken(problem, tiers)
    if broken:  # the model and the rules disagree: never call such a roadmap optimal
        record.status = "unproven"
        record.message = "transition rules broken: " + "; ".join(broken[:5])
    return record.status == "optimal"


def _tell(progress: Callable[[str, str], None] | None, step: str, state: str) -> None:
    if progress is not None:
        progress(step, state)


def _tie_value(model: RoadmapModel, tiers: np.ndarray) -> float:
    obj = model.tie_objective()
    x = np.zeros(model.n_cols)
    for p, t in enumerate(tiers):
        on = np.flatnonzero(t >= 0)
        cols = model.xcol(p)[on, t[on]]
        x[cols[cols >= 0]] = 1.0
    return float(obj.c @ x + obj.offset)
