"""The tie-breaking stages: every plan optimal for the first two stages, then the exact
distance and site-id stages over nearest-outlet assignments."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

from netplan.optimize.assignment import NearestAssignment
from netplan.optimize.model import StageObjective, TieredModel
from netplan.optimize.program import LinearProgram
from netplan.optimize.progress import known_best
from netplan.optimize.records import SolverRecord
from netplan.optimize.scaling import certify, pow2_scale
from netplan.optimize.stage_fixing import fix_row, is_better, stage_value, tolerance

MAX_DISTANCE_ROUNDS = 50


def no_good_row(model: TieredModel, tiers: np.ndarray, n_cols: int) -> tuple[np.ndarray, float]:
    """Row ``sum_{open} x - sum_{others} x <= |open| - 1``: any plan but ``tiers``."""
    row = np.zeros(n_cols)
    row[: model.nx] = -1.0
    chosen = model.xcol[np.flatnonzero(tiers >= 0), tiers[tiers >= 0]]
    row[chosen] = 1.0
    return row, len(chosen) - 1.0


def second_stage(
    model: TieredModel,
    lp: LinearProgram,
    objective: StageObjective,
    tiers: np.ndarray,
    limit: int,
    stage: str,
    run: Callable,
    records: list[SolverRecord],
    mip_rel_gap: float = 0.0,
) -> tuple[list[np.ndarray], float, str]:
    """Optimise the second objective and list every plan attaining it (up to ``limit`` + 1).

    Each round asks for the best plan other than those known, at least as good as the best
    known (a cutoff row plus one no-good row per known plan). A better plan replaces the
    list; an equally good one joins it; infeasibility proves the list complete. The stage
    optimum is proven by any round that ends optimal or infeasible.

    Returns
    -------
    plans : list of ndarray
        Plans attaining the optimum, the first one the best found.
    value : float
        The stage optimum (the best value found if the search stopped early).
    outcome : str
        ``complete``, ``too_many`` (more than ``limit`` plans), or the status of a round
        that did not finish.
    """
    plans = [tiers]
    best = stage_value(objective, model.x_from_tiers(tiers))
    scale = pow2_scale(objective.c)
    while True:
        cut = sp.csr_matrix(objective.c.reshape(1, -1))
        slack = tolerance(best, scale)
        if objective.sense == "min":
            lo, hi = [-np.inf], [best - objective.offset + slack]
        else:
            lo, hi = [best - objective.offset - slack], [np.inf]
        rows = [no_good_row(model, t, lp.n_cols) for t in plans]
        search = lp.with_rows(cut, np.array(lo), np.array(hi)).with_rows(
            sp.csr_matrix(np.vstack([r[0] for r in rows])),
            np.full(len(rows), -np.inf),
            np.array([r[1] for r in rows]),
        )
        with known_best(best, objective.sense):  # the progress line's "best" while searching
            new_x, record = run(
                stage, search.with_objective(objective.c, objective.sense, objective.offset), None
            )
        record.extra["plans_known"] = float(len(plans))
        records.append(record)
        if record.status == "infeasible":
            # no other plan is as good: the known plans are all the optima
            record.status = "optimal"
            record.objective = record.bound = best
            record.gap = 0.0
            record.extra["exact_objective"] = best
            record.message = f"proved that no other plan is as good ({len(plans)} optimal plan(s))"
            return plans, best, "complete"
        if new_x is None:
            return plans, best, record.status
        found = model.site_tiers(new_x)
        value = stage_value(objective, model.x_from_tiers(found))
        # this round's plan against this round's bound: the best plan other than the known ones
        certify(record, value, objective.sense, mip_rel_gap, scale)
        if record.status != "optimal":
            return plans, best, record.status
        if is_better(value, best, objective.sense, scale):
            plans, best = [found], value
        else:
            plans.append(found)
            if len(plans) > limit:
                return plans, best, "too_many"


def decided_record(previous: SolverRecord, stage: str, value: float, n_plans: int) -> SolverRecord:
    """Record of a stage decided by ranking every plan optimal for the first two stages."""
    return SolverRecord(
        status="optimal",
        objective=value,
        bound=value,
        gap=0.0,
        seconds=0.0,
        solver=previous.solver,
        version=previous.version,
        time_limit=previous.time_limit,
        mip_rel_gap=previous.mip_rel_gap,
        stage=stage,
        message=f"decided by ranking all {n_plans} plan(s) optimal for the first two stages",
        extra={"exact_objective": value},
    )


def solve_with_distance(
    stage: str,
    model: TieredModel,
    nearest: NearestAssignment,
    lp: LinearProgram,
    tie: StageObjective,
    distance_optimum: float | None,
    tiers: np.ndarray,
    run: Callable,
    records: list[SolverRecord],
    mip_rel_gap: float = 0.0,
) -> tuple[np.ndarray, dict[str, int]] | None:
    """Solve the distance stage, or the site-id stage with distance fixed, until no list overflows."""
    for _ in range(MAX_DISTANCE_ROUNDS):
        A_new, lo, hi, c_dist, sizes = nearest.build(lp.n_cols)
        full = lp.with_columns(A_new.shape[1] - lp.n_cols).with_rows(A_new, lo, hi)
        full = full.with_rows(*model.saturation_rows(full.n_cols))
        if stage == "distance":
            stage_lp = full.with_objective(c_dist, "min")
        else:
            row, rlo, rhi = fix_row(c_dist, "min", distance_optimum, 0.0)
            c = np.zeros(full.n_cols)
            c[: len(tie.c)] = tie.c
            stage_lp = full.with_rows(row, rlo, rhi).with_objective(c, "min")
        start = np.concatenate([model.x_from_tiers(tiers), nearest.start(tiers)])
        new_x, record = run(stage, stage_lp, start)
        record.extra["distance_round"] = float(nearest.rounds)
        records.append(record)
        if new_x is not None:
            candidate = model.site_tiers(new_x)
        if record.status != "optimal":
            return None
        if nearest.overflowing(candidate) == 0:
            # no list overflows: the relaxation's value is the plan's exact value
            if stage == "distance":
                value, scale = model.distance_of(candidate), pow2_scale(c_dist)
            else:
                value, scale = stage_value(tie, model.x_from_tiers(candidate)), pow2_scale(tie.c)
            certify(record, value, "min", mip_rel_gap, scale)
            if record.status != "optimal":
                return None
            return candidate, sizes
        # the relaxation's optimum used an overflow: lengthen those lists and solve again
        nearest.extend(candidate)
        tiers = candidate if stage == "distance" else tiers
    records[-1].status = "no_solution"
    records[-1].message = f"distance lists did not settle in {MAX_DISTANCE_ROUNDS} rounds"
    return None
