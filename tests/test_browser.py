"""Open the exported map in headless Chromium with the network cut off, as a person would."""

from __future__ import annotations

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
    _toggle(page, "Covered in B only: city station")
    assert _overlay_paths(page) > before
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


@pytest.mark.parametrize("page_name", ["map", "compare"])
def test_demo_pages_open_at_phone_size(browser, demo_run, demo_compare, page_name):
    """At 390 × 844 the fixed side margins of fitBounds (500 px) were wider than the map and
    Leaflet threw ``Invalid LatLng object: (NaN, NaN)``; the margins now shrink with the width
    and the view fits the data."""
    path = demo_run[1] / "map.html" if page_name == "map" else demo_compare[1] / "compare.html"
    context = browser.new_context(viewport={"width": 390, "height": 844}, offline=True)
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
