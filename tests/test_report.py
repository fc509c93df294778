"""report.html: self-contained, escaped, and saying what kpis.csv and run.json say."""

from __future__ import annotations

import json
import re
import warnings

import pandas as pd
import pytest

import netplan

from conftest import write_small_case

EVIL = "<script>alert('x')</script>"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    path = write_small_case(folder / "case")
    cand = pd.read_csv(path.parent / "candidates.csv")
    cand["name"] = [f"{EVIL} {i}" for i in range(len(cand))]
    cand.to_csv(path.parent / "candidates.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = netplan.run_scenario(netplan.Scenario.from_yaml(path))
    out = netplan.write_run(result, folder / "out")
    return result, out, (out / "report.html").read_text(encoding="utf-8")


def test_report_is_self_contained(report):
    _, out, html = report
    assert html.count("<svg") == 4
    assert "<script" not in html  # no script at all, and names are escaped
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "<link" not in html and "@import" not in html
    assert (out / "report.html").stat().st_size < 2_000_000


def test_names_from_inputs_are_escaped(report):
    result, _, html = report
    opened = result.plan.outlets.query("action == 'open'")
    assert len(opened) > 0
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html


def test_report_numbers_match_kpis_and_run_json(report):
    _, out, html = report
    kpis = pd.read_csv(out / "kpis.csv")
    for row in kpis[kpis["region"] == "all"].itertuples():
        assert f"<td>{row.covered_pct_baseline:.1f}</td><td>{row.covered_pct_plan:.1f}</td>" in html
    run = json.loads((out / "run.json").read_text())
    assert f"<b>{run['solver']['status']}</b>" in html
    assert f"Cost {run['cost']['plan']['total']:,.0f}" in html
    for check in run["validator"]:
        assert check["rule"] in html
