"""The exports analysts expect, read back: outlets.csv, plan.xlsx, GeoParquet, plan.gpkg layers
and its QGIS styles; the demo's plan.gpkg under 3 MB; ``--format`` errors.

Figures are recomputed here from the raw CSV inputs and the written files, not from the
writer's own frames.
"""

from __future__ import annotations

import sqlite3
import warnings
import xml.etree.ElementTree as ET

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pyogrio
import pytest
from openpyxl import load_workbook
from pyproj import Geod
from typer.testing import CliRunner

import netplan
from netplan.cli import app
from netplan.outputs.exports import OUTLET_COLUMNS, parse_formats
from netplan.pipeline import run_scenario, write_run
from netplan.present.map_cells import GAP_COLOURS
from netplan.present.symbols import TIER_COLOURS

from conftest import RUN_FILES, write_small_case

try:
    runner = CliRunner(mix_stderr=False)
except TypeError:
    runner = CliRunner()

LAYER_STYLE_COLUMNS = [
    "id",
    "f_table_catalog",
    "f_table_schema",
    "f_table_name",
    "f_geometry_column",
    "styleName",
    "styleQML",
    "styleSLD",
    "useAsDefault",
    "description",
    "owner",
    "ui",
    "update_time",
]
GEOD = Geod(ellps="WGS84")


def _rgba(colour: str) -> str:
    c = colour.lstrip("#")
    return ",".join(str(int(c[i : i + 2], 16)) for i in (0, 2, 4))


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """The small case at 2.5 x today's budget, written with gpkg and parquet."""
    folder = tmp_path_factory.mktemp("exports")
    path = write_small_case(folder / "case", budget={"total": "2.5 x baseline"})
    result = run_scenario(netplan.Scenario.from_yaml(path))
    out = write_run(result, folder / "out", formats=("gpkg", "parquet"))
    return folder / "case", result, out


@pytest.fixture(scope="module")
def capacity_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("exports_cap")
    capacity = {"per_tier": {"hub": 150, "point": 40}, "levels": ["point"]}
    path = write_small_case(folder / "case", capacity=capacity)
    result = run_scenario(netplan.Scenario.from_yaml(path))
    return folder / "case", result, write_run(result, folder / "out")


def _raw_sites(case) -> pd.DataFrame:
    outlets = pd.read_csv(case / "outlets.csv").rename(columns={"oid": "site"})
    return pd.concat([outlets, pd.read_csv(case / "candidates.csv")]).set_index("site")


# ------------------------------------------------------------------ outlets.csv
def test_outlets_csv_rows_against_the_inputs_and_plan_gpkg(small_run):
    case, result, out = small_run
    table = pd.read_csv(out / "outlets.csv", dtype={"tier_today": str, "tier_plan": str})
    assert list(table.columns) == OUTLET_COLUMNS
    raw_outlets = pd.read_csv(case / "outlets.csv").set_index("oid")
    gpkg = pyogrio.read_dataframe(out / "plan.gpkg", layer="outlets").set_index("site_id")
    # every outlet open today, and every site open in the plan, exactly once
    open_plan = set(gpkg.index[gpkg["tier"] != ""])
    assert table["site_id"].is_unique
    assert set(table["site_id"]) == set(raw_outlets.index) | open_plan
    table = table.set_index("site_id").fillna({"tier_today": "", "tier_plan": ""})
    for sid, row in table.iterrows():
        today = raw_outlets["tier"].get(sid, "")
        plan = gpkg.loc[sid, "tier"]
        assert (row["tier_today"], row["tier_plan"]) == (today, plan), sid
        expected = (
            "close"
            if plan == ""
            else "open"
            if today == ""
            else "keep"
            if today == plan
            else "retier"
        )
        assert row["action"] == expected == gpkg.loc[sid, "action"], sid
    assert {"keep", "open"} <= set(table["action"])
    # cost items: capex + horizon x opex, numbers equal to the GeoPackage's
    assert np.allclose(table["cost"], table["capex"] + 2 * table["opex_per_year"])
    assert np.allclose(table["cost"], gpkg.loc[table.index, "cost"])
    assert table["cost"].sum() == pytest.approx(result.plan.cost()["total"])
    assert table["load"].isna().all()  # no capacities in this scenario
    # coordinates: the raw CSV's, to 1e-6 degrees
    raw = _raw_sites(case).loc[table.index]
    assert np.abs(table["lon"] - raw["lon"]).max() < 1.1e-6
    assert np.abs(table["lat"] - raw["lat"]).max() < 1.1e-6


