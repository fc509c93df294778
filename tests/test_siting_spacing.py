"""Spacing and exclusion rules (issue 24): exact in the MILP, re-checked, explained, refused.

The optimum with spacing rows is compared with enumeration (tests/bruteforce.py, which
shares no code with the model; the spacing rule is re-stated here on raw coordinates), the
clique rows with the pair rows they replace, exclusions with distances computed here from
projected coordinates, and bad input with the CLI's one error line.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
import yaml
from typer.testing import CliRunner

from netplan._errors import InfeasiblePlanError
from netplan.cli import app
from netplan.evaluation.siting_checks import siting_breaks, siting_checks
from netplan.inputs.build import load_inputs
from netplan.inputs.costs import SiteCosts
from netplan.optimize.lexicographic import solve_lexicographic
from netplan.optimize.model import TieredModel
from netplan.optimize.problem import TieredProblem
from netplan.optimize.records import SolverOptions
from netplan.optimize.solver import solve
from netplan.optimize.spacing import build_spacing, clique_cover, close_pairs
from netplan.pipeline import run, run_scenario
from netplan.planner import plan
from netplan.roads.network import NetworkTravel, RoadNetwork
from netplan.scenario import Scenario
from netplan.travel.coverage import build_coverage, linkage_pairs

from bruteforce import brute_force, random_instance
from conftest import write_small_case

try:
    runner = CliRunner(mix_stderr=False)
except TypeError:
    runner = CliRunner()


# ------------------------------------------------------------------ brute force
def _spacing_ok(inst, rules):
    """Plans (rows of tier assignments) keeping every rule, from raw coordinates."""
    d = np.hypot(*(inst.site_xy[:, None, :] - inst.site_xy[None, :, :]).transpose(2, 0, 1))
    existing = inst.current >= 0

    def ok(combos):
        good = np.ones(len(combos), dtype=bool)
        in_t_all = {}
        for _, tiers, minimum, _, enforce in rules:
            in_t = np.isin(combos, tiers) & (combos >= 0)
            in_t_all[tuple(tiers)] = in_t
            m = combos.shape[1]
            for i in range(m):
                for j in range(i + 1, m):
                    if d[i, j] >= minimum:
                        continue
                    if not enforce and existing[i] and existing[j]:
                        continue
                    good &= ~(in_t[:, i] & in_t[:, j])
        return good

    return ok


def _rules_for(seed: int, inst):
    rng = np.random.default_rng(1000 + seed)
    rules = [("siting.spacing[0]", [1, 2], float(rng.uniform(2500, 5000)), "x", bool(seed % 2))]
    if seed % 2 == 0:
        rules.append(("siting.spacing[1]", [0, 1, 2], float(rng.uniform(2000, 4000)), "y", seed % 4 == 0))
    return rules


def _values(result):
    v = result.values
    return v["coverage"], v["cost"], v["distance"], v["site_id"]


def _close(a, b):
    return all(abs(x - y) <= 1e-6 * max(1.0, abs(y)) for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("objective", ["max_coverage", "min_cost"])
def test_spacing_optimum_equals_enumeration(objective):
    """Coverage, cost, distance and site-id optimum with spacing rows = enumeration; both
    between_existing settings; an instance the rule makes infeasible is infeasible for both."""
    feasible = binding = 0
    infeasible = 0
    for seed in range(24):
        inst = random_instance(seed, objective)
        rules = _rules_for(seed, inst)
        problem = inst.problem()
        problem.spacing = build_spacing(inst.site_xy, "planar", inst.allowed, inst.current, rules)
        expected = brute_force(inst, extra=_spacing_ok(inst, rules))
        result = solve_lexicographic(TieredModel(problem), objective, SolverOptions())
        if expected is None:
            assert result.status == "infeasible", f"seed {seed}: {result.status}"
            infeasible += brute_force(inst) is not None  # infeasible by the spacing rule
            continue
        feasible += 1
        assert result.status == "optimal", f"seed {seed}: {result.status}"
        assert _close(_values(result), expected), f"seed {seed}: {_values(result)} != {expected}"
        binding += not _close(expected, brute_force(inst) or (0, 0, 0, 0))
    assert feasible >= 8 and infeasible >= 1
    assert binding >= 2, "the spacing rule hardly ever changed the optimum"


def test_spacing_distance_model_path_equals_enumeration():
    """The tie-break stages over truncated lists (no listing of tied plans) keep spacing."""
    for seed in range(12):
        inst = random_instance(seed, "max_coverage")
        rules = _rules_for(seed, inst)
        problem = inst.problem()
        problem.spacing = build_spacing(inst.site_xy, "planar", inst.allowed, inst.current, rules)
        expected = brute_force(inst, extra=_spacing_ok(inst, rules))
        result = solve_lexicographic(
            TieredModel(problem), "max_coverage", SolverOptions(), max_enumerated=0
        )
        if expected is None:
            assert result.status == "infeasible"
            continue
        assert _close(_values(result), expected), f"seed {seed}"


def test_excluded_options_equal_enumeration_with_the_zone():
    """A zone removing new sites' tiers gives the optimum of enumeration forbidding them."""
    box = (2000.0, 2000.0, 7000.0, 7000.0)
    for seed in range(10):
        inst = random_instance(seed, "max_coverage")
        x, y = inst.site_xy.T
        inside = (x >= box[0]) & (x <= box[2]) & (y >= box[1]) & (y <= box[3]) & (inst.current < 0)
        tiers = [1, 2]

        def ok(combos, inside=inside, tiers=tiers):
            return ~(np.isin(combos, tiers) & inside[None, :]).any(axis=1)

        expected = brute_force(inst, extra=ok)
        allowed = inst.allowed.copy()
        allowed[np.ix_(np.flatnonzero(inside), tiers)] = False
        inst2 = dataclasses.replace(inst, allowed=allowed)
        result = solve_lexicographic(TieredModel(inst2.problem()), "max_coverage", SolverOptions())
        if expected is None:
            assert result.status == "infeasible"
            continue
        assert _close(_values(result), expected), f"seed {seed}"


