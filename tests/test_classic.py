"""Classic location models (netplan.classic) against brute force on small random instances.

Every expected value is computed here by enumerating site subsets (itertools.combinations)
with plain numpy on the raw cost matrix — no netplan helper is used for the check. The
transportation / max-flow sub-problems of the capacitated multi-source models are solved
with scipy.optimize.linprog; single-source ones by enumerating every assignment. Each test
also re-evaluates the returned sites independently and checks they achieve the objective.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

import geopandas as gpd
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from netplan._errors import NetplanError
from netplan.classic import (
    LocationData,
    LocationResult,
    backup_covering,
    capacitated_max_covering,
    capacitated_set_covering,
    facility_location,
    max_covering,
    p_center,
    p_median,
    result_table,
    set_covering,
)
from netplan.optimize.records import SolverOptions

SEEDS = range(8)
TOL = 1e-6
BACKUP_ABS = 1e-9  # backup_covering reports the plan's recounted backup weight
EARTH_RADIUS_M = 6_371_008.8  # the mean Earth radius netplan documents for haversine travel


# ------------------------------------------------------------------ instances
def random_instance(seed: int, n: int = 8, m: int = 6):
    """Random planar points: (n, m) distances, integer weights, site costs and capacities."""
    rng = np.random.default_rng(seed)
    dem = rng.uniform(0, 10, (n, 2))
    sites = rng.uniform(0, 10, (m, 2))
    dist = np.hypot(dem[:, None, 0] - sites[None, :, 0], dem[:, None, 1] - sites[None, :, 1])
    weights = rng.integers(1, 10, n).astype(float)
    site_cost = rng.integers(5, 30, m).astype(float)
    capacity = np.round(rng.uniform(0.25, 0.6, m) * weights.sum())
    return dist, weights, site_cost, capacity


def square_instance(seed: int, n: int) -> np.ndarray:
    """(n, n) distances among n random points: every demand point is also a candidate site."""
    xy = np.random.default_rng(500 + seed).uniform(0, 10, (n, 2))
    return np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])


def between(dist: np.ndarray, q: float) -> float:
    """A radius halfway between two consecutive distinct distances (never on a boundary)."""
    v = np.unique(dist[np.isfinite(dist)])
    k = min(int(q * len(v)), len(v) - 2)
    return float((v[k] + v[k + 1]) / 2)


def close(a: float, b: float) -> bool:
    return abs(a - b) <= TOL * max(1.0, abs(b))


def subsets(m: int, sizes=None):
    for k in range(m + 1) if sizes is None else sizes:
        for s in itertools.combinations(range(m), k):
            yield np.array(s, dtype=np.int64)


# -------------------------------------------------------------- brute force
def bf_set_covering(cover: np.ndarray, cost: np.ndarray) -> float:
    coverable = cover.any(axis=1)
    return min(
        cost[s].sum() for s in subsets(cover.shape[1]) if cover[:, s].any(axis=1)[coverable].all()
    )


def covered_weight(cover: np.ndarray, w: np.ndarray, s: np.ndarray) -> float:
    return float(w[cover[:, s].any(axis=1)].sum())


def backup_weight(cover: np.ndarray, w: np.ndarray, s: np.ndarray) -> float:
    return float(w[cover[:, s].sum(axis=1) >= 2].sum())


def p_median_value(dist: np.ndarray, w: np.ndarray, s: np.ndarray) -> float:
    return float((w * dist[:, s].min(axis=1)).sum())


def p_center_value(dist: np.ndarray, s: np.ndarray) -> float:
    return float(dist[:, s].min(axis=1).max())


def ufl_value(dist: np.ndarray, w: np.ndarray, f: np.ndarray, s: np.ndarray) -> float:
    return float(f[s].sum() + (w * dist[:, s].min(axis=1)).sum())


def transport(
    dist: np.ndarray, w: np.ndarray, cap: np.ndarray, s: np.ndarray, rows: np.ndarray
) -> float | None:
    """Min sum w_i c_ij z_ij with sum_j z_ij = 1 for ``rows`` (j in s, c_ij finite) and
    sum_i w_i z_ij <= cap_j; None if infeasible."""
    pairs = [(i, j) for i in rows for j in s if np.isfinite(dist[i, j])]
    if not pairs:
        return 0.0 if len(rows) == 0 else None
    c = np.array([w[i] * dist[i, j] for i, j in pairs])
    a_eq = np.zeros((len(rows), len(pairs)))
    a_ub = np.zeros((len(s), len(pairs)))
    row_of = {i: r for r, i in enumerate(rows)}
    col_of = {j: r for r, j in enumerate(s)}
    for k, (i, j) in enumerate(pairs):
        a_eq[row_of[i], k] = 1.0
        a_ub[col_of[j], k] = w[i]
    res = linprog(
        c, A_ub=a_ub, b_ub=cap[s], A_eq=a_eq, b_eq=np.ones(len(rows)), bounds=(0, 1), method="highs"
    )
    return float(res.fun) if res.status == 0 else None


def max_flow_covered(cover: np.ndarray, w: np.ndarray, cap: np.ndarray, s: np.ndarray) -> float:
    """Max sum w_i z_ij with sum_j z_ij <= 1, sum_i w_i z_ij <= cap_j over covering pairs in s."""
    pairs = [(i, j) for i in range(cover.shape[0]) for j in s if cover[i, j]]
    if not pairs:
        return 0.0
    a_ub = np.zeros((cover.shape[0] + len(s), len(pairs)))
    col_of = {j: r for r, j in enumerate(s)}
    for k, (i, j) in enumerate(pairs):
        a_ub[i, k] = 1.0
        a_ub[cover.shape[0] + col_of[j], k] = w[i]
    b_ub = np.concatenate([np.ones(cover.shape[0]), cap[s]])
    c = -np.array([w[i] for i, _ in pairs])
    res = linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=(0, 1), method="highs")
    assert res.status == 0
    return float(-res.fun)


def all_assignments(n: int, m: int, allow_none: bool) -> np.ndarray:
    """Every map demand -> site (or -1, unassigned) as an (A, n) array."""
    options = range(-1, m) if allow_none else range(m)
    return np.array(list(itertools.product(options, repeat=n)), dtype=np.int64).reshape(-1, n)


def loads(choice: np.ndarray, w: np.ndarray, m: int) -> np.ndarray:
    """(A, m) weight assigned to each site by each assignment."""
    out = np.zeros((len(choice), m))
    for j in range(m):
        out[:, j] = ((choice == j) * w).sum(axis=1)
    return out


# ------------------------------------------------------------ result checks
def check_shape(result: LocationResult, solver: str = "HiGHS") -> None:
    assert isinstance(result, LocationResult)
    assert result.status == "optimal", result
    assert result.is_optimal
    assert result.solver == solver
    assert result.version
    assert math.isfinite(result.objective) and math.isfinite(result.bound)
    assert math.isfinite(result.gap) and result.gap <= 1e-9
    assert isinstance(result.timings, dict) and result.timings
    assert all(isinstance(v, float) and v >= 0 for v in result.timings.values())
    assert result.records
    assert result.site_ids == [str(j) for j in result.sites]


def served(assignment, n: int) -> np.ndarray:
    """Share of each demand assigned (0 where not assigned)."""
    out = np.zeros(n)
    np.add.at(out, assignment["demand"].to_numpy(), assignment["share"].to_numpy())
    return out


# ================================================================ set covering
@pytest.mark.parametrize("seed", SEEDS)
def test_set_covering_fewest_and_cheapest(seed):
    dist, w, f, _ = random_instance(seed)
    # a demand point far from every site: no site can ever reach it
    dist = np.vstack([dist, np.full(dist.shape[1], 1e3)])
    w = np.append(w, 7.0)
    radius = between(dist[:-1], 0.3)
    cover = dist <= radius
    coverable = cover.any(axis=1)
    assert not coverable[-1]

    for site_cost in (None, f):
        cost = np.ones(dist.shape[1]) if site_cost is None else site_cost
        data = LocationData.from_matrix(dist, weights=w, site_cost=site_cost)
        result = set_covering(data, radius=radius)
        check_shape(result)
        expected = bf_set_covering(cover, cost)
        assert close(result.objective, expected)
        s = result.sites
        assert close(cost[s].sum(), expected)
        assert cover[:, s].any(axis=1)[coverable].all()
        assert result.details["uncoverable"] == int((~coverable).sum())
        assert result.details["uncoverable_weight"] == pytest.approx(w[~coverable].sum())


def test_set_covering_radius_none_and_all_uncoverable():
    # without a radius every finite pair covers; inf entries are not allowed pairs
    dist = np.array([[1.0, np.inf, np.inf], [np.inf, 2.0, np.inf], [np.inf, 3.0, 4.0]])
    result = set_covering(dist)
    assert result.objective == 2 and set(result.sites) == {0, 1}
    # no pair at all within the radius: nothing to cover, zero sites, still optimal
    result = set_covering(dist, radius=0.5)
    assert result.status == "optimal"
    assert result.objective == 0 and len(result.sites) == 0
    assert result.details["uncoverable"] == 3


# ============================================================== maximal covering
@pytest.mark.parametrize("seed", SEEDS)
def test_max_covering_p(seed):
    dist, w, _, _ = random_instance(seed)
    radius = between(dist, 0.25)
    cover = dist <= radius
    data = LocationData.from_matrix(dist, weights=w)
    for p in (1, 2, 3):
        result = max_covering(data, radius=radius, p=p)
        check_shape(result)
        expected = max(covered_weight(cover, w, s) for s in subsets(dist.shape[1], [p]))
        assert close(result.objective, expected)
        assert len(result.sites) == p
        assert close(covered_weight(cover, w, result.sites), expected)
        assert close(result.details["covered_weight"], expected)
        assert result.details["total_weight"] == pytest.approx(w.sum())


@pytest.mark.parametrize("seed", SEEDS)
def test_max_covering_budget(seed):
    dist, w, f, _ = random_instance(seed)
    radius = between(dist, 0.25)
    cover = dist <= radius
    data = LocationData.from_matrix(dist, weights=w, site_cost=f)
    for budget in (20.0, 40.0):
        result = max_covering(data, radius=radius, budget=budget)
        check_shape(result)
        expected = max(
            covered_weight(cover, w, s) for s in subsets(dist.shape[1]) if f[s].sum() <= budget
        )
        assert close(result.objective, expected)
        assert f[result.sites].sum() <= budget + TOL
        assert close(covered_weight(cover, w, result.sites), expected)


def test_max_covering_needs_p_or_budget():
    with pytest.raises(NetplanError):
        max_covering(np.ones((2, 2)), radius=1.0)


# ================================================================ backup covering
@pytest.mark.parametrize("seed", SEEDS)
def test_backup_covering_lexicographic(seed):
    dist, w, _, _ = random_instance(seed)
    radius = between(dist, 0.35)
    cover = dist <= radius
    data = LocationData.from_matrix(dist, weights=w)
    for p in (2, 3):
        result = backup_covering(data, radius, p)
        check_shape(result)
        best = max(
            (covered_weight(cover, w, s), backup_weight(cover, w, s))
            for s in subsets(dist.shape[1], [p])
        )
        assert close(result.details["covered_weight"], best[0])
        # the reported backup weight is the raw stage-2 LP value, which may be off by a few
        # 1e-6 (see test_backup_weight_is_the_plans_value); the plan itself is checked exactly
        assert result.objective == pytest.approx(best[1], abs=BACKUP_ABS)
        assert result.details["backup_weight"] == pytest.approx(best[1], abs=BACKUP_ABS)
        s = result.sites
        assert len(s) == p
        assert close(covered_weight(cover, w, s), best[0])
        assert close(backup_weight(cover, w, s), best[1])
        assert [r.stage for r in result.records] == ["coverage", "backup"]


def test_backup_covering_never_trades_coverage_for_backup():
    # sites 0 and 1 both reach demand 0 (weight 5): backing it up leaves demand 1 (weight 1)
    # uncovered; site 2 reaches only demand 1. With p=2 the lexicographic optimum covers
    # both (covered 6, backup 0), not demand 0 twice (covered 5, backup 5).
    dist = np.array([[1.0, 1.0, 9.0], [9.0, 9.0, 1.0]])
    result = backup_covering(LocationData.from_matrix(dist, weights=[5.0, 1.0]), 2.0, 2)
    assert result.details["covered_weight"] == pytest.approx(6.0)
    assert result.objective == pytest.approx(0.0, abs=BACKUP_ABS)
    assert set(result.sites.tolist()) in ({0, 2}, {1, 2})


def test_backup_weight_is_the_plans_value():
    # Same instance: the optimal plans ({0, 2} or {1, 2}) cover demand 0 once and demand 1
    # once, so their backup weight is exactly 0. Stage 2 fixes coverage only to within
    # tolerance(6) = 1.006e-6, and y, u are continuous, so the LP may set y_0 = 1 - e,
    # u_0 = e; the reported value must be the plan's own (recounted), not the LP's 1.006e-6.
    dist = np.array([[1.0, 1.0, 9.0], [9.0, 9.0, 1.0]])
    result = backup_covering(LocationData.from_matrix(dist, weights=[5.0, 1.0]), 2.0, 2)
    assert backup_weight(dist <= 2.0, np.array([5.0, 1.0]), result.sites) == 0.0
    assert result.objective == pytest.approx(0.0, abs=1e-9)


# ======================================================================= p-median
@pytest.mark.parametrize("seed", SEEDS)
def test_p_median_bruteforce(seed):
    dist, w, _, _ = random_instance(seed, n=8, m=6)
    data = LocationData.from_matrix(dist, weights=w)
    for p in (2, 3):
        result = p_median(data, p)
        check_shape(result)
        expected = min(p_median_value(dist, w, s) for s in subsets(6, [p]))
        assert close(result.objective, expected)
        assert len(result.sites) == p
        assert close(p_median_value(dist, w, result.sites), expected)
        # every demand is assigned to its nearest open site, at that cost
        a = result.assignment.sort_values("demand")
        assert a["demand"].tolist() == list(range(8))
        np.testing.assert_allclose(a["cost"], dist[:, result.sites].min(axis=1))
        np.testing.assert_allclose(dist[a["demand"], a["site"]], a["cost"])


@pytest.mark.parametrize("seed", SEEDS)
def test_p_median_non_square_with_missing_pairs(seed):
    rng = np.random.default_rng(100 + seed)
    n, m = 9, 5
    dist = rng.integers(1, 50, (n, m)).astype(float)
    w = rng.uniform(0.5, 4.0, n)
    # some pairs not allowed (inf), each demand keeps at least two sites
    mask = rng.uniform(size=(n, m)) < 0.3
    mask[np.arange(n), rng.integers(0, m, n)] = False
    mask[np.arange(n), (rng.integers(0, m, n) + 1) % m] = False
    dist[mask] = np.inf
    result = p_median(LocationData.from_matrix(dist, weights=w), 3)
    expected = min(p_median_value(dist, w, s) for s in subsets(m, [3]))
    assert math.isfinite(expected)  # some 3 sites serve every demand (two allowed sites each)
    check_shape(result)
    assert close(result.objective, expected)
    assert close(p_median_value(dist, w, result.sites), expected)


def test_p_median_hand_example():
    # Five nodes on a line at 0, 1, 3, 7, 8 with weights 2, 1, 2, 2, 1; every node is a
    # demand and a candidate; p = 2. Weighted cost of each pair of medians (node: w*distance
    # to the nearer median, for nodes 0..4):
    #   {0,1}: 0+0+2*2+2*6+1*7 = 23     {1,2}: 2*1+0+0+2*4+1*5 = 15
    #   {0,2}: 0+1+0+2*4+1*5   = 14     {1,3}: 2*1+0+2*2+0+1*1 =  7   <- best
    #   {0,3}: 0+1+2*3+0+1*1   =  8     {1,4}: 2*1+0+2*2+2*1+0 =  8
    #   {0,4}: 0+1+2*3+2*1+0   =  9     {2,3}: 2*3+1*2+0+0+1*1 =  9
    #   {3,4}: 2*7+1*6+2*4+0+0 = 28     {2,4}: 2*3+1*2+0+2*1+0 = 10
    # so the medians are nodes 1 (x=1) and 3 (x=7), total 7.
    x = np.array([0.0, 1.0, 3.0, 7.0, 8.0])
    w = np.array([2.0, 1.0, 2.0, 2.0, 1.0])
    dist = np.abs(x[:, None] - x[None, :])
    result = p_median(LocationData.from_matrix(dist, weights=w), 2)
    assert result.status == "optimal"
    assert result.objective == pytest.approx(7.0)
    assert result.sites.tolist() == [1, 3]
    a = result.assignment.sort_values("demand")
    assert a["site"].tolist() == [1, 1, 1, 3, 3]


def test_p_median_errors():
    with pytest.raises(NetplanError, match="p must be"):
        p_median(np.ones((3, 2)), 3)
    with pytest.raises(NetplanError, match="demand points"):
        p_median(np.array([[1.0, np.inf], [np.inf, np.inf]]), 1)


# ======================================================================= p-center
@pytest.mark.parametrize("seed", SEEDS)
def test_p_center_bruteforce_vertex(seed):
    """Demand points are the candidate sites (zero diagonal, as in OR-Library pmed)."""
    dist = square_instance(seed, 9)
    for p in (2, 3):
        result = p_center(dist, p)
        check_shape(result)
        expected = min(p_center_value(dist, s) for s in subsets(9, [p]))
        assert result.objective == pytest.approx(expected, abs=1e-9)
        assert result.details["radius"] == pytest.approx(expected, abs=1e-9)
        assert result.details["check_below"] == "infeasible"
        assert result.details["radius_below"] < expected
        # radius_below is the next smaller distinct distance: nothing lies strictly between
        below = result.details["radius_below"]
        assert not ((dist > below) & (dist < expected)).any()
        assert len(result.sites) <= p
        assert p_center_value(dist, result.sites) == pytest.approx(expected, abs=1e-9)
        assert (result.assignment["cost"] <= expected + 1e-9).all()


@pytest.mark.parametrize("seed", SEEDS)
def test_p_center_bruteforce(seed):
    """Separate demand and sites, including optima equal to the trivial lower bound (the
    largest distance from a demand to its nearest site)."""
    dist, _, _, _ = random_instance(seed, n=8, m=6)
    for p in (2, 3):
        result = p_center(dist, p)
        expected = min(p_center_value(dist, s) for s in subsets(6, [p]))
        assert result.objective == pytest.approx(expected, abs=1e-9)
        assert result.status == "optimal"
        check_shape(result)
        assert result.details["check_below"] == "infeasible"
        assert result.details["radius_below"] < expected
        assert len(result.sites) <= p
        assert p_center_value(dist, result.sites) == pytest.approx(expected, abs=1e-9)


def test_p_center_optimum_at_lower_bound():
    # Demand 1's nearest site is at 3, so no radius below 3 can work (lower bound 3); sites
    # {0, 1} (or {0, 2}) reach everything within 3, so r* = 3 with p = 2. The check "below"
    # at radius 1 must be infeasible: demand 1 has no site that close (set covering alone
    # would drop it as uncoverable and find a plan).
    dist = np.array([[1.0, 9.0, 9.0], [9.0, 3.0, 3.0]])
    result = p_center(dist, 2)
    assert result.objective == 3.0
    assert p_center_value(dist, result.sites) == 3.0
    assert result.status == "optimal"
    assert result.details["check_below"] in (None, "infeasible")


def test_p_center_requires_every_demand_served():
    with pytest.raises(NetplanError):
        p_center(np.array([[1.0, 2.0], [np.inf, np.inf]]), 1)


# ============================================================ facility location
@pytest.mark.parametrize("seed", SEEDS)
def test_ufl_bruteforce(seed):
    dist, w, f, _ = random_instance(seed)
    f = f * 3  # make opening costs matter against service costs
    result = facility_location(LocationData.from_matrix(dist, weights=w, site_cost=f))
    check_shape(result)
    expected = min(ufl_value(dist, w, f, s) for s in subsets(6, range(1, 7)))
    assert close(result.objective, expected)
    assert close(ufl_value(dist, w, f, result.sites), expected)
    a = result.assignment
    np.testing.assert_allclose(served(a, 8), 1.0)
    assert set(a["site"]) <= set(result.sites.tolist())


@pytest.mark.parametrize("seed", SEEDS)
def test_capacitated_facility_location_multi_source(seed):
    dist, w, f, cap = random_instance(seed, n=7, m=5)
    data = LocationData.from_matrix(dist, weights=w, site_cost=f, capacity=cap)
    result = facility_location(data, capacitated=True)
    rows = np.arange(7)
    values = []
    for s in subsets(5, range(1, 6)):
        lp = transport(dist, w, cap, s, rows)
        if lp is not None:
            values.append(f[s].sum() + lp)
    check_shape(result)
    expected = min(values)
    assert close(result.objective, expected)
    # the open sites (with their own optimal transportation) achieve the objective
    s = result.sites
    assert close(f[s].sum() + transport(dist, w, cap, s, rows), expected)
    # the returned assignment: every demand fully served, capacities respected, cost matches
    a = result.assignment
    np.testing.assert_allclose(served(a, 7), 1.0, atol=1e-7)
    load = np.zeros(5)
    np.add.at(load, a["site"].to_numpy(), w[a["demand"]] * a["share"].to_numpy())
    assert np.all(load <= cap + 1e-6)
    service = (w[a["demand"]] * a["share"] * dist[a["demand"], a["site"]]).sum()
    assert close(f[s].sum() + service, expected)
    assert result.model == "capacitated_facility_location"


@pytest.mark.parametrize("seed", SEEDS)
def test_capacitated_facility_location_single_source(seed):
    n, m = 5, 3
    dist, w, f, _ = random_instance(seed, n=n, m=m)
    rng = np.random.default_rng(1000 + seed)
    cap = np.round(rng.uniform(0.35, 0.7, m) * w.sum())
    data = LocationData.from_matrix(dist, weights=w, site_cost=f, capacity=cap)
    result = facility_location(data, capacitated=True, single_source=True)
    choice = all_assignments(n, m, allow_none=False)
    load = loads(choice, w, m)
    ok = (load <= cap).all(axis=1)
    used = load > 0
    total = (used * f).sum(axis=1) + (w * dist[np.arange(n), choice]).sum(axis=1)
    if not ok.any():
        assert result.status == "infeasible"
        return
    check_shape(result)
    expected = total[ok].min()
    assert close(result.objective, expected)
    a = result.assignment
    assert np.allclose(a["share"], 1.0) and sorted(a["demand"]) == list(range(n))
    got = np.empty(n, dtype=np.int64)
    got[a["demand"].to_numpy()] = a["site"].to_numpy()
    assert np.all(np.bincount(got, weights=w, minlength=m) <= cap + 1e-9)
    value = f[result.sites].sum() + (w * dist[np.arange(n), got]).sum()
    assert close(value, expected)


@pytest.mark.parametrize("seed", SEEDS)
def test_facility_location_radius_masks_assignment(seed):
    dist, w, f, cap = random_instance(seed, n=7, m=5)
    # the smallest radius that leaves every demand a site, plus a little
    radius = between(dist, 0.0)
    radius = max(radius, float(dist.min(axis=1).max()) + 0.5)
    masked = np.where(dist <= radius, dist, np.inf)
    data = LocationData.from_matrix(dist, weights=w, site_cost=f * 3, capacity=cap)

    ufl = facility_location(data, radius=radius)
    check_shape(ufl)
    expected = min(ufl_value(masked, w, f * 3, s) for s in subsets(5, range(1, 6)))
    assert close(ufl.objective, expected)
    assert (ufl.assignment["cost"] <= radius).all()
    assert (dist[ufl.assignment["demand"], ufl.assignment["site"]] <= radius).all()

    cfl = facility_location(data, capacitated=True, radius=radius)
    values = [
        f[s].sum() * 3 + v
        for s in subsets(5, range(1, 6))
        if (v := transport(masked, w, cap, s, np.arange(7))) is not None
    ]
    if values:
        check_shape(cfl)
        assert close(cfl.objective, min(values))
        assert (cfl.assignment["cost"] <= radius).all()
    else:
        assert cfl.status == "infeasible"


def test_facility_location_unreachable_demand_raises():
    dist = np.array([[1.0, 5.0], [2.0, 6.0], [9.0, 8.0]])
    with pytest.raises(NetplanError, match="demand points"):
        facility_location(dist, radius=3.0)
    with pytest.raises(NetplanError, match="capacities"):
        facility_location(dist, capacitated=True)


# ======================================================== capacitated covering
@pytest.mark.parametrize("seed", SEEDS)
def test_capacitated_max_covering_multi_source(seed):
    dist, w, _, cap = random_instance(seed, n=8, m=5)
    cap = np.round(cap * 0.5)
    radius = between(dist, 0.35)
    cover = dist <= radius
    data = LocationData.from_matrix(dist, weights=w, capacity=cap)
    p = 2
    result = capacitated_max_covering(data, radius, p)
    check_shape(result)
    expected = max(max_flow_covered(cover, w, cap, s) for s in subsets(5, [p]))
    assert close(result.objective, expected)
    assert len(result.sites) == p
    assert close(max_flow_covered(cover, w, cap, result.sites), expected)
    a = result.assignment
    assert (a["cost"] <= radius).all()
    assert np.all(served(a, 8) <= 1 + 1e-7)
    load = np.zeros(5)
    np.add.at(load, a["site"].to_numpy(), w[a["demand"]] * a["share"].to_numpy())
    assert np.all(load <= cap + 1e-6)
    assert close(float((w[a["demand"]] * a["share"]).sum()), expected)


@pytest.mark.parametrize("seed", SEEDS)
def test_capacitated_max_covering_single_source(seed):
    n, m, p = 6, 4, 2
    dist, w, _, cap = random_instance(seed, n=n, m=m)
    cap = np.round(cap * 0.6)
    radius = between(dist, 0.4)
    cover = dist <= radius
    choice = all_assignments(n, m, allow_none=True)
    assigned = choice >= 0
    reach_ok = np.where(assigned, cover[np.arange(n), np.maximum(choice, 0)], True).all(axis=1)
    load = loads(choice, w, m)
    ok = reach_ok & (load <= cap).all(axis=1)
    value = (assigned * w).sum(axis=1)
    used = load > 0
    expected = 0.0
    for s in subsets(m, [p]):
        outside = np.ones(m, dtype=bool)
        outside[s] = False
        fits = ok & ~(used[:, outside]).any(axis=1)
        expected = max(expected, float(value[fits].max()))
    data = LocationData.from_matrix(dist, weights=w, capacity=cap)
    result = capacitated_max_covering(data, radius, p, single_source=True)
    check_shape(result)
    assert close(result.objective, expected)
    a = result.assignment
    assert np.allclose(a["share"], 1.0)
    assert a["demand"].is_unique
    assert set(a["site"]) <= set(result.sites.tolist())
    assert (a["cost"] <= radius).all()
    assert np.all(np.bincount(a["site"], weights=w[a["demand"]], minlength=m) <= cap + 1e-9)
    assert close(float(w[a["demand"]].sum()), expected)


@pytest.mark.parametrize("seed", SEEDS)
def test_capacitated_set_covering_multi_source(seed):
    n, m = 8, 5
    dist, w, f, cap = random_instance(seed, n=n, m=m)
    dist = np.vstack([dist, np.full(m, 1e3)])  # one uncoverable demand point
    w = np.append(w, 4.0)
    radius = between(dist[:-1], 0.35)
    masked = np.where(dist <= radius, dist, np.inf)
    coverable = np.isfinite(masked).any(axis=1)
    rows = np.flatnonzero(coverable)
    values = [
        float(f[s].sum())
        for s in subsets(m, range(m + 1))
        if transport(masked, w, cap, s, rows) is not None
    ]
    data = LocationData.from_matrix(dist, weights=w, site_cost=f, capacity=cap)
    result = capacitated_set_covering(data, radius)
    assert result.details["uncoverable"] == int((~coverable).sum()) >= 1
    assert result.details["uncoverable_weight"] == pytest.approx(w[~coverable].sum())
    if not values:
        assert result.status == "infeasible"
        return
    check_shape(result)
    expected = min(values)
    assert close(result.objective, expected)
    assert close(f[result.sites].sum(), expected)
    assert transport(masked, w, cap, result.sites, rows) is not None
    a = result.assignment
    np.testing.assert_allclose(served(a, n + 1)[rows], 1.0, atol=1e-7)
    assert (a["cost"] <= radius).all()


@pytest.mark.parametrize("seed", SEEDS)
def test_capacitated_set_covering_single_source(seed):
    n, m = 6, 4
    dist, w, f, cap = random_instance(seed, n=n, m=m)
    # tight capacities: for some seeds only a split (multi-source) assignment fits
    cap = np.round(cap * 0.7)
    radius = between(dist, 0.7)
    cover = dist <= radius
    coverable = cover.any(axis=1)
    rows = np.flatnonzero(coverable)
    choice = all_assignments(len(rows), m, allow_none=False)
    reach_ok = cover[rows, choice].all(axis=1)
    load = loads(choice, w[rows], m)
    ok = reach_ok & (load <= cap).all(axis=1)
    total = ((load > 0) * f).sum(axis=1)
    data = LocationData.from_matrix(dist, weights=w, site_cost=f, capacity=cap)
    result = capacitated_set_covering(data, radius, single_source=True)
    if not ok.any():
        assert result.status == "infeasible"
        return
    check_shape(result)
    expected = float(total[ok].min())
    assert close(result.objective, expected)
    a = result.assignment
    assert sorted(a["demand"]) == rows.tolist()
    assert np.allclose(a["share"], 1.0)
    assert cover[a["demand"], a["site"]].all()
    assert np.all(np.bincount(a["site"], weights=w[a["demand"]], minlength=m) <= cap + 1e-9)
    assert close(f[result.sites].sum(), expected)


def test_capacitated_models_need_capacity():
    with pytest.raises(NetplanError, match="capacities"):
        capacitated_max_covering(np.ones((2, 2)), 2.0, 1)
    with pytest.raises(NetplanError, match="capacities"):
        capacitated_set_covering(np.ones((2, 2)), 2.0)


# ==================================================================== time limit
def _big_instance(seed: int = 0, n: int = 400, m: int = 200):
    rng = np.random.default_rng(seed)
    a = rng.uniform(0, 1000, (n, 2))
    b = rng.uniform(0, 1000, (m, 2))
    dist = np.hypot(a[:, None, 0] - b[None, :, 0], a[:, None, 1] - b[None, :, 1])
    w = rng.integers(1, 10, n).astype(float)
    return LocationData.from_matrix(dist, weights=w), dist, w


def test_time_limit_is_never_optimal():
    """0.001 s for each whole call: every model is stopped, and says so with what it has."""
    data, dist, w = _big_instance()
    limit = SolverOptions(time_limit=0.001)  # HiGHS is given its minimum, 0.01 s
    # p-median: the heuristic plan is the MIP start, so a plan always survives the limit
    pm = p_median(data, 20, limit)
    assert pm.status == "time_limit", pm
    assert not pm.is_optimal
    assert all(r.status != "optimal" for r in pm.records)
    assert math.isfinite(pm.objective) and len(pm.sites) == 20
    assert close(pm.objective, p_median_value(dist, w, pm.sites))
    nearest = dist.min(axis=1)
    assert pm.bound >= float(w @ nearest) - 1e-9 and pm.bound < pm.objective
    # max covering (~2 s to prove without a limit): the search's plan is HiGHS's start, and
    # HiGHS stops in the root with it
    cover = dist <= 150.0
    mc = max_covering(data, radius=150.0, p=10, options=limit)
    assert mc.status == "time_limit", mc
    assert close(mc.objective, covered_weight(cover, w, mc.sites)) and len(mc.sites) == 10
    assert mc.objective < mc.bound <= float(w[cover.any(axis=1)].sum()) + 1e-9
    assert mc.gap == pytest.approx((mc.bound - mc.objective) / mc.objective)
    # no start: the limit is spent building the model, no solve starts, no plan
    bc = backup_covering(data, 150.0, 10, limit)
    assert (bc.status, len(bc.sites)) == ("no_solution", 0)
    assert [r.stage for r in bc.records] == ["coverage"]
    ufl = facility_location(replace(data, site_cost=np.full(200, 3000.0)), options=limit)
    assert (ufl.status, len(ufl.sites)) == ("no_solution", 0)
    # p-center: stopped before its first covering check, with the bound every plan respects
    pc = p_center(data, 10, limit)
    assert (pc.status, len(pc.sites), pc.records) == ("no_solution", 0, [])
    assert pc.bound == nearest.max()


def test_p_center_stopped_after_a_feasible_radius_keeps_it(monkeypatch):
    """The first check (the largest distance) finds a plan, the second is stopped: the result
    is that plan, status time_limit, bounded below by the cheapest-site radius."""
    import netplan.classic.center as classic

    data, dist, _ = _big_instance(n=60, m=20)
    real, calls = classic.set_covering, []

    def second_stopped(*args, **kwargs):
        calls.append(kwargs["options"])
        result = real(*args, **kwargs)
        if len(calls) == 2:
            result.status, result.sites = "no_solution", np.zeros(0, np.int64)
        return result

    monkeypatch.setattr(classic, "set_covering", second_stopped)
    pc = p_center(data, 3, SolverOptions(time_limit=60))
    assert len(calls) == 2
    assert calls[1].time_limit < 60  # the second check gets what is left, not the full limit
    assert pc.status == "time_limit"
    assert pc.objective == dist.max()
    assert len(pc.sites) >= 1 and (dist[:, pc.sites].min(axis=1) <= pc.objective).all()
    assert pc.bound == dist.min(axis=1).max()
    assert pc.gap == pytest.approx((pc.objective - pc.bound) / pc.objective)


# ====================================================================== backends
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cbc_backend_agrees(seed):
    dist, w, f, _ = random_instance(seed)
    radius = between(dist, 0.3)
    data = LocationData.from_matrix(dist, weights=w, site_cost=f)
    cbc = SolverOptions(backend="cbc")
    pairs = [
        (set_covering(data, radius), set_covering(data, radius, options=cbc)),
        (max_covering(data, radius, p=2), max_covering(data, radius, p=2, options=cbc)),
        (facility_location(data), facility_location(data, options=cbc)),
    ]
    for highs, other in pairs:
        check_shape(highs, "HiGHS")
        check_shape(other, "CBC")
        assert close(other.objective, highs.objective)
    cover = dist <= radius
    assert close(pairs[0][1].objective, bf_set_covering(cover, f))
    assert close(pairs[1][1].objective, covered_weight(cover, w, pairs[1][1].sites))
    assert close(pairs[2][1].objective, ufl_value(dist, w, f, pairs[2][1].sites))


# ===================================================================== from_frames
def _haversine(lon1, lat1, lon2, lat2):
    lon1, lat1, lon2, lat2 = map(np.radians, (lon1, lat1, lon2, lat2))
    h = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(h))


def _pair_matrix(data: LocationData) -> np.ndarray:
    out = np.full((data.n_demand, data.n_sites), np.nan)
    out[data.demand, data.site] = data.cost
    return out


@pytest.mark.parametrize("mode", ["planar", "haversine"])
def test_from_frames_distances_and_max_covering(mode):
    rng = np.random.default_rng(7)
    n, m = 10, 6
    if mode == "planar":
        crs = "EPSG:3857"  # metres; a 5 km square
        origin = np.array([1.05e6, 5.95e6])
        dxy = origin + rng.uniform(0, 5000.0, (n, 2))
        sxy = origin + rng.uniform(0, 5000.0, (m, 2))
        dist = np.hypot(dxy[:, None, 0] - sxy[None, :, 0], dxy[:, None, 1] - sxy[None, :, 1])
    else:
        crs = "EPSG:4326"
        dxy = np.column_stack([9.5 + rng.uniform(0, 0.06, n), 47.1 + rng.uniform(0, 0.04, n)])
        sxy = np.column_stack([9.5 + rng.uniform(0, 0.06, m), 47.1 + rng.uniform(0, 0.04, m)])
        dist = _haversine(dxy[:, None, 0], dxy[:, None, 1], sxy[None, :, 0], sxy[None, :, 1])
    w = rng.integers(1, 10, n).astype(float)
    demand = gpd.GeoDataFrame(
        {"did": [f"D{i}" for i in range(n)], "w": w},
        geometry=gpd.points_from_xy(dxy[:, 0], dxy[:, 1]),
        crs=crs,
    )
    sites = gpd.GeoDataFrame(
        {"sid": [f"S{j}" for j in range(m)], "f": np.arange(1.0, m + 1)},
        geometry=gpd.points_from_xy(sxy[:, 0], sxy[:, 1]),
        crs=crs,
    )
    data = LocationData.from_frames(
        demand, sites, mode=mode, weight="w", site_cost="f", demand_id="did", site_id="sid"
    )
    # every pair, at the independently computed distance
    assert len(data.cost) == n * m
    np.testing.assert_allclose(_pair_matrix(data), dist, rtol=1e-9, atol=1e-6)
    np.testing.assert_array_equal(data.weights, w)
    np.testing.assert_array_equal(data.site_cost, np.arange(1.0, m + 1))
    assert data.site_ids == [f"S{j}" for j in range(m)]
    # with max_distance only the pairs within it
    radius = between(dist, 0.3)
    near = LocationData.from_frames(demand, sites, mode=mode, max_distance=radius, weight="w")
    got = _pair_matrix(near)
    assert np.array_equal(np.isfinite(got), dist <= radius)
    np.testing.assert_allclose(got[dist <= radius], dist[dist <= radius], rtol=1e-9, atol=1e-6)
    # max_covering on the frames equals brute force
    cover = dist <= radius
    result = max_covering(data, radius=radius, p=2)
    expected = max(covered_weight(cover, w, s) for s in subsets(m, [2]))
    assert close(result.objective, expected)
    assert close(covered_weight(cover, w, result.sites), expected)
    assert result.site_ids == [f"S{j}" for j in result.sites]
    assert close(max_covering(near, p=2).objective, expected)


def test_from_frames_rejects_bad_crs():
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([9.5], [47.1]), crs="EPSG:4326")
    with pytest.raises(NetplanError, match="projected"):
        LocationData.from_frames(pts, pts, mode="planar")
    with pytest.raises(NetplanError, match="same"):
        LocationData.from_frames(pts, pts.to_crs("EPSG:3857"), mode="haversine")


# ================================================================= data + shape
def test_from_matrix_sparse_keeps_stored_zeros_and_max_cost():
    import scipy.sparse as sp

    cost = sp.coo_matrix(([0.0, 2.0, 5.0], ([0, 1, 1], [1, 0, 1])), shape=(2, 2))
    data = LocationData.from_matrix(cost, max_cost=4.0)
    assert sorted(zip(data.demand.tolist(), data.site.tolist(), strict=True)) == [(0, 1), (1, 0)]
    assert data.coverable().all()
    assert np.array_equal(data.site_cost, [1.0, 1.0]) and np.array_equal(data.weights, [1, 1])


def test_every_model_result_shape():
    dist, w, f, cap = random_instance(3)
    radius = between(dist, 0.4)
    square = square_instance(3, 8)
    cap = cap * 2
    data = LocationData.from_matrix(dist, weights=w, site_cost=f, capacity=cap)
    results = [
        set_covering(data, radius),
        max_covering(data, radius, p=2),
        backup_covering(data, radius, 2),
        p_median(data, 2),
        p_center(square, 3),
        facility_location(data),
        facility_location(data, capacitated=True),
        facility_location(data, capacitated=True, single_source=True),
        capacitated_max_covering(data, radius, 2),
        capacitated_set_covering(data, radius),
    ]
    for result in results:
        check_shape(result)
        d = result.to_dict()
        assert d["solver"] == "HiGHS" and d["status"] == "optimal"
    table = result_table(results)
    assert len(table) == len(results)
    assert (table["status"] == "optimal").all()
    assert table["solver"].str.startswith("HiGHS ").all()


# ==================================================================== hypothesis
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(2, 6),
    m=st.integers(1, 5),
    data=st.data(),
)
def test_hypothesis_p_median_and_ufl(n, m, data):
    flat = data.draw(st.lists(st.integers(0, 20), min_size=n * m, max_size=n * m))
    dist = np.array(flat, dtype=float).reshape(n, m)
    w = np.array(data.draw(st.lists(st.integers(1, 5), min_size=n, max_size=n)), dtype=float)
    f = np.array(data.draw(st.lists(st.integers(0, 30), min_size=m, max_size=m)), dtype=float)
    p = data.draw(st.integers(1, m))
    loc = LocationData.from_matrix(dist, weights=w, site_cost=f)
    pm = p_median(loc, p)
    assert pm.status == "optimal"
    assert close(pm.objective, min(p_median_value(dist, w, s) for s in subsets(m, [p])))
    assert close(p_median_value(dist, w, pm.sites), pm.objective)
    ufl = facility_location(loc)
    assert ufl.status == "optimal"
    expected = min(ufl_value(dist, w, f, s) for s in subsets(m, range(1, m + 1)))
    assert close(ufl.objective, expected)
    assert close(ufl_value(dist, w, f, ufl.sites), expected)
