"""Open the exported map in headless Chromium with the network cut off, as a person would."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from conftest import chromium_path, on_ci

CHROMIUM = chromium_path()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not on_ci(), reason="Chromium is not installed (CI installs it)"
)


@pytest.fixture(scope="module")
def browser():
    assert CHROMIUM is not None, (
        "CI=true but Chromium is missing: .ci/run installs Debian's chromium"
    )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        yield b
        b.close()


def _watched_page(context):
    """A new page recording page errors, console errors and failed requests."""
    page = context.new_page()
    errors: list[str] = []
    failed: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("requestfailed", lambda r: failed.append(r.url))
    return page, errors, failed


def test_demo_map_offline(browser, demo_run, tmp_path):
    _, out = demo_run
    context = browser.new_context(viewport={"width": 1400, "height": 900}, offline=True)
    page, errors, failed = _watched_page(context)
    page.goto((out / "map.html").as_uri())
    page.wait_for_selector(".leaflet-control-layers")
    page.wait_for_timeout(500)
    assert errors == []
    assert failed == []
    labels = [
        t.strip() for t in page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
    ]
    for name in (
        "Regions",
        "Plan · regional centre (2)",
        "Today · outlets (25)",
        "Plan · linkage to supporting outlet",
    ):
        assert any(label.startswith(name) for label in labels), (name, labels)
    # toggling today's network adds its 25 markers to the map
    before = page.locator(".leaflet-marker-icon").count()
    page.locator(".leaflet-control-layers-overlays label", has_text="Today · outlets").locator(
        "input"
    ).check()
    page.wait_for_timeout(200)
    assert page.locator(".leaflet-marker-icon").count() == before + 25
    # the KPI panel shows the figures of kpis.csv
    kpis = pd.read_csv(out / "kpis.csv")
    row = kpis[(kpis["region"] == "all") & (kpis["level"] == "community")].iloc[0]
    panel = page.locator("#np-kpi").inner_text()
    assert (
        f"{row['covered_pct_baseline']:.1f}" in panel and f"{row['covered_pct_plan']:.1f}" in panel
    )
    # a popup opens on an outlet and shows its facts as text
    page.locator(".leaflet-marker-icon").first.dispatch_event(
        "click"
    )  # markers may overlap: no pointer needed
    page.wait_for_selector(".leaflet-popup-content")
    assert "Site" in page.locator(".leaflet-popup-content").inner_text()
    shot = tmp_path / "map.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 60_000  # a blank page compresses to a few kB
    context.close()


def test_demo_report_offline(browser, demo_run, tmp_path):
    """report.html opens with the network cut off: no error, no request, four charts, and the
    KPI numbers of kpis.csv; the screenshot is not blank."""
    _, out = demo_run
    context = browser.new_context(viewport={"width": 1200, "height": 1600}, offline=True)
    page, errors, failed = _watched_page(context)
    page.goto((out / "report.html").as_uri())
    assert errors == [] and failed == []
    assert page.locator("figure svg").count() == 4
    text = page.inner_text("body")
    kpis = pd.read_csv(out / "kpis.csv")
    for value in kpis.loc[kpis["region"] == "all", "covered_pct_plan"]:
        assert f"{value:.1f}" in text
    assert "optimal" in page.inner_text(".status")
    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot))
    from PIL import Image

    pixels = Image.open(shot).convert("L").getextrema()
    assert pixels[1] - pixels[0] > 100, "the screenshot is blank"
    context.close()


def _overlay_paths(page) -> int:
    return page.locator(".leaflet-overlay-pane path").count()


def _toggle(page, label: str) -> None:
    page.locator(".leaflet-control-layers-overlays label", has_text=label).first.locator(
        "input"
    ).click()
    page.wait_for_timeout(200)


def test_demo_map_toggling_areas_and_cells_changes_the_drawing(browser, demo_run):
    """Reach discs and overlap cells are drawn as SVG paths: toggling their layers adds and
    removes exactly their shapes; an overlap cell's tooltip gives the count of outlets."""
    result, out = demo_run
    kpis = pd.read_csv(out / "kpis.csv")
    n_points = int(
        kpis.loc[
            (kpis["region"] == "all") & (kpis["level"] == "community"), "outlets_of_tier_plan"
        ].iloc[0]
    )
    context = browser.new_context(viewport={"width": 1400, "height": 900}, offline=True)
    page, errors, failed = _watched_page(context)
    page.goto((out / "map.html").as_uri())
    page.wait_for_selector(".leaflet-control-layers")
    before = _overlay_paths(page)
    _toggle(page, "Plan · reach: community point")
    assert _overlay_paths(page) == before + n_points  # one disc per community point of the plan
    _toggle(page, "Plan · reach: community point")
    assert _overlay_paths(page) == before
    _toggle(page, "Plan · overlaps: regional centre")
    after = _overlay_paths(page)
    assert after > before
    # hover the overlap cells until one shows its tooltip with the count of covering outlets
    cells = page.locator(".leaflet-overlay-pane path")
    tip = ""
    for i in range(after - 1, before - 1, -1):
        box = cells.nth(i).bounding_box()
        if box is None or box["width"] < 3:
            continue
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_timeout(50)
        tips = page.locator(".leaflet-tooltip")
        if tips.count() and "covered 2+ times" in tips.first.inner_text():
            tip = tips.first.inner_text()
            break
    assert "by 2 outlets" in tip or "by 3 outlets" in tip or "by 4+ outlets" in tip, tip
    assert errors == [] and failed == []
    context.close()


