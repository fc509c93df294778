"""Iterative aggregation (netplan.optimize.aggregation) is exact: it reaches the enumerated optimum.

Coarse grid cells put points with different coverage sets into one group, so the first
aggregated model over-counts and the loop has to split groups and re-solve; the proven
result must still equal brute force, and every round's bound must stay above the optimum
(the aggregated model is a relaxation).
"""

from __future__ import annotations

import numpy as np
import pytest

from netplan.optimize.aggregation import (
    covered_points,
    exact_coverage,
    grid_groups,
    solve_max_coverage_aggregated,
    split_groups,
)
from netplan.optimize.lexicographic import solve_lexicographic
from netplan.optimize.model import TieredModel
from netplan.optimize.records import SolverOptions
from netplan.optimize.solver import solve

from bruteforce import brute_force, random_instance

SEEDS = range(24)
COARSE = np.array([6000.0, 4000.0, 3000.0])  # cells wider than most reaches: groups mix


def test_grid_groups_and_split():
    xy = np.array([[10.0, 10.0], [90.0, 90.0], [110.0, 10.0], [150.0, 20.0], [20.0, 80.0]])
    g = grid_groups(xy, 100.0)
    # cells (0,0) for points 0, 1, 4; (1,0) for points 2, 3
    assert g.group.tolist() == [0, 0, 1, 1, 0]
    assert g.representative.tolist() == [0, 2]
    s = split_groups(g, np.array([True, False, True, True, True]))
    assert s.group.tolist() == [0, 1, 2, 2, 0]
    assert s.representative.tolist() == [0, 1, 2]


def test_aggregated_loop_equals_enumeration():
    feasible = multi_round = 0
    for seed in SEEDS:
        inst = random_instance(seed, "max_coverage")
        expected = brute_force(inst)
        problem = inst.problem()
        res = solve_max_coverage_aggregated(
            problem, inst.demand_xy, COARSE, SolverOptions(), exact_groups_up_to=0
        )
        if expected is None:
            assert res.tiers is None and res.record.status == "infeasible", f"seed {seed}"
            continue
        feasible += 1
        assert res.record.status == "optimal", f"seed {seed}: {res.record.status}"
        assert res.record.objective == pytest.approx(expected[0], abs=1e-6), f"seed {seed}"
        assert res.record.bound == pytest.approx(expected[0], abs=1e-6), f"seed {seed}"
        levels = [int(lv) for lv in np.flatnonzero(problem.modelled_levels())]
        # the plan's coverage recomputed independently: point by point from the distances
        d = np.hypot(*(inst.demand_xy[:, None, :] - inst.site_xy[None, :, :]).transpose(2, 0, 1))
        recomputed = 0.0
        for level in levels:
            cov = np.zeros(len(inst.demand_xy), dtype=bool)
            for tier in range(level + 1):
                sites = res.tiers == tier
                cov |= (d[:, sites] <= inst.reach[tier, level]).any(axis=1)
            assert np.array_equal(cov, covered_points(problem, res.tiers, level))
            recomputed += inst.level_weights[level] * inst.weights[cov, level].sum()
        assert recomputed == pytest.approx(expected[0], abs=1e-6)
        assert exact_coverage(problem, res.tiers, levels) == pytest.approx(recomputed)
        for r in res.rounds:  # every round's bound is a valid upper bound
            assert r["bound"] >= expected[0] - 1e-6
        multi_round += len(res.rounds) > 1
    assert feasible >= 20
    assert multi_round >= 3, "the coarse cells should force splits on several seeds"


def test_relaxed_model_over_counts_and_never_under():
    for seed in range(8):
        inst = random_instance(seed, "max_coverage")
        expected = brute_force(inst)
        if expected is None:
            continue
        problem = inst.problem()
        levels = [int(lv) for lv in np.flatnonzero(problem.modelled_levels())]
        groups = {lv: grid_groups(inst.demand_xy, COARSE[lv]) for lv in levels}
        model = TieredModel(problem, relaxed_groups=groups)
        obj = model.coverage_objective()
        x, record = solve(model.lp.with_objective(obj.c, obj.sense, obj.offset), SolverOptions())
        assert record.status == "optimal"
        assert record.objective >= expected[0] - 1e-6
        # the relaxed value of the plan it found is at least that plan's exact value
        tiers = model.site_tiers(x)
        assert record.objective >= exact_coverage(problem, tiers, levels) - 1e-6


