"""report.html of the demo in headless Chromium on a phone (390 × 844) and a desktop (1440 × 900)."""

from __future__ import annotations

import io

import pytest

from conftest import chromium_path, on_ci

CHROMIUM = chromium_path()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not on_ci(), reason="Chromium is not installed (CI installs it)"
)


@pytest.fixture(scope="module")
def browser():
    assert CHROMIUM is not None, "CI=true but Chromium is missing: .ci/run installs Debian's chromium"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
        )
        yield b
        b.close()


@pytest.mark.parametrize(("width", "height"), [(390, 844), (1440, 900)])
def test_report_fits_the_screen(browser, demo_run, tmp_path, width, height):
    from PIL import Image

    _, out = demo_run
    context = browser.new_context(viewport={"width": width, "height": height}, offline=True)
    page = context.new_page()
    errors: list[str] = []
    failed: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.goto((out / "report.html").as_uri())
    page.wait_for_load_state("load")
    assert errors == [] and failed == []
    # no horizontal scroll of the page: the layout width is the viewport's
    assert page.evaluate("window.innerWidth") == width
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.evaluate("document.body.scrollWidth") <= width
    # the summary comes first and is on the first screen
    top = page.locator("#summary").bounding_box()
    assert top is not None and top["y"] < height / 2
    image = page.locator("img.plan-image").bounding_box()
    assert image is not None and image["width"] > 200 and image["x"] + image["width"] <= width
    assert page.evaluate("document.querySelector('img.plan-image').naturalWidth") > 200
    if width == 390:  # a wide table scrolls inside its own box, not the page
        wide = page.evaluate(
            "[...document.querySelectorAll('.scroll')].filter(e => e.scrollWidth > e.clientWidth).length"
        )
        assert wide > 0
    shot = Image.open(io.BytesIO(page.screenshot(full_page=False))).convert("RGB")
    (tmp_path / f"report-{width}.png").write_bytes(page.screenshot(full_page=True))
    assert shot.size == (width, height)
    assert len(shot.getcolors(maxcolors=1_000_000) or []) > 50  # not blank
    context.close()
