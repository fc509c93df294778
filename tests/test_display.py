"""Inline display in Jupyter: HTML summaries carry the real KPIs, explore() maps work offline."""

from __future__ import annotations

import html as html_module
import re
import warnings

import folium
import pytest

import netplan


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from conftest import write_small_case

    path = write_small_case(tmp_path_factory.mktemp("display") / "case")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return netplan.run_scenario(netplan.Scenario.from_yaml(path))


def _cells(html: str) -> list[str]:
    return [c.strip() for c in re.findall(r"<td>(.*?)</td>", html)]


def test_run_and_plan_html_show_the_kpis_and_solver_status(run):
    html = run._repr_html_()
    kpis = run.kpi_table()
    kpis = kpis[kpis["region"] == "all"]
    cells = _cells(html)
    for r in kpis.itertuples():
        i = cells.index(r.level)
        assert cells[i + 1] == f"{r.covered_pct_baseline:.1f}"
        assert cells[i + 2] == f"{r.covered_pct_plan:.1f}"
    assert "optimal" in html and f"{len(run.checks)}/{len(run.checks)} checks passed" in html
    plan_html = run.plan._repr_html_()
    counts = run.plan.counts()
    cells = _cells(plan_html)
    for tier, row in counts.iterrows():
        i = cells.index(tier)
        assert cells[i + 1 : i + 5] == [
            str(int(v)) for v in row[["keep", "open", "retier", "close"]]
        ]
    assert f"{run.plan.cost()['total']:,.0f}" in plan_html


def test_evaluation_html_matches_level_kpis(run):
    ev = run.baseline
    html = ev._repr_html_()
    cells = _cells(html)
    for r in ev.level_kpis().itertuples():
        i = cells.index(r.level)
        assert cells[i + 2] == f"{r.covered_pct:.1f}" and cells[i + 3] == f"{r.gap_pct:.1f}"
    assert f"{len(ev.open_outlets)} open outlets" in html


@pytest.mark.parametrize("who", ["run", "plan", "evaluation"])
def test_explore_returns_an_offline_folium_map(run, who):
    obj = {"run": run, "plan": run.plan, "evaluation": run.baseline}[who]
    m = obj.explore()
    assert isinstance(m, folium.Map)
    inline = m._repr_html_()
    assert inline.startswith("<iframe srcdoc=")
    assert "netplan-inline:" not in inline  # the Leaflet placeholder was replaced by the code
    page = html_module.unescape(inline)
    assert not re.search(r'<(?:script|link)[^>]+(?:src|href)="(?!data:)', page)  # no CDN
    assert "L.map(" in page