# ------------------------------------------------------------------ cliques
def _cluster_problem(n_close: int = 4) -> TieredProblem:
    """One tier; ``n_close`` sites 100 m apart each covering its own customer, and one far site."""
    site_xy = np.array([[i * 100.0, 0.0] for i in range(n_close)] + [[50_000.0, 0.0]])
    demand_xy = np.array([[i * 100.0, 30.0] for i in range(n_close)] + [[50_000.0, 30.0]])
    m, K = len(site_xy), 1
    allowed = np.ones((m, K), dtype=bool)
    reach = np.array([[40.0]])
    costs = SiteCosts(
        np.full((m, K), 10.0), np.zeros((m, K)), np.zeros((m, K)), np.zeros(m),
        np.full(m, -1), horizon_years=1.0,
    )
    return TieredProblem(
        weights=np.ones((m, K)),
        coverage=build_coverage(demand_xy, site_xy, allowed, reach, "planar"),
        allowed=allowed,
        policy=np.array(["new"] * m, dtype=object),
        costs=costs,
        linkage=linkage_pairs(site_xy, allowed, np.array([np.nan]), "planar"),
        site_rank=np.arange(m),
    ), site_xy


def _lp_bound(model: TieredModel) -> float:
    obj = model.coverage_objective()
    lp = model.lp.with_objective(obj.c, obj.sense, obj.offset)
    lp = dataclasses.replace(lp, integer=np.zeros(lp.n_cols, dtype=bool))
    x, record = solve(lp, SolverOptions())
    assert record.status == "optimal"
    return float(obj.c @ x + obj.offset)


def test_clique_rows_replace_pairs_and_tighten_the_lp():
    problem, site_xy = _cluster_problem(4)
    rules = [("siting.spacing[0]", [0], 1000.0, "1 km", False)]
    problem.spacing = build_spacing(site_xy, "planar", problem.allowed, np.full(5, -1), rules)
    rule = problem.spacing[0]
    assert rule.n_pairs == 6  # 4 sites mutually within 1 km; the far site in no pair
    assert (rule.clique_rows, rule.pair_rows) == (1, 0)
    assert rule.cliques[0].tolist() == [0, 1, 2, 3]
    with_cliques = TieredModel(problem)
    first, end = with_cliques.row_blocks["spacing"]
    assert end - first == 1
    pairs = dataclasses.replace(rule, cliques=[np.array([a, b]) for a, b in zip(rule.a, rule.b, strict=True)])
    with_pairs = TieredModel(dataclasses.replace(problem, spacing=[pairs]))
    assert np.diff(with_pairs.row_blocks["spacing"])[0] == 6
    # LP: pairs let every close site open at 1/2 (coverage 2 + far 1); the clique row at most 1 in all
    assert _lp_bound(with_pairs) == pytest.approx(3.0)
    assert _lp_bound(with_cliques) == pytest.approx(2.0)
    # the integer optimum is the same either way: one close site and the far one
    for model in (with_cliques, with_pairs):
        result = solve_lexicographic(model, "max_coverage", SolverOptions())
        assert result.values["coverage"] == pytest.approx(2.0)


