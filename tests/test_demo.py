"""The embedded demo region end to end: exact plan, independent evaluation, outputs, map."""

from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pandas as pd
import pyogrio
import pytest

from netplan.demo import write_demo
from netplan.planner import plan
from netplan.preparation import prepare
from netplan.scenario import Scenario

from conftest import DEMO_SCENARIO, ROOT, RUN_FILES


def as_js(text: str) -> str:
    """How folium's JSON embedding writes a string into the page."""
    return (
        json.dumps(text)[1:-1]
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("'", "\\u0027")
    )


def test_demo_is_proven_optimal(demo_run):
    result, _ = demo_run
    p = result.plan
    assert p.status == "optimal" and p.stopped_stage is None
    assert [r.stage for r in p.stages][-2:] == ["distance", "site_id"]
    for record in p.stages:
        assert record.status == "optimal"
        assert record.gap is None or np.isnan(record.gap) or record.gap <= 1e-9
    assert p.gap <= 1e-9
    assert np.isfinite(p.bound) and p.bound == pytest.approx(p.objective, rel=1e-9)
    assert p.stages[0].solver == "HiGHS"


def test_evaluation_agrees_with_the_model(demo_run):
    """Coverage recomputed from raw coordinates (cKDTree) equals the model's y variables."""
    result, _ = demo_run
    covered = result.evaluation.covered_weight()
    assert covered == pytest.approx(result.plan.model_covered, abs=1e-6)
    # and by brute force on raw coordinates, for the community level
    demand = result.plan.inputs.demand
    out = result.evaluation.open_outlets
    xy = np.column_stack([demand.geometry.x, demand.geometry.y])
    oxy = np.column_stack([out.geometry.x, out.geometry.y])
    d = np.hypot(xy[:, None, 0] - oxy[None, :, 0], xy[:, None, 1] - oxy[None, :, 1])
    hit = (d <= 3000.0).any(axis=1)  # every tier serves the community level within 3 km
    assert demand.loc[hit, "weight_community"].sum() == pytest.approx(covered[2])


def test_demo_properties(demo_run):
    result, _ = demo_run
    p = result.plan
    actions = pd.Series(p.actions)
    assert (actions == "close").sum() >= 1
    assert (actions == "retier").sum() >= 1
    assert (actions == "open").sum() >= 5
    base = result.baseline.level_kpis().set_index("level")["covered_pct"]
    planned = result.evaluation.level_kpis().set_index("level")["covered_pct"]
    assert base["community"] < 80.0
    assert planned["community"] > 90.0
    assert p.cost()["total"] <= p.budget["baseline_cost"] + 1e-6  # at the baseline's cost
    # the diagnosis of today's network finds what the generator planted
    assert {"O10", "O11", "O12", "O13"} <= set(result.baseline.redundant_outlets()["site_id"])
    assert len(result.baseline.broken_links()) >= 1


def test_counts_and_costs_by_tier_and_action(demo_run):
    result, _ = demo_run
    p = result.plan
    assert result.evaluation.counts().equals(p.counts())
    costs = result.evaluation.costs()
    assert costs.to_numpy().sum() == pytest.approx(p.cost()["total"])
    base = result.baseline.counts()
    assert (
        base["keep"].tolist() == [2, 7, 16]
        and base[["open", "retier", "close"]].to_numpy().sum() == 0
    )
    assert result.baseline.costs().to_numpy().sum() == pytest.approx(p.budget["baseline_cost"])


def test_every_validator_check_passed(demo_run):
    result, _ = demo_run
    rules = {c.rule for c in result.checks}
    assert {
        "tier allowed at site",
        "policies",
        "budget.total",
        "linkage",
        "coverage community",
    } <= rules
    assert all(c.ok for c in result.checks)


@pytest.fixture(scope="module")
def demo_prepared():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scenario = Scenario.from_yaml(DEMO_SCENARIO)
        return scenario, prepare(scenario)


def _coverage_only(scenario, prep, **changes):
    s = scenario.replace(solver={**scenario.solver.model_dump(), "tie_break": False}, **changes)
    return plan(s, prepared=prep if "tiers" not in changes else None)


def test_linkage_matters(demo_prepared, demo_run):
    scenario, prep = demo_prepared
    tiers = [dict(t) for t in scenario.model_dump()["tiers"]]
    for t in tiers:
        t["linkage"] = None
    free = _coverage_only(scenario, prep, tiers=tiers)
    assert free.status == "optimal"
    assert free.values["coverage"] > demo_run[0].plan.values["coverage"] + 0.5