def test_supporting_outlet_is_higher_tier_within_linkage_reach(small_run):
    case, _, out = small_run
    table = pd.read_csv(out / "outlets.csv", keep_default_na=False).set_index("site_id")
    rank = {"hub": 0, "point": 1}
    linkage = 12_000.0
    supported = table[table["tier_plan"] == "point"]
    assert len(supported) >= 2
    for sid, row in table.iterrows():
        if row["tier_plan"] in ("hub", ""):  # top tier and closed outlets: no support
            assert row["supporting_outlet"] == "", sid
    for _sid, row in supported.iterrows():
        sup = row["supporting_outlet"]
        assert sup in table.index and rank[table.loc[sup, "tier_plan"]] < rank["point"]
        _, _, d = GEOD.inv(row["lon"], row["lat"], table.loc[sup, "lon"], table.loc[sup, "lat"])
        assert d <= linkage * 1.005
        # the nearest open hub: no other open hub is closer
        hubs = table[table["tier_plan"] == "hub"]
        _, _, all_d = GEOD.inv(
            np.full(len(hubs), row["lon"]), np.full(len(hubs), row["lat"]), hubs["lon"], hubs["lat"]
        )
        assert d <= all_d.min() + 1.0


def test_outlets_csv_load_where_capacities_exist(capacity_run):
    case, result, out = capacity_run
    table = pd.read_csv(out / "outlets.csv").set_index("site_id")
    demand = pd.read_csv(case / "demand.csv").set_index("cid")
    a = result.plan.assignment
    load = (
        (a["share"] * demand.loc[a["demand_id"], "customers"].to_numpy())
        .groupby(a["site_id"])
        .sum()
    )
    open_sites = table[table["action"] != "close"]
    expected = load.reindex(open_sites.index, fill_value=0.0)
    assert np.allclose(open_sites["load"].to_numpy(), expected.to_numpy())
    assert (open_sites.loc[open_sites["tier_plan"] == "point", "load"] <= 40 + 1e-6).all()
    assert load.sum() > 0


# ------------------------------------------------------------------ plan.xlsx
def test_plan_xlsx_sheets_read_back(small_run):
    _, result, out = small_run
    book = load_workbook(out / "plan.xlsx")
    assert book.sheetnames == ["outlets", "KPIs", "costs", "changes"]
    csv = pd.read_csv(out / "outlets.csv", keep_default_na=False)
    for ws in book.worksheets:
        assert ws.freeze_panes == "A2"
        assert all(c.font.bold for c in ws[1])
        assert all(ws.column_dimensions[c.column_letter].width >= 6 for c in ws[1])
    ws = book["outlets"]
    header = [c.value for c in ws[1]]
    assert header == OUTLET_COLUMNS
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(csv)
    cost = [r[header.index("cost")] for r in rows]
    assert all(isinstance(v, int | float) for v in cost)
    assert sum(cost) == pytest.approx(result.plan.cost()["total"])
    assert [r[0] for r in rows] == csv["site_id"].tolist()
    # KPIs: the rows of kpis.csv, numbers as numbers
    kpis = pd.read_csv(out / "kpis.csv")
    ws = book["KPIs"]
    header = [c.value for c in ws[1]]
    assert header == list(kpis.columns)
    values = [
        r[header.index("covered_pct_plan")] for r in ws.iter_rows(min_row=2, values_only=True)
    ]
    assert values == pytest.approx(kpis["covered_pct_plan"].tolist())
    # costs: per tier and action, and the totals
    ws = book["costs"]
    header = [c.value for c in ws[1]]
    assert header == ["tier", "keep", "open", "retier", "close", "total"]
    rows = {r[0]: r for r in ws.iter_rows(min_row=2, values_only=True)}
    by_tier = (
        csv.assign(t=np.where(csv["tier_plan"] != "", csv["tier_plan"], csv["tier_today"]))
        .groupby("t")["cost"]
        .sum()
    )
    for tier in ("hub", "point"):
        assert rows[tier][-1] == pytest.approx(by_tier.get(tier, 0.0))
    assert rows["plan total"][-1] == pytest.approx(csv["cost"].sum())
    assert rows["today"][-1] == pytest.approx(result.plan.budget["baseline_cost"])
    assert rows["budget"][-1] == pytest.approx(2.5 * result.plan.budget["baseline_cost"])
    # changes: every outlet not kept
    ws = book["changes"]
    changed = {r[0]: r[2] for r in ws.iter_rows(min_row=2, values_only=True)}
    expected = csv.loc[csv["action"] != "keep"].set_index("site_id")["action"].to_dict()
    assert changed == expected and len(changed) > 0


