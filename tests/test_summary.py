"""The executive summary: its sentences against kpis.csv, run.json and plan.gpkg of the same run,
"where it gets worse", the targets of a min_cost run, and costs.currency."""

from __future__ import annotations

import html as htmllib
import json
import re
import warnings

import numpy as np
import pandas as pd
import pyogrio
import pytest
from typer.testing import CliRunner

import netplan
from netplan._errors import ScenarioError
from netplan.present.formats import format_money

from conftest import write_small_case

SMALL_COSTS = {
    "horizon_years": 2,
    "direct": {
        "hub": {"open": 500, "operate": 100, "convert": 200, "close": 50},
        "point": {"open": 40, "operate": 10, "convert": 20, "close": 5},
    },
}


def _run(folder, **changes):
    path = write_small_case(folder / "case", **changes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = netplan.run_scenario(netplan.Scenario.from_yaml(path))
    out = netplan.write_run(result, folder / "out")
    return result, out, (out / "report.html").read_text(encoding="utf-8")


def _text(html: str, pattern: str) -> str:
    """The text of the first element matching ``pattern`` (tags dropped, entities decoded)."""
    m = re.search(pattern, html, flags=re.S)
    assert m, pattern
    return htmllib.unescape(re.sub(r"<[^>]+>", "", m.group(1)))


def _dist_km(kpis: pd.DataFrame, which: str) -> pd.Series:
    """Mean distance in km from kpis.csv (``dist_mean_km_*``, or metres in ``dist_mean_*``)."""
    if f"dist_mean_km_{which}" in kpis:
        return kpis[f"dist_mean_km_{which}"]
    return kpis[f"dist_mean_{which}"] / 1000.0


@pytest.fixture(scope="module")
def eur_run(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("eur"), costs={**SMALL_COSTS, "currency": "EUR"})


# ------------------------------------------------------------------ currency
def test_format_money():
    assert format_money(8_480_000.4, "EUR") == "EUR 8,480,000"
    assert format_money(8_480_000.4, None) == "8,480,000"
    assert format_money(-0.2, "CNY") == "CNY 0"
    assert format_money(None, "EUR") == "n/a"
    assert format_money(1_695_600.2, "EUR", signed=True) == "EUR +1,695,600"
    assert format_money(-20_000, None, signed=True) == "-20,000"
    assert format_money(-0.3, None, signed=True) == "+0"
    assert format_money(float("nan"), None) == "n/a"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("eur", "costs.currency: 'eur' is not an ISO 4217 code: give three upper-case letters such as EUR, USD or CNY; did you mean 'EUR'?"),
        ("EURO", "costs.currency: 'EURO' is not an ISO 4217 code: give three upper-case letters such as EUR, USD or CNY"),
        (12, "costs.currency: 12 is not an ISO 4217 code: give three upper-case letters such as EUR, USD or CNY"),
        ("XYZ", "costs.currency: 'XYZ' is no ISO 4217 currency code; give one such as EUR, USD or CNY, or leave costs.currency out to print plain numbers"),
    ],
)  # fmt: skip
def test_currency_errors_are_one_line(tmp_path, value, message):
    path = write_small_case(tmp_path / "case", costs={**SMALL_COSTS, "currency": value})
    with pytest.raises(ScenarioError) as info:
        netplan.Scenario.from_yaml(path)
    text = str(info.value)
    assert "\n" not in text
    assert text == f"{path}: {message}"


def test_currency_is_optional_and_kept(tmp_path):
    path = write_small_case(tmp_path / "a", costs=SMALL_COSTS)
    assert netplan.Scenario.from_yaml(path).costs.currency is None
    path = write_small_case(tmp_path / "b", costs={**SMALL_COSTS, "currency": "CNY"})
    assert netplan.Scenario.from_yaml(path).costs.currency == "CNY"


