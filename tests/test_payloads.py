"""Pages built from a scenario full of markup payloads run none of it and show every name as text.

Tier names, the scenario name and description, site names and region names carry
``<img onerror>``, ``</script>``, quotes, template syntax, ``${…}``, ``<!--`` and matplotlib's
``$…$``. Each page (map.html, report.html, compare.html) is opened in real Chromium with every
layer on and every tooltip and popup opened; any dialog, page error or console error fails.

Also: maps of a network that straddles the antimeridian build and open with their markers in
view, and map/compare pages do not throw at phone size (390 × 844).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import yaml

from conftest import chromium_path, on_ci, write_small_case

CHROMIUM = chromium_path()
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None and not on_ci(), reason="Chromium is not installed (CI installs it)"
)

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "</script><script>alert(2)</script>"
QUOTES = "\"' `"
TEMPLATE = "{{ 7*7 }}"
DOLLAR = "${alert(3)}"
COMMENT = "<!--"
MATH = "$\\oops$"  # matplotlib would read this as mathtext, and fail
FIELD = "{0}"  # str.format would read this as a field
PAYLOADS = [IMG, SCRIPT, QUOTES, TEMPLATE, DOLLAR, COMMENT, MATH, FIELD]

SCENARIO_NAME = f"Plan {IMG} {SCRIPT} {TEMPLATE} {DOLLAR} {COMMENT}"
HUB = f"Hub {IMG} {QUOTES} {TEMPLATE} {FIELD}"
POINT = f"Point {SCRIPT} {COMMENT} {DOLLAR} {MATH}"
REGION_W = f"West {IMG} {QUOTES}"
REGION_E = f"East {SCRIPT} {TEMPLATE} {COMMENT}"
SITE_NAMES = [f"Site {i} {PAYLOADS[i % len(PAYLOADS)]}" for i in range(30)]
OUTLET_NAMES = [f"Hub {SCRIPT}", f"Point {IMG}", f"Point {QUOTES}\u2028{DOLLAR}"]
RUN_A = f"run {IMG} {QUOTES} {TEMPLATE} {DOLLAR}"  # a folder name: no "/" in it


def _payload_case(folder: Path, budget: str) -> Path:
    """The small case of conftest with payloads in every free-text name it has."""
    path = write_small_case(
        folder,
        name=SCENARIO_NAME,
        description=f"About {IMG} {SCRIPT} {TEMPLATE}",
        tiers=[
            {"key": "hub", "name": HUB, "reach": "8 km"},
            {"key": "point", "name": POINT, "reach": "2 km", "linkage": "12 km"},
        ],
        budget={"total": budget},
    )
    cand = pd.read_csv(folder / "candidates.csv")
    cand["name"] = SITE_NAMES
    cand.to_csv(folder / "candidates.csv", index=False)
    outlets = pd.read_csv(folder / "outlets.csv")
    outlets["name"] = OUTLET_NAMES
    outlets.to_csv(folder / "outlets.csv", index=False)
    # two regions, split at the middle of the case's longitudes (9.50 to 9.75)
    west = shapely.box(9.4, 47.0, 9.625, 47.3)
    east = shapely.box(9.625, 47.0, 9.85, 47.3)
    regions = gpd.GeoDataFrame({"region": [REGION_W, REGION_E]}, geometry=[west, east], crs=4326)
    regions.to_file(folder / "regions.geojson", driver="GeoJSON")
    scenario = yaml.safe_load(path.read_text())
    scenario["regions"] = {"path": "regions.geojson", "id": "region"}
    path.write_text(yaml.safe_dump(scenario, sort_keys=False))
    return path


def _run(scenario_path: Path, out: Path):
    from netplan.pipeline import run_scenario, write_run
    from netplan.scenario import Scenario

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = run_scenario(Scenario.from_yaml(scenario_path))
    write_run(result, out)
    return result


@pytest.fixture(scope="module")
def payload_pages(tmp_path_factory):
    """map.html and report.html of a payload run, and compare.html of two payload runs."""
    import netplan

    root = tmp_path_factory.mktemp("payloads")
    result = _run(_payload_case(root / "case_a", "1.5 x baseline"), root / RUN_A)
    _run(_payload_case(root / "case_b", "1.1 x baseline"), root / "b")
    comparison = netplan.compare(root / RUN_A, root / "b")  # the folder name labels run A
    netplan.write_comparison(comparison, root / "cmp")
    return {
        "result": result,
        "comparison": comparison,
        "map": root / RUN_A / "map.html",
        "report": root / RUN_A / "report.html",
        "compare": root / "cmp" / "compare.html",
    }


# ------------------------------------------------------------------- the files
def test_payloads_reach_the_pages_only_escaped(payload_pages):
    """No payload appears raw in any page; each page has only its own scripts."""
    # map and compare: Leaflet, the grouped layer control (both inlined) and the map script
    for name, scripts in (("map", 4), ("report", 0), ("compare", 4)):
        page = payload_pages[name].read_text(encoding="utf-8")
        for raw in (IMG, SCRIPT, COMMENT, "\u2028"):
            assert raw not in page, (name, raw)
        assert page.count("<script") == scripts, name


def test_layer_labels_are_escaped_then_json_encoded(payload_pages):
    page = payload_pages["map"].read_text(encoding="utf-8")
    # "Plan · <hub name> (1)" as a layer-control key: HTML-escaped, then JSON with \u003c etc.
    assert '"Plan \\u00b7 Hub \\u0026lt;img src=x onerror=alert(1)\\u0026gt; ' in page


def test_template_code_in_a_name_is_not_run(tmp_path, monkeypatch):
    """branca renders each page fragment as a jinja2 template again: unescaped, a layer name
    ``{{ cycler.__init__.__globals__.os.getcwd() }}`` put the working folder into the page
    (any Python could run there); escaped, the name stays text."""
    import folium

    from netplan.present.map_layers import layer_group
    from netplan.present.offline import render_offline
    from netplan.present.webmap import base_map

    monkeypatch.chdir(tmp_path)
    m = base_map(9.0, 47.0, 10.0, 48.0)
    layer_group(m, "Plan · {{ cycler.__init__.__globals__.os.getcwd() }} {{ 7*7 }}", True)
    folium.LayerControl().add_to(m)
    page = render_offline(m)
    assert str(tmp_path) not in page
    assert (
        '"Plan \\u00b7 \\u0026#123;\\u0026#123; cycler.__init__.__globals__.os.getcwd() '
        "\\u0026#125;\\u0026#125; \\u0026#123;\\u0026#123; 7*7 \\u0026#125;\\u0026#125;\"" in page
    )


def test_escaping_helpers():
    from netplan.present.markup import html_text, mpl_text, script_json

    assert html_text(f"{IMG} {QUOTES} {TEMPLATE}") == (
        "&lt;img src=x onerror=alert(1)&gt; &quot;&#x27; ` &#123;&#123; 7*7 &#125;&#125;"
    )
    assert html_text(None) == "" and html_text(float("nan")) == "" and html_text(3) == "3"
    assert script_json({"n": f"{SCRIPT}{COMMENT}\u2028'&"}) == (
        '{"n": "\\u003c/script\\u003e\\u003cscript\\u003ealert(2)\\u003c/script\\u003e'
        '\\u003c!--\\u2028\\u0027\\u0026"}'
    )
    assert mpl_text("$\\oops$ costs $5") == "\\$\\oops\\$ costs \\$5"
    assert mpl_text("_hidden") == " _hidden"


def test_lon_centre_and_unwrap():
    from netplan.present.map_coords import lon_centre, unwrap_lon

    assert lon_centre(np.array([9.5, 9.75, 9.6])) == 9.625
    assert lon_centre(np.array([179.9, -179.7, 179.5])) == pytest.approx(179.9)  # 179.5..180.3
    assert lon_centre(np.array([-179.95, 179.95])) == pytest.approx(-180.0)
    assert lon_centre(np.array([np.nan])) == 0.0
    geoms = shapely.points([[179.9, -17.0], [-179.9, -17.1], [9.123456789, 47.0]])
    xy = shapely.get_coordinates(unwrap_lon(geoms, 179.95))
    assert xy[:2].ravel().tolist() == pytest.approx([179.9, -17.0, 180.1, -17.1])
    assert xy[2].tolist() == [9.123456789, 47.0]  # 170.8° from the centre: left exactly as is
    square = shapely.box(179.9, -17.1, 180.1, -17.0)
    wrapped = shapely.Polygon((((x + 180) % 360) - 180, y) for x, y in square.exterior.coords)
    assert shapely.bounds(unwrap_lon(np.array([wrapped]), 0.0)[0]).tolist() == pytest.approx(
        [-179.9, -17.1, 179.9, -17.0]  # around 0 the square spans the world ...
    )
    assert shapely.bounds(unwrap_lon(np.array([wrapped]), 180.0)[0]).tolist() == pytest.approx(
        [179.9, -17.1, 180.1, -17.0]  # ... around the data's centre it is 0.2° wide
    )


def test_report_charts_draw_names_literally(payload_pages):
    """matplotlib draws ``$\\oops$`` as text (unescaped it is mathtext and fails to draw)."""
    page = payload_pages["report"].read_text(encoding="utf-8")
    assert "Point &lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt; &lt;!-- ${alert(3)} $\\oops$" in page


def test_jupyter_reprs_escape_names(payload_pages):
    from netplan.present.display import evaluation_html, evaluation_map, plan_html, run_html

    result = payload_pages["result"]
    for text in (
        run_html(result),
        plan_html(result.plan),
        evaluation_html(result.evaluation),
        result.explore()._repr_html_(),
        evaluation_map(result.baseline)._repr_html_(),
    ):
        assert IMG not in text and SCRIPT not in text and COMMENT not in text
    # the layer labels of the evaluation map: escaped (braces too), then JSON-encoded
    page = evaluation_map(result.baseline)._repr_html_()
    assert "gaps: Hub \\u0026lt;img src=x onerror=alert(1)\\u0026gt;" in page
    assert "Plan &lt;img src=x onerror=alert(1)&gt;" in run_html(result)


# ------------------------------------------------------------------ in Chromium
@pytest.fixture(scope="module")
def browser():
    assert CHROMIUM is not None, "CI=true but Chromium is missing: .ci/run installs Debian's chromium"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run"],
        )  # fmt: skip
        yield b
        b.close()


def _open(browser, path: Path, width: int = 1400, height: int = 900):
    """The page in a new offline context, recording dialogs, page errors and console errors."""
    context = browser.new_context(viewport={"width": width, "height": height}, offline=True)
    page = context.new_page()
    bad: list[str] = []

    def on_dialog(dialog) -> None:
        bad.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda e: bad.append(f"pageerror: {e}"))
    page.on("console", lambda m: bad.append(f"console: {m.text}") if m.type == "error" else None)
    page.goto(path.as_uri())
    return context, page, bad


# every overlay on, then every tooltip and popup opened once (Leaflet renders their HTML then)
_OPEN_ALL = """() => {
    const map = Object.keys(window).filter(k => k.startsWith('map_')).map(k => window[k])
        .find(v => v && v instanceof L.Map);
    const popups = [];
    map.eachLayer(layer => {
        if (layer.getTooltip && layer.getTooltip()) { layer.openTooltip(); }
        if (layer.getPopup && layer.getPopup()) {
            layer.openPopup();
            popups.push(layer.getPopup().getElement().innerText);
        }
    });
    const tips = Array.from(document.querySelectorAll('.leaflet-tooltip')).map(t => t.innerText);
    return {popups: popups, tips: tips};
}"""


def _everything(page) -> dict[str, list[str]]:
    page.wait_for_selector(".leaflet-control-layers")
    for box in page.locator(".leaflet-control-layers-overlays input").all():
        if not box.is_checked():
            box.check()
    shown = page.evaluate(_OPEN_ALL)
    page.wait_for_timeout(400)  # an injected <img onerror> fires after its failed load
    return shown


@needs_chromium
def test_map_runs_no_payload_and_shows_names(browser, payload_pages):
    context, page, bad = _open(browser, payload_pages["map"])
    shown = _everything(page)
    assert bad == []
    assert page.title() == f"netplan · {SCENARIO_NAME}"
    labels = page.locator(".leaflet-control-layers-overlays").inner_text()
    for name in (HUB, POINT):
        assert f"Plan · gaps: {name} (" in labels
        assert f"Plan · reach: {name} (" in labels
    assert "Plan · Hub " + IMG in labels
    panel = page.locator("#np-kpi").inner_text()
    assert f"{SCENARIO_NAME}: today → plan" in panel
    assert HUB in panel and POINT in panel
    legend = page.locator("#np-legend").inner_text()
    assert HUB in legend and POINT in legend
    popups = "\n".join(shown["popups"])
    tips = "\n".join(shown["tips"])
    for name in OUTLET_NAMES[:2]:
        assert name in popups and f"{name} · kept" in tips
    assert f"Region\t{REGION_W}" in popups  # outlet E1 lies in the west
    assert f"Region {REGION_W}" in tips and f"Region {REGION_E}" in tips
    assert f"{HUB}: " in tips and f"{POINT}: " in tips  # cell tooltips keep {{ }} and {0}
    assert f"{HUB} reach" in tips
    opened = [n for n in SITE_NAMES if n in popups]
    assert opened, "no opened site of the plan shows its name"
    context.close()


@needs_chromium
def test_report_runs_no_payload_and_shows_names(browser, payload_pages):
    context, page, bad = _open(browser, payload_pages["report"], 1200, 1600)
    page.wait_for_timeout(300)
    assert bad == []
    assert page.title() == f"{SCENARIO_NAME} – netplan report"
    text = page.inner_text("body")
    assert f"{SCENARIO_NAME}: network plan" in text
    assert f"About {IMG} {SCRIPT} {TEMPLATE}" in text
    for name in (HUB, POINT, REGION_W, REGION_E):
        assert name in text, name
    chart_text = page.locator("figure svg text").all_text_contents()
    assert HUB in chart_text and POINT in chart_text  # tick labels, literally
    assert f"{POINT} (plan)" in chart_text  # a legend entry of the distance chart
    context.close()


@needs_chromium
def test_compare_runs_no_payload_and_shows_names(browser, payload_pages):
    comparison = payload_pages["comparison"]
    context, page, bad = _open(browser, payload_pages["compare"])
    shown = _everything(page)
    assert bad == []
    labels = page.locator(".leaflet-control-layers-overlays").inner_text()
    assert f"Covered in B only: {HUB} (" in labels and f"Covered in A only: {POINT} (" in labels
    panel = page.locator("#np-kpi").inner_text()
    assert HUB in panel and POINT in panel
    # the scenario's name, then the run's folder (both payloads)
    assert f"A: {SCENARIO_NAME} ({RUN_A}) → B: {SCENARIO_NAME} (b)" in panel
    assert page.title() == f"netplan · compare {SCENARIO_NAME} ({RUN_A}) → {SCENARIO_NAME} (b)"
    popups = "\n".join(shown["popups"])
    for name in comparison.sites["name"]:
        assert name in popups, name
    assert len(shown["popups"]) == len(comparison.sites)
    context.close()


@needs_chromium
@pytest.mark.parametrize("name", ["map", "compare"])
def test_pages_open_at_phone_size_without_error(browser, payload_pages, name):
    """At 390 × 844 the fixed side margins (500 px) were wider than the map: NaN LatLng."""
    context, page, bad = _open(browser, payload_pages[name], 390, 844)
    page.wait_for_selector(".leaflet-control-layers")
    page.wait_for_timeout(300)
    assert bad == []
    centre = page.evaluate(
        "() => { const m = Object.keys(window).filter(k => k.startsWith('map_'))"
        ".map(k => window[k]).find(v => v instanceof L.Map); const c = m.getCenter();"
        " return [c.lat, c.lng, m.getZoom()]; }"
    )
    assert np.isfinite(centre).all(), centre
    context.close()


# ------------------------------------------------------------ the antimeridian
def _antimeridian_case(folder: Path, budget: str) -> Path:
    """The small case moved to Fiji: longitudes 179.85 to 180.10, written as -180..180."""
    path = write_small_case(folder, budget={"total": budget})
    for name in ("demand.csv", "candidates.csv", "outlets.csv"):
        frame = pd.read_csv(folder / name)
        lon = frame["lon"] - 9.50 + 179.85
        frame["lon"] = (lon + 180.0) % 360.0 - 180.0
        frame["lat"] = frame["lat"] - 47.10 - 17.0
        frame.to_csv(folder / name, index=False)
    # two regions that meet at the antimeridian, each written on its own side of it
    west = shapely.box(179.7, -17.2, 180.0, -16.8)
    east = shapely.box(-180.0, -17.2, -179.7, -16.8)
    regions = gpd.GeoDataFrame({"region": ["Fiji W", "Fiji E"]}, geometry=[west, east], crs=4326)
    regions.to_file(folder / "regions.geojson", driver="GeoJSON")
    scenario = yaml.safe_load(path.read_text())
    scenario["regions"] = {"path": "regions.geojson", "id": "region"}
    path.write_text(yaml.safe_dump(scenario, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def antimeridian_pages(tmp_path_factory):
    import netplan

    root = tmp_path_factory.mktemp("antimeridian")
    result = _run(_antimeridian_case(root / "case_a", "1.5 x baseline"), root / "a")
    _run(_antimeridian_case(root / "case_b", "1.1 x baseline"), root / "b")
    comparison = netplan.compare(root / "a", root / "b")
    netplan.write_comparison(comparison, root / "cmp")
    return result, root / "a" / "map.html", root / "cmp" / "compare.html"


def test_antimeridian_case_straddles_the_antimeridian(antimeridian_pages):
    result = antimeridian_pages[0]
    lon = result.evaluation.demand.to_crs(4326).geometry.x.to_numpy()
    assert (lon > 179.8).any() and (lon < -179.95).any()
    regions = set(result.evaluation.demand["region"])
    assert regions == {"Fiji W", "Fiji E"}
    record = json.loads((antimeridian_pages[1].parent / "run.json").read_text())
    assert record["solver"]["status"] == "optimal"


@needs_chromium
@pytest.mark.parametrize("which", [1, 2], ids=["map", "compare"])
def test_antimeridian_pages_show_every_marker_in_view(browser, antimeridian_pages, which):
    """Every marker lies in the view, and no cell, reach disc, line or region spans the world."""
    width, height = 1400, 900
    context, page, bad = _open(browser, antimeridian_pages[which], width, height)
    _everything(page)
    page.keyboard.press("Escape")
    assert bad == []
    markers = page.locator(".leaflet-marker-icon").all()
    assert len(markers) >= 5
    for marker in markers:
        box = marker.bounding_box()
        assert 0 <= box["x"] and box["x"] + box["width"] <= width, box
        assert 0 <= box["y"] and box["y"] + box["height"] <= height, box
    # every cell, reach disc, line and region spans well under a degree of longitude (the
    # data span 0.25°, each region 0.3°); drawn across ±180 naively one would span the world
    spans = page.evaluate(
        "() => { const m = Object.values(window).find(v => v instanceof L.Map); const s = [];"
        " m.eachLayer(l => { if (l instanceof L.Polyline) {"
        " const b = l.getBounds(); s.push(b.getEast() - b.getWest()); } }); return s; }"
    )
    assert len(spans) > 20
    assert max(spans) < 0.35, max(spans)
    context.close()


def test_cells_near_the_pole_use_a_local_projection():
    """Beyond 84° N there is no UTM zone (pyproj raised and the map of a haversine run was
    lost); the cells are drawn in an azimuthal equidistant projection centred on the data."""
    from netplan.present.map_cells import demand_cells as _cells
    from netplan.present.map_coords import in_metres

    lon, lat = np.array([179.8, 179.9, -179.9, -179.9]), np.array([89.5, 89.5, 89.51, 89.49])
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=4326)
    operation = in_metres(points).crs.coordinate_operation
    assert operation.method_name == "Azimuthal Equidistant"
    origin = {p.name: p.value for p in operation.params}
    assert origin["Latitude of natural origin"] == pytest.approx(89.5)
    assert origin["Longitude of natural origin"] == pytest.approx(179.95)  # across ±180
    cells = _cells(points, np.array([1.0, 2.0, 3.0, 4.0]), 500.0)
    assert cells["value"].sum() == 10.0 and cells["count"].sum() == 4
    south = gpd.GeoDataFrame(geometry=gpd.points_from_xy([9.5], [47.1]), crs=4326)
    assert in_metres(south).crs.to_epsg() == 32632  # elsewhere: the UTM zone, as before


def test_sweep_figure_and_repr_draw_names_literally(tmp_path):
    """A sweep of the payload case: the figure draws the tier and scenario names (``$\\oops$``
    unescaped fails to draw) and the Jupyter table shows them as text."""
    import io

    import netplan.sweep as sw
    from netplan.scenario import Scenario

    scenario = Scenario.from_yaml(_payload_case(tmp_path / "case", "1.5 x baseline"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = sw.run_sweep(scenario, [sw.budget_axis("1.2x,1.5x")], sequential=True)
    figure = result.figure()
    figure.savefig(io.BytesIO(), format="png")  # drawing is where mathtext would fail
    texts = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert POINT.replace("$", "\\$") in texts
    assert figure.axes[0].get_title().startswith(SCENARIO_NAME.replace("$", "\\$"))
    html = result._repr_html_()
    assert IMG not in html and SCRIPT not in html