def test_compare_map_offline(browser, demo_compare, tmp_path):
    """compare.html opens with the network cut off: no error, the change layers with their
    counts, one marker per site of either plan, and the cost delta of the comparison."""
    comparison, out = demo_compare
    context = browser.new_context(viewport={"width": 1400, "height": 900}, offline=True)
    page, errors, failed = _watched_page(context)
    page.goto((out / "compare.html").as_uri())
    page.wait_for_selector(".leaflet-control-layers")
    page.wait_for_timeout(300)
    assert errors == [] and failed == []
    labels = page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
    counts = comparison.change_counts()
    for name in (
        f"Added in B ({counts['added']})",
        f"Removed in B ({counts['removed']})",
        f"Re-tiered in B ({counts['retiered']})",
    ):
        assert any(label.strip() == name for label in labels), (name, labels)
    assert page.locator(".leaflet-marker-icon").count() == len(comparison.sites)
    before = _overlay_paths(page)
    assert any(label.strip().startswith("Covered in B only: city station (") for label in labels)
    _toggle(page, "Covered in B only: city station")  # the largest change: shown at load
    assert _overlay_paths(page) < before
    _toggle(page, "Covered in B only: community point")
    assert _overlay_paths(page) > 0
    panel = page.locator("#np-kpi").inner_text()
    assert f"{comparison.cost.loc['total', 'delta']:+,.0f}" in panel
    page.locator(".leaflet-marker-icon").first.dispatch_event("click")
    page.wait_for_selector(".leaflet-popup-content")
    assert "Tier in B" in page.locator(".leaflet-popup-content").inner_text()
    shot = tmp_path / "compare.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 40_000  # a blank page compresses to a few kB
    assert errors == [] and failed == []
    context.close()


@pytest.mark.parametrize("size", [(390, 844), (200, 260)], ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("page_name", ["map", "compare"])
def test_demo_pages_open_at_phone_size(browser, demo_run, demo_compare, page_name, size):
    """At 390 × 844 the fixed side margins of fitBounds (500 px) were wider than the map, so
    Leaflet's zoom for the bounds was NaN and it threw ``Invalid LatLng object: (NaN, NaN)``;
    the padding now comes from the panels' measured boxes and any padding that leaves no room
    is dropped, so the view fits the data even on a tiny screen."""
    path = demo_run[1] / "map.html" if page_name == "map" else demo_compare[1] / "compare.html"
    context = browser.new_context(viewport={"width": size[0], "height": size[1]}, offline=True)
    page, errors, failed = _watched_page(context)
    page.goto(path.as_uri())
    page.wait_for_selector(".leaflet-control-layers")
    page.wait_for_timeout(300)
    assert errors == [] and failed == []
    view = page.evaluate(
        "() => { const m = Object.values(window).find(v => v instanceof L.Map);"
        " const c = m.getCenter(); return [c.lat, c.lng, m.getZoom()]; }"
    )
    assert all(v == v for v in view), view  # no NaN
    assert 5 <= view[2] <= 12, view  # zoomed to the region, not to the world or a street
    context.close()


# ------------------------------------------------- pages on a phone and on a projector
SIZES = [(390, 844), (1440, 900)]
PANELS = ["#np-kpi", "#np-legend", "#np-regions", ".leaflet-control-layers"]

_GEOMETRY = """() => {
  const box = e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  const panels = {};
  for (const s of PANEL_SELECTORS) {
    const e = document.querySelector(s);
    if (e) panels[s] = {box: box(e), collapsed: e.classList.contains('np-collapsed')};
  }
  return {map: box(document.querySelector('.folium-map')), panels: panels,
          markers: [...document.querySelectorAll('.leaflet-marker-icon')].map(box)};
}""".replace("PANEL_SELECTORS", json.dumps(PANELS))


def _area(b) -> float:
    return max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1])


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _non_background_share(path) -> float:
    """Share of the screenshot's pixels that differ from its most common colour."""
    import numpy as np
    from PIL import Image

    px = np.asarray(Image.open(path).convert("RGB")).reshape(-1, 3)
    colours, counts = np.unique(px, axis=0, return_counts=True)
    background = colours[np.argmax(counts)]
    return float(np.mean(np.any(px != background, axis=1)))


