"""The ``phases`` and ``roadmap`` keys (issue 25): what the scenario alone can check, one line
per broken rule, and the horizon as the sum of the phases' years."""

from __future__ import annotations

import pytest
import yaml
from typer.testing import CliRunner

from netplan import Scenario
from netplan._errors import ScenarioError
from netplan.scenario.phases import baseline_factor, growth_problems

from conftest import write_small_case

PHASES = [
    {"name": "2027 pilot", "years": 1, "budget": {"capex": 1500}},
    {"name": "2028 rollout", "years": 1, "budget": {"capex": 2500, "opex": 300}},
    {"name": "2029-2031", "years": 3, "budget": {"capex": 2000, "total": "1.1 x baseline"},
     "growth": {"North": 1.4, "all": 1.05}},
]  # fmt: skip


def load(tmp_path, **changes) -> Scenario:
    raw = yaml.safe_load(write_small_case(tmp_path / "case").read_text())
    if "phases" in changes:  # the horizon follows the phases unless a test gives one
        del raw["costs"]["horizon_years"]
    raw.update(changes)
    return Scenario.from_dict(raw, base_dir=tmp_path / "case")


def error(tmp_path, **changes) -> str:
    with pytest.raises(ScenarioError) as exc:
        load(tmp_path, **changes)
    return str(exc.value)


def test_phases_parse_and_the_horizon_is_their_sum(tmp_path):
    s = load(tmp_path, phases=PHASES, roadmap={"objective": "final_first"})
    assert [p.name for p in s.phases] == ["2027 pilot", "2028 rollout", "2029-2031"]
    assert s.costs.horizon_years == 5.0
    assert s.roadmap.objective == "final_first" and s.roadmap.carry_over is False
    assert baseline_factor(s.phases[2].budget.total, "k") == pytest.approx(1.1)
    assert baseline_factor(2000.0, "k") is None


def test_no_phases_changes_nothing(tmp_path):
    s = load(tmp_path)
    assert s.phases is None and s.roadmap is None and s.costs.horizon_years == 2.0


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"phases": [{"name": "a", "years": 0}]}, "phases[0].years: a phase lasts more than 0 years, got 0"),
        ({"phases": [{"name": "a", "years": -2}]}, "phases[0].years: a phase lasts more than 0 years, got -2"),
        ({"phases": [{"name": "a", "years": 1}, {"name": "a", "years": 1}]}, "phases: the name 'a' is used twice"),
        ({"phases": [{"name": "a", "years": 1, "weight": "w", "weights": {"hub": "w"}}]},
         "phases[0]: give 'weight' (one column) or 'weights' (per level), not both"),
        ({"phases": [{"name": "a", "years": 1, "weights": {"hubb": "w"}}]},
         "phases[0].weights.hubb: unknown level 'hubb' (did you mean 'hub'?)"),
        ({"phases": [{"name": "a", "years": 1, "growth": {"all": 0}}]},
         "phases[0].growth.all: a growth factor is a number > 0, got 0"),
        ({"phases": [{"name": "a", "years": 1, "budget": {"total": "lots"}}]},
         "phases[0].budget.total: cannot read 'lots'"),
        ({"phases": [{"name": "a", "years": 1, "targets": {"hub": 0.9}}]},
         "phases[0].targets: targets belong to objective type 'min_cost'"),
        ({"phases": [{"name": "a", "years": 1, "budget": {"total": 100}}], "roadmap": {"carry_over": True}},
         "roadmap.carry_over: carries unspent capex, but no phase has a 'capex' budget"),
        ({"phases": [{"name": "a", "years": 1}, {"name": "b", "years": 3}],
          "costs": {"horizon_years": 2}}, "costs.horizon_years: 2 disagrees with the phases' 4 years"),
        ({"roadmap": {"objective": "coverage_years"}}, "roadmap: needs 'phases'"),
        ({"phases": []}, "phases: give at least one phase"),
    ],
)  # fmt: skip
def test_a_broken_phase_rule_is_one_line_naming_the_key(tmp_path, changes, expected):
    message = error(tmp_path, **changes)
    assert message == f"scenario: {expected}" or message.startswith(f"scenario: {expected}"), message
    assert "\n" not in message  # one broken rule, one line