# ----------------------------------------------------- the sentences vs files
def test_decision_sentences_match_the_run_files(eur_run):
    _, out, html = eur_run
    decision = _text(html, r'<p class="decision">(.*?)</p>')
    kpis = pd.read_csv(out / "kpis.csv")
    run = json.loads((out / "run.json").read_text())
    outlets = pyogrio.read_dataframe(out / "plan.gpkg", layer="outlets", read_geometry=False)
    today = pyogrio.read_dataframe(out / "plan.gpkg", layer="baseline_outlets", read_geometry=False)
    # 1: what opens, closes, changes tier; outlets today and in the plan (plan.gpkg)
    opened = int((outlets["action"] == "open").sum())
    assert opened > 0
    assert f"opens {opened} new outlet" in decision
    closed = int((outlets["action"] == "close").sum())
    assert ("closes" in decision) == (closed > 0)
    n_plan = int((outlets["action"] != "close").sum())
    assert f"{len(today)} outlets today, {n_plan} in the plan." in decision
    # 2: the cost against today and the budget, in EUR (run.json)
    plan_cost, base_cost = run["cost"]["plan"]["total"], run["budget"]["baseline_cost"]
    assert f"It costs EUR {plan_cost:,.0f} over 2 years" in decision
    diff = plan_cost - base_cost
    more = "more" if diff > 0 else "less"
    assert f"EUR {abs(diff):,.0f} {more} than today's network (EUR {base_cost:,.0f})" in decision
    assert f"the budget is EUR {run['budget']['total']:,.0f}" in decision
    # 3: coverage per level, recomputed from covered / demand of kpis.csv
    for r in kpis[kpis["region"] == "all"].itertuples():
        before = 100 * r.covered_baseline / r.demand_baseline
        after = 100 * r.covered_plan / r.demand_plan
        delta = round(round(after, 1) - round(before, 1), 1)  # of the figures shown
        assert f"{r.level_name} {before:.1f} % → {after:.1f} % ({delta:+.1f} points)" in decision
    # the report opens with it: the summary precedes the scenario, the solver is in the appendix
    assert html.index('id="summary"') < html.index("<h2>The scenario</h2>")
    assert html.index("Appendix: solver record") > html.index("Checks by the independent validator")
    assert "The plan is <b>proven optimal</b>." in html
    assert '<a href="map.html">' in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert re.search(r'<img class="plan-image" src="data:image/png;base64,[A-Za-z0-9+/=]{2000,}"', html)
    # every cost printed carries the currency
    assert f"Cost EUR {plan_cost:,.0f} (today EUR {base_cost:,.0f})" in html
    assert "<th>cost (EUR)</th>" in html
    assert run["scenario"]["currency"] == "EUR"


def test_nothing_worse_is_said(eur_run):
    _, out, html = eur_run
    kpis = pd.read_csv(out / "kpis.csv")
    drop = kpis["covered_pct_baseline"] - kpis["covered_pct_plan"]
    rise = _dist_km(kpis, "plan") - _dist_km(kpis, "baseline")
    assert (drop < 0.5).all() and (rise < 0.5).all()  # the small case improves everywhere
    assert _text(html, r'<p class="worse">(.*?)</p>').startswith("Nothing gets worse")


def test_map_kpi_box_shows_the_currency(eur_run):
    _, out, _ = eur_run
    page = (out / "map.html").read_text(encoding="utf-8")
    run = json.loads((out / "run.json").read_text())
    assert f"EUR {run['budget']['baseline_cost']:,.0f} → <b>EUR {run['cost']['plan']['total']:,.0f}</b>" in page


def test_terminal_starts_with_the_summary(tmp_path):
    from netplan.cli import app

    path = write_small_case(tmp_path / "case", costs={**SMALL_COSTS, "currency": "EUR"})
    runner = CliRunner()
    res = runner.invoke(app, ["run", str(path), "--out", str(tmp_path / "out")], env={"COLUMNS": "400"})
    assert res.exit_code == 0, res.output
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    decision = _text(html, r'<p class="decision">(.*?)</p>')
    sentences = re.split(r"(?<=\.) (?=[A-Z])", decision)
    assert len(sentences) == 3
    lines = [line.strip() for line in res.output.splitlines() if line.strip()]
    first = next(i for i, line in enumerate(lines) if line.startswith("The plan "))
    assert lines[first : first + 3] == sentences
    assert lines[first + 3].startswith("Nothing gets worse")
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    assert f"→ plan EUR {run['cost']['plan']['total']:,.0f}" in res.output


