"""Every notebook in notebooks/ runs top to bottom without error (offline, on the demo region)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import nbclient  # in the test extra: never skipped
import nbformat
import pytest

from conftest import on_ci

ROOT = Path(__file__).resolve().parents[1]
MAX_OUTPUTS = 5_000_000  # bytes of saved outputs per notebook
SHARED = ROOT.parent / "shared" / "data" / "liechtenstein"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_notebooks_exist_and_are_stored_without_outputs():
    assert {p.stem for p in NOTEBOOKS} >= {"quickstart", "diagnose", "budget_sweep", "drive_time", "roadmap"}
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert code, path.name
        assert all(not c.outputs and c.execution_count is None for c in code), (
            f"{path.name}: clear the outputs before committing"
        )


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path):
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()  # raises CellExecutionError naming the cell on any error
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    html = "".join(o.get("data", {}).get("text/html", "") for o in outputs)
    # what a saved notebook would carry, and no solver banner among it
    size = len(json.dumps([c.outputs for c in nb.cells if c.cell_type == "code"]))
    assert size < MAX_OUTPUTS, f"{path.name}: {size:,} bytes of outputs"
    printed = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    assert "Running HiGHS" not in printed and "Copyright" not in printed
    for o in outputs:  # every repr a notebook prints is short
        assert len(o.get("data", {}).get("text/plain", "")) <= 4096
    if path.stem == "quickstart":
        assert "netplan run" in html and "optimal" in html  # RunResult._repr_html_
        assert "<iframe srcdoc=" in html and "cdn." not in html  # the offline inline map
    if path.stem == "roadmap":
        pngs = [o["data"]["image/png"] for o in outputs if "image/png" in o.get("data", {})]
        assert len(pngs) == 1  # coverage by phase, exact beside greedy
        printed_all = printed + "".join(o.get("data", {}).get("text/plain", "") for o in outputs)
        assert "checks passed: " in printed and "exact" in printed_all and "greedy" in printed_all
        assert "<iframe srcdoc=" in html and "cdn." not in html  # the offline map, a layer per phase
        assert "exclusiveGroups" in html and "2027 pilot" in html  # the phases as radio buttons
    if path.stem == "budget_sweep":
        assert "sweep</b> of budget.total: 4 points, 0 failed" in html
        pngs = [o["data"]["image/png"] for o in outputs if "image/png" in o.get("data", {})]
        assert len(pngs) == 1  # the curve, once
        png = base64.b64decode(pngs[0])
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
        assert (width, height) == (880, 528)  # 8 x 4.8 inches at 110 dpi
    if path.stem == "diagnose":
        assert "netplan evaluation" in html
        text = "".join(o.get("text", "") for o in outputs)
        if SHARED.exists() or on_ci():  # ../shared is there in the repo's CI: never skip there
            assert "skipped" not in text
            assert "netplan evaluation</b> · liechtenstein" in html
    if path.stem == "drive_time":
        text = "".join(o.get("text", "") for o in outputs)
        if SHARED.exists() or on_ci():
            assert "skipped" not in text
            assert "status='optimal'" in "".join(
                o.get("data", {}).get("text/plain", "") for o in outputs
            )
            assert "community reach 8 min: covered" in text
