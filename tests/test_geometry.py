"""Weighted quantiles and grid cells of :mod:`netplan.travel.geometry` (numpy and shapely do the work)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from shapely import Polygon

from netplan.travel.geometry import cell_polygons, grid_cells, weighted_quantiles

QS = [0.5, 0.9, 0.95]

# Expected values computed with the hand-written implementation this replaced (cumulative share
# searched with a 1e-12 tolerance, lower value on an exact tie). Integer weights make the
# cumulative share hit q exactly: 2 of 4 equal weights is 0.5, 9 of 10 is 0.9, 19 of 20 is 0.95.
TIES = [
    ([1, 2, 3, 4], [1, 1, 1, 1], [0.25, 0.5, 0.75, 1.0, 0.5, 0.9, 0.95], [1, 2, 3, 4, 2, 4, 4]),
    ([100, 90, 80, 70, 60, 50, 40, 30, 20, 10], [1] * 10, QS, [50, 90, 100]),
    (list(range(1, 21)), [1] * 20, QS, [10, 18, 19]),
    ([5, 1, 3, 2, 4], [2, 1, 1, 0, 6], [0.0, 0.5, 0.9, 0.95, 1.0], [1, 4, 5, 5, 5]),
]


@pytest.mark.parametrize(("values", "weights", "qs", "expected"), TIES)
def test_weighted_quantiles_on_exact_cumulative_ties_give_the_lower_value(
    values, weights, qs, expected
):
    assert weighted_quantiles(np.array(values, float), np.array(weights, float), qs) == expected


def test_weighted_quantiles_leave_out_unreachable_values_and_zero_weights():
    values = np.array([np.nan, 7.0, np.inf, 3.0, 9.0])
    weights = np.array([5.0, 1.0, 3.0, 0.0, 1.0])
    # left: 7 (weight 1) and 9 (weight 1); 0.5 is an exact tie at 7
    assert weighted_quantiles(values, weights, QS) == [7.0, 9.0, 9.0]


@pytest.mark.parametrize(
    ("values", "weights"),
    [([1.0, 2.0], [0.0, 0.0]), ([np.nan, np.inf], [3.0, 1.0]), ([], [])],
)
def test_weighted_quantiles_are_nan_without_weight(values, weights):
    found = weighted_quantiles(np.array(values, float), np.array(weights, float), QS)
    assert len(found) == 3 and all(math.isnan(v) for v in found)


def test_cell_polygons_are_the_squares_of_the_grid_in_order():
    xy = np.array([[12.5, 7.0], [-3.2, 140.9], [999.9, -0.1], [250.0, 250.0]])
    size = 50.0
    keys, origins = grid_cells(xy, size)
    cells = cell_polygons(origins, size)
    assert len(cells) == 4
    for (x, y), cell, point in zip(origins, cells, xy, strict=True):
        square = Polygon([(x, y), (x + size, y), (x + size, y + size), (x, y + size)])
        assert shapely.equals(cell, square)
        assert cell.exterior.is_ccw
        assert cell.area == pytest.approx(size * size)
        assert cell.covers(shapely.Point(point))
    assert shapely.bounds(cells).tolist() == [
        [0.0, 0.0, 50.0, 50.0],
        [-50.0, 100.0, 0.0, 150.0],
        [950.0, -50.0, 1000.0, 0.0],
        [250.0, 250.0, 300.0, 300.0],
    ]
    assert keys.tolist() == [[0, 0], [-1, 2], [19, -1], [5, 5]]
    assert len(cell_polygons(np.empty((0, 2)), size)) == 0