def test_growth_regions_are_checked_against_the_data(tmp_path):
    s = load(tmp_path, phases=PHASES, costs={"horizon_years": 5})
    assert growth_problems(s, ["North", "South"], "f.yaml") == []
    assert growth_problems(s, ["Nord", "South"], "f.yaml") == [
        "f.yaml: phases[2].growth.North: unknown region 'North' (did you mean 'Nord'?); regions "
        "are those of the demand's region column ('all' for the rest)"
    ]


def test_cli_run_with_phases_plans_the_roadmap(tmp_path):
    """``netplan run`` on a scenario with phases writes the roadmap's files and prints the three
    coverage-years; the single-plan API refuses phases in one line."""
    from netplan.cli import app
    from netplan.planner import plan

    path = write_small_case(tmp_path / "case", phases=PHASES[:2], costs={"horizon_years": 2, "direct": {
        "hub": {"open": 500, "operate": 100, "convert": 200, "close": 50},
        "point": {"open": 40, "operate": 10, "convert": 20, "close": 5}}})  # fmt: skip
    res = CliRunner().invoke(app, ["run", str(path), "--out", str(tmp_path / "out")], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "Over 2 years the exact roadmap gives " in res.output
    assert "The roadmap is proven optimal" in res.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if not p.name.startswith(".")) == [
        "kpis.csv", "map.html", "phases.csv", "plan.gpkg", "report.html", "roadmap.csv", "run.json"]  # fmt: skip
    with pytest.raises(ScenarioError, match="phases: a single plan does not take phases"):
        plan(Scenario.from_yaml(path))
    # netplan compare reads two roadmaps phase by phase (tests/test_compare_roadmap.py): a
    # roadmap against itself differs in nothing
    res = CliRunner().invoke(app, ["compare", str(tmp_path / "out"), str(tmp_path / "out"),
                                   "--out", str(tmp_path / "cmp")], env={"COLUMNS": "200"})  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "differ" in res.output and "(Δ +0.0)" in res.output
    assert sorted(p.name for p in (tmp_path / "cmp").iterdir() if not p.name.startswith(".")) == [
        "actions.csv", "compare.html", "compare.json", "phase_deltas.csv", "region_deltas.csv"]  # fmt: skip


# ------------------------------------------------------ phases -> roadmap problem
def test_roadmap_problem_of_the_small_case(tmp_path):
    """Growth by region, 'baseline' limits as today's opex over the phase, the top-level
    budget over the whole roadmap; then the exact roadmap beats or equals the greedy one."""
    import numpy as np

    from netplan.optimize.records import SolverOptions
    from netplan.optimize.roadmap_greedy import greedy_roadmap
    from netplan.optimize.roadmap_solve import solve_roadmap
    from netplan.phasing import roadmap_problem
    from netplan.preparation import prepare

    phases = [
        {"name": "one", "years": 1, "budget": {"capex": 300}},
        {"name": "two", "years": 2, "budget": {"capex": 400, "opex": "2 x baseline"},
         "growth": {"all": 1.5}},
    ]  # fmt: skip
    s = load(tmp_path, phases=phases)
    prep = prepare(s, check=False)
    prob = roadmap_problem(prep, s)
    costs = prep.inputs.costs
    today = np.where(costs.current_tier >= 0, costs.current_tier, -1)
    opex_today = costs.plan_cost(today)["opex_per_year"]
    assert opex_today == 100 + 10 + 10  # a hub and two points (small case costs)
    assert [lim.capex for lim in prob.limits] == [300, 400]
    assert prob.limits[1].opex == pytest.approx(2 * opex_today)
    # budget.total 1.5 x baseline: today's network over the roadmap's 3 years
    assert prob.budget_total == pytest.approx(1.5 * opex_today * 3)
    np.testing.assert_allclose(prob.phases[1].weights, 1.5 * prep.inputs.weights)
    np.testing.assert_allclose(prob.phases[0].weights, prep.inputs.weights)
    exact = solve_roadmap(prob, SolverOptions(time_limit=60))
    greedy = greedy_roadmap(prob)
    assert exact.status == "optimal"
    assert exact.values["coverage_years"] >= greedy.coverage_years - 1e-6