def _open(browser, path, size):
    context = browser.new_context(
        viewport={"width": size[0], "height": size[1]}, offline=True
    )
    page, errors, failed = _watched_page(context)
    page.goto(path.as_uri())
    page.wait_for_selector(".leaflet-control-layers")
    page.wait_for_timeout(400)
    return context, page, errors, failed


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("page_name", ["map", "compare"])
def test_panels_leave_the_outlets_free(browser, demo_run, demo_compare, page_name, size, tmp_path):
    """No JS error; every panel covers at most a third of the map and no outlet marker at load;
    below 600 px every panel starts collapsed; the screenshot is not blank."""
    path = demo_run[1] / "map.html" if page_name == "map" else demo_compare[1] / "compare.html"
    context, page, errors, failed = _open(browser, path, size)
    assert errors == [] and failed == []
    geo = page.evaluate(_GEOMETRY)
    expected = {"#np-kpi", "#np-legend", ".leaflet-control-layers"}
    if page_name == "compare":
        expected.add("#np-regions")
    assert set(geo["panels"]) == expected
    map_area = _area(geo["map"])
    markers = geo["markers"]
    n_markers = 67 if page_name == "map" else len(demo_compare[0].sites)
    assert len(markers) == n_markers  # plan + closed outlets (map), every site (compare)
    for name, panel in geo["panels"].items():
        assert _area(panel["box"]) <= map_area / 3, (name, panel["box"], geo["map"])
        hidden = [m for m in markers if _overlap(m, panel["box"])]
        assert hidden == [], (name, panel["box"], hidden[:3])
        assert panel["collapsed"] == (size[0] < 600 or name == "#np-regions"), name
    shot = tmp_path / "shot.png"
    page.screenshot(path=str(shot))
    assert _non_background_share(shot) > 0.05, "the screenshot is (nearly) blank"
    context.close()


@pytest.mark.parametrize("page_name", ["map", "compare"])
def test_collapsed_panels_expand_on_click_at_phone_size(browser, demo_run, demo_compare, page_name):
    """At 390 × 844 a click on a collapsed panel's title shows its content, still within a
    third of the map; a second click hides it again."""
    path = demo_run[1] / "map.html" if page_name == "map" else demo_compare[1] / "compare.html"
    context, page, errors, failed = _open(browser, path, (390, 844))
    content = {
        "#np-kpi": "#np-kpi table",
        "#np-legend": "#np-legend .np-ramp",
        ".leaflet-control-layers": ".leaflet-control-layers-list",
    }
    map_area = _area(page.evaluate(_GEOMETRY)["map"])
    for panel, inner in content.items():
        assert not page.locator(inner).first.is_visible(), panel
        page.locator(f"{panel} > .np-toggle").click()
        page.wait_for_timeout(100)
        assert page.locator(inner).first.is_visible(), panel
        box = page.locator(panel).bounding_box()
        assert box["width"] * box["height"] <= map_area / 3, (panel, box)
        page.locator(f"{panel} > .np-toggle").click()
        page.wait_for_timeout(100)
        assert not page.locator(inner).first.is_visible(), panel
    assert errors == [] and failed == []
    context.close()


def test_layer_control_is_grouped_and_offline(browser, demo_run):
    """The layers sit in groups (plan, today, one per level, regions); the grouped control's
    code is inlined: no CDN address in the page."""
    result, out = demo_run
    html = (out / "map.html").read_text(encoding="utf-8")
    assert "cdnjs" not in html and "cdn.jsdelivr" not in html and "unpkg" not in html
    assert "L.Control.GroupedLayers=" in html  # the vendored plugin, inlined
    context, page, errors, failed = _open(browser, out / "map.html", (1440, 900))
    names = [
        t.strip() for t in page.locator(".leaflet-control-layers-group-name").all_inner_texts()
    ]
    labels = result.scenario.tier_labels
    assert names == ["Plan", "Today"] + [f"{lab}: plan and today" for lab in labels] + ["Regions"]
    members = page.evaluate(
        "() => Object.fromEntries([...document.querySelectorAll("
        "'.leaflet-control-layers-group')].map(g => [g.querySelector("
        "'.leaflet-control-layers-group-name').textContent.trim(), [...g.querySelectorAll("
        "'label:not(:has(.leaflet-control-layers-group-name))')].map(l => l.textContent.trim())]))"
    )
    assert members["Today"] == ["Today · outlets (25)", "Today · linkage to supporting outlet (21)"]
    assert members["Regions"] == ["Regions"]
    assert [m.split(" (")[0] for m in members["Plan"]] == [f"Plan · {lab}" for lab in labels] + [
        "Plan · closed outlets",
        "Plan · linkage to supporting outlet",
    ]
    for lab in labels:  # per level: gaps and overlaps of plan and today, the plan's reach
        assert [m.split(" (")[0] for m in members[f"{lab}: plan and today"]] == [
            f"Plan · gaps: {lab}",
            f"Today · gaps: {lab}",
            f"Plan · overlaps: {lab}",
            f"Today · overlaps: {lab}",
            f"Plan · reach: {lab}",
        ]
    assert errors == [] and failed == []
    context.close()