def test_lexicographic_with_aggregation_matches_enumeration(monkeypatch):
    import netplan.optimize.aggregation

    monkeypatch.setattr(netplan.optimize.aggregation, "EXACT_GROUPS_UP_TO", 0)  # every level on the grid
    multi_round = 0
    for seed in range(12):
        inst = random_instance(seed, "max_coverage")
        expected = brute_force(inst)
        if expected is None:
            continue
        model = TieredModel(inst.problem())
        result = solve_lexicographic(
            model, "max_coverage", SolverOptions(), aggregate=(inst.demand_xy, COARSE)
        )
        assert result.status == "optimal", f"seed {seed}"
        got = (result.values["coverage"], result.values["cost"], result.values["distance"])
        assert got == pytest.approx(expected[:3], abs=1e-6), f"seed {seed}"
        assert result.records[0].message.startswith("aggregation:")
        multi_round += len(result.records[0].extra["aggregation_rounds"]) > 1
    assert multi_round >= 2, "the coarse grid should need splits on some seeds"


def test_time_limit_is_never_optimal():
    inst = random_instance(3, "max_coverage")
    res = solve_max_coverage_aggregated(
        inst.problem(), inst.demand_xy, COARSE, SolverOptions(time_limit=1e-9)
    )
    assert res.record.status == "time_limit"
    assert res.record.gap != 0.0


def test_a_run_stopped_early_still_carries_a_bound():
    """Stopped before HiGHS finishes its root LP, or before the first round: the plan (the
    start) carries a finite bound — the coverable weight — and a finite gap."""
    from netplan.optimize.aggregation import exact_coverage
    from netplan.optimize.lexicographic import start_tiers

    inst = random_instance(3, "max_coverage")
    problem = inst.problem()
    start = start_tiers(problem)
    assert start is not None
    levels = [int(lv) for lv in np.flatnonzero(problem.modelled_levels())]
    coverable = sum(
        problem.lw()[lv] * problem.weights[problem.coverage.coverable(lv), lv].sum()
        for lv in levels
    )
    for limit in (1e-9, 1e-3):
        res = solve_max_coverage_aggregated(
            problem, inst.demand_xy, COARSE, SolverOptions(time_limit=limit), start_tiers=start
        )
        assert res.record.status != "optimal" or res.record.gap == 0.0
        assert np.isfinite(res.record.bound) and res.record.bound <= coverable + 1e-9
        assert res.record.objective >= exact_coverage(problem, start, levels) - 1e-9
        assert res.record.bound >= res.record.objective - 1e-9
        assert np.isfinite(res.record.gap)


def _run(path, **solver):
    from conftest import run_with_solver

    return run_with_solver(path, **solver)


def test_plan_with_aggregation_on_equals_off(tmp_path, monkeypatch):
    import netplan.optimize.aggregation

    from conftest import write_small_case

    monkeypatch.setattr(netplan.optimize.aggregation, "EXACT_GROUPS_UP_TO", 0)
    path = write_small_case(tmp_path / "case", seed=4)
    off = _run(path, aggregation="off")
    on = _run(path, aggregation="on")
    assert off.status == on.status == "optimal"
    assert on.values == pytest.approx(off.values)
    assert on.stages[0].message.startswith("aggregation:")
    assert not off.stages[0].message.startswith("aggregation:")
    assert np.array_equal(on.tiers, off.tiers)


def test_aggregation_on_refuses_what_it_cannot_do(tmp_path):
    from netplan._errors import ScenarioError

    from conftest import write_small_case

    path = write_small_case(
        tmp_path / "case", objective={"type": "min_cost", "targets": {"point": 0.5}}
    )
    with pytest.raises(ScenarioError) as err:
        _run(path, aggregation="on")
    assert str(err.value) == (
        "solver.aggregation: on needs objective max_coverage; set it to auto or off"
    )
