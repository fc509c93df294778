"""The plan must not depend on the unit of the weights or the costs, and `optimal` must be earned.

Multiplying every demand weight, or every cost (and the budgets with them), by 10^k changes
nothing but the unit: the same sites at the same tiers (after the exact tie-break), the same
coverage shares, every stage value times 10^k. Before netplan.optimize.scaling, weights x 1e-9 on the
demo gave 81.8 / 73.4 / 91.7 % coverage instead of 97.1 / 72.1 / 91.9 % and called it optimal
with gap 0.00162 (issue 20).
"""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import netplan.optimize.scaling as scaling
from netplan.inputs.costs import SiteCosts
from netplan.optimize.aggregation import covered_points
from netplan.optimize.lexicographic import solve_lexicographic
from netplan.optimize.model import TieredModel
from netplan.optimize.program import LinearProgram
from netplan.optimize.records import SolverOptions, SolverRecord

from bruteforce import brute_force, random_instance
from conftest import DEMO_SCENARIO

# instances the enumeration finds feasible (checked by the test itself), small enough for CBC
SEEDS = (0, 1, 2, 3, 4, 5, 6, 7)


def _scaled_instance(inst, family: str, factor: float):
    if family == "distances":  # coordinates, reach and linkage in another unit
        return dataclasses.replace(
            inst,
            demand_xy=inst.demand_xy * factor,
            site_xy=inst.site_xy * factor,
            reach=inst.reach * factor,
            linkage=inst.linkage * factor,
        )
    if family == "weights":
        return dataclasses.replace(inst, weights=inst.weights * factor)
    c = inst.costs
    costs = SiteCosts(
        c.open * factor,
        c.operate * factor,
        c.convert * factor,
        c.close * factor,
        c.current_tier,
        c.horizon_years,
    )
    return dataclasses.replace(
        inst,
        costs=costs,
        budget=None if inst.budget is None else inst.budget * factor,
        capex=None if inst.capex is None else inst.capex * factor,
    )


def _coverage_shares(problem, tiers) -> list[float]:
    w = problem.weights
    return [
        float(w[covered_points(problem, tiers, lv), lv].sum() / w[:, lv].sum())
        if w[:, lv].sum() > 0
        else 0.0
        for lv in range(problem.n_tiers)
    ]


_BASE: dict = {}


def _base(seed: int, objective: str, backend: str):
    """The unscaled instance, its enumerated optimum and netplan's plan (computed once)."""
    key = (seed, objective, backend)
    if key not in _BASE:
        inst = random_instance(seed, objective)
        expected = brute_force(inst)
        result = solve_lexicographic(
            TieredModel(inst.problem()), objective, SolverOptions(backend=backend)
        )
        _BASE[key] = inst, expected, result
    return _BASE[key]


def _check_scaled(seed: int, objective: str, family: str, k: int, backend: str) -> None:
    inst, expected, base = _base(seed, objective, backend)
    factor = 10.0**k
    problem = _scaled_instance(inst, family, factor).problem()
    result = solve_lexicographic(TieredModel(problem), objective, SolverOptions(backend=backend))
    if expected is None:
        assert result.status == "infeasible", f"seed {seed}, {family} x 1e{k}: {result.status}"
        return
    assert base.status == "optimal", f"seed {seed} unscaled: {base.status}"
    assert result.status == "optimal", (
        f"seed {seed}, {family} x 1e{k}: {result.status}: {result.records[-1].message}"
    )
    assert result.tiers.tolist() == base.tiers.tolist(), f"seed {seed}, {family} x 1e{k}"
    assert _coverage_shares(problem, result.tiers) == pytest.approx(
        _coverage_shares(inst.problem(), base.tiers), rel=1e-12
    )
    # every stage value in the user's units: the enumerated optimum times the factor
    coverage, cost, distance, rank = expected
    want = {
        "coverage": coverage * (factor if family == "weights" else 1.0),
        "cost": cost * (factor if family == "costs" else 1.0),
        "distance": distance * (factor if family in ("weights", "distances") else 1.0),
        "site_id": rank,
    }
    for stage, value in want.items():
        assert result.values[stage] == pytest.approx(value, rel=1e-9), (
            f"seed {seed}, {family} x 1e{k}, stage {stage}"
        )
    # objective and bound of the first stage in the user's units, gap from them
    first = result.records[0]
    assert first.objective == pytest.approx(result.values[first.stage], rel=1e-12)
    assert first.gap == 0.0