# ------------------------------------------------------------------ plan.gpkg
def test_gpkg_layers_hold_everything_the_map_draws(small_run):
    case, result, out = small_run
    gpkg = out / "plan.gpkg"
    layers = dict((str(n), t) for n, t in pyogrio.list_layers(gpkg))
    expected = {"outlets", "baseline_outlets", "demand", "links", "baseline_links", "reach_areas"}
    for key in ("hub", "point"):
        for kind in ("gap_cells", "overlap_cells"):
            expected |= {f"{kind}_{key}", f"baseline_{kind}_{key}"}
    assert set(layers) == expected | {"layer_styles"}
    # demand once: plan and today side by side, as many points as the input
    demand = pyogrio.read_dataframe(gpkg, layer="demand")
    raw = pd.read_csv(case / "demand.csv")
    assert len(demand) == len(raw)
    for key in ("hub", "point"):
        assert {f"covered_{key}", f"baseline_covered_{key}", f"n_covering_{key}"} <= set(demand)
        covered = result.evaluation.demand.set_index("demand_id")[f"covered_{key}"]
        assert (demand.set_index("demand_id")[f"covered_{key}"] == covered.astype(int)).all()
        # gap cells sum to the uncovered demand of the level, recomputed from the points
        for prefix, col in (("", f"covered_{key}"), ("baseline_", f"baseline_covered_{key}")):
            cells = pyogrio.read_dataframe(gpkg, layer=f"{prefix}gap_cells_{key}")
            uncovered = demand.loc[demand[col] == 0, f"weight_{key}"].sum()
            assert cells["uncovered"].sum() == pytest.approx(uncovered)
            assert (cells.geometry.area > 0).all() if len(cells) else uncovered == 0
    # reach areas: one per open outlet, a disc of the tier's reach (planar run)
    reach = pyogrio.read_dataframe(gpkg, layer="reach_areas")
    outlets = pyogrio.read_dataframe(gpkg, layer="outlets")
    assert sorted(reach["site_id"]) == sorted(outlets.loc[outlets["tier"] != "", "site_id"])
    radius = reach["tier"].map({"hub": 8000.0, "point": 2000.0})
    assert np.allclose(reach.geometry.area, np.pi * radius**2, rtol=0.01)
    centre = outlets.set_index("site_id").loc[reach["site_id"]].geometry.reset_index(drop=True)
    assert np.allclose(reach.geometry.centroid.distance(centre, align=False), 0, atol=1)
    # closed outlets keep their tier of today
    closed = outlets[outlets["action"] == "close"]
    raw_outlets = pd.read_csv(case / "outlets.csv").set_index("oid")
    assert (closed["current_tier"] == raw_outlets.loc[closed["site_id"], "tier"].to_numpy()).all()


