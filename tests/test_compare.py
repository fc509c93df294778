"""netplan compare: two runs of the demo (today's budget vs 1.2 x), checked against the run files."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import warnings

import geopandas as gpd
import pandas as pd
import pytest
from typer.testing import CliRunner

import netplan
from netplan.cli import app

from conftest import write_small_case

try:  # click < 8.2 mixes stderr into stdout unless told not to
    runner = CliRunner(mix_stderr=False)
except TypeError:
    runner = CliRunner()

pytestmark = pytest.mark.slow  # plans the demo twice (once per session, shared)


def _open_tiers(folder) -> dict[str, str]:
    """site id -> tier of the outlets a run's plan.gpkg keeps open (read independently)."""
    frame = gpd.read_file(folder / "plan.gpkg", layer="outlets")
    tiers = frame["tier"].fillna("").astype(str)
    return dict(zip(frame["site_id"].astype(str)[tiers != ""], tiers[tiers != ""], strict=True))


def test_sites_added_removed_retiered_match_the_two_plans(demo_compare, demo_run, demo_run_b):
    comparison, out = demo_compare
    a, b = _open_tiers(demo_run[1]), _open_tiers(demo_run_b[1])
    added = set(b) - set(a)
    removed = set(a) - set(b)
    retiered = {s for s in set(a) & set(b) if a[s] != b[s]}
    assert added and removed and retiered  # the budgets differ enough to exercise every case
    got = comparison.changed.groupby("change")["site_id"].apply(set).to_dict()
    assert got == {"added": added, "removed": removed, "retiered": retiered}
    assert comparison.change_counts() == {
        "added": len(added),
        "removed": len(removed),
        "retiered": len(retiered),
    }
    # the written table says the same, with each site's tiers in A and B
    sites = pd.read_csv(out / "sites.csv", keep_default_na=False)
    assert len(sites) == len(added) + len(removed) + len(retiered)
    for row in sites.itertuples():
        assert row.tier_a == a.get(row.site_id, "") and row.tier_b == b.get(row.site_id, "")
    # outlets per tier are the counts of open outlets in each plan
    for r in comparison.outlets.itertuples():
        assert r.a == sum(t == r.tier for t in a.values())
        assert r.b == sum(t == r.tier for t in b.values())
        assert r.added == sum(b[s] == r.tier for s in added)


def test_cost_delta_is_the_difference_of_the_run_records(demo_compare, demo_run, demo_run_b):
    comparison, out = demo_compare
    cost_a = json.loads((demo_run[1] / "run.json").read_text())["cost"]["plan"]
    cost_b = json.loads((demo_run_b[1] / "run.json").read_text())["cost"]["plan"]
    assert cost_b["total"] > cost_a["total"]  # the larger budget is used
    for part in ("total", "capex", "opex_per_year", "open", "convert", "close"):
        assert comparison.cost.loc[part, "delta"] == pytest.approx(cost_b[part] - cost_a[part])
    assert comparison.cost.loc["total", "b"] == pytest.approx(demo_run_b[0].plan.cost()["total"])
    written = pd.read_csv(out / "cost.csv").set_index("component")
    assert written.loc["total", "delta"] == pytest.approx(cost_b["total"] - cost_a["total"])
    summary = json.loads((out / "compare.json").read_text())
    assert summary["cost"]["total"] == pytest.approx(cost_b["total"] - cost_a["total"])


def test_kpi_deltas_per_level_and_region(demo_compare, demo_run, demo_run_b):
    comparison, out = demo_compare
    ka = pd.read_csv(demo_run[1] / "kpis.csv").set_index(["region", "level"])
    kb = pd.read_csv(demo_run_b[1] / "kpis.csv").set_index(["region", "level"])
    got = pd.read_csv(out / "kpi_deltas.csv").set_index(["region", "level"])
    assert set(got.index) == set(ka.index) and len(got.index.get_level_values(0).unique()) == 4
    for col in ("covered_pct", "gap", "overlap", "dist_mean_km", "outlets_serving"):
        expected = kb[f"{col}_plan"] - ka[f"{col}_plan"]
        assert got[f"{col}_delta"].to_numpy() == pytest.approx(
            expected.reindex(got.index).to_numpy(), rel=1e-5, abs=1e-6
        )