@pytest.mark.parametrize("backend", ["highs", "cbc"])
@settings(
    max_examples=50,
    database=None,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    seed=st.sampled_from(SEEDS),
    objective=st.sampled_from(["max_coverage", "min_cost"]),
    family=st.sampled_from(["weights", "costs"]),
    k=st.integers(min_value=-12, max_value=12),
)
def test_plan_does_not_depend_on_the_unit(backend, seed, objective, family, k):
    _check_scaled(seed, objective, family, k, backend)


@pytest.mark.parametrize(
    "backend, k",
    [("highs", -12), ("highs", -9), ("highs", 9), ("highs", 12), ("cbc", -12), ("cbc", 12)],
)
@pytest.mark.parametrize("family", ["weights", "costs"])
def test_extreme_units_on_every_seed(family, backend, k):
    """The ends of the range on every small instance and both objectives."""
    for seed in SEEDS:
        for objective in ("max_coverage", "min_cost"):
            _check_scaled(seed, objective, family, k, backend)


@pytest.mark.parametrize("k", [-3, 3])
def test_distances_in_another_unit(k):
    """Metres to kilometres or millimetres: coverage's reach tolerance is absolute (1e-6), so
    the range here is the range of real units, not 10^±12."""
    for seed in SEEDS:
        for objective in ("max_coverage", "min_cost"):
            _check_scaled(seed, objective, "distances", k, "highs")


@pytest.mark.parametrize("k", [-9, 9])
def test_large_model_searches_do_not_depend_on_the_unit(k):
    """The LP-guided search and the grid aggregation (the first stage of very large models)
    find the enumerated optimum, proven, with the weights in another unit."""
    from netplan.optimize.aggregation import solve_max_coverage_aggregated
    from netplan.optimize.lpguided import solve_max_coverage_lp_guided

    factor = 10.0**k
    proven = 0
    for seed in SEEDS[:6]:
        inst = random_instance(seed, "max_coverage")
        expected = brute_force(inst)
        if expected is None:
            continue
        scaled = _scaled_instance(inst, "weights", factor)
        guided = solve_max_coverage_lp_guided(
            TieredModel(scaled.problem()), SolverOptions(time_limit=60)
        ).record
        coarse = np.array([6000.0, 4000.0, 3000.0])  # cells that mix coverage sets
        agg = solve_max_coverage_aggregated(
            scaled.problem(), scaled.demand_xy, coarse, SolverOptions(), exact_groups_up_to=0
        ).record
        for record in (guided, agg):
            assert record.status == "optimal", f"seed {seed}: {record.message}"
            assert record.objective == pytest.approx(expected[0] * factor, rel=1e-9)
            assert record.bound == pytest.approx(expected[0] * factor, rel=1e-9)
            assert record.gap == 0.0
        proven += 1
    assert proven >= 4


# ---------------------------------------------------------------- the scaling itself
def test_pow2_scale_is_a_power_of_two_at_the_largest_value():
    assert scaling.pow2_scale(np.array([3.0, -5.0, 0.0])) == 4.0
    assert scaling.pow2_scale(np.array([4.0])) == 4.0
    assert scaling.pow2_scale(np.array([1e-9])) == 2.0**-30
    assert scaling.pow2_scale(np.zeros(3)) == 1.0
    assert scaling.pow2_scale(np.array([np.inf, 0.75])) == 0.5
    values = np.array([1.1e-9, 7e-10, 3e-12])
    s = scaling.pow2_scale(values)
    assert 1.0 <= values.max() / s < 2.0
    assert ((values / s) * s == values).all()  # exact round trip