def test_gpkg_has_one_default_qgis_style_per_layer(small_run):
    _, _, out = small_run
    gpkg = out / "plan.gpkg"
    con = sqlite3.connect(gpkg)
    try:
        cols = [r[1] for r in con.execute("PRAGMA table_info(layer_styles)")]
        rows = con.execute(
            "SELECT f_table_name, f_geometry_column, styleName, styleQML, useAsDefault"
            " FROM layer_styles"
        ).fetchall()
        geom = dict(con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns"))
    finally:
        con.close()
    assert cols == LAYER_STYLE_COLUMNS
    names = [r[0] for r in rows]
    assert sorted(names) == sorted(geom) and len(set(names)) == len(names)
    qml = {}
    for name, column, style, text, default in rows:
        assert default == 1 and style == "netplan" and column == geom[name]
        root = ET.fromstring(text.split("\n", 1)[1])  # after the DOCTYPE line
        assert root.tag == "qgis"
        renderer = root.find("renderer-v2")
        assert renderer is not None and renderer.find("symbols") is not None
        qml[name] = renderer
    # outlets: a rule per tier and action with the map's tier colour and shape
    rules = {r.get("label"): r for r in qml["outlets"].iter("rule")}
    assert {"hub: kept", "point: new", "point: closed", "hub: re-tiered"} <= set(rules)
    symbols = {s.get("name"): s for s in qml["outlets"].find("symbols")}
    hub_kept = symbols[rules["hub: kept"].get("symbol")]
    opts = {o.get("name"): o.get("value") for o in hub_kept.iter("Option") if o.get("name")}
    assert opts["name"] == "square" and opts["color"] == _rgba(TIER_COLOURS[0]) + ",255"
    point_new = symbols[rules["point: new"].get("symbol")]
    assert len(point_new.findall("layer")) == 2  # the tier's diamond and the white cross
    # gap cells: graduated on the uncovered demand with the map's ramp
    gap = qml["gap_cells_point"]
    assert gap.get("type") == "graduatedSymbol" and gap.get("attr") == "uncovered"
    fills = [o.get("value") for o in gap.iter("Option") if o.get("name") == "color"]
    assert [f.rsplit(",", 1)[0] for f in fills] == [_rgba(c) for c in GAP_COLOURS]
    # reach areas: a rule per tier in the tier's colour
    labels = {r.get("label") for r in qml["reach_areas"].iter("rule")}
    assert labels == {"reach: hub", "reach: point"}


def test_gpkg_styles_escape_names(tmp_path):
    """A tier key or name with quotes and markup stays text in the QML and in its filters."""
    tiers = [
        {"key": "hub", "name": 'Hub "<b>A&B</b>"', "reach": "8 km"},
        {"key": "point", "name": "Point's", "reach": "2 km", "linkage": "12 km"},
    ]
    path = write_small_case(tmp_path / "case", tiers=tiers)
    result = run_scenario(netplan.Scenario.from_yaml(path))
    out = write_run(result, tmp_path / "out")
    con = sqlite3.connect(out / "plan.gpkg")
    text = con.execute(
        "SELECT styleQML FROM layer_styles WHERE f_table_name = 'outlets'"
    ).fetchone()[0]
    con.close()
    root = ET.fromstring(text.split("\n", 1)[1])
    labels = {r.get("label") for r in root.iter("rule")}
    assert 'Hub "<b>A&B</b>": kept' in labels and "Point's: new" in labels


# ------------------------------------------------------------------ GeoParquet
def test_geoparquet_per_layer_matches_gpkg(small_run):
    _, _, out = small_run
    gpkg = out / "plan.gpkg"
    layers = [str(n) for n, _ in pyogrio.list_layers(gpkg) if str(n) != "layer_styles"]
    files = sorted(p.name for p in out.glob("*.parquet"))
    assert files == sorted(f"plan_{n}.parquet" for n in layers)
    for name in layers:
        meta = pq.read_metadata(out / f"plan_{name}.parquet").metadata
        assert b"geo" in meta  # GeoParquet metadata
        frame = gpd.read_parquet(out / f"plan_{name}.parquet")
        ref = pyogrio.read_dataframe(gpkg, layer=name)
        assert len(frame) == len(ref), name
        assert frame.crs.to_epsg() == 4326
        if len(ref) and name != "demand":
            ref = ref.to_crs(4326)
            assert np.allclose(frame.geometry.bounds, ref.geometry.bounds, atol=1e-6)
    outlets = gpd.read_parquet(out / "plan_outlets.parquet")
    csv = pd.read_csv(out / "outlets.csv")
    sel = outlets.set_index("site_id").loc[csv["site_id"]]
    assert np.allclose(sel.geometry.x, csv["lon"], atol=1e-6)
    assert np.allclose(sel["cost"], csv["cost"])


# ------------------------------------------------------------------ --format
@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("shp", "--format: unknown format 'shp'; choose from gpkg, parquet, comma-separated"),
        ("gpkg,gpkg", "--format: gpkg, gpkg names a format twice; choose from gpkg, parquet"),
        ("parquet", "--format: plan.gpkg is always written (netplan compare reads it); choose"),
        ("", "--format: expected a list of formats; choose from gpkg, parquet"),
    ],
)
def test_format_errors_are_one_line(tmp_path, value, fragment):
    path = write_small_case(tmp_path / "case")
    res = runner.invoke(app, ["run", str(path), "--out", str(tmp_path / "out"), "--format", value])
    assert res.exit_code == 2
    stderr = res.stderr if hasattr(res, "stderr") else res.output
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0]
    assert "(e.g. --format gpkg,parquet)" in lines[0]
    assert not (tmp_path / "out").exists()


def test_format_values():
    assert parse_formats(None) == ("gpkg",)
    assert parse_formats("gpkg") == ("gpkg",)
    assert parse_formats("GPKG, parquet") == ("gpkg", "parquet")


