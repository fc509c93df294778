"""Maximal coverage of very large demand, guided by a first-order LP solution.

At a million demand points the tiered max-coverage LP has ~190 000 rows and 4 M non-zeros:
HiGHS's simplex and interior point need minutes for its root alone (national benchmark:
IPX 300 s single-threaded, HiGHS's MIP reaches its first cut round after 419 s). So:

1. **Bound.** HiGHS's PDLP (a first-order primal-dual method, matrix-vector products only)
   runs on the exact LP. Its row multipliers, whatever their accuracy, give a valid upper
   bound through the Lagrangian (:func:`~netplan.optimize.first_order.lagrangian_bound`):
   nothing depends on PDLP having converged.
2. **Cuts.** The LP is weak where coverage meets linkage (several community points lean on
   the same fractional city station; national: LP 26,184,238, best plan known 26,088,831).
   :class:`~netplan.optimize.first_order.CutRounds` adds the violated linkage-lifted coverage
   cuts of :mod:`netplan.optimize.cuts` and re-solves with warm-started PDLP, round after
   round, in a background thread beside step 3 (PDLP is single-threaded; HiGHS releases the
   GIL).
3. **Plan.** The first restriction fixes the sites the latest LP point leaves (almost) closed
   or opens (almost) fully. Fixing shrinks the model: a demand row with a fixed-open site is
   covered, one with only fixed-closed sites is lost, and the remaining rows merge when their
   *free* sites agree (:func:`~netplan.optimize.restriction.restricted_program`). HiGHS
   solves that restricted MIP (at most a quarter of the time limit a round); its plan is a
   feasible plan of the full model. Every later round searches around the best plan (RINS,
   Danna, Rothberg & Le Pape 2005, :func:`~netplan.optimize.restriction.neighbourhood`): the
   site columns where the latest LP point disagrees with the plan most are free, the others
   keep the plan's values, and the plan is the MIP start. A round without a better plan waits
   for the next cut LP point, or, once the cut rounds have ended, doubles the neighbourhood.
4. **Proof.** The restricted optimum is the global optimum when every fixed column fails its
   reduced-cost test (forcing it the other way would cost more than the bound's margin over
   the plan), the classical LP reduced-cost fixing; otherwise the gap to the best bound is
   reported, never called optimal unless it is within the requested ``mip_rel_gap``.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field

import numpy as np

from netplan.optimize.first_order import MAX_CUT_ROUNDS, CutRounds, first_order_relaxation
from netplan.optimize.highs import highs_version
from netplan.optimize.model import TieredModel
from netplan.optimize.program import LinearProgram
from netplan.optimize.records import SolverOptions, SolverRecord, relative_gap
from netplan.optimize.restriction import (
    complete_start,
    fixing,
    fixings_proven,
    neighbourhood,
    respects,
    restricted_program,
)
from netplan.optimize.scaling import equilibrate
from netplan.optimize.solver import search_record, solve

# share of the time limit for the first PDLP solve (before any restricted MIP can start)
PDLP_SHARE = 0.15
# then rounds of linkage-lifted coverage cuts, each LP re-solved by warm-started PDLP for
# at most this share of the time limit, in a background thread beside the restricted MIPs
CUT_ROUND_SHARE = 0.1
# a column whose LP value is within this of 0 or 1 is fixed there in the first restriction
FIX_TOLERANCE = 0.02
# ... which keeps at most this share of the x columns free: the most decided fractional
# columns are rounded (national: 2 600-4 400 free sites hit the round's time cap with plans
# 0.2-4 % short; 1 968 of 12 300 x columns solved in 6-24 s to 26,078,379-26,090,043)
FIRST_FREE_SHARE = 0.16
# once there is a plan, each restriction searches around it (RINS, Danna, Rothberg & Le Pape
# 2005): every x column is fixed at the plan's value except the RINS_FREE_SHARE of them where
# the latest relaxation point disagrees with the plan most. After a round that finished
# without a better plan the search waits for the next relaxation point, or, once the cut
# rounds have ended, doubles the width (so small models end in an exact solve of the whole)
RINS_FREE_SHARE = 0.12
RINS_ROUND_GAP = 1e-4
MAX_ROUNDS = 60
# a round stops within this relative gap of its own bound (or a tenth of the global gap)
ROUND_GAP_CAP = 5e-4
# a restricted MIP gets at most this share of the time limit: the next round fixes by a
# better relaxation point (the cut rounds improve it meanwhile) instead of waiting
ROUND_TIME_SHARE = 0.25
NO_PROBING = 2**15  # HiGHS presolve_rule_off bit of probing


@dataclass
class LPGuidedResult:
    """Best plan (tier per site), its record (exact objective, Lagrangian bound, gap), rounds."""

    tiers: np.ndarray | None
    record: SolverRecord
    rounds: list[dict] = field(default_factory=list)


def solve_max_coverage_lp_guided(
    model: TieredModel,
    options: SolverOptions,
    start_tiers: np.ndarray | None = None,
    pdlp_share: float = PDLP_SHARE,
    on_round=None,
    max_cut_rounds: int = MAX_CUT_ROUNDS,
) -> LPGuidedResult:
    """Maximal weighted coverage by a PDLP bound and restricted exact MIPs (module docstring).

    Parameters
    ----------
    model : TieredModel
        A ``max_coverage`` model without capacities, span of control or region targets.
    options : SolverOptions
        ``time_limit`` for everything (the first PDLP solve gets ``pdlp_share`` of it, at
        least 1 s; the cut rounds then run beside the restricted MIPs until the limit); the
        loop stops when the gap to the bound is within ``mip_rel_gap``.
    start_tiers : ndarray (m,), optional
        A feasible plan (tier per site, -1 closed): every restriction keeps it reachable.
    max_cut_rounds : int
        Rounds of linkage-lifted coverage cuts
        (:class:`~netplan.optimize.first_order.CutRounds`); 0 = the plain LP bound.

    Returns
    -------
    LPGuidedResult
        ``record.status`` is ``optimal`` only when the reduced-cost test proves the
        restriction's optimum global (or the plan meets the bound).
    """
    t0 = time.perf_counter()
    obj = model.coverage_objective()
    # every row and the objective divided by a power of two (netplan.optimize.scaling): the whole
    # search runs in these units, so its tolerances do not depend on the unit of the weights;
    # the record converts back
    scaled = equilibrate(model.lp.with_objective(obj.c, obj.sense, obj.offset))
    lp, scale = scaled.lp, scaled.objective_scale

    # kept back from the limit for joining the cut thread, mapping the plan back and the
    # planner's work after this stage (national: with 1.5 s the run ended 0.5 s over the
    # limit, with 3 s 1.3-2.5 s early)
    reserve = 0.0 if options.time_limit is None else min(2.0, 0.02 * options.time_limit)

    def left() -> float | None:
        if options.time_limit is None:
            return None
        return options.time_limit - reserve - (time.perf_counter() - t0)

    limit = options.time_limit
    pdlp_time = None if limit is None else max(1.0, pdlp_share * limit)
    first = first_order_relaxation(
        lp,
        dataclasses.replace(options, time_limit=pdlp_time),
        deadline=None if pdlp_time is None else t0 + pdlp_time,
    )
    cut_rounds = CutRounds(
        model,
        lp,
        options,
        first,
        deadline=None if limit is None else t0 + limit - reserve,
        round_time=None if limit is None else max(1.0, CUT_ROUND_SHARE * limit),
        max_rounds=max_cut_rounds,
        objective_scale=scale,
    )
    cut_rounds.start()
    try:
        status, best, best_x, rounds = _restricted_rounds(
            model, lp, options, cut_rounds, start_tiers, left, on_round
        )
    finally:
        cut_rounds.finish()
    bound = cut_rounds.best.bound
    if status != "optimal" and math.isfinite(best):
        if bound - best <= max(options.mip_rel_gap * abs(best), 1e-9 * max(1.0, abs(best))):
            status = "optimal"  # the last cut round closed the gap
    if status == "optimal" and rounds and rounds[-1].get("proven"):
        bound = best
    tiers = (
        None if best_x is None else model.site_tiers(np.concatenate([best_x, np.zeros(model.ny)]))
    )
    record = search_record(
        status,
        best,
        bound,
        time.perf_counter() - t0,
        options,
        "coverage",
        f"lp-guided: PDLP bound + {len(rounds)} restricted MIPs",
    )
    # objective and bound back in the user's units (exact: the scale is a power of two); the
    # rounds' figures stay in scaled units
    record.objective *= scale
    record.bound *= scale
    record.extra["objective_scale"] = scale
    record.extra["lp_guided_rounds"] = rounds
    record.extra["pdlp_seconds"] = round(cut_rounds.seconds, 3)
    record.extra["pdlp_iterations"] = cut_rounds.iterations
    record.extra["pdlp_bound"] = cut_rounds.best.bound * scale
    record.extra["cut_rounds"] = cut_rounds.rounds
    return LPGuidedResult(tiers, record, rounds)


def _restricted_rounds(
    model: TieredModel,
    lp: LinearProgram,
    options: SolverOptions,
    cut_rounds: CutRounds,
    start_tiers: np.ndarray | None,
    left,
    on_round,
) -> tuple[str, float, np.ndarray | None, list[dict]]:
    """The restricted exact MIPs (module docstring, step 3).

    Until a restriction has found a plan, the columns are fixed by the latest relaxation
    point (:func:`~netplan.optimize.restriction.fixing`); then every round searches around
    the best plan (:func:`~netplan.optimize.restriction.neighbourhood`), steered by the
    latest relaxation point, with the plan as the MIP start. The reduced costs are those of
    the best bound so far (both may have improved in the background since the last round).
    Returns (status, best value, best x columns, round records).
    """
    nx = model.nx
    best_x = None
    best = -math.inf
    found = False  # a restriction has found a plan (the start alone does not steer the fixing)
    if start_tiers is not None:
        x0 = model.x_from_tiers(np.asarray(start_tiers, dtype=np.int64))
        if lp.max_violation(x0) <= 1e-6:
            best_x, best = x0[:nx], lp.objective_value(x0)
    rounds: list[dict] = []
    first_width = max(1, round(FIRST_FREE_SHARE * nx))
    base_width = max(1, round(RINS_FREE_SHARE * nx))
    width = first_width
    steered_by = None  # the relaxation point of the previous round
    for k in range(1, MAX_ROUNDS + 1):
        remaining = left()
        if remaining is not None and remaining <= 0.5:
            break
        relaxation, latest = cut_rounds.snapshot()
        bound, reduced = relaxation.bound, relaxation.reduced[:nx]
        if found and (latest is not steered_by or rounds[-1]["neighbourhood"] != "plan"):
            width = base_width  # a new point to steer by: a new neighbourhood at the start width
        steered_by = latest
        if found:
            fixed = neighbourhood(best_x, latest.x[:nx], reduced, min(width, nx))
        else:
            fixed = fixing(latest.x[:nx], reduced, FIX_TOLERANCE, min(width, nx))
        restricted = restricted_program(model, lp, fixed)
        if not restricted.feasible:  # the fixing broke a rule: free every column
            fixed = np.full(nx, np.nan)
            restricted = restricted_program(model, lp, fixed)
        start = None
        if best_x is not None and respects(best_x, fixed):
            start = np.zeros(restricted.lp.n_cols)
            start[: len(restricted.free)] = best_x[restricted.free]
            start = complete_start(restricted.lp, start)
        final = len(restricted.free) == nx
        # a round need not close its own gap far below the global one: widen instead
        gap_now = relative_gap(best, bound) if math.isfinite(best) else math.inf
        if final:
            round_gap = options.mip_rel_gap
        elif found:
            # the plan is the start, usually within the global gap of the neighbourhood's
            # own bound: with the global gap HiGHS would stop at once (measured: every
            # national round in under 2 s, no better plan; with 1e-4, 5 000-12 000 better)
            round_gap = min(options.mip_rel_gap, RINS_ROUND_GAP)
        else:
            round_gap = max(options.mip_rel_gap, min(0.1 * gap_now, ROUND_GAP_CAP))
        round_time = None if remaining is None else remaining - 0.5  # set-up of the round
        if remaining is not None and not final:
            cap = ROUND_TIME_SHARE * options.time_limit
            round_time = round_time if remaining < 1.5 * cap else cap
        # HiGHS's probing ignores the time limit (measured: 122 s in a 12 s round at 90 000
        # rows); the restricted models are small enough to do without it
        round_options = dataclasses.replace(
            options,
            time_limit=round_time,
            mip_rel_gap=round_gap,
            highs_options={**options.highs_options, "presolve_rule_off": NO_PROBING},
        )
        if restricted.lp.n_cols == 0:  # everything fixed: the fixing is the plan
            x, last = np.zeros(0), _fixed_record(restricted.lp.offset, round_options)
        else:
            x, last = solve(restricted.lp, round_options, start)
        info = {
            "round": k,
            "neighbourhood": "plan" if found else "relaxation",
            "free_columns": int(len(restricted.free)),
            "rows": int(restricted.lp.n_rows),
            "solve_s": round(last.seconds, 3),
            "status": last.status,
            "restricted_objective": last.objective,
            "restricted_bound": last.bound,
        }
        improved = False
        if x is not None:
            full = np.concatenate([restricted.full_x(x, nx), np.zeros(model.ny)])
            plan_x = model.x_from_tiers(model.site_tiers(full))
            value = lp.objective_value(plan_x)
            if value > best:
                improved = not found or value > best + 1e-9 * max(1.0, abs(best))
                best, best_x, found = value, plan_x[:nx], True
        # the proof needs bound and reduced costs of one relaxation: the one this round used
        # (its fixing was tested against it) or, if better, the current best
        relaxation_now, _ = cut_rounds.snapshot()
        proven = False
        if last.status == "optimal" and last.gap == 0.0 and math.isfinite(best):
            for rel in (relaxation_now, relaxation):
                margin = rel.bound - best
                if fixings_proven(fixed, rel.reduced[:nx], lp.lb[:nx], lp.ub[:nx], margin):
                    proven = True
                    break
        bound = min(bound, relaxation_now.bound)
        info.update(
            {"best": best, "bound": bound, "gap": relative_gap(best, bound), "proven": proven}
        )
        rounds.append(info)
        if on_round is not None:
            on_round(info)
        margin = bound - best
        if proven or margin <= max(options.mip_rel_gap * abs(best), 1e-9 * max(1.0, abs(best))):
            return "optimal", best, best_x, rounds
        if final or last.status == "interrupted":
            break
        remaining = left()
        can_finish = remaining is None or remaining >= ROUND_TIME_SHARE * options.time_limit
        # a round that finished (or found its fixing infeasible) without a better plan is
        # widened, unless a wider round could not finish in the time left (measured: 4 962
        # free sites in the last 16 s found nothing); a round stopped by its time cap is
        # followed by one of the same width, steered by the latest relaxation point
        if last.status in ("optimal", "infeasible") and not improved:
            if found and cut_rounds.running:
                # the same point and plan would give the same neighbourhood: wait for the
                # next relaxation point (national: a cut round every 13 s; 2 952 free
                # columns instead found nothing in 7-14 s, 3 936 hit the 35 s cap)
                cut_rounds.wait_for_new_point(latest, None if remaining is None else remaining)
            elif can_finish:
                width = max(2 * len(restricted.free), len(restricted.free) + 1)
    return "time_limit", best, best_x, rounds


def _fixed_record(value: float, options: SolverOptions) -> SolverRecord:
    """Record of a restricted program without free columns (its only plan is the fixing)."""
    return SolverRecord(
        "optimal",
        value,
        value,
        0.0,
        0.0,
        "HiGHS",
        highs_version(),
        options.time_limit,
        0.0,
        message="every column fixed",
    )
