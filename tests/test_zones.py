"""Demand from zones (netplan.zones), generated candidates (netplan.candidates), competitors."""

from __future__ import annotations

import warnings

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import CRS
from shapely.geometry import box

from netplan.candidates import generate_candidates, h3_sites, kmeans_sites
from netplan.scenario import GenerateSpec
from netplan.zones import largest_remainder, spread_zones

from conftest import SHARED, on_ci, write_small_case

UTM = CRS.from_epsg(32632)
LI_GPKG = SHARED / "data" / "liechtenstein" / "liechtenstein-2015_demo.gpkg"


@settings(max_examples=200, deadline=None)
@given(
    total=st.integers(0, 10**7),
    shares=st.lists(st.floats(0.01, 1e6, allow_nan=False), min_size=1, max_size=50),
)
def test_largest_remainder_is_whole_exact_and_within_one_of_the_quota(total, shares):
    out = largest_remainder(total, np.array(shares))
    quota = np.array(shares) / np.sum(shares) * total
    assert out.sum() == total
    assert np.all(out == np.round(out))
    assert np.all(np.abs(out - quota) < 1.0 + 1e-9)


def _zones() -> gpd.GeoDataFrame:
    # two 2 km squares in UTM 32N near Vaduz; the second holds no building
    x0, y0 = 758_000.0, 5_225_000.0
    return gpd.GeoDataFrame(
        {"zid": ["A", "B"], "pop": [1001, 57], "region": ["north", "south"]},
        geometry=[box(x0, y0, x0 + 2000, y0 + 2000), box(x0 + 3000, y0, x0 + 5000, y0 + 2000)],
        crs=UTM,
    )


def test_spread_onto_points_preserves_every_zone_total_and_falls_back_to_uniform():
    zones = _zones()
    rng = np.random.default_rng(0)
    xy = np.column_stack([rng.uniform(758_000, 760_000, 40), rng.uniform(5_225_000, 5_227_000, 40)])
    area = rng.uniform(50, 500, 40)
    buildings = gpd.GeoDataFrame(
        {"footprint": area}, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=UTM
    ).to_crs(4326)
    points, notes = spread_zones(
        zones,
        "pop",
        "points",
        UTM,
        spacing=500.0,
        points=buildings,
        point_weight="footprint",
        id_column="zid",
        carry=["region"],
    )
    totals = points.groupby("zone")["weight"].sum()
    assert totals["A"] == 1001 and totals["B"] == 57  # exact, whole people
    assert np.all(points["weight"] == np.round(points["weight"]))
    a = points[points["zone"] == "A"]
    assert len(a) == 40  # one point per building
    # shares follow the footprint: each within one person of its exact quota
    quota = np.sort(area / area.sum() * 1001)
    assert np.all(np.abs(np.sort(a["weight"].to_numpy()) - quota) < 1.0 + 1e-9)
    b = points[points["zone"] == "B"]
    assert len(b) == 16 and set(b["region"]) == {"south"}  # 4 x 4 grid at 500 m
    assert any("spread uniformly instead: B" in n for n in notes)


def test_non_integer_totals_are_spread_exactly():
    zones = _zones()
    zones["pop"] = [10.25, 3.5]
    points, _ = spread_zones(zones, "pop", "uniform", UTM, spacing=700.0)
    assert points.groupby("zone")["weight"].sum().tolist() == [10.25, 3.5]


@pytest.mark.parametrize("resolution", [8, 9])
def test_h3_spreading_honours_the_resolution(resolution):
    zones = _zones()
    points, _ = spread_zones(zones, "pop", "h3", UTM, resolution=resolution)
    wgs = points.to_crs(4326)
    cells = [
        h3.latlng_to_cell(y, x, resolution)
        for x, y in zip(wgs.geometry.x, wgs.geometry.y, strict=True)
    ]
    assert {h3.get_resolution(c) for c in cells} == {resolution}
    assert len(set(cells)) == len(cells)  # one point per cell, at its centre
    for c, x, y in zip(cells, wgs.geometry.x, wgs.geometry.y, strict=True):
        lat, lng = h3.cell_to_latlng(c)
        assert abs(lat - y) < 1e-9 and abs(lng - x) < 1e-9
    for z, zone in zones.to_crs(4326).iterrows():
        want = h3.geo_to_cells(zone.geometry, resolution)
        assert len(points[points["zone"] == str(z + 1)]) == len(want)
    assert points.groupby("zone")["weight"].sum().tolist() == [1001, 57]