# ------------------------------------------------------- where it gets worse
def test_demo_north_east_gets_worse(demo_run):
    result, out = demo_run
    html = (out / "report.html").read_text(encoding="utf-8")
    items = [htmllib.unescape(x) for x in re.findall(r'<ul class="worse">(.*?)</ul>', html, re.S)[0].split("<li>")[1:]]
    items = [re.sub(r"<[^>]+>", "", x).strip() for x in items]
    kpis = pd.read_csv(out / "kpis.csv")
    drop = kpis["covered_pct_baseline"] - kpis["covered_pct_plan"]
    rise = _dist_km(kpis, "plan") - _dist_km(kpis, "baseline")
    worse = kpis[((drop >= 0.5) | (rise >= 0.5)) & (kpis["demand_plan"] > 0)].copy()
    worse = worse.sort_values("demand_plan", ascending=False, kind="stable")
    assert len(items) == len(worse) > 0
    demands = [float(re.search(r"demand ([\d,]+)$", x).group(1).replace(",", "")) for x in items]
    assert demands == sorted(demands, reverse=True)  # largest affected demand first
    for r in worse.itertuples():
        place = "whole area" if r.region == "all" else r.region
        before = 100 * r.covered_baseline / r.demand_baseline
        after = 100 * r.covered_plan / r.demand_plan
        line = next(x for x in items if x.startswith(f"{place}, {r.level_name}:"))
        assert f"covered {before:.1f} % → {after:.1f} %" in line
        d0, d1 = _dist_km(kpis, "baseline")[r.Index], _dist_km(kpis, "plan")[r.Index]
        assert f"mean distance {d0:.1f} → {d1:.1f} km" in line
        assert line.endswith(f"demand {r.demand_plan:,.0f}")
    ne = [x for x in items if x.startswith("North-East, ")]
    assert any(x.startswith("North-East, regional centre: covered 100.0 % → ") for x in ne)
    # the decision's tier changes and closures per tier, from plan.gpkg
    decision = _text(html, r'<p class="decision">(.*?)</p>')
    label = dict(zip(kpis["level"], kpis["level_name"], strict=False))
    outlets = pyogrio.read_dataframe(out / "plan.gpkg", layer="outlets", read_geometry=False)
    moved = outlets[outlets["action"] == "retier"].groupby(["current_tier", "tier"]).size()
    assert len(moved) > 0
    assert f"changes the tier of {int(moved.sum())} (" in decision
    for (a, b), n in moved.items():
        assert f"{n} {label[a]} → {label[b]}" in decision
    closed = outlets[outlets["action"] == "close"].groupby("current_tier").size()
    shown = ", ".join(f"{closed[k]} {label[k]}" for k in label if k in closed)
    assert f"closes {int(closed.sum())} of today's ({shown})" in decision
    assert decision.startswith("The plan opens ")
    assert "It costs EUR " in decision


# ----------------------------------------------------------------- targets
def test_min_cost_targets_met_and_unreachable_demand(tmp_path):
    from pyproj import Transformer
    from scipy.spatial import cKDTree

    result, out, html = _run(
        tmp_path,
        costs=SMALL_COSTS,
        objective={"type": "min_cost", "targets": {"point": 0.9}},
        budget={},
    )
    targets = [_text(m, r"(.*)") for m in re.findall(r'<p class="targets">(.*?)</p>', html, re.S)]
    assert targets[0].startswith("Targets are shares of coverable demand")
    # demand no site can reach at the point level (2 km), recomputed from the input CSVs
    case = tmp_path / "case"
    dem = pd.read_csv(case / "demand.csv")
    sites = pd.concat([pd.read_csv(case / "candidates.csv"), pd.read_csv(case / "outlets.csv")])
    to_utm = Transformer.from_crs("EPSG:4326", "EPSG:32632", always_xy=True)
    dxy = np.column_stack(to_utm.transform(dem["lon"].to_numpy(), dem["lat"].to_numpy()))
    sxy = np.column_stack(to_utm.transform(sites["lon"].to_numpy(), sites["lat"].to_numpy()))
    nearest, _ = cKDTree(sxy).query(dxy)
    total = float(dem["customers"].sum())
    lost = float(dem.loc[nearest > 2000.0 + 1e-6, "customers"].sum())
    assert 0 < lost < total
    kpis = pd.read_csv(out / "kpis.csv")
    row = kpis[(kpis["region"] == "all") & (kpis["level"] == "point")].iloc[0]
    assert row["demand_plan"] == total
    covered = float(row["covered_plan"])
    of_coverable, of_all = 100 * covered / (total - lost), 100 * covered / total
    assert of_coverable >= 90.0 - 1e-6 > of_all  # met on coverable demand, not on all of it
    line = next(t for t in targets if t.startswith("point: "))
    assert line == (
        f"point: target 90.0 % of coverable demand, covered {of_coverable:.1f} % of coverable "
        f"({of_all:.1f} % of all): met"
    )
    unreachable = next(t for t in targets if t.startswith("Demand that no allowed site can reach"))
    assert f"point {lost:,.0f} of {total:,.0f} ({100 * lost / total:.1f} %)" in unreachable
    assert "budget limit" in _text(html, r'<p class="decision">(.*?)</p>')


