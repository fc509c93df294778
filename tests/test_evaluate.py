"""evaluate() on hand-made networks with answers worked out by hand."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest

from netplan import Scenario, evaluate
from netplan.travel.geometry import EARTH_RADIUS_M, distance

CRS = "EPSG:32632"
X0, Y0 = 500_000.0, 5_200_000.0


def _scenario(mode: str = "planar") -> Scenario:
    return Scenario.from_dict(
        {
            "name": "hand",
            "travel": {"mode": mode, "crs": CRS if mode == "planar" else "auto"},
            "tiers": [
                {"key": "hub", "reach": "10 km"},
                {"key": "point", "reach": "2 km", "linkage": "15 km"},
            ],
            "demand": {"path": "d.csv", "weight": "w"},
            "candidates": {"path": "c.csv"},
        }
    )


def _points(xy, crs=CRS, **cols):
    xy = np.asarray(xy, dtype=float)
    return gpd.GeoDataFrame(
        cols, geometry=gpd.points_from_xy(X0 + xy[:, 0], Y0 + xy[:, 1]), crs=crs
    )


def test_coverage_overlap_distance_and_support_by_hand():
    # hub H at (0,0) serves both levels within 10 km (tier 0 serves level 1 at the level's reach, 2 km);
    # points P1 at (1 km, 0) and P2 at (30 km, 0), the latter 30 km from the hub (unsupported).
    outlets = _points(
        [[0, 0], [1000, 0], [30_000, 0]],
        site_id=["H", "P1", "P2"],
        tier=["hub", "point", "point"],
        name=["H", "P1", "P2"],
    )
    demand = _points(
        [[0, 500], [1500, 0], [5000, 0], [30_000, 1000], [50_000, 0]],
        demand_id=["a", "b", "c", "d", "e"],
        weight_hub=[1.0, 2.0, 3.0, 4.0, 5.0],
        weight_point=[1.0, 2.0, 3.0, 4.0, 5.0],
    )
    ev = evaluate(outlets, demand, _scenario())
    d = ev.demand.set_index("demand_id")
    # hub level: within 10 km of H -> a, b, c
    assert d["covered_hub"].tolist() == [True, True, True, False, False]
    assert d["n_covering_hub"].tolist() == [1, 1, 1, 0, 0]
    # point level (2 km): a (H at 0.5 km, P1 at 1.12 km) twice, b (H 1.5, P1 0.5) twice, d (P2 1 km) once
    assert d["n_covering_point"].tolist() == [2, 2, 0, 1, 0]
    assert d["dist_point"].round(3).tolist() == pytest.approx(
        [500.0, 500.0, 4000.0, 1000.0, 20_000.0]
    )
    assert d["dist_hub"].round(3).tolist() == pytest.approx(
        [500.0, 1500.0, 5000.0, np.hypot(30_000, 1000), 50_000.0]
    )
    k = ev.level_kpis().set_index("level")
    assert k.loc["hub", "covered"] == 6 and k.loc["hub", "demand"] == 15
    assert k.loc["point", "covered"] == 1 + 2 + 4
    assert k.loc["point", "overlap"] == 1 + 2
    assert k.loc["point", "covered_pct"] == pytest.approx(100 * 7 / 15)
    # weighted median of point-level distance: weights 1,2,3,4,5 over 500,500,4000,1000,20000
    # KPI frames carry the unit users see: km on planar travel (metres stay in ev.demand)
    assert k.loc["point", "dist_p50_km"] == pytest.approx(4.0)
    assert k.loc["point", "dist_max_km"] == pytest.approx(20.0)
    assert k.loc["point", "unit"] == "km"
    assert k.loc["point", "dist_mean_km"] == pytest.approx((500 * 3 + 4000 * 3 + 1000 * 4 + 20_000 * 5) / 15 / 1000)
    assert not any(c.startswith("dist_") and not c.endswith("_km") for c in ev.kpis.columns)
    out = ev.outlets.set_index("site_id")
    assert out.loc["P1", "supporting_outlet"] == "H"
    assert out.loc["P1", "support_distance"] == pytest.approx(1000.0)
    assert not out.loc["P2", "linkage_ok"] and out.loc["P2", "supporting_outlet"] == ""
    assert ev.broken_links()["site_id"].tolist() == ["P2"]
    assert out.loc["P1", "demand_in_reach"] == pytest.approx(1 + 2)
    # P1 covers a and b, both also covered by H at every level -> redundant; H alone covers c at hub level
    assert ev.redundant_outlets()["site_id"].tolist() == ["P1"]
    gaps = ev.gaps()
    assert sorted(gaps.loc[gaps["level"] == "point", "demand_id"]) == ["c", "e"]
    over = ev.overlaps()
    assert sorted(over.loc[over["level"] == "point", "demand_id"]) == ["a", "b"]
    assert len(ev.links()) == 1


def test_boundary_counts_as_covered():
    outlets = _points([[0, 0]], site_id=["H"], tier=["hub"], name=["H"])
    demand = _points([[10_000, 0], [10_000.01, 0]], weight_hub=[1.0, 1.0], weight_point=[1.0, 1.0])
    ev = evaluate(outlets, demand, _scenario())
    assert ev.demand["covered_hub"].tolist() == [True, False]


def test_haversine_distances_are_great_circle():
    scenario = _scenario("haversine")
    outlets = gpd.GeoDataFrame(
        {"site_id": ["H"], "tier": ["hub"], "name": ["H"]},
        geometry=gpd.points_from_xy([10.0], [50.0]),
        crs="EPSG:4326",
    )
    lon = [10.0, 10.1, 10.0]
    lat = [50.05, 50.0, 50.2]
    demand = gpd.GeoDataFrame(
        {"weight_hub": [1.0] * 3, "weight_point": [1.0] * 3},
        geometry=gpd.points_from_xy(lon, lat),
        crs="EPSG:4326",
    )
    ev = evaluate(outlets, demand, scenario)
    expected = distance(np.column_stack([lon, lat]), np.array([10.0, 50.0]), "haversine")
    assert ev.demand["dist_hub"].to_numpy() == pytest.approx(expected, rel=1e-9)
    # 0.05 degree of latitude is 5.56 km on this sphere
    assert expected[0] == pytest.approx(np.radians(0.05) * EARTH_RADIUS_M, rel=1e-9)
    assert ev.demand["covered_hub"].tolist() == [True, True, False]
