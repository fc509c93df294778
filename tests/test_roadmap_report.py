"""report.html of a roadmap (issue 25): the three coverage-years, the phase table and the actions
as in the run's files, in English and zh-CN; opens in Chromium at phone and desktop sizes."""

from __future__ import annotations

import html
import re

import pandas as pd
import pytest
import yaml

from netplan import Scenario
from netplan.present.messages.zh_CN import MESSAGES as ZH
from netplan.roadmap_pipeline import run_roadmap, write_roadmap

from conftest import chromium_path, on_ci, write_small_case

PHASES = [
    {"name": "2027 pilot", "years": 1, "budget": {"capex": 300}},
    {"name": "2028-2030", "years": 3, "budget": {"capex": 400}, "growth": {"all": 1.3}},
]


def roadmap_folder(folder, **changes):
    path = write_small_case(folder / "case", phases=PHASES, **changes)
    raw = yaml.safe_load(path.read_text())
    del raw["costs"]["horizon_years"]
    raw["budget"] = {}
    s = Scenario.from_dict(raw, base_dir=folder / "case")
    run = run_roadmap(s)
    return run, write_roadmap(run, folder / "out")


@pytest.fixture(scope="module")
def en_run(tmp_path_factory):
    return roadmap_folder(tmp_path_factory.mktemp("rr"))


@pytest.fixture(scope="module")
def zh_run(tmp_path_factory):
    tiers = [
        {"key": "hub", "name": "区域中心", "reach": "8 km"},
        {"key": "point", "name": "社区服务站", "reach": "2 km", "linkage": "12 km"},
    ]
    return roadmap_folder(tmp_path_factory.mktemp("rrzh"), locale="zh-CN", tiers=tiers)


def test_report_states_the_figures_of_the_run(en_run):
    run, out = en_run
    page = html.unescape((out / "report.html").read_text(encoding="utf-8"))
    cy = run.plan.coverage_years()
    pct = 100 * (cy["exact"] - cy["greedy"]) / cy["greedy"]
    years = f"{run.plan.problem.years.sum():g}"
    assert (
        f"Over {years} years the exact roadmap gives {cy['exact']:,.1f} coverage-years (each phase's "
        f"covered demand × its years, summed): {cy['gain_over_greedy']:,.1f} more than opening "
        f"outlets greedily one by one ({cy['greedy']:,.1f}, {pct:+.1f} %)."
    ) in page
    # final_first: its figure and the gain, or why there is none; the verdict in plain words
    if cy["final_first"] is not None:
        assert f"Fixing the best end state first and then ordering its actions gives {cy['final_first']:,.1f}" in page
    else:
        assert "cannot be reached within the phase budgets" in page
    assert run.plan.status == "optimal"
    assert '<p id="verdict">The roadmap is proven optimal: no other roadmap' in page
    assert "Solver status" not in page
    # the years column: phases as written (1, 2), nothing for today's row
    assert "<td>1.0</td>" not in page and "<td>today</td><td></td>" in page
    actions = pd.read_csv(out / "roadmap.csv")
    for row in actions.itertuples():
        assert f"<td>{row.site_id}</td>" in page
    assert page.count("<svg") >= 2
    phases = pd.read_csv(out / "phases.csv")
    assert f"<td>{phases['phase'].iloc[1]}</td>" in page


def test_zh_report_is_chinese(zh_run):
    run, out = zh_run
    page = (out / "report.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in page
    for key in ("roadmap.phases", "roadmap.actions", "roadmap.chart_coverage", "roadmap.capex_spent"):
        assert ZH[key] in page, key
    assert "Coverage-years" not in page and "Actions by phase" not in page
    assert ZH["roadmap.verdict.optimal"] in page and "覆盖人年为" in page
    # no words in the charts: ticks are numbers, their meaning in the key beside them
    for svg in re.findall(r"<svg.*?</svg>", page, flags=re.S):
        for chunk in re.findall(r"<text[^>]*>(.*?)</text>", svg, flags=re.S):
            assert re.fullmatch(r"[\s0-9.,=+\-−]*", re.sub(r"<[^>]+>", "", chunk)), chunk


@pytest.mark.skipif(chromium_path() is None and not on_ci(), reason="Chromium is not installed (CI installs it)")
@pytest.mark.parametrize(("width", "height"), [(390, 844), (1440, 900)])
def test_report_opens_in_chromium(en_run, zh_run, width, height):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(),
                                    args=["--no-sandbox", "--disable-gpu", "--no-first-run"])  # fmt: skip
        for _, out in (en_run, zh_run):
            page = browser.new_context(viewport={"width": width, "height": height}, offline=True).new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
            page.on("console", lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None)
            page.goto((out / "report.html").as_uri())
            page.wait_for_load_state("load")
            assert errors == []
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            assert page.locator("svg").count() >= 2
        browser.close()