def test_clique_cover_covers_every_edge_with_cliques():
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 3000, size=(40, 2))
    a, b, d = close_pairs(xy, np.arange(40), 600.0, "planar")
    full = np.hypot(*(xy[:, None] - xy[None]).transpose(2, 0, 1))
    iu = np.triu_indices(40, 1)
    expect = {(i, j) for i, j in zip(*iu, strict=True) if full[i, j] < 600.0}
    assert set(zip(a.tolist(), b.tolist(), strict=True)) == expect
    assert np.allclose(d, full[a, b])
    cliques = clique_cover(a, b)
    covered = set()
    for c in cliques:
        for i in range(len(c)):
            for j in range(i + 1, len(c)):
                assert (int(c[i]), int(c[j])) in expect  # a clique of the conflict graph
                covered.add((int(c[i]), int(c[j])))
    assert covered == expect
    assert len(cliques) < len(expect)  # some cliques of three or more


# ------------------------------------------------------------------ roads
def _five_nodes() -> RoadNetwork:
    """1(0,0) <-> 2(1000,0) <-> 3(2000,0) -> 4(2000,1000) -> 5(0,1000) -> 1 (one-way loop)."""
    g = nx.MultiDiGraph(crs="EPSG:32632")
    for n, (x, y) in {1: (0, 0), 2: (1000, 0), 3: (2000, 0), 4: (2000, 1000), 5: (0, 1000)}.items():
        g.add_node(n, x=float(x), y=float(y))
    for a, b in ((1, 2), (2, 1)):
        g.add_edge(a, b, length=1000.0, highway="residential")  # 2 min
    for a, b in ((2, 3), (3, 2)):
        g.add_edge(a, b, length=1000.0, highway="primary", maxspeed="60")  # 1 min
    g.add_edge(3, 4, length=1000.0, highway="primary")  # one-way, 6/7 min
    g.add_edge(4, 5, length=2000.0, highway="service")  # 6 min
    g.add_edge(5, 1, length=1000.0, highway="living_street")  # 6 min
    return RoadNetwork.from_graph(g, crs="EPSG:32632")


def test_roads_spacing_uses_the_shorter_direction():
    travel = NetworkTravel(_five_nodes(), access_speed_kmh=15.0, max_access_m=1000.0)
    sites = np.array([[0.0, 0.0], [2000.0, 1000.0], [1000.0, 0.0], [0.0, 1000.0]])
    # 1 -> 4: 2 + 1 + 6/7 = 3.857 min; 4 -> 1: 6 + 6 = 12 min; the pair counts 3.857
    a, b, d = close_pairs(sites, np.arange(4), 3.9, travel)
    n = len(sites)
    i, j = np.triu_indices(n, 1)
    both = np.minimum(travel.times(sites[i], sites[j]), travel.times(sites[j], sites[i]))
    expect = {(int(p), int(q)): t for p, q, t in zip(i, j, both, strict=True) if t < 3.9}
    assert dict(zip(zip(a.tolist(), b.tolist(), strict=True), d.tolist(), strict=True)) == pytest.approx(expect)
    assert expect[(0, 1)] == pytest.approx(2 + 1 + 6 / 7)
    a2, b2, _ = close_pairs(sites, np.arange(4), 3.8, travel)
    assert (0, 1) not in set(zip(a2.tolist(), b2.tolist(), strict=True))