def test_plan_roadmap_tables_add_up(tmp_path):
    """actions() and phase_table() recomputed: capex per phase = sum of its actions; the
    covered shares of today's network equal the single plan's baseline; the three
    coverage-years figures are ordered exact >= final_first and exact >= greedy."""
    from netplan.roadmap import plan_roadmap

    phases = [
        {"name": "one", "years": 1, "budget": {"capex": 300}},
        {"name": "two", "years": 2, "budget": {"capex": 400}, "growth": {"all": 1.5}},
    ]
    s = load(tmp_path, phases=phases)
    s.budget.total = None  # phase budgets only
    rp = plan_roadmap(s)
    assert rp.status == "optimal"
    actions, table = rp.actions(), rp.phase_table()
    assert list(table["phase"]) == ["today", "one", "two"]
    for name in ("one", "two"):
        spent = actions.loc[actions["phase"] == name, "capex"].sum()
        assert table.loc[table["phase"] == name, "capex"].item() == pytest.approx(spent)
        assert spent <= {"one": 300, "two": 400}[name] + 1e-9
    assert set(actions["action"]) <= {"open", "close", "upgrade", "downgrade"}
    figures = rp.coverage_years()
    assert figures["gain_over_greedy"] >= -1e-6
    if figures["final_first"] is not None:
        assert figures["gain_over_final_first"] >= -1e-6
    # coverage grows or stays as outlets open (phase two's demand is 1.5 x, shares comparable)
    level = s.tier_keys[-1]
    assert table[f"covered_pct_{level}"].iloc[2] >= table[f"covered_pct_{level}"].iloc[0] - 1e-9


def test_phase_weight_columns_are_read_and_keep_rows_new_in_a_phase(tmp_path):
    """``weight`` of a phase reads another demand column (a point with no customers today
    but some in 2028 is kept); ``weights`` per level; a missing column is one line."""
    import numpy as np
    import pandas as pd

    from netplan._errors import InputDataError
    from netplan.inputs.build import load_inputs
    from netplan.phasing import phase_weights
    from netplan.preparation import prepare

    path = write_small_case(tmp_path / "case")
    demand = pd.read_csv(tmp_path / "case" / "demand.csv")
    demand["c2028"] = demand["customers"] * 2
    demand.loc[0, "customers"] = 0  # nobody today, 2 x ... in 2028
    demand.loc[0, "c2028"] = 7
    demand["hub2029"] = 1
    demand.to_csv(tmp_path / "case" / "demand.csv", index=False)
    phases = [
        {"name": "2028", "years": 1, "budget": {"capex": 300}, "weight": "c2028"},
        {"name": "2029", "years": 1, "budget": {"capex": 300}, "weights": {"hub": "hub2029"}},
    ]
    raw = yaml.safe_load(path.read_text())
    del raw["costs"]["horizon_years"]
    raw["phases"] = phases
    s = Scenario.from_dict(raw, base_dir=tmp_path / "case")
    prep = prepare(s, check=False)
    ids = prep.inputs.demand["demand_id"].tolist()
    assert ids[0] == "D0"  # kept although its weight today is 0 at every level
    assert prep.inputs.weights[0].tolist() == [0.0, 0.0]
    w2028, w2029 = phase_weights(prep, s)
    np.testing.assert_array_equal(w2028[:, 0], demand["c2028"].to_numpy(float))
    np.testing.assert_array_equal(w2028[:, 1], demand["c2028"].to_numpy(float))
    np.testing.assert_array_equal(w2029[:, 0], np.ones(len(demand)))
    np.testing.assert_array_equal(w2029[:, 1], prep.inputs.weights[:, 1])
    raw["phases"][0]["weight"] = "c2082"
    with pytest.raises(InputDataError) as exc:
        load_inputs(Scenario.from_dict(raw, base_dir=tmp_path / "case"))
    assert "column 'c2082' (from 'phases[0].weight') not found (did you mean 'c2028'?)" in str(exc.value)


