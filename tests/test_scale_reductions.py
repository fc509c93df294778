"""Scale building blocks: chunked coverage is exact, memory follows in-range pairs, and the
merge of identical demand rows never changes an optimum."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from netplan.classic import (
    LocationData,
    backup_covering,
    greedy_max_covering,
    max_covering,
    set_covering,
)
from netplan.travel.coverage import build_coverage, pairs_within
from netplan.travel.geometry import metric_coords


def _clustered(seed: int, n: int, m: int, side: float = 20_000.0):
    """Demand in a few tight clusters (many identical coverage sets), sites uniform."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, side, size=(8, 2))
    demand = centres[rng.integers(0, 8, n)] + rng.normal(0, 300, size=(n, 2))
    sites = rng.uniform(0, side, size=(m, 2))
    weights = rng.integers(1, 101, n).astype(float)
    return demand, sites, weights


@pytest.mark.parametrize("mode", ["planar", "haversine"])
def test_chunked_coverage_equals_single_shot(mode):
    rng = np.random.default_rng(3)
    if mode == "planar":
        a = rng.uniform(0, 50_000, size=(5_000, 2))
        b = rng.uniform(0, 50_000, size=(300, 2))
    else:
        lonlat_a = np.column_stack([rng.uniform(9.0, 10.0, 5_000), rng.uniform(47.0, 47.6, 5_000)])
        lonlat_b = np.column_stack([rng.uniform(9.0, 10.0, 300), rng.uniform(47.0, 47.6, 300)])
        a, b = metric_coords(lonlat_a, mode), metric_coords(lonlat_b, mode)
    whole = pairs_within(a, b, 4_000.0, mode, chunk=10**9)
    # chunks searched one after another and in parallel threads give the same arrays
    for chunk, workers in ((1, 2), (7, 1), (7, 3), (999, 1), (999, 4), (4_999, 2)):
        part = pairs_within(a, b, 4_000.0, mode, chunk=chunk, workers=workers)
        assert np.array_equal(part.demand, whole.demand)
        assert np.array_equal(part.site, whole.site)
        assert np.array_equal(part.dist, whole.dist)
    assert len(whole) > 10_000


def test_coverage_build_200k_by_2k_never_goes_dense():
    rng = np.random.default_rng(11)
    n, m = 200_000, 2_000
    demand = rng.uniform(0, 50_000, size=(n, 2))
    sites = rng.uniform(0, 50_000, size=(m, 2))
    allowed = np.ones((m, 1), dtype=bool)
    reach = np.array([[1_000.0]])
    tracemalloc.start()
    coverage = build_coverage(demand, sites, allowed, reach, "planar")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    dense = 8 * n * m  # bytes of a dense (n, m) distance matrix: 3.2 GB
    pairs = len(coverage.pairs(0, 0))
    assert 200_000 < pairs < 600_000  # about n * m * pi r^2 / area = 251 000
    assert peak < dense / 50, f"peak {peak / 1e6:.0f} MB vs dense {dense / 1e6:.0f} MB"
    # proportional to pairs: a few dozen bytes per in-range pair plus per-point overhead
    assert peak < 120 * pairs + 64 * n


@pytest.mark.parametrize("seed", range(6))
def test_merged_rows_give_the_same_optima(seed):
    demand, sites, weights = _clustered(seed, 600, 40)
    d = np.hypot(*(demand[:, None, :] - sites[None, :, :]).transpose(2, 0, 1))
    data = LocationData.from_matrix(d, weights=weights, max_cost=2_500.0)
    merged, group = data.merged()
    assert merged.n_demand < data.n_demand / 3  # the clusters make many identical rows
    assert merged.weights.sum() == pytest.approx(weights[group >= 0].sum())
    for p in (3, 6):
        a = max_covering(data, p=p, merge=True)
        b = max_covering(data, p=p, merge=False)
        assert a.is_optimal and b.is_optimal
        assert a.objective == pytest.approx(b.objective, abs=1e-6)
        assert a.details["rows_after_merge"] < b.details["rows_after_merge"]
        # the merged plan covers the same weight when recounted on the original rows
        covered = (d[:, a.sites] <= 2_500.0 + 1e-6).any(axis=1)
        assert weights[covered].sum() == pytest.approx(a.objective, abs=1e-6)
        c = backup_covering(data, None, p, merge=True)
        e = backup_covering(data, None, p, merge=False)
        assert c.details["covered_weight"] == pytest.approx(e.details["covered_weight"], abs=1e-6)
        assert c.objective == pytest.approx(e.objective, abs=1e-6)
    s1 = set_covering(data, merge=True)
    s2 = set_covering(data, merge=False)
    assert s1.objective == pytest.approx(s2.objective)
    assert s1.details["uncoverable"] == s2.details["uncoverable"]
    covered = (d[:, s1.sites] <= 2_500.0 + 1e-6).any(axis=1)
    reachable = (d <= 2_500.0 + 1e-6).any(axis=1)
    assert (covered == reachable).all()


@pytest.mark.parametrize("seed", range(4))
def test_greedy_start_is_a_valid_plan_within_the_greedy_guarantee(seed):
    demand, sites, weights = _clustered(seed, 800, 50)
    d = np.hypot(*(demand[:, None, :] - sites[None, :, :]).transpose(2, 0, 1))
    data = LocationData.from_matrix(d, weights=weights, max_cost=2_000.0)
    for p in (2, 5):
        start = greedy_max_covering(data, p)
        assert len(set(start.tolist())) == p
        greedy_value = weights[(d[:, start] <= 2_000.0 + 1e-6).any(axis=1)].sum()
        best = max_covering(data, p=p)
        assert greedy_value >= (1 - 1 / np.e) * best.objective - 1e-6
        assert greedy_value <= best.objective + 1e-6
        warm = max_covering(data, p=p, start=start)
        assert warm.objective == pytest.approx(best.objective, abs=1e-6)


@pytest.mark.parametrize("seed", range(4))
def test_merge_identical_rows_equals_grouping_by_pattern(seed):
    """Groups equal those of a dictionary keyed by each row's (pattern, extra key), numbered by
    first appearance; empty rows form their own group."""
    import scipy.sparse as sp

    from netplan.optimize.reduction import merge_identical_rows

    rng = np.random.default_rng(seed)
    patterns = sp.random(40, 25, density=0.15, random_state=seed, format="csr")
    patterns.data[:] = 1
    H = patterns[rng.integers(0, 40, 3_000)]
    extra = rng.integers(0, 3, 3_000)
    groups = merge_identical_rows(H, extra)
    seen: dict = {}
    expected = np.array(
        [
            seen.setdefault((tuple(H[i].indices.tolist()), int(extra[i])), len(seen))
            for i in range(H.shape[0])
        ]
    )
    assert np.array_equal(groups.group, expected)
    first = {g: i for i, g in reversed(list(enumerate(expected)))}
    assert np.array_equal(groups.representative, [first[g] for g in range(len(seen))])