def test_cli_run_default_format_writes_no_parquet(tmp_path):
    path = write_small_case(tmp_path / "case")
    res = runner.invoke(app, ["run", str(path), "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == RUN_FILES


# ------------------------------------------------------------------ the demo
def test_demo_gpkg_at_most_3_mb_with_every_layer(demo_run):
    result, out = demo_run
    gpkg = out / "plan.gpkg"
    size = gpkg.stat().st_size
    assert size <= 3_000_000, f"plan.gpkg is {size / 1e6:.2f} MB"
    layers = {str(n) for n, _ in pyogrio.list_layers(gpkg)}
    keys = result.scenario.tier_keys
    for key in keys:
        assert {f"gap_cells_{key}", f"baseline_gap_cells_{key}", f"overlap_cells_{key}"} <= layers
    assert {"outlets", "baseline_outlets", "demand", "links", "reach_areas", "regions"} <= layers
    demand = pyogrio.read_dataframe(gpkg, layer="demand", read_geometry=False)
    assert len(demand) == len(result.plan.inputs.demand)
    # distances rounded to 1 m, and still within 0.5 m of the evaluation's
    ev = result.evaluation.demand
    key = keys[-1]
    assert np.abs(demand[f"dist_{key}_m"].to_numpy() - ev[f"dist_{key}"].to_numpy()).max() <= 0.5
    outlets = pyogrio.read_dataframe(gpkg, layer="outlets", read_geometry=False)
    closed = outlets[outlets["action"] == "close"]
    assert len(closed) > 0 and (closed["current_tier"] != "").all()
    con = sqlite3.connect(gpkg)
    styled = {r[0] for r in con.execute("SELECT f_table_name FROM layer_styles WHERE useAsDefault")}
    con.close()
    assert styled == layers - {"layer_styles"}


def test_map_failure_keeps_every_data_file_and_says_so(tmp_path, monkeypatch):
    import netplan.present.webmap as webmap

    def broken(result, *args, **kwargs):
        raise ValueError("no map today")

    monkeypatch.setattr(webmap, "plan_map", broken)
    path = write_small_case(tmp_path / "case")
    out = tmp_path / "out"
    res = runner.invoke(app, ["run", str(path), "--out", str(out), "--format", "gpkg,parquet"])
    assert res.exit_code == 2
    stderr = res.stderr if hasattr(res, "stderr") else res.output
    assert [line for line in stderr.splitlines() if line.startswith("error:")] == [
        "error: map.html could not be written (ValueError: no map today); "
        "plan.gpkg, kpis.csv, outlets.csv, plan.xlsx, plan_*.parquet, run.json were written"
    ]
    names = {p.name for p in out.iterdir()}
    assert {"plan.gpkg", "outlets.csv", "plan.xlsx", "plan_outlets.parquet", "run.json"} <= names
    assert "map.html" not in names and "report.html" not in names
    assert len(pd.read_csv(out / "outlets.csv")) == len(
        gpd.read_parquet(out / "plan_outlets.parquet")
    )


def test_road_run_writes_the_service_areas_the_map_draws(tmp_path):
    """A network run (a clipped Vaduz extract from ../shared): service_areas, not discs."""
    from test_clipped_extracts import BBOX, PBF, _clip, _plan_case

    from netplan.travel.geometry import point_coords

    assert PBF.is_file(), f"Liechtenstein extract missing at {PBF} (../shared is required)"
    network = tmp_path / "vaduz.osm.pbf"
    _clip(PBF, network, BBOX)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the clip's split ways (tested there)
        result = run_scenario(netplan.Scenario.from_yaml(_plan_case(tmp_path / "case", network)))
    out = write_run(result, tmp_path / "out")
    layers = {str(n) for n, _ in pyogrio.list_layers(out / "plan.gpkg")}
    assert "service_areas" in layers and "reach_areas" not in layers
    areas = pyogrio.read_dataframe(out / "plan.gpkg", layer="service_areas")
    outlets = pyogrio.read_dataframe(out / "plan.gpkg", layer="outlets")
    open_out = outlets[outlets["tier"] != ""].reset_index(drop=True)
    assert list(areas["site_id"]) == list(open_out["site_id"])
    minutes = open_out["tier"].map({"hub": 6.0, "point": 2.0}).to_numpy()
    assert np.allclose(areas["reach"], minutes)
    expected = result.plan.inputs.travel.service_areas(point_coords(open_out.geometry), minutes)
    for got, want in zip(areas.geometry, expected, strict=True):
        assert got.symmetric_difference(want).area <= 1e-6 * want.area
    # drive-time areas, not discs: no area is a circle of any radius around its outlet
    assert not np.allclose(
        areas.geometry.area, np.pi * areas.geometry.minimum_bounding_radius() ** 2, rtol=0.05
    )
    con = sqlite3.connect(out / "plan.gpkg")
    styled = {r[0] for r in con.execute("SELECT f_table_name FROM layer_styles")}
    con.close()
    assert "service_areas" in styled