def test_equilibrate_scales_rows_and_objective_exactly():
    A = np.array([[3e-9, 1e-9, 0.0], [1.0, -1.0, 0.0], [0.0, 0.0, 0.0]])
    import scipy.sparse as sp

    lp = LinearProgram(
        c=np.array([5e12, 3e12, 1e12]),
        lb=np.zeros(3),
        ub=np.ones(3),
        integer=np.ones(3, dtype=bool),
        A=sp.csr_matrix(A),
        row_lo=np.array([-np.inf, 0.0, -np.inf]),
        row_hi=np.array([2e-9, 0.0, 1.0]),
        sense="max",
        offset=7e12,
    )
    scaled = scaling.equilibrate(lp)
    assert scaled.row_scale.tolist() == [2.0**-29, 1.0, 1.0]
    assert scaled.objective_scale == 2.0**42
    assert scaled.lp.A.toarray()[0].tolist() == [3e-9 * 2**29, 1e-9 * 2**29, 0.0]
    assert scaled.lp.row_hi.tolist() == [2e-9 * 2**29, 0.0, 1.0]
    assert (scaled.lp.c * scaled.objective_scale == lp.c).all()
    assert scaled.lp.offset * scaled.objective_scale == lp.offset


def test_stage_tolerance_is_relative_to_the_scaled_objective():
    from netplan.optimize.stage_fixing import fix_row as _fix_row
    from netplan.optimize.stage_fixing import tolerance

    c = np.array([3.0, 5.0, 0.0])  # scale 4
    for k in (-40, -10, 0, 10, 40):
        f = 2.0**k
        assert tolerance(164375.0 * f, 4.0 * f) == tolerance(164375.0, 4.0) * f
        _, lo, _ = _fix_row(c * f, "max", 8.0 * f, 0.0)
        assert lo[0] == (8.0 - tolerance(8.0, 4.0)) * f
    # demo coverage with weights x 1e-9: 1e-9 of the value, not the absolute 1e-6 of before
    # (which was larger than one customer, 1e-9)
    tol = tolerance(1.6e-4, 2.0**-30)
    assert tol == pytest.approx(1e-9 * 1.6e-4 + 1e-6 * 2.0**-30, rel=1e-12)
    assert tol < 1e-12


def _record(status="optimal", objective=10.0, bound=10.0) -> SolverRecord:
    return SolverRecord(status, objective, bound, 0.0, 0.0, "HiGHS", "x", None, 0.0)


def test_certify_needs_the_gap_from_the_plan_and_the_bound():
    scale = 2.0**-30  # weights of about 1e-9: a gap netplan must see whatever the unit
    plan_value = 1.3988e-4
    rec = scaling.certify(_record(bound=1.4011e-4), plan_value, "max", 0.0, scale)
    assert rec.status == "feasible"
    assert rec.gap == pytest.approx((1.4011e-4 - 1.3988e-4) / 1.3988e-4)
    assert rec.objective == plan_value
    # the same figures in a unit 1e9 larger: the same verdict and the same gap
    big = scaling.certify(_record(bound=1.4011e5), 1.3988e5, "max", 0.0, 2.0**17)
    assert big.status == "feasible"
    assert big.gap == pytest.approx(rec.gap, rel=1e-12)
    # within the requested gap: optimal
    ok = scaling.certify(_record(bound=1.4011e-4), plan_value, "max", 0.002, scale)
    assert ok.status == "optimal"
    # a plan better than the bound: the bound is wrong
    wrong = scaling.certify(_record(bound=2961.0), 2836.0, "min", 0.0, 2048.0)
    assert wrong.status == "unproven"
    # ... while a plan worse than the bound is a gap
    gap = scaling.certify(_record(bound=2836.0), 2961.0, "min", 0.0, 2048.0)
    assert gap.status == "feasible"
    assert gap.gap == pytest.approx(125.0 / 2961.0)
    assert "better than the solver's bound" in wrong.message
    # no bound: not proven
    none = scaling.certify(_record(bound=math.nan), 5.0, "min", 0.0, 4.0)
    assert none.status == "feasible"
    # a stopped solve keeps its status and gets netplan's gap
    stopped = scaling.certify(_record("time_limit", bound=12.0), 10.0, "max", 0.0, 8.0)
    assert stopped.status == "time_limit"
    assert stopped.gap == pytest.approx(0.2)


