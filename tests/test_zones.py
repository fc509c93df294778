"""Demand from zones (netplan.inputs.zones), generated candidates (netplan.inputs.candidates), competitors."""

from __future__ import annotations

import re
import warnings

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pyproj import CRS
from shapely.geometry import box

from netplan.inputs.candidates import generate_candidates, h3_sites, kmeans_sites
from netplan.inputs.zones import largest_remainder, spread_weights, spread_zones
from netplan.scenario import GenerateSpec

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
    assert np.allclose(got.reindex(want.index), want, rtol=1e-12, atol=0)
    assert points["weight"].sum() == pytest.approx(36838, rel=1e-12)
    # every building inside a municipality is kept; only the one of footprint 0 weighs 0
    # (whole people by footprint would have left 835 more with none: every zone has sheds)
    assert len(points) == 8962 and int((points["weight"] == 0).sum()) == 1
    assert notes == [
        "11 zones have spread points whose share is under one person: Triesenberg 2 634 people "
        "over 1 897 points, Triesen 4 913 people over 1 490 points, Ruggell 2 065 people over 831 "
        "points, Gamprin 1 636 people over 623 points, Balzers 4 539 people over 1 422 points and "
        "6 more; rounded to whole people, 835 of 8 962 points would get none, so their weights "
        "stay fractional and no point is dropped (zone totals exact)"
    ]


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
    from netplan.inputs.build import load_inputs
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


# --- issue 21: spreading keeps small zones (fractional weights, no point dropped) ---------------


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    total=st.one_of(
        st.integers(0, 50),  # fewer people than points, and 0-people zones
        st.integers(0, 10**7),
        st.integers(10**12, 2**53),  # huge totals, still whole
        # any total, fractional or beyond 2**53; from 1e-6 people (a subnormal total such as
        # 5e-324 cannot be split at all: half of it is 0 in floating point)
        st.just(0.0),
        st.floats(1e-6, 1e18, allow_nan=False),
    ),
    shares=st.lists(
        st.one_of(st.just(0.0), st.floats(1e-6, 1e6, allow_nan=False)), min_size=1, max_size=300
    ),
    small_zones=st.sampled_from(["fractional", "fewer_points"]),
)
# near 2**53 every remainder rounds to 0: the unit left must not go to the zero share
@example(total=2**53 - 1, shares=[0.0, 444594.0, 301988.359375], small_zones="fractional")
def test_spread_weights_keep_the_total_exact_and_drop_no_point(total, shares, small_zones):
    shares = np.array(shares)
    weights, short = spread_weights(total, shares, small_zones)
    assert len(weights) == len(shares)
    assert np.all(weights >= 0)
    assert abs(weights.sum() - total) <= 1e-9 * max(total, 1e-300)
    effective = shares if shares.sum() > 0 else np.ones(len(shares))  # all zero: equal shares
    whole = 0 < total <= 2**53 and total == round(total)
    rounded = largest_remainder(total, effective) if whole else None
    want_short = int(np.sum((rounded == 0) & (effective > 0))) if whole else 0
    assert short == want_short
    if total == 0:
        assert np.all(weights == 0)
    elif small_zones == "fractional" or short == 0:
        # a point gets 0 only for a zero share (the user's 0), never for rounding
        assert np.all((weights > 0) == (effective > 0))
    if whole and short == 0 or whole and small_zones == "fewer_points":
        assert np.array_equal(weights, rounded)  # the old integer behaviour, unchanged
    else:
        assert np.allclose(weights, effective / effective.sum() * total, rtol=1e-9, atol=0)


def test_a_zone_with_enough_people_keeps_whole_people():
    weights, short = spread_weights(10.0, np.array([1.0, 1.0, 1.0]))
    assert weights.tolist() == [4.0, 3.0, 3.0] and short == 0


def test_a_zone_with_fewer_people_than_points_stays_fractional():
    weights, short = spread_weights(3.0, np.ones(1000))
    assert short == 997  # whole people would leave 997 of the 1 000 points with none
    assert np.allclose(weights, 0.003, rtol=1e-12) and abs(weights.sum() - 3.0) < 1e-12
    whole, short = spread_weights(3.0, np.ones(1000), "fewer_points")
    assert short == 997 and whole.sum() == 3.0 and np.count_nonzero(whole) == 3