def test_validator_on_roads_measures_the_shorter_drive_time():
    """The validator's spacing re-check on roads: drive times both ways, the shorter counts
    (1 -> 4 is 3.857 min, 4 -> 1 is 12 min)."""
    from types import SimpleNamespace

    from netplan.evaluation.siting_checks import spacing_breaks
    from netplan.scenario.siting import SitingSpec, SpacingRule

    travel = NetworkTravel(_five_nodes(), access_speed_kmh=15.0, max_access_m=1000.0)
    xy = np.array([[0.0, 0.0], [2000.0, 1000.0], [0.0, 1000.0]])
    sites = gpd.GeoDataFrame(
        {"site_id": ["A", "B", "C"]}, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=32632
    )
    for minimum, expect in (("3.9 min", {("A", "B")}), ("3.8 min", set())):
        scenario = SimpleNamespace(
            siting=SitingSpec(spacing=[SpacingRule(tiers=["point"], min=minimum)]),
            tier_index=lambda key: 0,
            unit="min",
        )
        inputs = SimpleNamespace(
            scenario=scenario, sites=sites, travel=travel, mode="network",
            current_tier=np.full(3, -1),
        )
        found = spacing_breaks(inputs, np.zeros(3, dtype=np.int64))
        pairs = {(a, b) for a, b in zip(found["site_id"], found["other_id"], strict=True) if a < b}
        assert pairs == expect
        if expect:
            assert found["distance"].iloc[0] == pytest.approx(2 + 1 + 6 / 7)


def test_haversine_pairs_equal_great_circle_distances():
    from netplan.travel.geometry import distance, metric_coords

    rng = np.random.default_rng(5)
    lonlat = np.column_stack([9.5 + rng.uniform(0, 0.1, 30), 47.1 + rng.uniform(0, 0.06, 30)])
    a, b, d = close_pairs(metric_coords(lonlat, "haversine"), np.arange(30), 1500.0, "haversine")
    i, j = np.triu_indices(30, 1)
    full = distance(lonlat[i], lonlat[j], "haversine")
    expect = {(int(p), int(q)) for p, q, x in zip(i, j, full, strict=True) if x < 1500.0}
    assert set(zip(a.tolist(), b.tolist(), strict=True)) == expect and len(expect) > 10
    assert np.allclose(d, distance(lonlat[a], lonlat[b], "haversine"), rtol=1e-9)


# ------------------------------------------------------------------ end to end
def _case(tmp_path: Path, siting: dict, **changes) -> Path:
    folder = tmp_path / "case"
    folder.mkdir(parents=True, exist_ok=True)
    gpd.GeoDataFrame(
        {"name": ["park"]}, geometry=[shapely.box(9.50, 47.10, 9.60, 47.20)], crs=4326
    ).to_file(folder / "protected.gpkg")
    return write_small_case(folder, siting=siting, **changes)


def test_exclusions_end_to_end(tmp_path):
    """New sites inside the buffered park or within 1 km of today's outlets lose their tiers
    (distances recomputed here in UTM 32N); today's E2 inside the park is reported."""
    siting = {
        "exclusions": [
            {"path": "protected.gpkg", "buffer": "200 m"},
            {"near": "outlets", "buffer": "1 km", "tiers": ["point"]},
        ]
    }
    path = _case(tmp_path, siting)
    out = tmp_path / "out"
    result = run(path, out=out)
    inputs = result.plan.inputs
    plain = load_inputs(Scenario.from_yaml(write_small_case(tmp_path / "plain")))
    utm = inputs.sites.geometry.to_crs(32632)
    park = gpd.GeoSeries([shapely.box(9.50, 47.10, 9.60, 47.20)], crs=4326).to_crs(32632).iloc[0]
    to_park = utm.distance(park).to_numpy()
    new = inputs.current_tier < 0
    assert not np.any(np.abs(to_park - 200.0) < 5.0)  # no site on the edge: unambiguous
    in_park = new & (to_park <= 200.0)
    existing = np.flatnonzero(~new)
    to_outlet = np.min(
        np.stack([utm.distance(utm.iloc[j]).to_numpy() for j in existing]), axis=0
    )
    near = new & (to_outlet <= 1000.0)
    assert in_park.sum() >= 3
    assert not inputs.allowed[in_park].any()
    assert not inputs.allowed[near, 1].any()
    untouched = ~in_park & ~near
    assert (inputs.allowed[untouched] == plain.allowed[untouched]).all()
    record = json.loads((out / "run.json").read_text())["siting"]
    removed = [z["site_tier_options_removed"] for z in record["exclusions"]]
    assert removed[0] == int(plain.allowed[in_park].sum())
    assert removed[1] == int(plain.allowed[near & ~in_park, 1].sum())
    opened = result.plan.tiers >= 0
    assert not (opened & in_park).any() and not (opened & near & (result.plan.tiers == 1)).any()
    assert all(c.ok for c in result.checks if c.rule.startswith("exclusion"))
    # today's E2 (point) lies in the park: allowed (not new), in the diagnosis
    e2 = inputs.sites.index[inputs.sites["site_id"] == "E2"][0]
    assert to_park[e2] == 0.0
    breaks = record["breaks_today"]
    assert {"site_id": "E2", "rule": "siting.exclusions[0]"}.items() <= breaks[0].items()
    assert breaks[0]["distance"] == 0.0