def test_zones_spread_a_phase_column_the_same_way():
    """Each zone's phase total lands on the same points in the same shares, exactly."""
    import geopandas as gpd
    import numpy as np
    from shapely.geometry import box

    from netplan.inputs.zones import spread_zones

    x0, y0 = 758_000.0, 5_225_000.0
    zones = gpd.GeoDataFrame(
        {"zid": ["A", "B"], "pop": [1000, 7], "pop2030": [1500.5, 0]},
        geometry=[box(x0, y0, x0 + 2000, y0 + 2000), box(x0 + 3000, y0, x0 + 5000, y0 + 2000)],
        crs=32632,
    )
    pts, _ = spread_zones(zones, "pop", "uniform", zones.crs, spacing=500.0, id_column="zid", extra=["pop2030"])
    for zone, total, later in (("A", 1000, 1500.5), ("B", 7, 0.0)):
        mine = pts[pts["zone"] == zone]
        assert mine["weight"].sum() == total
        assert mine["pop2030"].sum() == pytest.approx(later, rel=1e-15)
    a = pts[pts["zone"] == "A"]
    np.testing.assert_allclose(a["pop2030"], 1500.5 / len(a), rtol=1e-12)  # equal shares, as pop


def test_phase_outlets_and_the_phase_columns(tmp_path):
    from netplan.roadmap import plan_roadmap

    phases = [
        {"name": "one", "years": 1, "budget": {"capex": 300}},
        {"name": "two", "years": 2, "budget": {"capex": 400}},
    ]
    s = load(tmp_path, phases=phases)
    s.budget.total = None
    rp = plan_roadmap(s)
    actions = rp.actions()
    outlets = rp.outlets().set_index("site_id")
    for row in actions.itertuples():
        column = {"open": "phase_opened", "close": "phase_closed"}.get(row.action, "phase_changed")
        assert outlets.loc[row.site_id, column] == row.phase
        assert outlets.loc[row.site_id, f"tier_{row.phase}"] == row.tier_after
    for p, name in enumerate(rp.phase_names):
        net = rp.phase_outlets(p)
        mine = actions[actions["phase"] == name]
        assert sorted(net.loc[net["action"].isin(["open", "close", "upgrade", "downgrade"]), "site_id"]) == sorted(mine["site_id"])
        assert net["capex"].sum() == pytest.approx(mine["capex"].sum())
        assert (net["tier"] != "").sum() == int((rp.tiers[p] >= 0).sum())
    today = rp.phase_outlets(None)
    assert set(today["action"]) == {"keep"} and len(today) == 3


def test_a_roadmap_run_writes_its_files(tmp_path):
    """roadmap.csv, phases.csv, kpis.csv with a phase column (today first), plan.gpkg with the
    phase columns, run.json with the three coverage-years; every check passed."""
    import json

    import pandas as pd
    import pyogrio

    from netplan.roadmap_pipeline import run_roadmap, write_roadmap

    phases = [
        {"name": "one", "years": 1, "budget": {"capex": 300}},
        {"name": "two", "years": 2, "budget": {"capex": 400}, "growth": {"all": 1.2}},
    ]
    s = load(tmp_path, phases=phases)
    s.budget.total = None
    run = run_roadmap(s)
    assert all(c.ok for c in run.checks) and any(c.rule == "transitions" for c in run.checks)
    out = write_roadmap(run, tmp_path / "out")
    actions = pd.read_csv(out / "roadmap.csv")
    assert list(actions.columns) == ["phase", "site_id", "name", "tier_before", "tier_after", "action", "capex"]
    table = pd.read_csv(out / "phases.csv")
    assert list(table["phase"]) == ["today", "one", "two"]
    assert table["capex"].iloc[1] == pytest.approx(actions.loc[actions["phase"] == "one", "capex"].sum())
    kpis = pd.read_csv(out / "kpis.csv")
    assert list(dict.fromkeys(kpis["phase"])) == ["today", "one", "two"]
    hub = kpis[(kpis["phase"] == "two") & (kpis["region"] == "all") & (kpis["level"] == "hub")]
    assert hub["covered_pct"].item() == pytest.approx(table["covered_pct_hub"].iloc[2], abs=0.06)
    outlets = pyogrio.read_dataframe(out / "plan.gpkg", layer="outlets")
    assert {"phase_opened", "phase_changed", "phase_closed", "tier_one", "tier_two"} <= set(outlets.columns)
    record = json.loads((out / "run.json").read_text())
    assert record["status"] == "optimal" and record["kind"] == "roadmap"
    cy = record["coverage_years"]
    assert cy["exact"] == pytest.approx(run.plan.result.values["coverage_years"])
    assert cy["gain_over_greedy"] == pytest.approx(cy["exact"] - cy["greedy"])


