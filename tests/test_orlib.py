"""Classic models against published OR-Library optima (a fast subset), and the readers.

p-median on pmed1-2, vertex p-center on pmed1-5, uncapacitated facility location on cap71 and
cap101. The instances live in ``shared/benchmarks/orlib`` next to the repository; without them
the tests skip, except on CI (``CI=true``), where a missing folder is a failure.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from orlib_optima import PCENTER_RADII, PMED_OPTIMA, UFL_OPTIMA

from netplan.classic import LocationData, facility_location, p_center, p_median
from netplan.classic.orlib import read_cap, read_pmed

from conftest import on_ci

ORLIB = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "orlib"


@pytest.fixture(scope="module")
def orlib() -> Path:
    if not ORLIB.is_dir():
        if on_ci():
            pytest.fail(f"OR-Library instances missing at {ORLIB} (required on CI)")
        pytest.skip(f"OR-Library instances not found at {ORLIB}")
    return ORLIB


# ------------------------------------------------------------------------ readers
def _floyd_from_file(path: Path) -> tuple[np.ndarray, int]:
    """Beasley's construction written out independently: last cost of a repeated edge wins,
    then Floyd-Warshall."""
    rows = [line.split() for line in path.read_text().splitlines() if line.strip()]
    n, n_edges, p = (int(v) for v in rows[0][:3])
    dist = np.full((n, n), np.inf)
    np.fill_diagonal(dist, 0.0)
    for i, j, c in rows[1 : 1 + n_edges]:
        a, b = int(i) - 1, int(j) - 1
        dist[a, b] = dist[b, a] = float(c)
    for k in range(n):
        dist = np.minimum(dist, dist[:, [k]] + dist[[k], :])
    return dist, p


def test_read_pmed1(orlib):
    inst = read_pmed(orlib / "pmed1.txt")
    d = inst.distances
    assert inst.p == 5
    assert d.shape == (100, 100)
    assert np.isfinite(d).all()
    assert np.array_equal(d, d.T)
    assert np.all(np.diag(d) == 0)
    assert np.all(d[~np.eye(100, dtype=bool)] > 0)
    expected, p = _floyd_from_file(orlib / "pmed1.txt")
    assert p == 5
    np.testing.assert_array_equal(d, expected)


def test_read_pmed_repeated_edge_last_cost_wins(tmp_path):
    # 3 vertices; edge 1-2 given twice (10, then 50): the LAST cost (50) wins, not the minimum,
    # so d(1,2) = min(50, d(1,3) + d(3,2)) = min(50, 20 + 20) = 40.
    path = tmp_path / "pmedtiny.txt"
    path.write_text(" 3 4 1 \n 1 2 10 \n 1 3 20 \n 3 2 20 \n 2 1 50 \n")
    inst = read_pmed(path)
    assert inst.p == 1
    np.testing.assert_array_equal(
        inst.distances, np.array([[0, 40, 20], [40, 0, 20], [20, 20, 0]], dtype=float)
    )


def test_read_cap71(orlib):
    # README: cap71 is "m n" = 16 warehouses, 50 customers; capacity 58268, fixed cost 7500.
    header = (orlib / "cap71.txt").read_text().split()[:2]
    assert [int(v) for v in header] == [16, 50]
    inst = read_cap(orlib / "cap71.txt")
    assert inst.cost.shape == (50, 16)
    assert inst.fixed_cost.shape == (16,) and inst.capacity.shape == (16,)
    assert inst.demand.shape == (50,)
    # the warehouse lines, one "capacity fixed_cost" per line (one of them has fixed cost 0)
    lines = (orlib / "cap71.txt").read_text().splitlines()[1:17]
    expected = np.array([[float(v) for v in line.split()] for line in lines])
    np.testing.assert_array_equal(inst.capacity, expected[:, 0])
    np.testing.assert_array_equal(inst.fixed_cost, expected[:, 1])
    assert np.all(inst.capacity == 58268.0)
    assert np.all(inst.demand > 0) and np.all(inst.cost >= 0)
    # first customer (from the file): demand 146, costs wrapping over three lines
    assert inst.demand[0] == 146
    assert inst.cost[0, 0] == pytest.approx(6739.725)
    assert inst.cost[0, 15] == pytest.approx(6051.7)


def test_read_cap101_shape(orlib):
    inst = read_cap(orlib / "cap101.txt")
    assert inst.cost.shape == (50, 25)
    assert inst.fixed_cost.shape == (25,)


# ---------------------------------------------------------------- published optima
@pytest.mark.parametrize("name", ["pmed1", "pmed2"])
def test_p_median_pmed(orlib, name):
    inst = read_pmed(orlib / f"{name}.txt")
    result = p_median(inst.distances, inst.p)
    assert result.status == "optimal"
    assert result.objective == pytest.approx(PMED_OPTIMA[name], rel=0, abs=1e-6)
    assert result.gap <= 1e-9
    assert len(result.sites) == inst.p
    # the sites achieve the objective
    value = inst.distances[:, result.sites].min(axis=1).sum()
    assert value == pytest.approx(PMED_OPTIMA[name], abs=1e-6)


@pytest.mark.parametrize("name", [f"pmed{i}" for i in range(1, 6)])
def test_p_center_pmed(orlib, name):
    inst = read_pmed(orlib / f"{name}.txt")
    result = p_center(inst.distances, inst.p)
    radius = PCENTER_RADII[name]
    assert result.status == "optimal"
    assert result.objective == radius
    assert result.details["radius"] == radius
    assert result.details["check_below"] == "infeasible"
    assert result.details["radius_below"] < radius
    assert len(result.sites) <= inst.p
    assert inst.distances[:, result.sites].min(axis=1).max() == radius


@pytest.mark.parametrize("name", ["cap71", "cap101"])
def test_ufl_cap(orlib, name):
    inst = read_cap(orlib / f"{name}.txt")
    data = LocationData.from_matrix(inst.cost, site_cost=inst.fixed_cost)
    result = facility_location(data)
    assert result.status == "optimal"
    assert result.objective == pytest.approx(UFL_OPTIMA[name], rel=1e-6)
    # re-evaluate the open sites independently
    value = inst.fixed_cost[result.sites].sum() + inst.cost[:, result.sites].min(axis=1).sum()
    assert value == pytest.approx(UFL_OPTIMA[name], rel=1e-6)