def _two_zone_buildings() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Zone A (1 001 people) over 40 buildings, one of them a tiny shed; zone B (7) over 30."""
    x0, y0 = 758_000.0, 5_225_000.0
    zones = gpd.GeoDataFrame(
        {"zid": ["A", "B"], "pop": [1001, 7]},
        geometry=[box(x0, y0, x0 + 2000, y0 + 2000), box(x0 + 3000, y0, x0 + 5000, y0 + 2000)],
        crs=UTM,
    )
    xs = np.concatenate([x0 + 50 + 45 * np.arange(40), x0 + 3050 + 60 * np.arange(30)])
    footprint = np.concatenate([[1.0], np.full(39, 200.0), np.full(30, 100.0)])
    buildings = gpd.GeoDataFrame(
        {"footprint": footprint}, geometry=gpd.points_from_xy(xs, np.full(70, y0 + 1000)), crs=UTM
    )
    return zones, buildings


def test_spreading_drops_no_point_and_names_the_small_zones():
    zones, buildings = _two_zone_buildings()
    points, notes = spread_zones(
        zones, "pop", "points", UTM, points=buildings, point_weight="footprint", id_column="zid"
    )
    assert len(points) == 70 and np.all(points["weight"] > 0)  # no point dropped
    totals = points.groupby("zone")["weight"].sum()
    assert totals["A"] == pytest.approx(1001, rel=1e-12) and totals["B"] == pytest.approx(7, rel=1e-12)
    a = points[points["zone"] == "A"]["weight"].to_numpy()
    # the shed's quota is 1001 / 7 801 = 0.128 people: rounding would leave it none, so A is fractional
    assert a[0] == pytest.approx(1001 / 7801, rel=1e-12)
    assert np.allclose(points[points["zone"] == "B"]["weight"], 7 / 30, rtol=1e-12)
    assert notes == [
        "2 zones have too few people for a whole person on each spread point (1 with fewer people "
        "than points, 1 with points whose share is under one): B 7 people over 30 points, A 1 001 "
        "people over 40 points; rounded to whole people, 24 of 70 points would get none, so their "
        "weights stay fractional and no point is dropped (zone totals exact)"
    ]


def test_fewer_points_keeps_whole_people_and_leaves_the_rest_out():
    zones, buildings = _two_zone_buildings()
    points, notes = spread_zones(
        zones, "pop", "points", UTM, points=buildings, point_weight="footprint", id_column="zid",
        small_zones="fewer_points",
    )
    assert np.all(points["weight"] == np.round(points["weight"])) and np.all(points["weight"] > 0)
    assert points.groupby("zone")["weight"].sum().to_dict() == {"A": 1001.0, "B": 7.0}
    assert len(points) == 70 - 24
    assert notes[0].endswith(
        "rounded to whole people, 24 of 70 points would get none, and are left out "
        "(demand.spread.small_zones: fewer_points keeps whole people; zone totals exact)"
    )


def test_zones_with_enough_people_keep_whole_people_and_no_warning():
    zones, buildings = _two_zone_buildings()
    buildings["footprint"] = 100.0
    zones["pop"] = [1001, 57]
    points, notes = spread_zones(
        zones, "pop", "points", UTM, points=buildings, point_weight="footprint", id_column="zid"
    )
    assert notes == []
    assert np.all(points["weight"] == np.round(points["weight"]))
    assert points.groupby("zone")["weight"].sum().to_dict() == {"A": 1001.0, "B": 57.0}
    assert sorted(set(points[points["zone"] == "B"]["weight"])) == [1.0, 2.0]  # 57 over 30


def test_a_zone_of_zero_people_gives_zero_weights_without_a_warning():
    zones, buildings = _two_zone_buildings()
    zones["pop"] = [0, 60]
    buildings["footprint"] = 100.0
    points, notes = spread_zones(zones, "pop", "points", UTM, points=buildings, id_column="zid")
    assert notes == []
    assert np.all(points[points["zone"] == "A"]["weight"] == 0)
    assert np.all(points[points["zone"] == "B"]["weight"] == 2.0)


def _big_and_small_zones(folder, n_big: int, big: int, small_zones: str | None = None):
    """Zone Big (``big`` people over ``n_big`` buildings) beside Small (3 people, 1 000)."""
    path = write_small_case(folder)
    zones = gpd.GeoDataFrame(
        {"zone": ["Big", "Small"], "pop": [big, 3]},
        geometry=[box(9.5, 47.1, 9.6, 47.25), box(9.6, 47.1, 9.75, 47.25)],
        crs=4326,
    )
    zones.to_file(path.parent / "zones.gpkg")
    rng = np.random.default_rng(0)
    lon = np.concatenate([rng.uniform(9.51, 9.59, n_big), rng.uniform(9.61, 9.74, 1000)])
    lat = rng.uniform(47.11, 47.24, n_big + 1000)
    pd.DataFrame({"lon": lon, "lat": lat}).to_csv(path.parent / "buildings.csv", index=False)
    raw = yaml.safe_load(path.read_text())
    raw["demand"] = {
        "path": "zones.gpkg",
        "id": "zone",
        "weight": "pop",
        "spread": {"method": "points", "points": {"path": "buildings.csv"}},
    }
    if small_zones:
        raw["demand"]["spread"]["small_zones"] = small_zones
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def _load(path):
    from netplan.inputs.build import load_inputs
    from netplan.scenario import Scenario

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_inputs(Scenario.from_yaml(path))


HINT = (
    ". The smallest is a fractional share of zone Small (3 people over 1 000 points, kept "
    "fractional so no point is dropped): set demand.spread.small_zones: fewer_points to put such "
    "zones' people on whole-person points, or spread onto fewer points"
)


def test_ratio_rule_is_not_tripped_by_a_small_zone_beside_a_big_one(tmp_path):
    # 3 people over 1 000 points (0.003 each) beside 1 000 000 over 1 000 (1 000 each): 3.3e5
    inputs = _load(_big_and_small_zones(tmp_path / "c", 1000, 1_000_000))
    zones_file = tmp_path / "c" / "zones.gpkg"
    assert inputs.warnings == [
        f"{zones_file}: 1 zone has fewer people than spread points: Small 3 people over 1 000 "
        "points; rounded to whole people, 997 of 2 000 points would get none, so their weights "
        "stay fractional and no point is dropped (zone totals exact)"
    ]
    w = inputs.weights[:, 0]
    assert len(w) == 2000 and np.all(w > 0)
    assert np.allclose(w[1000:], 0.003, rtol=1e-12)


def test_ratio_rule_on_fractional_points_says_which_zone_and_the_fix(tmp_path):
    # the big zone on 10 points (100 000 each): 3.3e7 is above 1e6, a warning
    inputs = _load(_big_and_small_zones(tmp_path / "c", 10, 1_000_000))
    ratio = [n for n in inputs.warnings if n.startswith("demand weights")]
    assert len(ratio) == 1 and ratio[0].startswith(
        "demand weights (every level): the largest non-zero value is 3.33e+07 times the smallest "
        "(100000 vs 0.003), above 1e6"
    )
    assert ratio[0].endswith("spread onto point Small-1 (0.003); check them" + HINT)


def test_ratio_error_from_fractional_points_is_avoided_by_fewer_points(tmp_path):
    from netplan import InputDataError

    # 10 000 000 people on one point vs 0.003: 3.3e9, above 1e9: an error naming the fix
    with pytest.raises(InputDataError) as err:
        _load(_big_and_small_zones(tmp_path / "a", 1, 10_000_000))
    assert str(err.value).startswith(
        "demand weights (every level): the largest non-zero value is 3.33e+09 times the smallest "
        "(10000000 vs 0.003), above 1e9"
    )
    assert str(err.value).endswith(HINT) and len(str(err.value).splitlines()) == 1
    # the fix it names: whole people on 3 points, a ratio of 1e7 (a warning, no error)
    inputs = _load(_big_and_small_zones(tmp_path / "b", 1, 10_000_000, "fewer_points"))
    assert sorted(inputs.weights[:, 0].tolist()) == [1.0, 1.0, 1.0, 10_000_000.0]
    ratio = [n for n in inputs.warnings if n.startswith("demand weights")]
    assert len(ratio) == 1 and "1e+07 times the smallest (10000000 vs 1)" in ratio[0]
    assert "fractional share" not in ratio[0]


def test_validate_reports_the_small_zones_and_keeps_every_point(tmp_path):
    from typer.testing import CliRunner

    from netplan.cli import app

    path = _big_and_small_zones(tmp_path / "c", 1000, 1_000_000)
    before = {p.name: p.read_bytes() for p in path.parent.iterdir()}
    try:  # click < 8.2 mixes stderr into stdout unless told not to
        runner = CliRunner(mix_stderr=False)
    except TypeError:
        runner = CliRunner()
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.stdout + result.stderr
    warned = [line for line in result.stderr.splitlines() if "spread points" in line]
    assert warned == [
        f"warning: {path.parent / 'zones.gpkg'}: 1 zone has fewer people than spread points: "
        "Small 3 people over 1 000 points; rounded to whole people, 997 of 2 000 points would "
        "get none, so their weights stay fractional and no point is dropped (zone totals exact)"
    ]
    assert "dropped (rule: zero-weight demand is ignored)" not in result.stderr
    assert re.search(r"│ demand +│ 2000 │", result.stdout), result.stdout  # every point kept
    assert {p.name: p.read_bytes() for p in path.parent.iterdir()} == before


def test_small_zones_option_is_validated(tmp_path):
    from netplan import NetplanError
    from netplan.scenario import Scenario

    path = _big_and_small_zones(tmp_path / "c", 10, 1000, "fewest")
    with pytest.raises(NetplanError) as err:
        Scenario.from_yaml(path)
    assert "demand.spread.small_zones" in str(err.value) and "fewer_points" in str(err.value)
    assert len(str(err.value).splitlines()) == 1


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    zones=st.lists(
        st.tuples(
            st.one_of(
                st.integers(0, 30),
                st.integers(0, 10**9),
                st.just(2**53),
                st.floats(1e-6, 1e15),  # a subnormal total cannot be split (half of it is 0)
            ),
            st.lists(st.one_of(st.just(0.0), st.floats(0.1, 1e4)), min_size=1, max_size=60),
        ),
        min_size=1,
        max_size=5,
    )
)
def test_spread_zones_keeps_every_total_and_every_point(zones):
    """Random zones (0 people, fewer people than points, huge totals) over random buildings."""
    x0, y0 = 758_000.0, 5_225_000.0
    polygons, xs, ys, footprints = [], [], [], []
    for z, (_, feet) in enumerate(zones):
        polygons.append(box(x0 + 2000 * z, y0, x0 + 2000 * z + 1000, y0 + 1000))
        xs += list(x0 + 2000 * z + 10 + 15 * np.arange(len(feet)))
        ys += [y0 + 500.0] * len(feet)
        footprints += feet
    frame = gpd.GeoDataFrame(
        {"zid": [f"Z{z}" for z in range(len(zones))], "pop": [float(t) for t, _ in zones]},
        geometry=polygons,
        crs=UTM,
    )
    buildings = gpd.GeoDataFrame(
        {"footprint": footprints}, geometry=gpd.points_from_xy(xs, ys), crs=UTM
    )
    points, notes = spread_zones(
        frame, "pop", "points", UTM, points=buildings, point_weight="footprint", id_column="zid"
    )
    assert len(points) == len(buildings)  # no point dropped
    got = points.groupby("zone", sort=False)["weight"].sum()
    short = 0
    for z, (total, feet) in enumerate(zones):
        assert abs(got[f"Z{z}"] - total) <= 1e-9 * total
        w = points.loc[points["zone"] == f"Z{z}", "weight"].to_numpy()
        feet = np.array(feet) if sum(feet) > 0 else np.ones(len(feet))
        assert np.all((w > 0) == ((feet > 0) & (total > 0)))  # 0 only for a 0 total or share
        short += spread_weights(float(total), feet)[1]
    if short == 0:
        assert notes == []
    else:
        counted = f" {short:,} of {len(buildings):,} points would get none".replace(",", " ")
        assert len(notes) == 1 and counted in notes[0]