@pytest.mark.parametrize("name", ["demo-roadmap.yaml", "liechtenstein-roadmap.yaml"])
def test_the_shipped_roadmap_scenarios_read(name):
    """The example roadmaps parse and check: phases in order, horizon = Σ years = 5."""
    from pathlib import Path

    s = Scenario.from_yaml(Path(__file__).resolve().parents[1] / "scenarios" / name)
    assert s.costs.horizon_years == 5.0 and len(s.phases) >= 2
    assert all(p.budget.capex for p in s.phases)


def test_a_sweep_over_a_phase_budget(tmp_path):
    """``--set phases[0].budget.capex=…`` sweeps roadmaps: each point's coverage-years equals
    the roadmap planned on its own, and more pilot capex never lowers them."""
    import netplan.sweep as sw
    from netplan.roadmap import plan_roadmap

    phases = [
        {"name": "pilot", "years": 1, "budget": {"capex": 100}},
        {"name": "rollout", "years": 2, "budget": {"capex": 300}},
    ]
    s = load(tmp_path, phases=phases)
    s.budget.total = None
    result = sw.run_sweep(s, [sw.key_axis("phases[0].budget.capex=100,400")], sequential=True)
    table = result.table
    assert list(table["status"]) == ["optimal", "optimal"], table.get("error")
    years = table["coverage_years"].to_list()
    assert years[1] >= years[0] - 1e-9
    alone = plan_roadmap(sw.with_key(s, "phases[0].budget.capex", 400.0))
    assert years[1] == pytest.approx(alone.result.values["coverage_years"])
    assert (table["coverage_years"] >= table["coverage_years_greedy"] - 1e-6).all()


def test_a_phase_budget_below_its_keep_outlets_is_one_line(tmp_path):
    """The small case keeps a hub (operating 100 a year): a phase opex of 50 or a total of 150
    over 2 years is refused before any solve, one line naming the key, exit 2, nothing written."""
    from netplan.cli import app

    costs = {"direct": {"hub": {"open": 500, "operate": 100, "convert": 200, "close": 50},
                        "point": {"open": 40, "operate": 10, "convert": 20, "close": 5}}}  # fmt: skip
    for budget, expected in (
        ({"capex": 300, "opex": 50}, "phases[1].budget.opex: 50 a year is below the 100 a year that the outlets which must stay open cost"),
        ({"capex": 300, "total": 150}, "phases[1].budget.total: 150 is below the 200 that the outlets which must stay open cost over its 2 years"),
    ):  # fmt: skip
        phases = [{"name": "one", "years": 1, "budget": {"capex": 300}},
                  {"name": "two", "years": 2, "budget": budget}]  # fmt: skip
        folder = tmp_path / str(len(budget) + len(str(budget)))
        path = write_small_case(folder / "case", phases=phases, costs=costs, budget={})
        res = CliRunner().invoke(app, ["run", str(path), "--out", str(folder / "out")])
        assert res.exit_code == 2, res.output
        lines = [line for line in res.output.splitlines() if line.startswith("error:")]
        assert len(lines) == 1 and expected in lines[0], res.output
        assert not (folder / "out").exists()