def test_compare_cost_panel_shows_the_currency(eur_run, tmp_path):
    _, out_a, _ = eur_run
    _, out_b, _ = _run(
        tmp_path, costs={**SMALL_COSTS, "currency": "EUR"}, budget={"total": "2 x baseline"}
    )
    cost = [json.loads((o / "run.json").read_text())["cost"]["plan"]["total"] for o in (out_a, out_b)]
    assert cost[1] != cost[0]
    comparison = netplan.compare(out_a, out_b)
    written = netplan.write_comparison(comparison, tmp_path / "cmp")
    assert written["map"].resolve() == (tmp_path / "cmp" / "compare.html").resolve()
    page = written["map"].read_text(encoding="utf-8")
    delta = cost[1] - cost[0]
    assert f"Cost: EUR {cost[0]:,.0f} → <b>EUR {cost[1]:,.0f}</b> (Δ EUR {delta:+,.0f})" in page
    # and the terminal's headline of `netplan compare`
    from rich.console import Console

    from netplan.compare import print_summary

    console = Console(record=True, width=200)
    print_summary(comparison, console)
    line = f"cost: A EUR {cost[0]:,.0f} → B EUR {cost[1]:,.0f} (Δ EUR {delta:+,.0f})"
    assert line in console.export_text()


def test_solver_verdict_in_plain_words():
    from netplan.present.report import solver_words

    assert solver_words({"status": "optimal", "gap": 0.0}) == "proven optimal"
    assert (
        solver_words({"status": "time_limit", "gap": 0.0123})
        == "stopped at the time limit, within 1.2 % of the best possible"
    )
    assert solver_words({"status": "time_limit", "gap": None}) == "stopped at the time limit"


# ------------------------------------------------- deltas that add up as printed
def test_printed_deltas_are_those_of_the_printed_figures():
    """84.26 → 82.14 prints "84.3 % → 82.1 %": its delta reads -2.2 (not the exact -2.12 as
    "-2.1"); 84.34 → 82.06 prints "84.3 → 82.1" too, not "-2.3"; money in whole units likewise."""
    from netplan.evaluation.summary import LevelChange, Summary, Worsening
    from netplan.present.summary_text import (
        cost_sentence,
        coverage_sentence,
        shown_delta,
        worse_line,
    )

    assert shown_delta(84.26, 82.14) == -2.2 and round(82.14 - 84.26, 1) == -2.1
    assert shown_delta(84.34, 82.06) == -2.2 and round(82.06 - 84.34, 1) == -2.3
    levels = [
        LevelChange("city", "city", 1000.0, 84.26, 82.14),
        LevelChange("town", "town", 1000.0, 84.34, 82.06),
        LevelChange("village", "village", 1000.0, 10.04, 12.06),
    ]
    s = Summary("x", "max_coverage", "EUR", 2, [], levels, cost_today=500.4, cost_plan=1000.6,
                budget=1200.4, unit="km")  # fmt: skip
    assert coverage_sentence(s) == (
        "Coverage of all demand: city 84.3 % → 82.1 % (-2.2 points); "
        "town 84.3 % → 82.1 % (-2.2 points); village 10.0 % → 12.1 % (+2.1 points)."
    )
    # 1,001 − 500 = 501 (the exact 500.2 would read 500); 1,200 − 1,001 = 199 left
    assert cost_sentence(s) == (
        "It costs EUR 1,001 over 2 years, EUR 501 more than today's network (EUR 500); "
        "the budget is EUR 1,200, EUR 199 of it unspent."
    )
    w = Worsening("North-East", "city", "city", 812.0, 84.26, 82.14, 3.26, 3.84, "km")
    assert worse_line(w) == (
        "North-East, city: covered 84.3 % → 82.1 % (-2.2 points), "
        "mean distance 3.3 → 3.8 km (+0.5); demand 812"
    )


def test_terminal_table_delta_is_that_of_its_columns(tmp_path):
    """The Δ column of `netplan run`'s table: plan − today of the two figures printed."""
    from netplan.cli import app

    path = write_small_case(tmp_path / "case", costs={**SMALL_COSTS, "currency": "EUR"})
    res = CliRunner().invoke(app, ["run", str(path), "--out", str(tmp_path / "out")], env={"COLUMNS": "400"})
    assert res.exit_code == 0, res.output
    kpis = pd.read_csv(tmp_path / "out" / "kpis.csv")
    rows = 0
    for line in res.stdout.splitlines():
        cells = [c.strip() for c in line.strip("│ ").split("│")]
        if len(cells) == 6 and cells[0] in set(kpis["level_name"]):
            today, plan, delta = (float(c.replace(",", "")) for c in cells[1:4])
            assert round(plan - today, 1) == delta, line
            rows += 1
    assert rows == 2