@pytest.mark.skipif(chromium_path() is None and not on_ci(), reason="Chromium is not installed (CI installs it)")
@pytest.mark.parametrize(("width", "height"), [(390, 844), (1440, 900)])
def test_map_has_a_phase_control_and_the_kpi_box_follows_it(en_run, width, height):
    """One radio button per phase (today first, the last phase shown at load); choosing
    today shows today's key figures, and the page works offline with no error."""
    from playwright.sync_api import sync_playwright

    run, out = en_run
    names = ["today", *run.plan.phase_names]
    table = run.plan.phase_table()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(),
                                    args=["--no-sandbox", "--disable-gpu", "--no-first-run"])  # fmt: skip
        page = browser.new_context(viewport={"width": width, "height": height}, offline=True).new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto((out / "map.html").as_uri())  # noqa: B023
        page.wait_for_load_state("load")
        page.wait_for_timeout(300)
        radios = page.locator(".leaflet-control-layers-overlays input[type=radio]")
        assert radios.count() == len(names)
        labels = page.locator(".leaflet-control-layers-overlays label:not(.leaflet-control-layers-group-label)").all_inner_texts()
        assert [lab.strip().split(" (")[0] for lab in labels] == names
        visible = page.locator("#np-kpi .np-phase:not([hidden])")
        assert visible.count() == 1 and visible.get_attribute("data-phase") == str(len(names) - 1)
        if not radios.nth(0).is_visible():  # a phone: the layer control starts collapsed
            page.locator(".leaflet-control-layers .np-toggle").click()
        radios.nth(0).check()  # today
        page.wait_for_timeout(100)
        visible = page.locator("#np-kpi .np-phase:not([hidden])")
        assert visible.get_attribute("data-phase") == "0"
        text = visible.inner_text()
        assert f"{table['covered_pct_point'].iloc[0]:.1f}" in text
        assert errors == []
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        browser.close()


def test_the_verdict_names_the_proven_stages_and_where_the_solve_stopped():
    """A run stopped in the distance tie-break after coverage-years and cost were proven (as the
    demo roadmap at 600 s) reads so in plain words, in both locales."""
    from types import SimpleNamespace

    from netplan.optimize.records import SolverRecord
    from netplan.present.roadmap_report import roadmap_verdict

    def rec(stage, status, gap):
        return SolverRecord(status, 1.0, 1.0, gap, 1.0, "HiGHS", "", 600.0, 0.0, stage=stage)

    result = SimpleNamespace(
        values={"coverage_years": 1.0, "cost": 2.0}, stopped_stage="distance",
        records=[rec("coverage_years", "optimal", 0.0), rec("cost", "optimal", 0.0),
                 rec("distance", "time_limit", 0.0123)],
    )  # fmt: skip
    plan = SimpleNamespace(status="time_limit", result=result)
    assert roadmap_verdict(plan, "en") == (
        "Proven best for coverage-years, cost; the distance tie-break stage stopped at the time "
        "limit, within 1.2 % of the best possible."
    )
    assert roadmap_verdict(plan, "zh-CN").startswith("已证明最优的阶段：覆盖人年、费用；距离次级优化阶段在时间限制时停止")
    result.records[-1].gap = 1.0  # no bound yet: 100 %, not "1e+02"
    assert roadmap_verdict(plan, "en").endswith("stopped at the time limit, within 100 % of the best possible.")
    result.values, result.stopped_stage = {}, "coverage_years"
    result.records = [rec("coverage_years", "time_limit", 0.05)]
    assert roadmap_verdict(plan, "en") == (
        "Not proven best: the coverage-years stage stopped at the time limit, within 5 % of the best possible."
    )


def test_each_phase_of_the_map_shows_its_uncovered_cells_on_one_colour_ramp(en_run):
    """Every phase's layer has the cells where its lowest level is still uncovered (as many
    polygons as the cells of its gaps), coloured on one ramp for all phases, so a phase with
    little left uncovered looks light."""
    import numpy as np

    from netplan.present.map_cells import _classes, cell_size, demand_cells

    run, out = en_run
    scenario = run.plan.scenario
    level = scenario.n_tiers - 1
    size = cell_size(scenario.reach_matrix[level, level], scenario.unit)
    expected = 0
    for ev in (run.baseline, *run.evaluations):
        gaps = ev.gaps()
        gaps = gaps[gaps["level"] == scenario.tier_keys[level]]
        expected += len(demand_cells(gaps, gaps["weight"].to_numpy(), size))
    assert expected > 0
    page = (out / "map.html").read_text(encoding="utf-8")
    assert len(re.findall(r'"type": *"Polygon"', page)) == expected
    # the shared ramp: the same values are lighter against a wider scale
    assert _classes(np.array([1.0, 10.0]), 5).tolist() == [0, 4]
    assert _classes(np.array([1.0, 10.0]), 5, scale=(1.0, 1000.0)).tolist() == [0, 1]


def test_final_first_words_give_the_figure_its_fallback_and_proof():
    """final_first in a sentence: its figure and the exact roadmap's gain; when the single-plan
    end state was out of reach, both end-state coverages; a time-limited one says so."""
    from types import SimpleNamespace

    from netplan.present.roadmap_words import final_first_words

    figures = {"exact": 857923.4, "final_first": 850000.0, "gain_over_final_first": 7923.4}
    ff = SimpleNamespace(status="optimal", unreachable_end_coverage=None, values={})
    plan = SimpleNamespace(objective="coverage_years", other=ff, result=None)
    assert final_first_words(plan, figures, "en") == (
        "Fixing the best end state first and then ordering its actions gives 850,000.0; the "
        "exact roadmap gains 7,923.4 (+0.9 %) over it."
    )
    ff.unreachable_end_coverage, ff.values = 188731.0, {"end_coverage": 186321.8}
    ff.status = "time_limit"
    assert final_first_words(plan, figures, "en") == (
        "The single best end state (last-phase coverage 188,731.0) cannot be reached within the "
        "phase budgets; fixing the best reachable end state first (186,321.8) and then ordering "
        "its actions gives 850,000.0; the exact roadmap gains 7,923.4 (+0.9 %) over it. (That "
        "roadmap is not proven best of its kind: time limit.)"
    )
    assert "无法在各阶段预算内达到" in final_first_words(plan, figures, "zh-CN")