def test_exempt_and_enforced_spacing_between_todays_outlets(tmp_path):
    """E1 (hub, keep) and E2 (point, may_close) are 6.9 km apart: exempt leaves them alone,
    enforce closes E2; the diagnosis lists the pair with its distance either way."""
    rule = {"tiers": ["hub", "point"], "min": "7 km"}
    exempt = run_scenario(Scenario.from_yaml(_case(tmp_path / "a", {"spacing": [rule]})))
    enforce = run_scenario(
        Scenario.from_yaml(_case(tmp_path / "b", {"spacing": [dict(rule, between_existing="enforce")]}))
    )
    ids = exempt.plan.inputs.sites["site_id"].tolist()
    e1, e2 = ids.index("E1"), ids.index("E2")
    xy = exempt.plan.inputs.sites.geometry.to_crs(32632)
    apart = float(xy.iloc[e1].distance(xy.iloc[e2]))
    assert 6800 < apart < 7000
    assert exempt.plan.prepared.spacing[0].exempt == 1
    assert enforce.plan.prepared.spacing[0].exempt == 0
    assert exempt.plan.tiers[e2] == 1  # kept open beside E1
    assert enforce.plan.tiers[e2] == -1  # closed: E1 must stay (keep)
    for res in (exempt, enforce):
        assert all(c.ok for c in res.checks)
        breaks = siting_breaks(res.plan.inputs)
        row = breaks[(breaks["site_id"] == "E2") & (breaks["kind"] == "spacing")].iloc[0]
        assert row["other_id"] == "E1" and row["distance"] == pytest.approx(apart, rel=1e-3)
    assert bool(row["exempt"]) is False  # enforce: the pair is held to the rule
    # the model's figures in numbers: no open pair closer than 7 km but the exempt one
    for res in (exempt, enforce):
        on = np.flatnonzero(res.plan.tiers >= 0)
        d = np.hypot(*(np.asarray([[p.x, p.y] for p in xy.iloc[on]])[:, None] - np.asarray([[p.x, p.y] for p in xy.iloc[on]])[None]).transpose(2, 0, 1))
        close = [(on[i], on[j]) for i in range(len(on)) for j in range(i + 1, len(on)) if d[i, j] < 7000]
        allowed_close = [(e1, e2)] if res is exempt else []
        assert close == allowed_close


def test_validator_flags_a_plan_breaking_spacing_and_exclusions(tmp_path):
    siting = {
        "spacing": [{"tiers": ["point"], "min": "3 km"}],
        "exclusions": [{"path": "protected.gpkg", "buffer": "200 m"}],
    }
    result = run_scenario(Scenario.from_yaml(_case(tmp_path, siting)))
    plan_ = result.plan
    inputs = plan_.inputs
    xy = inputs.sites.geometry.to_crs(32632)
    park = gpd.GeoSeries([shapely.box(9.50, 47.10, 9.60, 47.20)], crs=4326).to_crs(32632).iloc[0]
    new = np.flatnonzero(inputs.current_tier < 0)
    inside = [j for j in new if xy.iloc[j].distance(park) < 150]
    tiers = plan_.tiers.copy()
    tiers[inside[0]] = 1
    # two point outlets 1-3 km apart, both opened
    pts = [j for j in new if j not in inside]
    d = {(i, j): xy.iloc[i].distance(xy.iloc[j]) for i in pts for j in pts if i < j}
    (i, j), dist = min(((k, v) for k, v in d.items() if 500 < v < 3000), key=lambda kv: kv[1])
    tiers[[i, j]] = 1
    bad = dataclasses.replace(plan_, tiers=tiers)
    from netplan.evaluation.validator import Check

    made = [Check.of(kind, ok, **values) for kind, ok, values in siting_checks(bad, None)]
    checks = {c.rule: (c.ok, c.detail) for c in made}
    ok, detail = checks["spacing point >= 3 km"]
    assert not ok and f"{dist:,.1f} m" in detail
    ok, detail = checks["exclusion siting.exclusions[0] (protected.gpkg)"]
    assert not ok and inputs.sites["site_id"].iloc[inside[0]] in detail
    assert all(ok for _, ok, _ in siting_checks(plan_, None))