def _make_the_solver_lie(monkeypatch, factor: float) -> None:
    """Every optimal solve reports objective and bound ``factor`` × its solution's value."""
    real_solve = scaling.solve

    def lying_solve(lp, options=None, start=None):
        x, record = real_solve(lp, options, start)
        if record.status == "optimal":
            record.objective = record.bound = record.objective * factor
        return x, record

    monkeypatch.setattr(scaling, "solve", lying_solve)


def test_a_solver_objective_that_is_not_its_solutions_is_unproven(monkeypatch):
    """HiGHS 1.16 with presolve and a start reported 2836 for a solution worth 2961
    (OR-Library pmed24): the stage must not be called optimal."""
    inst = random_instance(0, "min_cost")
    _make_the_solver_lie(monkeypatch, 0.96)
    result = solve_lexicographic(TieredModel(inst.problem()), "min_cost", SolverOptions())
    assert result.status == "unproven"
    assert result.stopped_stage == "cost"
    first = result.records[0]
    assert first.extra["solver_objective"] == pytest.approx(0.96 * first.objective, rel=1e-12)
    assert "optimality not proven" in first.message


# ---------------------------------------------------------------- the demo region
DEMO_COVERAGE = [0.9714, 0.7207, 0.9192]  # README: 97.1 / 72.1 / 91.9 %


@pytest.fixture(scope="module")
def demo_prepared():
    from netplan.preparation import prepare
    from netplan.scenario import Scenario

    scenario = Scenario.from_yaml(DEMO_SCENARIO)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return scenario, prepare(scenario)


def _demo_plan(demo_prepared, family: str, k: int):
    from netplan.planner import plan

    scenario, prep = demo_prepared
    factor = 10.0**k
    inputs = prep.inputs
    if family == "weights":
        demand = inputs.demand.copy()
        for key in scenario.tier_keys:
            demand[f"weight_{key}"] = demand[f"weight_{key}"] * factor
        prep = dataclasses.replace(prep, inputs=dataclasses.replace(inputs, demand=demand))
    else:
        c = inputs.costs
        costs = SiteCosts(
            c.open * factor,
            c.operate * factor,
            c.convert * factor,
            c.close * factor,
            c.current_tier,
            c.horizon_years,
        )
        prep = dataclasses.replace(
            prep,
            inputs=dataclasses.replace(inputs, costs=costs),
            baseline_cost=prep.baseline_cost * factor,
        )
    return prep, plan(scenario, prepared=prep)


_DEMO: dict = {}


def _demo_base(demo_prepared):
    if "base" not in _DEMO:
        _DEMO["base"] = _demo_plan(demo_prepared, "weights", 0)
    return _DEMO["base"]


@pytest.mark.slow
@pytest.mark.parametrize("k", [-9, -7, 0, 7, 12])
def test_demo_plan_does_not_depend_on_the_unit_of_the_weights(demo_prepared, k):
    base_prep, base = _demo_base(demo_prepared)
    prep, scaled = (base_prep, base) if k == 0 else _demo_plan(demo_prepared, "weights", k)
    assert scaled.status == "optimal", scaled.stages[-1].message
    record = scaled.solver_record()
    assert record["gap"] == 0.0
    assert [round(s, 4) for s in _coverage_shares(_problem_of(prep), scaled.tiers)] == (
        DEMO_COVERAGE
    )
    assert scaled.tiers.tolist() == base.tiers.tolist()
    factor = 10.0**k
    assert scaled.values["coverage"] == pytest.approx(base.values["coverage"] * factor, rel=1e-9)
    assert scaled.values["cost"] == base.values["cost"]
    assert scaled.values["site_id"] == base.values["site_id"]
    # run.json's figures in the user's units, the scale factors beside them
    assert record["objective"] == pytest.approx(base.values["coverage"] * factor, rel=1e-9)
    assert record["bound"] == pytest.approx(record["objective"], rel=1e-9)
    scale = record["scale_factors"]["objective"]["coverage"]
    base_scale = base.solver_record()["scale_factors"]["objective"]["coverage"]
    assert math.frexp(scale)[0] == 0.5  # a power of two
    assert 0.5 <= scale / (base_scale * factor) <= 2.0
    assert record["scale_factors"]["rows"]["budget.total"] == (
        base.solver_record()["scale_factors"]["rows"]["budget.total"]
    )