def test_an_infeasible_roadmap_names_the_rule_and_phase_that_must_give_way(tmp_path):
    """Elastic re-solve of the roadmap: the top-level target binds the last phase, whose capex
    of 10 cannot open a point (40); one line naming the key and the phase, exit 2, nothing written."""
    from netplan.cli import app

    phases = [{"name": "one", "years": 1, "budget": {"capex": 0}},
              {"name": "two", "years": 1, "budget": {"capex": 10}}]  # fmt: skip
    path = write_small_case(tmp_path / "case", phases=phases,
                            objective={"type": "min_cost", "targets": {"point": 0.99}},
                            costs={"horizon_years": 2, "direct": {
                                "hub": {"open": 500, "operate": 100, "convert": 200, "close": 50},
                                "point": {"open": 40, "operate": 10, "convert": 20, "close": 5}}})  # fmt: skip
    res = CliRunner().invoke(app, ["run", str(path), "--out", str(tmp_path / "out")], env={"COLUMNS": "300"})
    assert res.exit_code == 2, res.output
    line = next(li for li in res.output.splitlines() if li.startswith("error:"))
    assert line == (
        f"error: {path}: phases: no feasible roadmap; the smallest relaxation that makes one possible: "
        "objective.targets.point in phases[1] ('two'): the point-level target (99.0 %) is short by "
        "81.5 % of coverable demand (522 customers); lower the target or raise the budget"
    )
    assert "Traceback" not in res.output and not (tmp_path / "out").exists()
    # a target of the phase itself is named by its own key
    phases[0]["targets"] = {"point": 0.99}
    path = write_small_case(tmp_path / "case2", phases=phases, objective={"type": "min_cost", "targets": {"point": 0.1}},
                            costs={"horizon_years": 2, "direct": {
                                "hub": {"open": 500, "operate": 100, "convert": 200, "close": 50},
                                "point": {"open": 40, "operate": 10, "convert": 20, "close": 5}}})  # fmt: skip
    res = CliRunner().invoke(app, ["run", str(path), "--out", str(tmp_path / "out2")], env={"COLUMNS": "300"})
    assert res.exit_code == 2, res.output
    assert "possible: phases[0].targets.point in phases[0] ('one'): the point-level target (99.0 %)" in res.output


