"""Coverage from in-range pairs: equal to brute force, chunking does not change it."""

from __future__ import annotations

import numpy as np
import pytest

from netplan.travel.coverage import pairs_within
from netplan.travel.geometry import distance, metric_coords


@pytest.mark.parametrize("mode", ["planar", "haversine"])
def test_pairs_within_equals_brute_force(mode):
    rng = np.random.default_rng(3)
    if mode == "planar":
        a = rng.uniform(0, 20_000, (700, 2))
        b = rng.uniform(0, 20_000, (90, 2))
    else:  # longitude, latitude around 47 N
        a = np.column_stack([rng.uniform(9, 9.3, 700), rng.uniform(47, 47.2, 700)])
        b = np.column_stack([rng.uniform(9, 9.3, 90), rng.uniform(47, 47.2, 90)])
    radius = 2500.0
    got = pairs_within(metric_coords(a, mode), metric_coords(b, mode), radius, mode)
    d = distance(a[:, None, :], b[None, :, :], mode)
    rows, cols = np.nonzero(d <= radius)
    assert len(got) == len(rows) > 100
    assert np.array_equal(got.demand, rows) and np.array_equal(got.site, cols)
    assert got.dist == pytest.approx(d[rows, cols], rel=1e-9, abs=1e-6)


def test_chunked_equals_single_shot():
    rng = np.random.default_rng(4)
    a = rng.uniform(0, 30_000, (5_000, 2))
    b = rng.uniform(0, 30_000, (300, 2))
    one = pairs_within(a, b, 3000.0, "planar", chunk=10_000)
    many = pairs_within(a, b, 3000.0, "planar", chunk=317)
    assert np.array_equal(one.demand, many.demand) and np.array_equal(one.site, many.site)
    assert np.array_equal(one.dist, many.dist)


@pytest.mark.parametrize("mode", ["planar", "haversine"])
def test_a_point_on_a_site_and_one_on_the_boundary_are_within_reach(mode):
    """Distance 0 (a customer at the site) and distance = reach both count."""
    if mode == "planar":
        a = np.array([[0.0, 0.0], [3_000.0, 4_000.0], [3_000.0, 4_000.1]])
        b = np.array([[0.0, 0.0]])
        radius = 5_000.0
    else:
        a = np.array([[9.5, 47.1], [9.6, 47.1], [9.7, 47.1]])
        b = np.array([[9.5, 47.1]])
        radius = float(distance(a[1], b[0], mode))
    got = pairs_within(metric_coords(a, mode), metric_coords(b, mode), radius, mode)
    assert got.demand.tolist() == [0, 1] and got.site.tolist() == [0, 0]
    assert got.dist[0] == 0.0 and got.dist[1] == pytest.approx(radius, rel=1e-12)