def _problem_of(prep):
    from netplan.preparation import build_problem

    return build_problem(prep)[0]


# ---------------------------------------------------------------- through the CLI
def _cli_run(tmp_path, name: str, factor: float, *extra: str):
    import json

    import pandas as pd
    from typer.testing import CliRunner

    from netplan.cli import app

    from conftest import write_small_case

    scenario = write_small_case(tmp_path / name)
    demand = pd.read_csv(scenario.parent / "demand.csv")
    demand["customers"] = demand["customers"] * factor
    demand.to_csv(scenario.parent / "demand.csv", index=False)
    out = tmp_path / f"{name}-out"
    try:  # click < 8.2 mixes stderr into stdout unless told not to
        runner = CliRunner(mix_stderr=False)
    except TypeError:
        runner = CliRunner()
    result = runner.invoke(app, ["run", str(scenario), "--out", str(out), *extra])
    run = json.loads((out / "run.json").read_text()) if (out / "run.json").exists() else None
    return result, run


def test_cli_run_json_in_user_units_with_the_scale_factors(tmp_path):
    plain, run1 = _cli_run(tmp_path, "plain", 1.0, "--require-optimal")
    tiny, run2 = _cli_run(tmp_path, "tiny", 1e-9, "--require-optimal")
    assert plain.exit_code == 0, plain.stderr
    assert tiny.exit_code == 0, tiny.stderr
    s1, s2 = run1["solver"], run2["solver"]
    assert s1["status"] == s2["status"] == "optimal"
    assert s2["objective"] == pytest.approx(s1["objective"] * 1e-9, rel=1e-9)
    assert s2["bound"] == pytest.approx(s1["bound"] * 1e-9, rel=1e-9)
    assert s1["gap"] == s2["gap"] == 0.0
    f1, f2 = s1["scale_factors"]["objective"], s2["scale_factors"]["objective"]
    assert set(f1) == set(f2) >= {"coverage", "cost"}
    assert f1["cost"] == f2["cost"]  # costs did not change
    assert 0.5 <= f2["coverage"] / (f1["coverage"] * 1e-9) <= 2.0
    rows1, rows2 = s1["scale_factors"]["rows"], s2["scale_factors"]["rows"]
    assert rows1 == rows2  # the budget row's factor: costs did not change
    assert math.frexp(rows1["budget.total"])[0] == 0.5


def test_cli_require_optimal_exits_3_when_the_solver_objective_is_not_its_solutions(
    tmp_path, monkeypatch
):
    _make_the_solver_lie(monkeypatch, 1.01)
    result, run = _cli_run(tmp_path, "lying", 1.0, "--require-optimal")
    assert result.exit_code == 3, result.stderr
    assert "status unproven" in result.stderr
    assert run["solver"]["status"] == "unproven"
    assert "optimality not proven" in run["solver"]["stages"][0]["message"]


@pytest.mark.slow
@pytest.mark.parametrize("k", [-9, 12])
def test_demo_plan_does_not_depend_on_the_unit_of_the_costs(demo_prepared, k):
    """Costs and the budget (today's cost) in another unit: the same plan, cost x 10^k."""
    _, base = _demo_base(demo_prepared)
    prep, scaled = _demo_plan(demo_prepared, "costs", k)
    assert scaled.status == "optimal", scaled.stages[-1].message
    assert scaled.solver_record()["gap"] == 0.0
    assert scaled.tiers.tolist() == base.tiers.tolist()
    assert [round(s, 4) for s in _coverage_shares(_problem_of(prep), scaled.tiers)] == (
        DEMO_COVERAGE
    )
    factor = 10.0**k
    assert scaled.values["coverage"] == base.values["coverage"]
    assert scaled.values["cost"] == pytest.approx(base.values["cost"] * factor, rel=1e-9)
    assert scaled.cost()["total"] == pytest.approx(8_480_000 * factor, rel=1e-9)
    rows = scaled.solver_record()["scale_factors"]["rows"]
    base_rows = base.solver_record()["scale_factors"]["rows"]
    assert 0.5 <= rows["budget.total"] / (base_rows["budget.total"] * factor) <= 2.0