def test_capacities_and_span_keep_spacing(tmp_path):
    """The stages with assignment columns (capacities, span of control) solve the program
    with the spacing rows: no two open point outlets closer than 3 km (recomputed here)."""
    path = write_small_case(
        tmp_path / "c",
        capacity={"per_tier": {"hub": 150, "point": 40}, "levels": ["point"]},
        span_of_control={"hub": 3},
        siting={"spacing": [{"tiers": ["point"], "min": "3 km"}]},
    )
    result = run_scenario(Scenario.from_yaml(path))
    assert result.plan.status == "optimal"
    assert all(c.ok for c in result.checks)
    xy = result.plan.inputs.sites.geometry.to_crs(32632)
    on = np.flatnonzero(result.plan.tiers == 1)
    pts = np.array([[p.x, p.y] for p in xy.iloc[on]])
    d = np.hypot(*(pts[:, None] - pts[None]).transpose(2, 0, 1))
    existing = result.plan.inputs.current_tier[on] >= 0
    close = (d < 3000) & ~np.eye(len(on), dtype=bool) & ~(existing[:, None] & existing[None, :])
    assert len(on) >= 3 and not close.any()


# ------------------------------------------------------------------ infeasible
def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def test_enforced_spacing_between_keep_outlets_is_one_line(tmp_path):
    path = _case(
        tmp_path,
        {"spacing": [{"tiers": ["hub", "point"], "min": "7 km", "between_existing": "enforce"}]},
    )
    outlets = pd.read_csv(path.parent / "outlets.csv")
    outlets["policy"] = "keep"
    outlets.to_csv(path.parent / "outlets.csv", index=False)
    result = runner.invoke(app, ["run", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2, result.stderr
    errors = _error_lines(result.stderr)
    assert len(errors) == 1, result.stderr
    assert "siting.spacing[0]" in errors[0] and "'E1' (hub) and 'E2' (point) are 6.9 km apart" in errors[0]
    assert "Traceback" not in result.stderr + result.stdout


def test_a_target_spacing_makes_unreachable_names_the_rule(tmp_path):
    path = _case(
        tmp_path,
        {"spacing": [{"tiers": ["point"], "min": "8 km"}]},
        objective={"type": "min_cost", "targets": {"point": 0.8}},
        budget={},
    )
    with pytest.raises(InfeasiblePlanError) as info:
        plan(Scenario.from_yaml(path))
    text = str(info.value)
    assert "\n" not in text
    assert "objective.targets.point" in text
    assert "siting.spacing[0] (no two point outlets closer than 8 km) stands in the way" in text
    # without the rule the same target is reachable
    free = _case(tmp_path / "free", {}, objective={"type": "min_cost", "targets": {"point": 0.8}}, budget={})
    assert plan(Scenario.from_yaml(free)).status == "optimal"


def test_enforced_spacing_against_an_outlet_that_must_stay_open_names_the_rule(tmp_path):
    """E2 may only re-tier (it must stay open, as hub or point) 6.9 km from the kept hub E1:
    no soft rule can give way, and the explanation names the spacing rule."""
    path = _case(
        tmp_path,
        {"spacing": [{"tiers": ["hub", "point"], "min": "7 km", "between_existing": "enforce"}]},
    )
    outlets = pd.read_csv(path.parent / "outlets.csv")
    outlets.loc[outlets["oid"] == "E2", "policy"] = "may_retier"
    outlets.to_csv(path.parent / "outlets.csv", index=False)
    with pytest.raises(InfeasiblePlanError) as info:
        plan(Scenario.from_yaml(path))
    assert str(info.value) == (
        "no feasible plan; siting.spacing[0] (no two hub/point outlets closer than 7 km) stands in "
        "the way: the other rules (targets, counts, keep outlets) need 1 more outlet(s) closer than "
        "7 km to one another; lower its min, set between_existing: exempt, or relax the targets"
    )


# ------------------------------------------------------------------ bad input
def _points_file(folder: Path) -> None:
    """Zone files that are no good: points, no CRS, metres in a GeoJSON (read as EPSG:4326)."""
    gpd.GeoDataFrame(geometry=[shapely.Point(9.5, 47.1)], crs=4326).to_file(folder / "points.gpkg")
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        gpd.GeoDataFrame(geometry=[shapely.box(9.5, 47.1, 9.6, 47.2)]).to_file(folder / "nocrs.gpkg")
    box = shapely.box(500_000, 5_200_000, 501_000, 5_201_000)
    (folder / "utm.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(box)}]})
    )  # fmt: skip


BAD = [
    ({"spacing": [{"tiers": ["pont"], "min": "2 km"}]}, "siting.spacing[0].tiers: unknown tier 'pont'"),
    ({"spacing": [{"tiers": ["point"], "min": 0}]}, "siting.spacing[0].min: must be more than 0"),
    ({"spacing": [{"tiers": ["point"], "min": "5 min"}]}, "siting.spacing[0].min: travel.mode 'planar' measures distance"),
    ({"exclusions": [{"path": "protected.gpkg", "buffer": "5 min"}]}, "siting.exclusions[0].buffer: buffers are distances"),
    ({"exclusions": [{"path": "points.gpkg"}]}, "siting.exclusions[0].path: "),
    ({"exclusions": [{"path": "nocrs.gpkg"}]}, "the siting.exclusions[0] layer has no CRS; set it in the file or give 'siting.exclusions[0].crs'"),
    ({"exclusions": [{"path": "utm.geojson"}]}, "siting.exclusions[0].path: "),
    # without a buffer too (a zero buffer skipped this check before)
    ({"exclusions": [{"near": "outlets"}]}, "siting.exclusions[0].near: 'outlets' needs an 'outlets' layer"),
]


@pytest.mark.parametrize(
    ("siting", "fragment"), BAD, ids=["tier", "zero", "minutes", "buffer", "points", "no-crs", "metres-as-degrees", "no-outlets"],
)
def test_bad_siting_input_is_one_line(tmp_path, siting, fragment):
    changes = {"outlets": None} if "near" in str(siting) else {}
    path = _case(tmp_path, siting, **changes)
    _points_file(path.parent)
    result = runner.invoke(app, ["run", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2, result.stderr
    errors = _error_lines(result.stderr)
    assert len(errors) == 1, result.stderr
    assert fragment in errors[0], errors[0]
    assert "Traceback" not in result.stderr + result.stdout
    if "points.gpkg" in str(siting):
        assert "has no polygons (found Point)" in errors[0]
    if "utm.geojson" in str(siting):
        assert "has coordinates outside longitude/latitude (500000, 5200000 .. 501000, 5201000)" in errors[0]
    assert not (tmp_path / "o").exists()


# ------------------------------------------------------------------ speed-ups stay exact
def test_aggregation_and_lp_guided_keep_spacing_and_its_optimum():
    """The first-stage searches for very large demand (aggregation loop, LP-guided search)
    solve models whose site rows include the spacing rows: their coverage optimum with
    spacing equals enumeration, and their plans keep the rule."""
    from netplan.optimize.aggregation import solve_max_coverage_aggregated
    from netplan.optimize.lpguided import solve_max_coverage_lp_guided

    checked = 0
    for seed in range(10):
        inst = random_instance(seed, "max_coverage")
        rules = _rules_for(seed, inst)
        problem = inst.problem()
        problem.spacing = build_spacing(inst.site_xy, "planar", inst.allowed, inst.current, rules)
        expected = brute_force(inst, extra=_spacing_ok(inst, rules))
        agg = solve_max_coverage_aggregated(
            problem, inst.demand_xy, np.full(3, 4000.0), SolverOptions(), exact_groups_up_to=0
        )
        guided = solve_max_coverage_lp_guided(TieredModel(problem), SolverOptions(time_limit=60))
        if expected is None:
            assert agg.tiers is None and guided.tiers is None, f"seed {seed}"
            continue
        for res in (agg, guided):
            assert res.record.status == "optimal", f"seed {seed}"
            assert res.record.objective == pytest.approx(expected[0], abs=1e-6), f"seed {seed}"
            assert _spacing_ok(inst, rules)(res.tiers[None, :])[0], f"seed {seed}"
        checked += 1
    assert checked >= 4


# ------------------------------------------------------------------ pages in Chromium
@pytest.fixture(scope="module")
def siting_run(tmp_path_factory):
    """A written run whose today's network breaks a spacing rule (E1-E2, exempt) and whose
    outlet E2 lies inside the excluded park."""
    folder = tmp_path_factory.mktemp("siting")
    siting = {
        "spacing": [{"tiers": ["hub", "point"], "min": "7 km"}],
        "exclusions": [{"path": "protected.gpkg", "buffer": "200 m"}],
    }
    path = _case(folder, siting)
    out = folder / "out"
    run(path, out=out)
    return out


@pytest.fixture(scope="module")
def browser():
    from conftest import chromium_path

    executable = chromium_path()
    assert executable is not None, "Chromium is needed for the page tests (/usr/bin/chromium)"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


EXPECTED_LINES = [
    "E1 too close to E2 (6.9 km; siting.spacing[0]: at least 7 km), exempt (both are today's outlets)",
    "E2 too close to E1 (6.9 km; siting.spacing[0]: at least 7 km), exempt (both are today's outlets)",
    "E2 inside exclusion 0 (protected.gpkg; 0.0 km from the area as drawn)",
]


@pytest.mark.parametrize("size", [(1440, 900), (390, 844)], ids=["desktop", "phone"])
def test_rule_breaks_today_in_report_and_map(browser, siting_run, size):
    width, height = size
    context = browser.new_context(viewport={"width": width, "height": height}, offline=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto((siting_run / "report.html").as_uri())
    items = page.locator("ul.siting-breaks li")
    assert items.all_inner_texts() == EXPECTED_LINES
    items.first.scroll_into_view_if_needed()
    assert items.first.is_visible()
    box = page.locator("ul.siting-breaks").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 1
    page.goto((siting_run / "map.html").as_uri())
    page.wait_for_selector(".leaflet-control-layers", state="attached")
    page.wait_for_timeout(300)
    labels = [
        x.strip()
        for x in page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
    ]
    assert "Today · siting rule breaks (3)" in labels, labels
    assert "Today · exclusion zones, buffered (1)" in labels, labels
    # the layer is on: two dashed lines (one per direction of the pair) and one ring, in red
    red = page.locator('path.leaflet-interactive[stroke="#c0392b"]')
    assert red.count() == 3
    assert errors == []
    context.close()


def test_rule_breaks_today_in_chinese(tmp_path):
    """The zh-CN report says the same facts with the zh-CN catalogue (names stay as given)."""
    from netplan.present.siting_diagnosis import break_lines

    path = _case(
        tmp_path,
        {"spacing": [{"tiers": ["hub", "point"], "min": "7 km"}],
         "exclusions": [{"near": "outlets", "buffer": "8 km", "tiers": ["point"]}]},
        locale="zh-CN",
    )
    inputs = load_inputs(Scenario.from_yaml(path))
    lines = break_lines(inputs, "zh-CN")
    assert lines[0] == "E1 距 E2 过近（6.9 公里；siting.spacing[0]：至少 7 km），豁免（两者均为现有网点）"
    # E2 (point) lies 6.9 km from E1: inside E1's 8 km zone; E3 (point) 8.2 km from E1 and
    # 15.1 km from E2: outside; E1 is a hub, which the rule leaves alone
    assert lines[2:] == ["E2 位于排除区 0 内（现有网点周边；距 E1 6.9 公里）"]


def test_zone_file_without_crs_is_read_with_the_rules_crs(tmp_path):
    path = _case(tmp_path, {"exclusions": [{"path": "nocrs.gpkg", "crs": "EPSG:4326"}]})
    _points_file(path.parent)
    inputs = load_inputs(Scenario.from_yaml(path))
    with_crs = load_inputs(Scenario.from_yaml(_case(tmp_path / "b", {"exclusions": [{"path": "protected.gpkg"}]})))
    assert inputs.exclusions[0].removed == with_crs.exclusions[0].removed > 0
    assert (inputs.allowed == with_crs.allowed).all()


def test_spacing_on_roads_must_be_minutes(tmp_path):
    """A road-network scenario measures drive time: a spacing in km is refused naming the key."""
    from netplan._errors import ScenarioError

    from conftest import ROOT

    raw = yaml.safe_load((ROOT / "scenarios" / "liechtenstein.yaml").read_text())
    raw["siting"] = {"spacing": [{"tiers": ["community"], "min": "2 km"}]}
    path = tmp_path / "li.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(
        ScenarioError,
        match=r"siting\.spacing\[0\]\.min: travel\.mode 'network' measures drive time; give the spacing in minutes",
    ):
        Scenario.from_yaml(path)
