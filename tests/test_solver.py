"""Solver honesty: status, bound and gap; time limits are never reported as optimal."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import scipy.sparse as sp

import netplan
from netplan.optimize.cbc import write_model
from netplan.optimize.highs import solve_highs as _solve_highs
from netplan.optimize.program import LinearProgram
from netplan.optimize.records import SolverOptions, relative_gap
from netplan.optimize.solver import solve


def _knapsack() -> LinearProgram:
    # max 5a + 4b + 3c  s.t.  2a + 3b + c <= 5, 4a + b + 2c <= 11, 3a + 4b + 2c <= 8, binary.
    # (1,1,1) breaks row 1 (6 > 5); (1,1,0) gives rows 5, 5, 7 and value 9, more than any other
    # feasible choice ((1,0,1): 8, (0,1,1): 7), so the optimum is a = b = 1, c = 0 with value 9.
    A = sp.csr_matrix(np.array([[2, 3, 1], [4, 1, 2], [3, 4, 2]], dtype=float))
    return LinearProgram(
        c=np.array([5.0, 4.0, 3.0]),
        lb=np.zeros(3),
        ub=np.ones(3),
        integer=np.ones(3, bool),
        A=A,
        row_lo=np.full(3, -np.inf),
        row_hi=np.array([5.0, 11.0, 8.0]),
        sense="max",
    )


@pytest.mark.parametrize("backend", ["highs", "cbc"])
def test_small_milp_record(backend):
    x, record = solve(_knapsack(), SolverOptions(backend=backend))
    assert record.status == "optimal"
    assert x.round().tolist() == [1.0, 1.0, 0.0]
    assert (
        record.objective == pytest.approx(9.0)
        and record.bound == pytest.approx(9.0)
        and record.gap == 0.0
    )
    assert record.solver == ("HiGHS" if backend == "highs" else "CBC") and record.version


def test_infeasible_is_reported():
    lp = _knapsack()
    lp = lp.with_rows(
        sp.csr_matrix(np.array([[1.0, 1.0, 1.0]])), np.array([4.0]), np.array([np.inf])
    )
    x, record = solve(lp)
    assert x is None and record.status == "infeasible"


def test_relative_gap():
    assert relative_gap(100.0, 100.0) == 0.0
    assert relative_gap(100.0, 110.0) == pytest.approx(0.1)
    assert np.isnan(relative_gap(100.0, float("nan")))


def test_model_export(tmp_path):
    path = write_model(_knapsack(), tmp_path / "k.lp")
    text = path.read_text()
    assert "Maximize" in text and "v0" in text and "r2" in text


def test_time_limit_is_never_optimal():
    """Set covering, 20 000 customers x 1 000 sites, reach 5 km, 2 s: stopped, with a gap."""
    rng = np.random.default_rng(7)
    n, m = 20_000, 1_000
    d = rng.uniform(0, 50_000, (n, 2))
    s = rng.uniform(0, 50_000, (m, 2))
    crs = "EPSG:32632"
    demand = gpd.GeoDataFrame(
        {"id": [f"D{i}" for i in range(n)], "w": np.ones(n)},
        geometry=gpd.points_from_xy(d[:, 0] + 5e5, d[:, 1] + 5e6),
        crs=crs,
    )
    sites = gpd.GeoDataFrame(
        {"id": [f"S{i}" for i in range(m)], "tiers": "only"},
        geometry=gpd.points_from_xy(s[:, 0] + 5e5, s[:, 1] + 5e6),
        crs=crs,
    )
    scenario = netplan.Scenario.from_dict(
        {
            "name": "lscp",
            "travel": {"mode": "planar", "crs": crs},
            "tiers": [{"key": "only", "reach": "5 km"}],
            "demand": {"path": "unused.csv", "weight": "w", "id": "id"},
            "candidates": {"path": "unused.csv", "id": "id"},
            "costs": {"direct": {"only": {"open": 1}}},
            "objective": {"type": "min_cost", "targets": {"only": 1.0}},
            "solver": {"time_limit": 2},
        }
    )
    inputs = netplan.inputs_from_frames(scenario, demand=demand, candidates=sites)
    p = netplan.plan(scenario, inputs=inputs)
    assert p.status == "time_limit" and p.stopped_stage == "cost"
    assert not p.is_optimal
    assert p.gap > 0
    record = p.solver_record()
    assert record["status"] == "time_limit" and record["time_limit"] == 2
    assert record["bound"] is not None and record["bound"] < record["objective"]


def test_relative_gap_without_an_incumbent_is_infinite():
    assert relative_gap(0.0, 5.0) == float("inf")
    assert relative_gap(0.0, 0.0) == 0.0


def test_box_bound_is_the_best_value_over_the_column_bounds():
    from netplan.optimize.solver import box_bound

    def lp(c, lb, ub, sense):
        c = np.asarray(c, dtype=float)
        return LinearProgram(
            c=c, lb=np.asarray(lb, float), ub=np.asarray(ub, float),
            integer=np.zeros(len(c), bool), A=sp.csr_matrix((0, len(c))),
            row_lo=np.zeros(0), row_hi=np.zeros(0), sense=sense, offset=1.5,
        )  # fmt: skip

    assert box_bound(lp([2, -1, 0], [0, -2, -np.inf], [3, 4, np.inf], "max")) == 2 * 3 + 2 + 1.5
    assert box_bound(lp([2, -1, 0], [0, -2, -np.inf], [3, 4, np.inf], "min")) == -4 + 1.5
    assert np.isnan(box_bound(lp([1, 0], [0, 0], [np.inf, 1], "max")))  # unbounded that way
    assert box_bound(lp([1, 0], [0, 0], [np.inf, 1], "min")) == 1.5


# ------------------------------------------------- the solver's objective is checked
DATA = Path(__file__).resolve().parent / "data"


def _pmed20_round() -> tuple[LinearProgram, np.ndarray]:
    """Round 1 of ``p_median_radius`` on OR-Library pmed20 (400 vertices, p = 133) and the
    heuristic plan it starts from (cost 1789, the published optimum)."""
    f = np.load(DATA / "pmed20_radius_round1.npz")
    A = sp.csr_matrix((f["data"], f["indices"], f["indptr"]), shape=tuple(f["shape"]))
    lp = LinearProgram(
        c=f["c"], lb=f["lb"], ub=f["ub"], integer=f["integer"], A=A,
        row_lo=f["row_lo"], row_hi=f["row_hi"],
    )  # fmt: skip
    return lp, f["start"]


def test_highs_misreports_the_objective_of_a_start_and_solve_solves_again():
    """HiGHS 1.16 with presolve and this start says "Optimal" at 1682 and returns the start,
    worth 1789; solve() sees c·x disagree, solves again without the start and reports 1789."""
    lp, start = _pmed20_round()
    assert lp.max_violation(start) == 0.0 and lp.objective_value(start) == 1789.0
    raw_x, raw = _solve_highs(lp, SolverOptions(), start)
    assert (raw.status, raw.objective, raw.bound) == ("optimal", 1682.0, 1682.0)
    assert lp.objective_value(raw_x) == 1789.0  # the plan it returns is not worth 1682
    # the same model without the start, and with presolve off, agree on 1789
    for options, st in [(SolverOptions(), None), (SolverOptions(highs_presolve=False), start)]:
        x_ref, ref = _solve_highs(lp, options, st)
        assert (ref.status, ref.objective, lp.objective_value(x_ref)) == ("optimal", 1789.0, 1789.0)

    x, record = solve(lp, SolverOptions(), start=start)
    assert record.status == "optimal"
    assert record.objective == lp.objective_value(x) == 1789.0
    assert record.bound == 1789.0 and record.gap == 0.0
    assert record.extra["solver_objective"] == 1682.0
    assert record.extra["objective_resolves"] == 1.0
    assert record.extra["resolved_by"] == "no start"


def _lying_highs(monkeypatch, lie: float, bound_shift: float = 0.0, sleep: float = 0.0):
    """Make every HiGHS solve report ``lie`` more than c·x of its plan (bound shifted too)."""
    import time

    import netplan.optimize.solver as solver_module

    calls = []
    real = solver_module.solve_highs

    def fake(lp, options, start):
        calls.append((start is not None, options.highs_presolve, options.time_limit))
        time.sleep(sleep)
        x, record = real(lp, options, start)
        record.objective += lie
        record.bound = record.objective + bound_shift
        return x, record

    monkeypatch.setattr(solver_module, "solve_highs", fake)
    return calls


def test_an_objective_that_never_agrees_is_not_called_optimal(monkeypatch):
    calls = _lying_highs(monkeypatch, lie=-2.0)  # says 7 for the plan worth 9
    lp = _knapsack()
    start = np.array([1.0, 0.0, 1.0])  # worth 8
    x, record = solve(lp, SolverOptions(), start=start)
    # with the start, then without it, then without presolve: each claims 7
    assert calls == [(True, True, None), (False, True, None), (False, False, None)]
    assert x.round().tolist() == [1.0, 1.0, 0.0]
    assert record.status == "unproven"
    assert record.objective == 9.0
    assert record.bound == 5 + 4 + 3  # the column bounds' bound: the solver's is not used
    assert record.gap == pytest.approx(3 / 9)
    assert record.extra["solver_objective"] == 7.0
    assert record.extra["objective_resolves"] == 2.0
    assert "resolved_by" not in record.extra


def test_a_misreported_objective_with_no_time_left_is_a_time_limit(monkeypatch):
    calls = _lying_highs(monkeypatch, lie=-2.0, sleep=0.3)
    lp = _knapsack()
    x, record = solve(lp, SolverOptions(time_limit=0.2), start=np.array([1.0, 0.0, 1.0]))
    assert len(calls) == 1  # no time left to solve again
    assert record.status == "time_limit"
    assert record.objective == 9.0 and record.bound == 12.0
    assert record.extra["objective_resolves"] == 0.0


def test_a_re_solve_without_a_plan_keeps_the_earlier_plan_as_time_limit(monkeypatch):
    import netplan.optimize.solver as solver_module

    real = solver_module.solve_highs
    calls = []

    def fake(lp, options, start):
        calls.append(start is not None)
        x, record = real(lp, options, start)
        if start is not None:  # the first solve misreports its plan's value
            record.objective -= 2.0
            return x, record
        record.status, record.objective, record.bound = "no_solution", float("nan"), float("nan")
        return None, record  # the re-solve is stopped before it finds one

    monkeypatch.setattr(solver_module, "solve_highs", fake)
    x, record = solve(_knapsack(), SolverOptions(highs_presolve=False), np.array([1.0, 0, 1]))
    assert calls == [True, False]
    assert x.round().tolist() == [1.0, 1.0, 0.0]
    assert (record.status, record.objective, record.bound) == ("time_limit", 9.0, 12.0)
    assert record.extra["objective_resolves"] == 1.0 and "resolved_by" not in record.extra


def test_a_claimed_optimum_whose_bound_misses_the_gap_setting_is_unproven(monkeypatch):
    calls = _lying_highs(monkeypatch, lie=0.0, bound_shift=0.5)  # bound 9.5 for 9
    x, record = solve(_knapsack(), SolverOptions(mip_rel_gap=0.05))
    assert len(calls) == 1  # objective and c·x agree: nothing to solve again
    assert record.status == "unproven"
    assert record.gap == pytest.approx(0.5 / 9)
    x, record = solve(_knapsack(), SolverOptions(mip_rel_gap=0.06))
    assert record.status == "optimal" and record.gap == pytest.approx(0.5 / 9)


def test_cbc_objective_is_read_from_its_log_and_checked():
    from dataclasses import replace

    lp = replace(_knapsack(), offset=2.5)
    x, record = solve(lp, SolverOptions(backend="cbc"), start=np.array([1.0, 0.0, 1.0]))
    assert record.status == "optimal" and record.objective == 11.5 and record.bound == 11.5
    assert "solver_objective" not in record.extra