def test_coverage_gained_and_lost_add_up_to_the_kpi_delta(demo_compare):
    """The map's cells (demand points whose coverage changed) against the KPI tables."""
    comparison, _ = demo_compare
    cov = comparison.coverage
    lv = comparison.kpis.set_index(["region", "level"])
    for key in comparison.a.tier_keys:
        sel = cov[cov["level"] == key]
        net = sel.loc[sel["change"] == "gained", "weight"].sum()
        net -= sel.loc[sel["change"] == "lost", "weight"].sum()
        assert net == pytest.approx(lv.loc[("all", key), "covered_delta"])
    assert (cov["change"] == "lost").any() and (cov["change"] == "gained").any()


def _digest(folder) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_cli_compare_writes_and_refuses_a_non_empty_folder(demo_run, demo_run_b, tmp_path):
    before = _digest(demo_run[1])
    target = tmp_path / "cmp"
    args = ["compare", str(demo_run[1]), str(demo_run_b[1]), "--out", str(target)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    counts = netplan.compare(demo_run[1], demo_run_b[1]).change_counts()
    assert (
        f"sites: {counts['added']} added, {counts['removed']} removed, "
        f"{counts['retiered']} re-tiered" in result.stdout
    )
    assert {p.name for p in target.iterdir()} == {
        ".netplan-output",
        "sites.csv",
        "kpi_deltas.csv",
        "cost.csv",
        "outlets.csv",
        "compare.json",
        "compare.html",
    }
    assert _digest(demo_run[1]) == before  # the run folders are only read
    again = runner.invoke(app, args)
    assert again.exit_code == 2
    assert again.stderr.count("error:") == 1 and "not empty" in again.stderr
    assert runner.invoke(app, [*args, "--overwrite"]).exit_code == 0


def _fails(args, *needles) -> str:
    result = runner.invoke(app, ["compare", *map(str, args)])
    assert result.exit_code == 2, result.stdout
    lines = result.stderr.strip().splitlines()
    text = " ".join(lines)
    assert text.startswith("error:") and text.count("error:") == 1, result.stderr
    for needle in needles:
        assert needle in text, (needle, text)
    return text


def test_not_a_run_folder(demo_run, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    out = tmp_path / "out"
    _fails([empty, demo_run[1], "--out", out], str(empty), "not a netplan run folder", "plan.gpkg")
    _fails([demo_run[1], tmp_path / "nowhere", "--out", out], "no such folder")
    broken = tmp_path / "broken"
    shutil.copytree(demo_run[1], broken)
    (broken / "run.json").write_text("{not json")
    _fails([demo_run[1], broken, "--out", out], "run.json", "not readable as JSON")
    assert not out.exists()  # nothing is written on error


def test_runs_of_different_tiers_or_regions_are_refused(demo_run, tmp_path):
    small = write_small_case(tmp_path / "small")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        netplan.write_run(netplan.run_scenario(netplan.Scenario.from_yaml(small)), tmp_path / "s")
    out = tmp_path / "out"
    _fails(
        [demo_run[1], tmp_path / "s", "--out", out],
        "different tiers (A: regional, city, community; B: hub, point)",
    )
    renamed = tmp_path / "renamed"
    shutil.copytree(demo_run[1], renamed)
    kpis = pd.read_csv(renamed / "kpis.csv")
    kpis["region"] = kpis["region"].replace({"West": "Westmark"})
    kpis.to_csv(renamed / "kpis.csv", index=False)
    _fails(
        [demo_run[1], renamed, "--out", out],
        "different regions (only in A: West; only in B: Westmark)",
    )
    with pytest.raises(netplan.CompareError, match="different regions"):
        netplan.compare(demo_run[1], renamed)
    assert not out.exists()


def test_compare_map_is_self_contained_and_escaped(demo_run, demo_run_b, tmp_path):
    evil = tmp_path / '<img src=x onerror="alert(1)">'
    shutil.copytree(demo_run_b[1], evil)
    comparison = netplan.compare(demo_run[1], evil)
    out = netplan.write_comparison(comparison, tmp_path / "cmp")["map"].parent
    page = (out / "compare.html").read_text(encoding="utf-8")
    assert not re.search(r"""<(script|link)[^>]+(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert (out / "compare.html").stat().st_size < 3_000_000
    counts = comparison.change_counts()
    assert f"Added in B ({counts['added']})" in page
    assert f"Removed in B ({counts['removed']})" in page
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page  # the folder name, as text
