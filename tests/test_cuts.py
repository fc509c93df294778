"""Linkage-lifted coverage cuts (netplan.optimize.cuts) are valid and do tighten the LP.

- every feasible integer plan of random tiered instances (enumerated) satisfies every cut
  separated at the LP optimum and at random fractional points;
- the LP bound with the cuts stays at or above the enumerated optimum, and is strictly
  tighter than the plain LP on some instances;
- a hand-made case where the LP leans three community points on one city station at a third.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from netplan.inputs.costs import SiteCosts
from netplan.optimize.cuts import LinkageCoverCuts
from netplan.optimize.highs import solve_relaxation
from netplan.optimize.model import TieredModel
from netplan.optimize.problem import TieredProblem
from netplan.travel.coverage import build_coverage, linkage_pairs

from bruteforce import brute_force, random_instance


def _coverage_lp(model: TieredModel):
    obj = model.coverage_objective()
    return model.lp.with_objective(obj.c, obj.sense, obj.offset)


def _feasible_plans(model: TieredModel, inst) -> np.ndarray:
    """Every tier assignment the model accepts, as base-column vectors (rows)."""
    lp = _coverage_lp(model)
    options = []
    for j in range(len(inst.site_xy)):
        tiers = list(np.flatnonzero(inst.allowed[j]))
        options.append(tiers if inst.policy[j] in ("keep", "may_retier") else tiers + [-1])
    plans = []
    for combo in itertools.product(*options):
        x = model.x_from_tiers(np.asarray(combo, dtype=np.int64))
        if lp.max_violation(x) <= 1e-6:
            plans.append(x)
    return np.array(plans)


def _with_cuts(lp, cuts):
    n = cuts.A.shape[0]
    return lp.with_rows(cuts.A, np.full(n, -np.inf), np.zeros(n))


def _solved_instances(n: int):
    """(seed, enumerated optimum, model, coverage LP) of the feasible random instances."""
    for seed in range(n):
        inst = random_instance(seed, "max_coverage")
        expected = brute_force(inst)
        if expected is not None:
            model = TieredModel(inst.problem())
            yield seed, expected, model, _coverage_lp(model)


def test_every_feasible_plan_satisfies_every_cut():
    checked_cuts = 0
    for seed in range(24):
        inst = random_instance(seed, "max_coverage")
        model = TieredModel(inst.problem())
        separator = LinkageCoverCuts(model)
        plans = _feasible_plans(model, inst)
        if not len(plans):
            continue
        rng = np.random.default_rng(seed)
        points = [rng.random(model.n_base_cols) for _ in range(20)]
        for p in points:
            p[model.nx :] = 1.0  # every group fully covered: as many cuts as possible
        x_lp, _, rec = solve_relaxation(_coverage_lp(model))
        if rec.status == "optimal":
            points.append(x_lp)
        for point in points:
            cuts = separator.separate(point, tolerance=1e-9)
            if not cuts.A.shape[0]:
                continue
            checked_cuts += cuts.A.shape[0]
            # the cut is violated where separation says, by the amount it says
            assert np.allclose(cuts.A @ point, cuts.violation)
            # ... and holds for every plan: y_g <= (columns that reach g or support one)
            assert (cuts.A @ plans.T).max() <= 1e-9, f"seed {seed}"
    assert checked_cuts >= 200


def test_cuts_keep_the_bound_above_the_optimum_and_tighten_it():
    tighter = 0
    compared = 0
    for seed, expected, model, lp in _solved_instances(30):
        x, _, rec = solve_relaxation(lp)
        if rec.status != "optimal":
            continue
        separator = LinkageCoverCuts(model)
        bound, current = rec.objective, lp
        for _ in range(5):
            cuts = separator.separate(x)
            if not cuts.A.shape[0]:
                break
            current = _with_cuts(current, cuts)
            x, _, rec_cut = solve_relaxation(current)
            bound = rec_cut.objective
        compared += 1
        assert bound >= expected[0] - 1e-6, f"seed {seed}: cuts cut off the optimum"
        assert bound <= rec.objective + 1e-6
        tighter += bound < rec.objective - 1e-6
    assert compared >= 15
    assert tighter >= 2


def test_three_community_points_leaning_on_one_station():
    """A cluster (weight 10, community service) reached by three community points (cost 30
    each), all needing the one city station (cost 90, 4 km away, too far to serve the
    cluster itself); budget 100. No plan covers the cluster (station + point = 120). The LP
    opens the station and each point at 1/3 (cost 60) and covers it fully: bound 10. The
    cut y <= station gives 90 s + 30 p <= 100 with y <= s, y <= p: bound 10 x 100/120."""
    demand = np.array([[0.0, 0.0]])
    sites = np.array([[4000.0, 0.0], [200.0, 0.0], [-200.0, 0.0], [0.0, 200.0]])
    m = len(sites)
    allowed = np.zeros((m, 3), dtype=bool)
    allowed[0, 1] = True
    allowed[1:, 2] = True
    weights = np.array([[0.0, 0.0, 10.0]])
    reach = np.full((3, 3), np.nan)
    reach[0, 0] = 100.0
    reach[:2, 1] = 100.0
    reach[:3, 2] = 500.0
    open_cost = np.zeros((m, 3))
    open_cost[0, 1], open_cost[1:, 2] = 90.0, 30.0
    costs = SiteCosts(
        open_cost, np.zeros((m, 3)), np.zeros((m, 3)), np.zeros(m), np.full(m, -1), 1.0
    )
    problem = TieredProblem(
        weights=weights,
        coverage=build_coverage(demand, sites, allowed, reach, "planar"),
        allowed=allowed,
        policy=np.array(["new"] * m, dtype=object),
        costs=costs,
        linkage=linkage_pairs(sites, allowed, np.array([np.nan, np.nan, 5_000.0]), "planar"),
        budget_total=100.0,
    )
    model = TieredModel(problem)
    lp = _coverage_lp(model)
    x, _, rec = solve_relaxation(lp)
    assert rec.objective == pytest.approx(10.0)
    cuts = LinkageCoverCuts(model).separate(x)
    assert cuts.A.shape[0] == 1
    station = model.xcol[0, 1]
    row = cuts.A.toarray()[0]
    assert row[station] == -1.0 and row[model.nx] == 1.0  # y_cluster - x_station <= 0
    assert np.count_nonzero(row) == 2
    _, _, rec_cut = solve_relaxation(_with_cuts(lp, cuts))
    assert rec_cut.objective == pytest.approx(10.0 * 100.0 / 120.0)


def test_cut_rounds_bound_stays_valid_and_never_grows():
    from netplan.optimize.first_order import CutRounds, first_order_relaxation
    from netplan.optimize.records import SolverOptions

    rounds_run = 0
    for seed, expected, model, lp in _solved_instances(30):
        first = first_order_relaxation(lp, SolverOptions(time_limit=20))
        loop = CutRounds(model, lp, SolverOptions(), first, deadline=None, round_time=20.0)
        loop.run()  # in this thread
        rounds_run += len(loop.rounds)
        best, _ = loop.snapshot()
        assert best.bound >= expected[0] - 1e-6, f"seed {seed}"
        assert best.bound <= first.bound + 1e-9
        assert loop.iterations >= first.iterations
    assert rounds_run >= 2