def test_validate_checks_and_prints_the_phases(tmp_path):
    """``netplan validate`` reads the phases as a run does: their money limits and demand per
    level in a table; a growth region the demand lacks is one line, exit 2."""
    from netplan.cli import app

    phases = [{"name": "one", "years": 1, "budget": {"capex": 300}},
              {"name": "two", "years": 2, "budget": {"capex": 400, "opex": "2 x baseline"},
               "growth": {"all": 1.5}}]  # fmt: skip
    costs = {"horizon_years": 3, "direct": {
        "hub": {"open": 500, "operate": 100, "convert": 200, "close": 50},
        "point": {"open": 40, "operate": 10, "convert": 20, "close": 5}}}  # fmt: skip
    path = write_small_case(tmp_path / "case", phases=phases, costs=costs)
    res = CliRunner().invoke(app, ["validate", str(path)], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    rows = [li for li in res.output.splitlines() if li.startswith("│ one") or li.startswith("│ two")]
    cells = [[c.strip() for c in row.strip("│").split("│")] for row in rows]
    assert cells[0][:5] == ["one", "1", "300", "-", "-"]
    # opex: 2 x today's 120 a year (a hub and two points)
    assert cells[1][:5] == ["two", "2", "400", "240", "-"]
    import pandas as pd

    total = pd.read_csv(tmp_path / "case" / "demand.csv")["customers"].sum()  # every level
    assert cells[0][5:] == [f"{total:,.0f}"] * 2 and cells[1][5:] == [f"{1.5 * total:,.0f}"] * 2
    assert "roadmap: objective coverage_years, carry_over no; horizon 3 years" in res.output
    phases[1]["growth"] = {"Nowhere": 1.2}
    path = write_small_case(tmp_path / "bad", phases=phases, costs=costs)
    res = CliRunner().invoke(app, ["validate", str(path)], env={"COLUMNS": "200"})
    assert res.exit_code == 2
    assert res.output.startswith(f"error: {path}: phases[1].growth.Nowhere: unknown region 'Nowhere'")
    assert "Traceback" not in res.output


def test_the_roadmap_terminal_speaks_the_scenario_locale(tmp_path):
    """zh-CN: the phases table, the coverage-years sentence, the verdict and the actions come
    from the catalogue; tier names (data) as written."""
    from netplan.cli import app

    tiers = [{"key": "hub", "name": "区域中心", "reach": "8 km"},
             {"key": "point", "name": "社区服务站", "reach": "2 km", "linkage": "12 km"}]  # fmt: skip
    path = write_small_case(tmp_path / "case", phases=PHASES[:2], locale="zh-CN", tiers=tiers,
                            costs={"horizon_years": 2, "direct": {
                                "hub": {"open": 500, "operate": 100, "convert": 200, "close": 50},
                                "point": {"open": 40, "operate": 10, "convert": 20, "close": 5}}})  # fmt: skip
    res = CliRunner().invoke(app, ["run", str(path), "--out", str(tmp_path / "out")], env={"COLUMNS": "250"})
    assert res.exit_code == 0, res.output
    for text in ("small：分阶段路线图", "阶段", "社区服务站 覆盖率 %", "在 2 年内，精确路线图的覆盖人年为",
                 "该路线图已被证明最优", "行动：", "输出："):  # fmt: skip
        assert text in res.output, text
    for english in ("Over 2 years", "proven optimal", "Actions:", "capex spent"):
        assert english not in res.output, english


def test_a_roadmap_under_capacities_counts_assigned_demand_in_every_phase(tmp_path):
    """Capacities in every phase: each phase's coverage is that of its assignments (covered =
    assigned), checked by the validator from coordinates (reach, load within capacity, once
    per point); today's row is today's network with its best assignment; greedy's
    coverage-years are recomputed the same way, so the exact roadmap never loses to it."""
    import json

    import pandas as pd

    from netplan.cli import app

    phases = [{"name": "2027 pilot", "years": 1, "budget": {"capex": 1500}},
              {"name": "2028 rollout", "years": 2, "budget": {"capex": 2500}, "growth": {"all": 1.3}}]  # fmt: skip
    costs = {"horizon_years": 3, "direct": {
        "hub": {"open": 500, "operate": 100, "convert": 200, "close": 50},
        "point": {"open": 40, "operate": 10, "convert": 20, "close": 5}}}  # fmt: skip
    runs = {}
    for name, capacity in (("capped", {"per_tier": {"hub": 400, "point": 90}}), ("free", None)):
        changes = {"capacity": capacity} if capacity else {}
        path = write_small_case(tmp_path / name, phases=phases, costs=costs, **changes)
        res = CliRunner().invoke(app, ["run", str(path), "--out", str(tmp_path / f"{name}-out")])
        assert res.exit_code == 0, res.output
        runs[name] = (pd.read_csv(tmp_path / f"{name}-out" / "phases.csv"),
                      json.loads((tmp_path / f"{name}-out" / "run.json").read_text()))  # fmt: skip
    table, record = runs["capped"]
    checks = {c["rule"]: c for c in record["checks"]}
    for phase in ("2027 pilot", "2028 rollout"):
        for rule in ("capacity", "capacity assignments within reach", "assigned at most once"):
            assert checks[f"{phase}: {rule}"]["ok"], checks[f"{phase}: {rule}"]
        assert float(checks[f"{phase}: capacity"]["detail"].split()[-1]) <= 1.0 + 1e-6
    assert checks["coverage-years"]["ok"]
    cy = record["coverage_years"]
    assert cy["exact"] >= cy["greedy"] - 1e-6
    # the figures are numbers (a notebook rounds them); final_first's status is beside them
    assert all(v is None or isinstance(v, float) for v in cy.values())
    assert record["final_first_status"] in ("optimal", "time_limit", "unreachable")
    # capacities bind: the hub (400 customers at most) covers far less than its reach holds,
    # already today; the same network without capacities covers more
    free, _ = runs["free"]
    assert table["covered_pct_hub"].iloc[0] == pytest.approx(39.13, abs=0.01)
    assert free["covered_pct_hub"].iloc[0] == pytest.approx(67.6, abs=0.1)
    total = 943.0  # the small case's customers; its one hub serves at most 400 of them
    assert (table["covered_pct_hub"] <= 100 * 400 / total + 1e-6).all()
