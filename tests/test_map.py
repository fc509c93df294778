"""The exported map escapes every text that comes from input files."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from typer.testing import CliRunner

from netplan.cli import app

from conftest import write_small_case

try:  # click < 8.2 mixes stderr into stdout unless told not to
    runner = CliRunner(mix_stderr=False)
except TypeError:
    runner = CliRunner()

EVIL = '<script>alert("x")</script>'


def test_names_with_html_show_as_text(tmp_path):
    scenario = write_small_case(tmp_path / "case")
    outlets = pd.read_csv(scenario.parent / "outlets.csv")
    outlets.loc[0, "name"] = EVIL
    outlets.loc[1, "oid"] = '<img src=x onerror="alert(1)">'
    outlets.to_csv(scenario.parent / "outlets.csv", index=False)
    result = runner.invoke(app, ["run", str(scenario), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.stderr
    page = (tmp_path / "out" / "map.html").read_text()
    assert EVIL not in page and "<img src=x" not in page
    # escaped once for HTML, then embedded as JSON by folium
    assert (
        "\\u0026lt;script\\u0026gt;alert(\\u0026quot;x\\u0026quot;)\\u0026lt;/script\\u0026gt;"
        in page
    )
    assert "\\u0026lt;img src=x onerror=\\u0026quot;alert(1)\\u0026quot;\\u0026gt;" in page


# --------------------------------------------------------------- cells and scale
def _grid_points(n: int, seed: int = 3):
    import geopandas as gpd
    import numpy as np

    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 20_000, size=(n, 2)) + [500_000, 5_000_000]
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs="EPSG:32632")
    return points, xy, rng


def test_overlap_cells_count_covering_outlets_like_a_loop():
    import numpy as np

    from netplan.present.map_cells import overlap_cells

    points, xy, rng = _grid_points(600)
    n_cov = rng.integers(2, 8, size=len(xy))
    w = rng.integers(1, 10, size=len(xy)).astype(float)
    cells = overlap_cells(points, w, n_cov, 2_500.0)
    # brute force: one dict entry per cell, filled point by point
    expect: dict[tuple[int, int], list[float]] = {}
    for (x, y), n, wi in zip(xy, n_cov, w, strict=True):
        e = expect.setdefault((int(x // 2500), int(y // 2500)), [0.0, 0.0, 0.0, 0])
        e[min(n, 4) - 2] += wi
        e[3] = max(e[3], n)
    assert len(cells) == len(expect)
    corners = cells.geometry.bounds[["minx", "miny"]].to_numpy()
    for (cx, cy), r in zip(corners, cells.itertuples(), strict=True):
        w2, w3, w4, top = expect[(int(round(cx / 2500)), int(round(cy / 2500)))]
        assert (r.w2, r.w3, r.w4, r.max_covering) == (w2, w3, w4, top)
        assert r.value == w2 + w3 + w4
        half = (w2 + w3 + w4) / 2  # the class holding the weighted median
        assert r.cls == (0 if w2 >= half else 1 if w2 + w3 >= half else 2)
    assert cells["value"].sum() == w.sum() and np.all(cells["cls"].isin([0, 1, 2]))


def test_cells_grow_until_under_the_cap():
    from netplan.present.map_cells import demand_cells as _cells

    points, xy, rng = _grid_points(5_000)
    w = rng.integers(1, 5, size=len(xy)).astype(float)
    fine = _cells(points, w, 250.0, max_cells=10_000)
    capped = _cells(points, w, 250.0, max_cells=40)
    assert len(fine) > 40 >= len(capped)
    side = capped.geometry.iloc[0].bounds
    # 20 km square: 2 km cells make 10 x 10 = 100 > 40, so the side doubles once more to 4 km (25)
    assert side[2] - side[0] == 250.0 * 2**4
    assert capped["value"].sum() == fine["value"].sum() == w.sum()
    assert capped["count"].sum() == len(xy)


def test_demo_map_overlap_layers_give_the_count(demo_run):
    _, out = demo_run
    page = (out / "map.html").read_text(encoding="utf-8").replace("\\u00b7", "·")
    kpis = pd.read_csv(out / "kpis.csv")
    for r in kpis[kpis["region"] == "all"].itertuples():
        assert f"Plan · overlaps: {r.level_name} ({r.overlap_plan:,.0f} by 2+ outlets)" in page
        assert f"Today · overlaps: {r.level_name} ({r.overlap_baseline:,.0f} by 2+ outlets)" in page
    assert "demand covered 2+ times" in page and "by 2 outlets: " in page and "(at most " in page


@pytest.mark.slow
def test_map_of_100000_customers_is_small(demo_run, tmp_path):
    """The demo plan and today's network evaluated on 100 000 customers (no new solve): the map
    stays below 15 MB, its cells are capped, and its gap total is the brute-force one."""
    import numpy as np
    import yaml
    from pyproj import Transformer

    from netplan.demo import scaled_customers
    from netplan.evaluation.kpis import baseline_outlets, evaluate
    from netplan.inputs.build import load_inputs
    from netplan.pipeline import RunResult
    from netplan.present.map_cells import MAX_CELLS
    from netplan.present.offline import render_offline
    from netplan.present.webmap import plan_map
    from netplan.scenario import Scenario

    from conftest import DEMO_SCENARIO

    result, _ = demo_run
    customers = scaled_customers(100_000)
    customers.to_csv(tmp_path / "customers.csv", index=False)
    doc = yaml.safe_load(DEMO_SCENARIO.read_text())
    for key in ("demand", "outlets", "candidates", "regions"):
        doc[key]["path"] = str((DEMO_SCENARIO.parent / doc[key]["path"]).resolve())
    doc["demand"]["path"] = str(tmp_path / "customers.csv")
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(doc))
    demand = load_inputs(Scenario.from_yaml(tmp_path / "s.yaml")).demand
    assert len(demand) == 100_000
    scenario, plan = result.scenario, result.plan
    big = RunResult(
        plan,
        evaluate(plan.outlets, demand, scenario),
        evaluate(baseline_outlets(plan.inputs), demand, scenario),
        result.checks,
    )
    page = render_offline(plan_map(big)).replace("\\u00b7", "·")
    size = len(page.encode("utf-8"))
    assert size < 15_000_000, f"{size / 1e6:.1f} MB"
    # aggregated: no layer has more cells than the cap, and there is no marker per customer
    for block in re.findall(r"_add\((\{.*?\})\);", page, flags=re.S):
        assert block.count('"Polygon"') <= MAX_CELLS + 200  # + reach discs and regions
    assert page.count('"type": "Point"') < 200
    # brute force: community demand farther than 3 km from every open outlet of the plan
    to_utm = Transformer.from_crs("EPSG:4326", plan.outlets.crs, always_xy=True)
    x, y = to_utm.transform(customers["lon"].to_numpy(), customers["lat"].to_numpy())
    open_ = plan.outlets[plan.outlets["tier"] != ""]
    ox, oy = open_.geometry.x.to_numpy(), open_.geometry.y.to_numpy()
    reach = np.array([scenario.reach_matrix[scenario.tier_index(t), 2] for t in open_["tier"]])
    covered = np.zeros(len(x), dtype=bool)
    for j in range(len(ox)):  # one pass per outlet, vectorised over the 100 000 customers
        covered |= np.hypot(x - ox[j], y - oy[j]) <= reach[j] + 1e-6
    gap = customers["customers"].to_numpy()[~covered].sum()
    assert 0 < gap < customers["customers"].sum()
    assert f"Plan · gaps: community point ({gap:,.0f} uncovered)" in page


# --------------------------------------------------------- controls, panels, compare
def test_grouped_layer_control_is_inlined_and_a_cdn_plugin_refused():
    import folium
    from folium.plugins import GroupedLayerControl

    from netplan.present.map_control import GroupedLayers
    from netplan.present.map_layers import layer_group
    from netplan.present.offline import ASSETS, render_offline
    from netplan.present.webmap import base_map

    m = base_map(9.0, 47.0, 10.0, 48.0)
    a = layer_group(m, "Plan · <b>x</b>", True)
    b = layer_group(m, "Today · y", False)
    GroupedLayers(m.netplan_base, {"Plan <i>": [a], "Today": [b], "Empty": []}).add_to(m)
    page = render_offline(m)
    assert "netplan-inline:" not in page and "cdnjs" not in page
    plugin = (ASSETS / "leaflet.groupedlayercontrol.js").read_text(encoding="utf-8")
    assert plugin.split("//# sourceMappingURL")[0].strip() in page
    css = (ASSETS / "leaflet.groupedlayercontrol.css").read_text(encoding="utf-8")
    assert css in page
    assert '"Plan \\u0026lt;i\\u0026gt;": {' in page and '"Empty"' not in page  # escaped; none empty
    assert '"Plain background": feature_group_' in page  # the base layers are radio buttons
    assert f"{b.get_name()}.remove();" in page and f"{a.get_name()}.remove();" not in page

    m2 = base_map(9.0, 47.0, 10.0, 48.0)
    c = layer_group(m2, "x", True)
    GroupedLayerControl({"g": [c]}).add_to(m2)  # folium's own: loads from a CDN
    folium.LayerControl().add_to(m2)
    with pytest.raises(RuntimeError, match="external assets"):
        render_offline(m2)


def test_outlet_flows_add_up_per_tier():
    import numpy as np

    from netplan.present.map_panels import outlet_flows

    #            kept  kept  close  out 0→1  out 1→2  open→0  open→2  none  kept(2)  close(2)
    current = np.array([0, 1, 1, 0, 1, -1, -1, -1, 2, 2])
    planned = np.array([0, 1, -1, 1, 2, 0, 2, -1, 2, -1])
    rows = outlet_flows(current, planned, ["A", "B", "C"])
    got = [
        (r["today"], r["kept"], r["open"], r["close"], r["retier_in"], r["retier_out"], r["plan"])
        for r in rows
    ]
    assert got == [(2, 1, 1, 0, 0, 1, 2), (3, 1, 0, 1, 1, 1, 2), (2, 1, 1, 1, 1, 0, 3)]
    for today, _, opened, closed, r_in, r_out, plan in got:
        assert today - closed - r_out + opened + r_in == plan


def test_compare_default_level_and_run_names():
    from types import SimpleNamespace

    import pandas as pd

    from netplan.present.compare_map import largest_change_level, run_name

    kpis = pd.DataFrame(
        {
            "region": ["all", "all", "all", "N"],
            "level": ["r", "c", "p", "r"],
            "covered_pct_delta": [2.1, -8.9, 1.6, 40.0],  # a region's change does not count
        }
    )
    assert largest_change_level(SimpleNamespace(kpis=kpis)) == "c"
    kpis.loc[2, "covered_pct_delta"] = 8.9  # a tie: the more local level
    assert largest_change_level(SimpleNamespace(kpis=kpis)) == "p"
    run = SimpleNamespace(label="out_a", record={"scenario": {"name": "demo"}})
    assert run_name(run) == "demo (out_a)"
    assert run_name(SimpleNamespace(label="demo", record={"scenario": {"name": "demo"}})) == "demo"
    assert run_name(SimpleNamespace(label="x", record={})) == "x"
