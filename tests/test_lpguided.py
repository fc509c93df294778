"""The LP-guided search (netplan.optimize.lpguided) is exact where it says so.

- the Lagrangian bound is a valid bound for *any* multipliers and equals the LP optimum at
  HiGHS's optimal duals;
- the restricted, re-merged program has the same optimum as the full model with the same
  columns fixed through their bounds;
- the search reaches the enumerated optimum on random tiered instances, and its bound is
  never below it.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import scipy.sparse as sp

from netplan.optimize.first_order import first_order_relaxation, lagrangian_bound
from netplan.optimize.highs import solve_relaxation
from netplan.optimize.lpguided import solve_max_coverage_lp_guided
from netplan.optimize.model import TieredModel
from netplan.optimize.program import LinearProgram
from netplan.optimize.records import SolverOptions
from netplan.optimize.restriction import restricted_program
from netplan.optimize.solver import solve

from bruteforce import brute_force, random_instance


def _random_lp(seed: int, sense: str) -> LinearProgram:
    rng = np.random.default_rng(seed)
    m, n = 12, 9
    A = sp.csr_matrix(rng.integers(-3, 4, size=(m, n)) * (rng.random((m, n)) < 0.5))
    lo = np.where(rng.random(m) < 0.4, -rng.integers(1, 6, m), -np.inf)
    hi = np.where(rng.random(m) < 0.8, rng.integers(2, 10, m), np.inf)
    return LinearProgram(
        c=rng.normal(size=n),
        lb=np.zeros(n),
        ub=rng.integers(1, 4, n).astype(float),
        integer=np.zeros(n, dtype=bool),
        A=A,
        row_lo=lo.astype(float),
        row_hi=hi.astype(float),
        sense=sense,
        offset=1.5,
    )


@pytest.mark.parametrize("sense", ["max", "min"])
def test_lagrangian_bound_is_valid_for_any_multipliers_and_tight_at_the_optimum(sense):
    checked = 0
    for seed in range(20):
        lp = _random_lp(seed, sense)
        x, _, record = solve_relaxation(lp)
        if record.status != "optimal":
            continue
        checked += 1
        optimum = record.objective
        rng = np.random.default_rng(100 + seed)
        for _ in range(20):  # any multipliers: a bound on the right side of the optimum
            bound, _ = lagrangian_bound(lp, rng.normal(scale=2.0, size=lp.n_rows))
            assert (bound >= optimum - 1e-7) if sense == "max" else (bound <= optimum + 1e-7)
        import highspy  # HiGHS's optimal duals: the bound is the optimum itself

        from netplan.optimize.highs import highs_model

        h = highs_model(lp, relax=True)
        h.run()
        assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
        bound, _ = lagrangian_bound(lp, np.asarray(h.getSolution().row_dual))
        assert bound == pytest.approx(optimum, abs=1e-6)
    assert checked >= 10


def test_pdlp_bound_is_valid_and_close_on_a_tiered_model():
    for seed in range(6):
        inst = random_instance(seed, "max_coverage")
        model = TieredModel(inst.problem())
        obj = model.coverage_objective()
        lp = model.lp.with_objective(obj.c, obj.sense, obj.offset)
        _, _, relaxed = solve_relaxation(lp)
        if relaxed.status != "optimal":
            continue
        fo = first_order_relaxation(lp, SolverOptions(time_limit=20))
        assert fo.bound >= relaxed.objective - 1e-6
        assert fo.bound <= relaxed.objective * 1.01 + 1e-6  # converged on a model this small
        assert fo.iterations > 0


def test_restricted_program_equals_fixing_by_bounds():
    compared = 0
    for seed in range(16):
        inst = random_instance(seed, "max_coverage")
        model = TieredModel(inst.problem())
        obj = model.coverage_objective()
        lp = model.lp.with_objective(obj.c, obj.sense, obj.offset)
        rng = np.random.default_rng(seed)
        fixed = np.full(model.nx, np.nan)
        pick = rng.random(model.nx) < 0.5
        fixed[pick] = (rng.random(int(pick.sum())) < 0.2).astype(float)
        fixed[(lp.lb[: model.nx] == 1) & pick] = 1.0  # keep the fixing consistent with keep
        restricted = restricted_program(model, lp, fixed)
        ones, zeros = np.flatnonzero(fixed == 1), np.flatnonzero(fixed == 0)
        by_bounds = lp.with_bounds(ones, 1.0, 1.0).with_bounds(zeros, 0.0, 0.0)
        x_full, rec_full = solve(by_bounds, SolverOptions())
        if not restricted.feasible:
            assert rec_full.status == "infeasible"
            continue
        x_r, rec_r = solve(restricted.lp, SolverOptions())
        assert rec_r.status == rec_full.status, f"seed {seed}"
        if rec_full.status != "optimal":
            continue
        compared += 1
        assert rec_r.objective == pytest.approx(rec_full.objective, abs=1e-6), f"seed {seed}"
        # the restricted solution, mapped back, is feasible in the full model with that value
        tiers = model.site_tiers(
            np.concatenate([restricted.full_x(x_r, model.nx), np.zeros(model.ny)])
        )
        full = model.x_from_tiers(tiers)
        assert lp.max_violation(full) <= 1e-6
        assert lp.objective_value(full) == pytest.approx(rec_full.objective, abs=1e-6)
        assert restricted.lp.n_rows <= lp.n_rows
    assert compared >= 8


def test_lp_guided_search_equals_enumeration():
    proven = plan_rounds = 0
    for seed in range(16):
        inst = random_instance(seed, "max_coverage")
        expected = brute_force(inst)
        model = TieredModel(inst.problem())
        res = solve_max_coverage_lp_guided(model, SolverOptions(time_limit=60))
        if expected is None:
            assert res.tiers is None, f"seed {seed}"
            continue
        rec = res.record
        best = [r["best"] for r in res.rounds]
        assert best == sorted(best), f"seed {seed}: the best plan got worse"
        plan_rounds += sum(r["neighbourhood"] == "plan" for r in res.rounds)
        assert rec.bound >= expected[0] - 1e-6, f"seed {seed}: bound below the optimum"
        assert rec.status == "optimal", f"seed {seed}: {rec.status}"
        assert rec.objective == pytest.approx(expected[0], abs=1e-6), f"seed {seed}"
        assert rec.gap == 0.0
        obj = model.coverage_objective()
        lp = model.lp.with_objective(obj.c, obj.sense, obj.offset)
        x = model.x_from_tiers(res.tiers)
        assert lp.max_violation(x) <= 1e-6
        assert lp.objective_value(x) == pytest.approx(expected[0], abs=1e-6)
        proven += 1
    assert proven >= 10
    assert plan_rounds >= 5  # the searches around a plan were exercised (19 when written)


def test_lp_guided_stopped_early_is_not_called_optimal():
    """0.3 s: a restricted MIP needs more than 0.5 s left to start, so none runs and the
    limit is hit with the first relaxation's bound and no plan."""
    inst = random_instance(3, "max_coverage")
    expected = brute_force(inst)[0]  # 644, which the LP relaxation meets too
    model = TieredModel(inst.problem())
    res = solve_max_coverage_lp_guided(
        model, dataclasses.replace(SolverOptions(), time_limit=0.3), pdlp_share=1.0
    )
    rec = res.record
    assert rec.status == "time_limit"
    assert res.tiers is None and res.rounds == []
    assert rec.objective == -np.inf and rec.gap == np.inf
    assert expected == 644.0
    assert rec.bound >= expected - 1e-6  # PDLP's bound, within its tolerance of the LP's 644
    assert rec.bound == pytest.approx(644.0, rel=1e-6)


