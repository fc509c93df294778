"""Capacities and span of control through the whole pipeline: scenario file, plan, evaluation,
validator, outputs — with loads and distances recomputed here from the raw CSV coordinates."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from pyproj import Geod

import netplan
from netplan._errors import InputDataError, ScenarioError
from netplan.pipeline import run_scenario, write_run

from conftest import write_small_case

CAPACITY = {"per_tier": {"hub": 150, "point": 40}, "levels": ["point"]}
SPAN = {"hub": 3}


@pytest.fixture(scope="module")
def capacitated(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cap")
    path = write_small_case(folder / "case", capacity=CAPACITY, span_of_control=SPAN)
    plain_path = write_small_case(folder / "plain")
    result = run_scenario(netplan.Scenario.from_yaml(path))
    plain = run_scenario(netplan.Scenario.from_yaml(plain_path))
    out = write_run(result, folder / "out")
    return folder / "case", result, plain, out


def test_plan_is_optimal_and_every_check_passes(capacitated):
    _, result, _, _ = capacitated
    assert result.plan.status == "optimal"
    rules = {c.rule: c.ok for c in result.checks}
    for rule in (
        "capacity assignments within reach",
        "capacity",
        "assigned at most once",
        "span of control",
        "linkage",
    ):
        assert rules.get(rule) is True, (rule, rules)
    stages = [r.stage for r in result.plan.stages]
    assert stages == ["coverage", "cost", "distance", "site_id", "support_distance"]


def test_loads_and_distances_recomputed_from_raw_csv(capacitated):
    folder, result, _, _ = capacitated
    plan = result.plan
    demand = pd.read_csv(folder / "demand.csv").set_index("cid")
    sites = pd.concat(
        [
            pd.read_csv(folder / "outlets.csv").rename(columns={"oid": "site"}),
            pd.read_csv(folder / "candidates.csv"),
        ]
    ).set_index("site")
    a = plan.assignment
    assert len(a) > 0 and set(a["level"]) == {"point"}
    geod = Geod(ellps="WGS84")
    d = demand.loc[a["demand_id"]]
    s = sites.loc[a["site_id"]]
    _, _, metres = geod.inv(
        d["lon"].to_numpy(), d["lat"].to_numpy(), s["lon"].to_numpy(), s["lat"].to_numpy()
    )
    # planar travel in a local UTM zone: within 0.5 % of the geodesic, so 2 km reach -> 2.01 km
    tiers = plan.outlets.set_index("site_id")["tier"]
    reach = np.where(tiers.loc[a["site_id"]].to_numpy() == "hub", 8000.0, 2000.0)
    assert (metres <= reach * 1.005).all()
    load = (
        (a["share"] * demand.loc[a["demand_id"], "customers"].to_numpy())
        .groupby(a["site_id"])
        .sum()
    )
    capacity = np.where(tiers.loc[load.index].to_numpy() == "hub", 150.0, 40.0)
    assert (load.to_numpy() <= capacity + 1e-6).all()
    # demand within reach exceeds what the plan can serve (test_capacity_binds): every point
    # outlet is filled to its 40, and nothing carries more
    point = tiers.loc[load.index].to_numpy() == "point"
    assert point.sum() == 3
    assert load.to_numpy()[point] == pytest.approx([40.0, 40.0, 40.0], abs=1e-6)
    assert load.max() == pytest.approx(40.0, abs=1e-6)
    # covered at the point level = assigned weight
    assigned = float(load.sum())
    kpi = result.evaluation.level_kpis().set_index("level")
    assert abs(kpi.loc["point", "covered"] - assigned) < 1e-4
    # each demand point at most once
    assert (a.groupby("demand_id")["share"].sum() <= 1 + 1e-6).all()


def test_capacity_binds(capacitated):
    _, result, plain, _ = capacitated
    cap_cov = result.evaluation.level_kpis().set_index("level").loc["point", "covered"]
    free_cov = plain.evaluation.level_kpis().set_index("level").loc["point", "covered"]
    assert cap_cov < free_cov - 1.0
    # some point outlet is full
    out = result.plan.outlets
    points = out[(out["tier"] == "point")]
    assert (points["utilisation"] > 1 - 1e-6).any()


def test_span_of_control_holds(capacitated):
    _, result, _, _ = capacitated
    parents = result.plan.parents
    out = result.plan.outlets.set_index("site_id")
    points = out.index[out["tier"] == "point"]
    assert set(parents["site_id"]) == set(points)  # every supported outlet has exactly one parent
    assert parents["site_id"].is_unique
    assert (parents.groupby("parent_id").size() <= 3).all()
    assert (out.loc[parents["parent_id"], "tier"] == "hub").all()
    assert (parents["distance"] <= 12000 + 1e-6).all()


def test_outputs_record_assignments(capacitated):
    _, _, _, out = capacitated
    run = json.loads((out / "run.json").read_text())
    assert run["model"]["assignment_columns"] > 0
    assert run["model"]["parent_columns"] > 0
    assert run["solver"]["status"] == "optimal"
    checks = {c["rule"]: c["ok"] for c in run["validator"]}
    assert checks["capacity"] and checks["span of control"]


def test_span_of_control_limits_the_plan(tmp_path):
    """Span 1 per hub with only the kept hub affordable forces at most one point outlet per hub."""
    path = write_small_case(tmp_path / "c", span_of_control={"hub": 1})
    result = run_scenario(netplan.Scenario.from_yaml(path))
    out = result.plan.outlets
    hubs = (out["tier"] == "hub").sum()
    points = (out["tier"] == "point").sum()
    assert points <= hubs


def test_minimum_utilisation(tmp_path):
    path = write_small_case(
        tmp_path / "c", capacity={"per_tier": {"hub": 150, "point": 40}, "min_utilisation": 0.6}
    )
    result = run_scenario(netplan.Scenario.from_yaml(path))
    out = result.plan.outlets
    open_ = out[out["tier"] != ""]
    assert (open_["load"] >= 0.6 * open_["capacity"] - 1e-6).all()
    assert {c.rule: c.ok for c in result.checks}["minimum utilisation"]


@pytest.mark.parametrize(
    "changes, message",
    [
        (
            {"capacity": {"per_tier": {"hubb": 10}}},
            "capacity.per_tier.hubb: unknown tier (did you mean 'hub'?)",
        ),
        ({"capacity": {"per_tier": {"hub": 0}}}, "capacity.per_tier.hub: capacity must be > 0"),
        (
            {"capacity": {"per_tier": {"hub": 10}, "levels": ["pint"]}},
            "capacity.levels: unknown level 'pint'",
        ),
        (
            {"span_of_control": {"point": 3}},
            "span_of_control.point: the lowest tier supports no outlets",
        ),
        ({"span_of_control": {"hub": 0}}, "span_of_control.hub: must be at least 1"),
    ],
)
def test_bad_capacity_and_span_keys(tmp_path, changes, message):
    path = write_small_case(tmp_path / "c", **changes)
    with pytest.raises(ScenarioError) as err:
        netplan.Scenario.from_yaml(path)
    assert message in str(err.value)


def test_bad_capacity_column(tmp_path):
    path = write_small_case(tmp_path / "c", capacity={"per_tier": {"hub": 100}})
    cand = pd.read_csv(path.parent / "candidates.csv")
    cand["capacity_point"] = 5.0
    cand.loc[4, "capacity_point"] = 0
    cand.to_csv(path.parent / "candidates.csv", index=False)
    with pytest.raises(InputDataError) as err:
        run_scenario(netplan.Scenario.from_yaml(path))
    assert "candidates.csv: row 6: capacity_point must be > 0" in str(err.value)