def test_liechtenstein_municipalities_spread_over_buildings_keep_their_population():
    if not LI_GPKG.exists():
        if on_ci():
            pytest.fail(f"Liechtenstein data missing at {LI_GPKG} (required on CI)")
        pytest.skip("Liechtenstein data not found")
    zones = gpd.read_file(LI_GPKG, layer="zones")
    buildings = gpd.read_file(LI_GPKG, layer="buildings")
    points, notes = spread_zones(
        zones,
        "population",
        "points",
        UTM,
        points=buildings,
        point_weight="footprint_m2",
        id_column="name",
    )
    got = points.groupby("zone")["weight"].sum()
    want = zones.set_index("name")["population"]
    assert (got.reindex(want.index) == want).all()
    assert points["weight"].sum() == 36838


def test_kmeans_centres_are_weighted_means_of_separated_clusters():
    a = np.array([[0.0, 0.0], [10.0, 0.0]])
    b = np.array([[10_000.0, 0.0], [10_000.0, 30.0]])
    xy = np.vstack([a, b])
    w = np.array([1.0, 3.0, 2.0, 2.0])
    centres = kmeans_sites(xy, w, 2)
    centres = centres[np.argsort(centres[:, 0])]
    assert np.allclose(centres, [[7.5, 0.0], [10_000.0, 15.0]])


def test_h3_candidates_are_the_cells_holding_demand():
    rng = np.random.default_rng(3)
    xy = np.column_stack(
        [rng.uniform(758_000, 762_000, 300), rng.uniform(5_225_000, 5_229_000, 300)]
    )
    w = np.where(np.arange(300) % 5 == 0, 0.0, 1.0)
    sites = h3_sites(xy, w, UTM, 8)
    wgs = gpd.GeoSeries(gpd.points_from_xy(xy[w > 0, 0], xy[w > 0, 1]), crs=UTM).to_crs(4326)
    cells = {h3.latlng_to_cell(y, x, 8) for x, y in zip(wgs.x, wgs.y, strict=True)}
    assert len(sites) == len(cells)


def test_generated_candidates_snap_to_their_road_point():
    from test_roads import _five_nodes

    net = _five_nodes()
    # centres (100, 60): 60 m above road 1-2; (1925, 915): 75 m beside 3->4, 85 m below 4->5
    xy = np.array([[100.0, 60.0], [1900.0, 900.0], [1950.0, 930.0]])
    gen = generate_candidates(
        xy,
        np.ones(3),
        UTM,
        [GenerateSpec(method="kmeans", n=2, tiers=["a", "b"])],
        ["a", "b"],
        network=net,
    )
    coords = gen.get_coordinates().to_numpy()
    assert sorted(map(tuple, coords.round(9).tolist())) == [(100.0, 0.0), (2000.0, 915.0)]
    assert set(gen["tiers"]) == {"a;b"}


def test_competitors_discount_demand_within_their_reach(tmp_path):
    from netplan.inputs import load_inputs
    from netplan.scenario import Scenario

    comp = pd.DataFrame({"cid": ["X1", "X2"], "lon": [9.55, 9.70], "lat": [47.15, 47.20]})
    folder = tmp_path / "case"
    write_small_case(folder)
    comp.to_csv(folder / "competitors.csv", index=False)
    results = {}
    for decay in (None, "600 m"):
        raw = yaml.safe_load((folder / "scenario.yaml").read_text())
        raw["competitors"] = {
            "path": "competitors.csv",
            "reach": "2 km",
            "share": 0.4,
            "decay": decay,
        }
        path = folder / "with_comp.yaml"
        path.write_text(yaml.safe_dump(raw))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results[decay] = load_inputs(Scenario.from_yaml(path))
    inputs = results[None]
    demand = pd.read_csv(folder / "demand.csv")
    c = gpd.GeoSeries(gpd.points_from_xy(comp["lon"], comp["lat"]), crs=4326).to_crs(inputs.crs)
    cxy = c.get_coordinates().to_numpy()
    dxy = inputs.demand.get_coordinates().to_numpy()
    d = np.min(np.linalg.norm(dxy[:, None, :] - cxy[None, :, :], axis=2), axis=1)  # brute force
    base = demand.set_index("cid").loc[inputs.demand["demand_id"], "customers"].to_numpy()
    within = d <= 2000
    assert within.any() and (~within).any()
    assert np.allclose(inputs.weights[:, 0], base * np.where(within, 0.6, 1.0))
    decayed = results["600 m"].weights[:, 0]
    assert np.allclose(decayed, base * np.where(within, 1 - 0.4 * np.exp(-d / 600.0), 1.0))