def _run(path, **solver):
    from conftest import run_with_solver

    return run_with_solver(path, **solver)


def test_plan_lp_guided_equals_off(tmp_path):
    from conftest import write_small_case

    path = write_small_case(tmp_path / "case", seed=4)
    off = _run(path, aggregation="off")
    guided = _run(path, aggregation="lp_guided")
    assert off.status == guided.status == "optimal"
    assert guided.values == pytest.approx(off.values)
    assert guided.stages[0].message.startswith("lp-guided:")
    assert np.array_equal(guided.tiers, off.tiers)


def test_lp_guided_refuses_what_it_cannot_do(tmp_path):
    from netplan._errors import ScenarioError

    from conftest import write_small_case

    path = write_small_case(
        tmp_path / "case", objective={"type": "min_cost", "targets": {"point": 0.5}}
    )
    with pytest.raises(ScenarioError) as err:
        _run(path, aggregation="lp_guided")
    assert str(err.value) == (
        "solver.aggregation: lp_guided needs objective max_coverage; set it to auto or off"
    )


def test_reduced_cost_test_needs_the_right_sign():
    from netplan.optimize.restriction import fixings_proven as _fixings_proven

    lb, ub = np.zeros(3), np.ones(3)
    fixed = np.array([0.0, 1.0, np.nan])
    assert _fixings_proven(fixed, np.array([-5.0, 5.0, 0.0]), lb, ub, 4.0)
    # fixed at 0 while the bound wants it at 1: better plans may need it open
    assert not _fixings_proven(fixed, np.array([5.0, 5.0, 0.0]), lb, ub, 4.0)
    assert not _fixings_proven(fixed, np.array([-5.0, -5.0, 0.0]), lb, ub, 4.0)
    assert not _fixings_proven(fixed, np.array([-3.0, 5.0, 0.0]), lb, ub, 4.0)  # within margin
    # a column held by its bounds (a kept outlet) needs no test
    keep = np.array([0.0, 1.0, 0.0])  # lb: column 1 is fixed open by policy
    assert _fixings_proven(fixed, np.array([-5.0, -5.0, 0.0]), keep, ub, 4.0)