def test_more_budget_buys_coverage(demo_prepared, demo_run):
    scenario, prep = demo_prepared
    richer = _coverage_only(scenario, prep, budget={"total": "1.1 x baseline"})
    assert richer.status == "optimal"
    assert richer.values["coverage"] > demo_run[0].plan.values["coverage"] + 0.5


def test_outputs_are_complete_and_readable(demo_run):
    result, out = demo_run
    assert sorted(p.name for p in out.iterdir()) == RUN_FILES
    layers = {name for name, _ in pyogrio.list_layers(out / "plan.gpkg")}
    expected = {"outlets", "links", "baseline_outlets", "baseline_links", "demand", "reach_areas"}
    cells = {f"{p}{c}_{k}" for p in ("", "baseline_") for c in ("gap_cells", "overlap_cells")
             for k in result.scenario.tier_keys}  # fmt: skip
    assert layers == expected | cells | {"regions", "layer_styles"}
    outlets = pyogrio.read_dataframe(out / "plan.gpkg", layer="outlets")
    assert {"site_id", "name", "tier", "action", "ownership", "cost", "supporting_outlet"} <= set(
        outlets.columns
    )
    assert set(outlets["action"]) == {"keep", "open", "retier", "close"}
    demand = pyogrio.read_dataframe(out / "plan.gpkg", layer="demand")
    assert len(demand) == len(result.plan.inputs.demand)
    assert {"covered_community", "n_covering_community", "dist_community_m"} <= set(demand.columns)
    kpis = pd.read_csv(out / "kpis.csv")
    row = kpis[(kpis["region"] == "all") & (kpis["level"] == "community")].iloc[0]
    assert row["covered_pct_plan"] == pytest.approx(
        round(result.evaluation.level_kpis()["covered_pct"].iloc[2], 1)  # kpis.csv: 0.1 points
    )
    assert row["covered_pct_delta"] == pytest.approx(
        row["covered_pct_plan"] - row["covered_pct_baseline"], abs=0.1 + 1e-9  # each rounded once
    )
    assert set(kpis["region"]) == {"all", "West", "North-East", "South-East"}
    run = json.loads((out / "run.json").read_text())
    assert run["solver"]["status"] == "optimal" and run["solver"]["gap"] == 0
    assert run["solver"]["bound"] == pytest.approx(run["solver"]["objective"])
    assert len(run["scenario"]["sha256"]) == 64 and len(run["inputs"]["demand"]["sha256"]) == 64
    assert {"load", "coverage", "model", "solve", "evaluate", "write"} <= set(
        run["timings_seconds"]
    )
    assert (
        run["versions"]["highspy"]
        and run["model"]["y_columns"] < run["model"]["y_columns_unmerged"]
    )


def test_map_is_self_contained_and_holds_the_layers(demo_run):
    result, out = demo_run
    page = (out / "map.html").read_text()
    assert not re.search(r"<script[^>]+src=", page), "a script is loaded from elsewhere"
    assert not re.search(r"<link[^>]+href=\"http", page), "a stylesheet is loaded from elsewhere"
    urls = set(re.findall(r"https?://[^\s\"'<>)\\]+", page))
    allowed = {
        "http://www.w3.org/2000/svg",
        "https://leafletjs.com",
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
    }
    # the two bug-tracker links are comments inside Leaflet's own source
    others = {
        u
        for u in urls - allowed
        if not u.startswith(("https://bugs.chromium.org/", "https://bugzilla.mozilla.org/"))
    }
    assert not others, f"unexpected URLs in map.html: {others}"
    assert "L.map(" in page and "L.control.groupedLayers(" in page  # grouped, inlined
    for layer in (
        "Plan · regional centre",
        "Plan · closed outlets",
        "Plan · gaps: community point",
        "Today · outlets",
        "Regions",
        "Plan · linkage",
    ):
        assert as_js(layer) in page, layer
    for site in result.evaluation.open_outlets["site_id"]:
        assert as_js(f"<th>Site</th><td>{site}</td>") in page, site
    assert (
        "np-kpi" in page and f"{result.evaluation.level_kpis()['covered_pct'].iloc[2]:.1f}" in page
    )


def test_demo_data_is_reproducible(tmp_path):
    """The committed demo files are exactly what the generator writes."""
    written = write_demo(tmp_path)
    for path in written.values():
        committed = ROOT / path.relative_to(tmp_path)
        assert committed.read_bytes() == path.read_bytes(), (
            f"{committed} differs from the generator's output"
        )
