"""The exported map escapes every text that comes from input files."""

from __future__ import annotations

import pandas as pd
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
