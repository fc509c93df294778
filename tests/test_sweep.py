"""Sweeps: parsing, knees, exact equality of Dask and sequential runs, failures and dying workers."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from netplan import sweep as sw
from netplan._errors import OutputError, ScenarioError
from netplan.planner import plan
from netplan.preparation import prepare
from netplan.scenario import Scenario

from conftest import write_small_case

# 0.5 x today's cost is below what the keep outlet costs: that point must fail, the rest solve
BUDGETS = "0.5x,1.1x,1.4x,1.7x,2x,2.6x"


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return Scenario.from_yaml(write_small_case(tmp_path_factory.mktemp("sweep") / "case"))


@pytest.fixture(scope="module")
def sequential(small):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sw.run_sweep(small, [sw.budget_axis(BUDGETS)], sequential=True)


# ------------------------------------------------------------------- parsing
def test_values_are_a_linspace_with_both_ends_or_a_list():
    assert sw.parse_values("1e6:10e6:10", "x") == list(np.linspace(1e6, 10e6, 10))
    assert sw.parse_values("0:1:1", "x") == [0.0]
    assert sw.parse_values("35 km, 40 km", "x") == ["35 km", "40 km"]
    assert sw.parse_values("0,0.01", "x") == [0, 0.01]
    with pytest.raises(ScenarioError, match="FROM:TO:N"):
        sw.parse_values("1:2", "--budgets")  # YAML would read it as 62 (base 60)
    with pytest.raises(ScenarioError, match="at least 1"):
        sw.parse_values("1:2:0", "--budgets")


def test_more_points_than_the_limit_are_refused_before_any_allocation():
    assert len(sw.parse_values(f"0:1:{sw.MAX_POINTS}", "x")) == sw.MAX_POINTS
    with pytest.raises(ScenarioError, match=r"1001 points in '0:1:1001'; a sweep has at most 1000"):
        sw.parse_values("0:1:1001", "--budgets")
    with pytest.raises(ScenarioError, match="100000000 points"):
        sw.budget_axis("1:2:100000000")
    with pytest.raises(ScenarioError, match="1001 values; a sweep has at most 1000"):
        sw.key_axis("solver.mip_rel_gap=" + ",".join(["0"] * 1001))


def test_non_finite_sweep_values_are_refused():
    with pytest.raises(ScenarioError, match="FROM and TO must be finite numbers"):
        sw.parse_values("0:nan:3", "--budgets")
    with pytest.raises(ScenarioError, match="'inf' is not a finite number"):
        sw.budget_axis("inf,1")
    with pytest.raises(ScenarioError, match="is not a finite number"):
        sw.budget_axis("nanx,1x")
    with pytest.raises(ScenarioError, match="--knee-threshold must be a finite number >= 0, got nan"):
        sw.check_sweep_options(knee_threshold=float("nan"))
    with pytest.raises(ScenarioError, match="--workers must be at least 1, got 0"):
        sw.check_sweep_options(workers=0)
    with pytest.raises(ScenarioError, match="--retries must be >= 0, got -1"):
        sw.check_sweep_options(retries=-1)


def test_budget_axis_absolute_and_relative():
    assert sw.budget_axis("1e6:3e6:3").values == (1e6, 2e6, 3e6)
    assert sw.budget_axis("0.8x:1.2x:3").values == (
        "0.8 x baseline",
        "1 x baseline",
        "1.2 x baseline",
    )
    with pytest.raises(ScenarioError, match="multiple"):
        sw.budget_axis("0.8x:2e6:3")
    with pytest.raises(ScenarioError, match=">= 0"):
        sw.budget_axis("-1,2")


def test_keys_are_checked_with_suggestions(small):
    with pytest.raises(ScenarioError, match="did you mean 'mip_rel_gap'"):
        sw.sweep_points(small, [sw.key_axis("solver.mip_rel_gp=0,0.1")])
    with pytest.raises(ScenarioError, match="unknown tier 'pont'.*did you mean 'point'"):
        sw.target_axis("pont=0.5:0.9:3", small)
    with pytest.raises(ScenarioError, match="between 0 and 1"):
        sw.target_axis("point=0.5:1.5:3", small)
    with pytest.raises(ScenarioError, match="same number of values"):
        sw.sweep_points(small, [sw.budget_axis("1,2"), sw.key_axis("solver.seed=1,2,3")])


def test_nested_keys_and_targets_set_the_scenario(small):
    s = sw.with_key(small, "counts", [{"tier": "point", "max": 5}])
    s = sw.with_key(s, "counts[0].max", 3.0)  # linspace floats are fine for integer keys
    assert s.counts[0].max == 3 and s.counts[0].tier == "point"
    with pytest.raises(ScenarioError, match=r"no item \[4\]"):
        sw.with_key(s, "counts[4].max", 1)
    s = sw.with_key(small, "costs.direct.point.open", 55.0)
    assert s.costs.direct["point"].open == 55.0 and s.costs.direct["hub"].open == 500
    (p,) = sw.sweep_points(small, [sw.target_axis("point=0.3", small)])
    assert p.scenario.objective.type == "min_cost"
    assert p.scenario.objective.targets == {"point": 0.3}
    assert p.own_inputs is False  # targets share the prepared inputs
    (q,) = sw.sweep_points(small, [sw.key_axis("tiers[1].reach=3 km")])
    assert q.own_inputs is True and q.scenario.tiers[1].reach == "3 km"


# --------------------------------------------------------------------- knees
def test_knee_is_where_the_next_step_buys_little():
    x = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    y = np.array([0.0, 10.0, 20.0, 21.0, 21.5])
    marginal, knee = sw.mark_knees(x, y, threshold=0.25)
    # average slope 21.5 / 4 = 5.375, cut 1.34: steps 10, 10, 1, 0.5 -> knee at x = 2
    np.testing.assert_allclose(marginal, [np.nan, 10.0, 10.0, 1.0, 0.5])
    assert knee.tolist() == [False, False, True, False, False]
    # order of the rows does not matter, failed points (NaN) are skipped
    perm = np.array([3, 0, 4, 2, 1])
    xs = np.append(x[perm], np.nan)
    ys = np.append(y[perm], np.nan)
    m2, k2 = sw.mark_knees(xs, ys, 0.25)
    assert k2.tolist() == [False, False, False, True, False, False]
    np.testing.assert_allclose(m2, [1.0, np.nan, 0.5, 10.0, 10.0, np.nan])


# ----------------------------------------------------------- sequential run
def test_sequential_points_match_independent_plans(small, sequential):
    t = sequential.table
    assert len(t) == 6
    assert t.loc[0, "status"] == "failed"
    assert "below the" in t.loc[0, "error"] and "InfeasiblePlanError" in t.loc[0, "error"]
    assert (t.loc[1:, "status"] == "optimal").all() and (t.loc[1:, "error"] == "").all()
    for i, factor in enumerate([1.1, 1.4, 1.7, 2.0, 2.6], start=1):
        # an independent plan: loaded and prepared from scratch, not through the sweep
        alone = plan(small.replace(budget={"total": f"{factor} x baseline"}))
        point = sequential.points[i]
        assert point.values == alone.values
        np.testing.assert_array_equal(point.tiers, alone.tiers)
        assert t.loc[i, "cost"] == pytest.approx(alone.cost()["total"], abs=1e-9)
        assert t.loc[i, "budget"] == pytest.approx(factor * 240.0)
        assert t.loc[i, "cost"] <= t.loc[i, "budget"] + 1e-9
        for k, key in enumerate(small.tier_keys):
            assert t.loc[i, f"outlets_{key}"] == int((alone.tiers == k).sum())
            share = 100 * alone.model_covered[k] / alone.inputs.weights[:, k].sum()
            assert t.loc[i, f"covered_pct_{key}"] == pytest.approx(share, abs=1e-9)
    # more budget never covers less (the optimum is monotone in the budget)
    assert np.all(np.diff(t.loc[1:, "coverage_pct"].to_numpy()) >= -1e-9)


def test_write_sweep_files_and_refuses_non_empty(sequential, tmp_path):
    out = sw.write_sweep(sequential, tmp_path / "s")
    csv = pd.read_csv(out / "sweep.csv")
    assert list(csv["point"]) == list(range(6))
    assert {"covered_pct_hub", "covered_pct_point", "coverage_pct", "cost", "outlets_hub"} <= set(
        csv.columns
    )
    assert (out / "sweep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (out / "points" / "p000").exists()  # the failed point has no plan
    for i in range(1, 6):
        folder = out / "points" / f"p{i:03d}"
        assert {p.name for p in folder.iterdir()} == {"plan.gpkg", "kpis.csv", "run.json"}
        kpis = pd.read_csv(folder / "kpis.csv")
        plan_pct = kpis.loc[kpis["region"] == "all", "covered_pct_plan"].to_numpy()
        wanted = csv.loc[i, ["covered_pct_hub", "covered_pct_point"]].to_numpy(dtype=float)
        np.testing.assert_array_equal(plan_pct, [round(v, 1) for v in wanted])  # kpis.csv: 0.1 points
    with pytest.raises(OutputError, match="not empty"):
        sw.write_sweep(sequential, out)
    with pytest.raises(OutputError, match="not empty"):  # refused before anything is solved
        sw.run_sweep(sequential.scenario, [sw.budget_axis("1x")], sequential=True, out=out)


# --------------------------------------------------------------------- dask
def _same(a: sw.SweepResult, b: sw.SweepResult) -> None:
    drop = ["seconds"]
    pd.testing.assert_frame_equal(a.table.drop(columns=drop), b.table.drop(columns=drop))
    for p, q in zip(a.points, b.points, strict=True):
        assert p.values == q.values
        if p.tiers is None:
            assert q.tiers is None
        else:
            np.testing.assert_array_equal(p.tiers, q.tiers)


@pytest.mark.slow
def test_dask_two_workers_equals_sequential_even_when_a_worker_dies(
    small, sequential, tmp_path, monkeypatch
):
    marker = tmp_path / "crashed"
    monkeypatch.setenv(sw.CRASH_ONCE_ENV, f"3:1:{marker}")
    seen = []
    result = sw.run_sweep(
        small, [sw.budget_axis(BUDGETS)], workers=2, retries=2, on_point=seen.append
    )
    assert marker.exists()  # the worker solving point 3 really died once
    assert result.workers == 2
    assert sorted(p.index for p in seen) == list(range(6))  # progress saw every point
    _same(result, sequential)  # the retried point and the failed point included
    assert result.table.loc[3, "status"] == "optimal"


@pytest.mark.slow
def test_point_fails_once_its_worker_died_more_than_the_retries(small, tmp_path, monkeypatch):
    # a point that kills its worker every time: tried 1 + retries times, then failed
    # (one point only: Dask also counts a death against tasks merely queued on that worker)
    marker = tmp_path / "crashed"
    monkeypatch.setenv(sw.CRASH_ONCE_ENV, f"0:99:{marker}")
    with pytest.raises(sw.SweepFailedError, match=r"all 1 points failed; the first \(point 0\): KilledWorker"):
        sw.run_sweep(small, [sw.budget_axis("1.1x")], workers=2, retries=1)
    assert marker.read_text().splitlines() == ["crashed", "crashed"]


# ----------------------------------------------------------------------- cli
def test_cli_sweep_sequential_and_bad_key(small, tmp_path):
    from netplan.cli import app

    runner = CliRunner()
    res = runner.invoke(
        app,
        [
            "sweep",
            str(small.source),
            "--targets",
            "point=0.2,0.3",
            "--sequential",
            "--out",
            str(tmp_path / "t"),
        ],
    )
    assert res.exit_code == 0, res.output
    t = pd.read_csv(tmp_path / "t" / "sweep.csv")
    assert list(t["objective.targets.point"]) == [0.2, 0.3]
    assert (t["status"] == "optimal").all()
    assert t.loc[1, "cost"] >= t.loc[0, "cost"]  # a higher target never costs less
    # min_cost meets each target: covered share of coverable point demand >= target
    never = prepare(small).uncoverable().set_index("level")["share"]
    for i, target in enumerate([0.2, 0.3]):
        coverable_pct = 100 * (1 - never["point"])
        assert t.loc[i, "covered_pct_point"] >= target * coverable_pct - 1e-9
        run = (tmp_path / "t" / "points" / f"p{i:03d}" / "run.json").read_text()
        assert '"objective": "min_cost"' in run
    res = runner.invoke(
        app,
        ["sweep", str(small.source), "--set", "solver.mip_rel_gp=0", "--out", str(tmp_path / "u")],
    )
    assert res.exit_code == 2
    assert "did you mean 'mip_rel_gap'" in res.output
    assert not (tmp_path / "u").exists()


@pytest.mark.slow
def test_single_worker_dying_loses_the_scattered_inputs_and_they_are_sent_again(
    small, sequential, tmp_path, monkeypatch
):
    # with one worker the only copy of the scattered inputs (and of finished results) dies
    # with it; Dask cannot recompute scattered data, so the sweep scatters again and resubmits
    marker = tmp_path / "crashed"
    monkeypatch.setenv(sw.CRASH_ONCE_ENV, f"2:1:{marker}")
    result = sw.run_sweep(small, [sw.budget_axis("1.1x,1.4x,1.7x")], workers=1, retries=1)
    assert marker.exists() and result.workers == 1
    assert (result.table["status"] == "optimal").all()
    for i in range(3):
        assert result.points[i].values == sequential.points[i + 1].values
        np.testing.assert_array_equal(result.points[i].tiers, sequential.points[i + 1].tiers)


@pytest.mark.slow
def test_local_cluster_of_two_worker_processes_plans_as_without_dask(small):
    """Workers unpickle the point's task by its module path (netplan.sweep.points): on a
    LocalCluster of two worker processes the plans equal the same points planned without Dask."""
    import os

    from distributed import Client, LocalCluster, get_task_stream

    factors = [1.1, 1.7, 2.6]
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        pids = client.run(os.getpid)
        with get_task_stream(client) as stream:
            result = sw.run_sweep(
                small, [sw.budget_axis(",".join(f"{f}x" for f in factors))], client=client
            )
    # two worker processes besides this one, each with one thread, and they solved the points
    assert len(set(pids.values())) == 2 and os.getpid() not in pids.values()
    assert result.workers == 2
    solved_on = {t["worker"] for t in stream.data if str(t["key"]).startswith("netplan-sweep-p")}
    assert solved_on and solved_on <= set(pids)
    assert sw.solve_point.__module__ == "netplan.sweep.points"
    assert (result.table["status"] == "optimal").all()
    for point, factor in zip(result.points, factors, strict=True):
        alone = plan(small.replace(budget={"total": f"{factor} x baseline"}))  # no Dask
        assert point.values == alone.values
        np.testing.assert_array_equal(point.tiers, alone.tiers)
        assert result.table.loc[point.index, "objective"] == alone.solver_record()["objective"]


@pytest.mark.slow
def test_existing_scheduler_address(small, sequential):
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        result = sw.run_sweep(
            small, [sw.budget_axis("1.1x,1.4x")], scheduler=cluster.scheduler_address
        )
    assert result.workers == 1
    for i in range(2):
        assert result.points[i].values == sequential.points[i + 1].values


def test_a_point_whose_map_fails_keeps_its_plan(small, monkeypatch):
    """--maps: a page that cannot be rendered (as at the antimeridian) leaves the point's plan
    standing, with plan.gpkg, kpis.csv and run.json, and the row says which pages are missing."""
    import netplan.present.webmap as webmap

    def broken(result, *args, **kwargs):
        raise ValueError("side location conflict at 179.9 47.1")

    monkeypatch.setattr(webmap, "plan_map", broken)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = sw.run_sweep(small, [sw.budget_axis("1.4x")], sequential=True, html=True)
    point = result.points[0]
    assert point.ok and result.table.loc[0, "status"] == "optimal"
    assert result.table.loc[0, "error"] == (
        "map.html and report.html could not be written (ValueError: side location conflict at 179.9 47.1)"
    )
    assert sorted(point.files) == ["kpis.csv", "plan.gpkg", "run.json"]
    alone = plan(small.replace(budget={"total": "1.4 x baseline"}))
    np.testing.assert_array_equal(point.tiers, alone.tiers)