def _flow_rows(page) -> dict[str, list[int]]:
    rows = {}
    for row in page.locator("#np-kpi tr.np-flow").all():
        cells = [c.strip() for c in row.locator("td").all_inner_texts()]
        rows[cells[0]] = [int(v) for v in cells[1:]]
    return rows


def test_kpi_box_outlet_table_adds_up_against_plan_gpkg(browser, demo_run):
    """today − closed − re-tiered out + opened + re-tiered in = plan per tier, each figure as
    recounted from plan.gpkg's outlets layer."""
    import pyogrio

    result, out = demo_run
    outlets = pyogrio.read_dataframe(out / "plan.gpkg", layer="outlets")
    context, page, errors, failed = _open(browser, out / "map.html", (1440, 900))
    rows = _flow_rows(page)
    assert list(rows) == result.scenario.tier_labels
    for key, label in zip(result.scenario.tier_keys, result.scenario.tier_labels, strict=True):
        today, kept, opened, closed, r_in, r_out, plan = rows[label]
        o = outlets
        live = o["action"] != "close"
        assert today == int((o["current_tier"] == key).sum())
        assert kept == int(((o["action"] == "keep") & (o["tier"] == key)).sum())
        assert opened == int(((o["action"] == "open") & (o["tier"] == key)).sum())
        assert closed == int(((o["action"] == "close") & (o["current_tier"] == key)).sum())
        assert r_in == int(((o["action"] == "retier") & (o["tier"] == key)).sum())
        assert r_out == int(((o["action"] == "retier") & (o["current_tier"] == key)).sum())
        assert plan == int((live & (o["tier"] == key)).sum())
        assert today - closed - r_out + opened + r_in == plan
        assert kept + opened + r_in == plan
    assert sum(r[5] for r in rows.values()) == sum(r[4] for r in rows.values())  # in = out
    assert errors == []
    context.close()


def test_compare_default_level_and_region_table(browser, demo_compare):
    """The level with the largest coverage change (compare.json) starts shown, the others
    hidden; the per-region table shows kpi_deltas.csv's coverage and sites.csv's changes; the
    titles carry the scenarios' names."""
    import json

    comparison, out = demo_compare
    summary = json.loads((out / "compare.json").read_text())
    deltas = {k: abs(v["delta"]) for k, v in summary["covered_pct"].items()}
    top = max(deltas, key=deltas.get)
    name_of = dict(zip(comparison.a.tier_keys, comparison.a.tier_labels, strict=True))
    context, page, errors, failed = _open(browser, out / "compare.html", (1440, 900))
    for key, label in name_of.items():
        for text in ("Covered in B only", "Covered in A only"):
            box = page.locator(".leaflet-control-layers label", has_text=f"{text}: {label} (")
            assert box.locator("input").is_checked() == (key == top), (key, text)
    page.locator("#np-regions > .np-toggle").click()
    page.wait_for_timeout(100)
    kpis = pd.read_csv(out / "kpi_deltas.csv")
    sites = pd.read_csv(out / "sites.csv", keep_default_na=False)
    rows = {}
    for row in page.locator("#np-regions tr").all()[1:]:
        cells = [c.strip() for c in row.locator("td").all_inner_texts()]
        rows[cells[0]] = cells[1:]
    regions = sorted(set(kpis["region"]) - {"all"})
    assert sorted(rows) == regions
    for region in regions:
        cells = rows[region]
        k = kpis[kpis["region"] == region].set_index("level")
        for i, key in enumerate(comparison.a.tier_keys):
            r = k.loc[key]
            assert cells[i] == (
                f"{r['covered_pct_a']:.1f} → {r['covered_pct_b']:.1f} ({r['covered_pct_delta']:+.1f})"
            )
        here = sites[sites["region"] == region]["change"]
        n = len(comparison.a.tier_keys)
        assert [int(v) for v in cells[n:]] == [
            int((here == c).sum()) for c in ("added", "removed", "retiered")
        ]
    name_a = summary["scenario_a"]
    title = page.title()
    assert f"{name_a} (" in title and f"{summary['scenario_b']} (" in title
    assert f"A: {name_a} (" in page.locator("#np-kpi .np-title").inner_text()
    assert f"A: {name_a} (" in page.locator("#np-regions .np-title").inner_text()
    assert errors == [] and failed == []
    context.close()
