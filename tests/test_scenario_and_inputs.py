"""Scenario files, units and input layers: good input loads, bad input gives one clear line."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import yaml
from shapely.geometry import Polygon

import netplan
from netplan import InputDataError, InputFileNotFoundError, Scenario, ScenarioError
from netplan.travel.units import parse_quantity

from conftest import DEMO_SCENARIO, write_small_case


# ---------------------------------------------------------------------------- units
@pytest.mark.parametrize(
    ("text", "value", "dimension"),
    [
        ("20 km", 20_000.0, "distance"),
        ("1500 m", 1500.0, "distance"),
        ("2.5km", 2500.0, "distance"),
        ("30 min", 30.0, "time"),
        ("1.5 h", 90.0, "time"),
    ],
)
def test_quantities(text, value, dimension):
    q = parse_quantity(text, "k")
    assert q.value == pytest.approx(value)
    assert q.dimension == dimension


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (20, "bare number 20 has no unit"),
        ("0 km", "must be greater than 0"),
        ("-3 km", "must be greater than 0"),
        ("20 parsecs", "unknown unit 'parsecs'"),
        ("far", "cannot read 'far'"),
    ],
)
def test_bad_quantities(text, message):
    with pytest.raises(ScenarioError, match=message):
        parse_quantity(text, "tiers[0].reach")


# ------------------------------------------------------------------------- scenario
def test_demo_scenario_loads_and_derives_reach():
    s = netplan.Scenario.from_yaml(DEMO_SCENARIO)
    assert s.tier_keys == ["regional", "city", "community"]
    assert (
        s.reach_matrix[0, 0] == 35_000
        and s.reach_matrix[0, 2] == 3_000
        and s.reach_matrix[2, 2] == 3_000
    )
    assert s.linkage_reach[1] == 50_000 and s.linkage_reach[2] == 20_000
    assert s.demand.path.is_absolute() and s.demand.path.exists()
    assert s.budget_factor_of_baseline() == 1.0


def _load(tmp_path, **changes):
    path = write_small_case(tmp_path / "c", **changes)
    return netplan.Scenario.from_yaml(path)


def test_reach_override_applies_to_one_tier_and_level(tmp_path):
    s = _load(tmp_path, reach_overrides=[{"tier": "hub", "level": "point", "reach": "3 km"}])
    assert s.reach_matrix[0, 1] == 3000 and s.reach_matrix[1, 1] == 2000


def test_unknown_key_suggests_the_right_one(tmp_path):
    path = write_small_case(tmp_path / "c")
    raw = yaml.safe_load(path.read_text())
    raw["budjet"] = {"total": 10}
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ScenarioError, match=r"unknown key 'budjet' \(did you mean 'budget'\?\)"):
        netplan.Scenario.from_yaml(path)


def test_bare_reach_and_non_positive_reach_are_rejected(tmp_path):
    tiers = [{"key": "hub", "reach": 8}, {"key": "point", "reach": "0 km", "linkage": "12 km"}]
    with pytest.raises(ScenarioError) as info:
        _load(tmp_path, tiers=tiers)
    lines = str(info.value).splitlines()
    assert any("tiers[0].reach: the bare number 8 has no unit" in line for line in lines)
    assert any("tiers[1].reach: reach must be greater than 0" in line for line in lines)


def test_geographic_crs_with_planar_travel_is_rejected(tmp_path):
    with pytest.raises(
        ScenarioError, match="EPSG:4326 is geographic .* 'planar' travel needs metres"
    ):
        _load(tmp_path, travel={"mode": "planar", "crs": "EPSG:4326"})


def test_min_cost_needs_targets(tmp_path):
    with pytest.raises(ScenarioError, match="min_cost needs coverage targets"):
        _load(tmp_path, objective={"type": "min_cost"})


def test_scenario_file_missing(tmp_path):
    with pytest.raises(InputFileNotFoundError, match="scenario file not found"):
        netplan.Scenario.from_yaml(tmp_path / "nope.yaml")


# --------------------------------------------------------------------------- inputs
def test_small_case_loads(tmp_path):
    s = _load(tmp_path)
    inputs = netplan.load_inputs(s)
    assert len(inputs.demand) == 300
    assert inputs.sites["site_id"].tolist()[:3] == ["E1", "E2", "E3"]
    assert inputs.crs.is_projected and "UTM" in inputs.crs.name
    # E1 keeps its hub tier, E2 may only stay a point, E3 (may_retier_or_close) may take either tier
    assert inputs.allowed.sum(axis=0).tolist() == [1 + 1 + 8, 2 + 30]
    assert inputs.weights[:, 0].sum() == pd.read_csv(s.demand.path)["customers"].sum()


def test_missing_input_file(tmp_path):
    path = write_small_case(tmp_path / "c")
    (path.parent / "demand.csv").unlink()
    s = netplan.Scenario.from_yaml(path)
    with pytest.raises(
        InputFileNotFoundError, match=r"demand\.path: file not found: .*demand\.csv"
    ):
        netplan.load_inputs(s)


def test_unknown_column_suggests_closest(tmp_path):
    s = _load(tmp_path, demand={"path": "demand.csv", "id": "cid", "weight": "customer"})
    with pytest.raises(
        InputDataError,
        match=r"column 'customer' \(from 'demand.weight'\) not found \(did you mean 'customers'\?\)",
    ):
        netplan.load_inputs(s)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-3", "is -3; it must be a finite number >= 0"),
        ("", "is empty or NaN"),
        ("many", "holds 'many', not a number"),
    ],
)
def test_bad_weight_names_the_row(tmp_path, value, message):
    path = write_small_case(tmp_path / "c")
    demand = pd.read_csv(path.parent / "demand.csv", dtype=str)
    demand.loc[4, "customers"] = value
    demand.to_csv(path.parent / "demand.csv", index=False)
    with pytest.raises(InputDataError, match=rf"demand\.csv: row 6: column 'customers' {message}"):
        netplan.load_inputs(netplan.Scenario.from_yaml(path))


def test_swapped_coordinates_are_caught(tmp_path):
    path = write_small_case(tmp_path / "c")
    demand = pd.read_csv(path.parent / "demand.csv")
    demand.loc[0, ["lon", "lat"]] = [47.1, 95.5]
    demand.to_csv(path.parent / "demand.csv", index=False)
    with pytest.raises(
        InputDataError, match="row 2: coordinates .* outside longitude/latitude range"
    ):
        netplan.load_inputs(netplan.Scenario.from_yaml(path))


def test_duplicate_and_unknown_tier_in_outlets(tmp_path):
    path = write_small_case(tmp_path / "c")
    outlets = pd.read_csv(path.parent / "outlets.csv")
    outlets.loc[1, "tier"] = "pointt"
    outlets.to_csv(path.parent / "outlets.csv", index=False)
    with pytest.raises(
        InputDataError,
        match=r"row 3: unknown tier 'pointt' in column 'tier' \(did you mean 'point'\?\)",
    ):
        netplan.load_inputs(netplan.Scenario.from_yaml(path))
    outlets.loc[1, "tier"] = "point"
    outlets.loc[2, "oid"] = "E1"
    outlets.to_csv(path.parent / "outlets.csv", index=False)
    with pytest.raises(InputDataError, match=r"row 4: duplicate id 'E1'"):
        netplan.load_inputs(netplan.Scenario.from_yaml(path))


def test_zero_weight_rows_are_dropped_with_a_warning(tmp_path):
    path = write_small_case(tmp_path / "c")
    demand = pd.read_csv(path.parent / "demand.csv")
    demand.loc[:9, "customers"] = 0
    demand.to_csv(path.parent / "demand.csv", index=False)
    with pytest.warns(
        netplan.NetplanWarning, match="10 demand rows with weight 0 at every level dropped"
    ):
        inputs = netplan.load_inputs(netplan.Scenario.from_yaml(path))
    assert len(inputs.demand) == 290


def test_input_files_are_not_modified(tmp_path):
    path = write_small_case(tmp_path / "c")
    before = {p.name: p.read_bytes() for p in path.parent.iterdir()}
    netplan.load_inputs(netplan.Scenario.from_yaml(path))
    assert {p.name: p.read_bytes() for p in path.parent.iterdir()} == before


def test_linkage_missing_for_one_supported_tier(tmp_path):
    raw = yaml.safe_load(DEMO_SCENARIO.read_text())
    del raw["tiers"][2]["linkage"]
    with pytest.raises(ScenarioError) as err:
        Scenario.from_dict(raw, base_dir=DEMO_SCENARIO.parent)
    assert (
        "tiers[2].linkage: missing while tiers[1] ('city') has one; give a reach (e.g. '20 km') or 'none' "
        "if community outlets need no supporting outlet"
    ) in str(err.value)
    raw["tiers"][2]["linkage"] = "none"
    scenario = Scenario.from_dict(raw, base_dir=DEMO_SCENARIO.parent)
    assert np.isnan(scenario.linkage_reach[2]) and scenario.linkage_reach[1] == 50_000


def test_reach_order_any_allows_a_longer_lower_reach(tmp_path):
    raw = yaml.safe_load(DEMO_SCENARIO.read_text())
    raw["tiers"][1]["reach"] = "40 km"
    with pytest.raises(ScenarioError, match=r"tiers\[1\]\.reach: 40 km is longer than the reach"):
        Scenario.from_dict(raw, base_dir=DEMO_SCENARIO.parent)
    raw["reach_order"] = "any"
    assert Scenario.from_dict(raw, base_dir=DEMO_SCENARIO.parent).reach_matrix[1, 1] == 40_000


def test_polygon_sites_become_their_representative_point_with_a_warning(tmp_path):
    """Polygons where points are required: the representative point (inside the polygon), stated."""
    path = write_small_case(tmp_path / "c")
    cand = pd.read_csv(path.parent / "candidates.csv")
    points = gpd.points_from_xy(cand.lon, cand.lat, crs=4326)
    frame = gpd.GeoDataFrame(cand, geometry=points)
    # an L-shaped building for site 0: its centroid lies outside it, the representative point inside
    x, y = cand.lon[0], cand.lat[0]
    frame.loc[0, "geometry"] = Polygon(
        [
            (x, y),
            (x + 0.01, y),
            (x + 0.01, y + 0.001),
            (x + 0.001, y + 0.001),
            (x + 0.001, y + 0.01),
            (x, y + 0.01),
        ]
    )
    frame.to_file(path.parent / "cand.gpkg")
    raw = yaml.safe_load(path.read_text())
    raw["candidates"]["path"] = "cand.gpkg"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    with pytest.warns(
        netplan.NetplanWarning,
        match=r"cand\.gpkg: 1 candidates polygons replaced by their representative point",
    ):
        inputs = netplan.load_inputs(netplan.Scenario.from_yaml(path))
    site = inputs.sites.set_index("site_id").loc["S0", "geometry"]
    shape = gpd.GeoSeries([frame.loc[0, "geometry"]], crs=4326).to_crs(inputs.crs).iloc[0]
    assert shape.contains(site)