def test_neighbourhood_frees_the_largest_disagreements_and_keeps_the_plan_elsewhere():
    from netplan.optimize.restriction import neighbourhood as _neighbourhood

    plan = np.array([1.0, 0.0, 1.0, 0.0, 0.0, 1.0])
    x = np.array([0.75, 0.6, 0.125, 0.0, 0.25, 1.0])
    reduced = np.array([0.0, 0.0, 0.0, -3.0, -1.0, 2.0])
    fixed = _neighbourhood(plan, x, reduced, 3)
    # disagreements 0.25, 0.6, 0.875, 0, 0.25, 0: columns 2 and 1, then of the tie 0 / 4 the
    # one with the smaller reduced cost
    assert np.flatnonzero(np.isnan(fixed)).tolist() == [0, 1, 2]
    assert fixed[[3, 4, 5]].tolist() == [0.0, 0.0, 1.0]
    assert np.isnan(_neighbourhood(plan, x, reduced, 6)).all()
    assert _neighbourhood(plan, x, reduced, 0).tolist() == plan.tolist()


def test_first_fixing_rounds_or_frees_to_the_width():
    from netplan.optimize.restriction import fixing as _fixing

    x = np.array([0.01, 0.99, 0.5, 0.9, 0.2, 0.0])
    reduced = np.array([-4.0, 1.0, 0.0, 0.0, 0.0, -0.5])
    fixed = _fixing(x, reduced, 0.02, 1)
    # three fractional columns, one may stay free: the one nearest 0.5; 0.9 -> 1, 0.2 -> 0
    assert np.isnan(fixed[2]) and fixed[[0, 1, 3, 4, 5]].tolist() == [0.0, 1.0, 1.0, 0.0, 0.0]
    fixed = _fixing(x, reduced, 0.02, 5)
    # and two more than the fractional ones: the fixed columns of smallest |reduced cost|
    assert np.flatnonzero(np.isnan(fixed)).tolist() == [1, 2, 3, 4, 5]
    assert fixed[0] == 0.0


def test_waiting_for_a_relaxation_point_ends_on_a_new_point_or_the_timeout():
    import threading
    import time

    from netplan.optimize.first_order import CutRounds

    inst = random_instance(5, "max_coverage")
    model = TieredModel(inst.problem())
    obj = model.coverage_objective()
    lp = model.lp.with_objective(obj.c, obj.sense, obj.offset)
    first = first_order_relaxation(lp, SolverOptions(time_limit=5), iteration_limit=50)
    rounds = CutRounds(model, lp, SolverOptions(), first, deadline=None, round_time=None)
    t = time.perf_counter()
    rounds.wait_for_new_point(first, None)  # no rounds running: nothing will come
    assert time.perf_counter() - t < 0.1
    stop = threading.Event()
    rounds._thread = threading.Thread(target=stop.wait, daemon=True)  # stands in for the rounds
    rounds._thread.start()
    t = time.perf_counter()
    rounds.wait_for_new_point(first, 0.3)
    assert 0.25 <= time.perf_counter() - t < 2.0
    newer = dataclasses.replace(first, bound=first.bound - 1.0)

    def publish():
        time.sleep(0.2)
        with rounds._new_point:
            rounds.last = newer
            rounds._new_point.notify_all()

    threading.Thread(target=publish, daemon=True).start()
    t = time.perf_counter()
    rounds.wait_for_new_point(first, 30.0)
    assert time.perf_counter() - t < 5.0
    assert rounds.snapshot()[1] is newer
    stop.set()
