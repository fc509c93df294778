"""The validator's re-check of the overlap caps (``siting.overlap``), from coordinates.

Independent of the model: for every capped level, the distance from every demand point to
every open outlet of a counted tier is recomputed from the evaluation's geometry (straight
line or great circle, or drive time on roads), outlets in reach are counted per point, and
the weight with two or more, divided by the level's covered demand (the evaluation's, which
is the assigned demand under capacities), must be at most ``max_share``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from netplan.evaluation.kpis import Evaluation, _Space
from netplan.evaluation.overlap_kpis import capped_levels
from netplan.scenario.siting import overlap_tiers
from netplan.travel.coverage import REACH_TOLERANCE
from netplan.travel.geometry import point_coords

if TYPE_CHECKING:
    from netplan.planner import Plan

C = TypeVar("C")

SHARE_TOLERANCE = 1e-6  # of the level's covered demand


def overlap_checks(plan: Plan, evaluation: Evaluation, check: Callable[..., C]) -> list[C]:
    """One check per capped level: overlapped / covered demand <= ``max_share``.

    Parameters
    ----------
    plan : Plan
    evaluation : Evaluation
        The plan's outlets evaluated (:func:`netplan.evaluation.kpis.evaluate`).
    check : callable
        ``check(kind, ok, **values)``: the validator's ``Check.of`` (passed in, as the
        validator imports this module); kind ``overlap`` (``check.overlap.*`` messages).
    """
    scenario = plan.scenario
    levels = capped_levels(scenario)
    if not levels:
        return []
    keys = scenario.tier_keys
    dem, out = evaluation.demand, evaluation.outlets
    tier_of = np.array(
        [keys.index(t) if t else -1 for t in out["tier"].astype(str).replace("nan", "")]
    )
    space = _Space(scenario.travel.mode)
    d_xyz = space.embed(point_coords(dem.geometry))
    o_xyz = space.embed(point_coords(out.geometry)) if len(out) else np.zeros((0, 3))
    travel = None
    if scenario.travel.mode == "network":  # drive time customer -> outlet on the road graph
        from netplan.roads.network import scenario_travel

        travel = scenario_travel(scenario, dem.crs)
    reach = scenario.reach_matrix
    covered = evaluation.covered_weight()
    checks = []
    for key in levels:
        level = keys.index(key)
        count = np.zeros(len(dem), dtype=np.int64)
        for tier in overlap_tiers(scenario, key):
            members = np.flatnonzero(tier_of == tier)
            if not len(members) or tier > level:
                continue
            limit = reach[tier, level]
            if travel is not None:
                found = travel.pairs(d_xyz, o_xyz[members], limit)
                np.add.at(count, found.demand, 1)
                continue
            for j in members:  # one outlet at a time: n distances, never n x m at once
                dist = space.from_tree_distance(np.linalg.norm(d_xyz - o_xyz[j], axis=1))
                count += dist <= limit + REACH_TOLERANCE
        w = dem[f"weight_{key}"].to_numpy(dtype=float)
        over = float(w[count >= 2].sum())
        base = float(covered[level])
        cap = scenario.siting.overlap[key].max_share
        share = over / base if base > 0 else 0.0
        ok = over <= cap * base + SHARE_TOLERANCE * max(1.0, base)
        checks.append(
            check("overlap", ok, level=key, share=100 * share, over=over, base=base, cap=100 * cap)
        )
    return checks
