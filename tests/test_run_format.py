"""Units in column names, rounded display files, run.json format 2, and compare across formats.

A run of the small case is written once; the format-1 folder (netplan < 0.2) is made from it
the way that release wrote it: no ``format_version``, absolute paths, distances in metres
under names without a unit (``dist_mean_plan``), ``unit`` ``m``, values unrounded.
"""

from __future__ import annotations

import json
import re
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
from typer.testing import CliRunner

import netplan
from netplan.cli import app
from netplan.evaluation.columns import DIST_STATS, kpi_columns, rounded

from conftest import write_road_case, write_small_case

try:
    runner = CliRunner(mix_stderr=False)
except TypeError:
    runner = CliRunner()

OLD_MESSAGE = "written by netplan < 0.2 (run.json format 1); run it again with this netplan"


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fmt")
    scenario = write_small_case(folder / "case")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = netplan.run_scenario(netplan.Scenario.from_yaml(scenario))
        netplan.write_run(result, folder / "runs" / "a")
    return result, folder / "runs" / "a", scenario


def to_format_1(run: Path, result, dest: Path) -> Path:
    """``run`` as netplan 0.1 wrote it: no format_version, absolute paths, old KPI names in metres."""
    shutil.copytree(run, dest)
    record = json.loads((run / "run.json").read_text())
    del record["format_version"], record["paths"]
    scenario = result.scenario
    record["scenario"]["file"] = str(scenario.source.resolve())
    for key, spec in scenario.layer_specs().items():
        record["inputs"][key]["path"] = str(Path(spec.path).resolve())
    (dest / "run.json").write_text(json.dumps(record, indent=2))
    table = result.kpi_table()  # unrounded, as 0.1 wrote it
    names = {}
    for stat in DIST_STATS:
        for part in ("baseline", "plan", "delta"):
            new = f"dist_{stat}_km_{part}"
            table[new] = table[new] * 1000.0
            names[new] = f"dist_{stat}_{part}"
    table = table.rename(columns=names)
    table["unit"] = "m"
    table.to_csv(dest / "kpis.csv", index=False, float_format="%.10g")
    return dest


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


def test_kpis_csv_names_units_and_is_rounded(small):
    result, run, _ = small
    raw = pd.read_csv(run / "kpis.csv", dtype=str, keep_default_na=False)
    assert set(raw["unit"]) == {"km"}
    dist = [c for c in raw.columns if c.startswith(("dist_", "time_"))]
    assert len(dist) == 15 and all(
        re.fullmatch(r"dist_(mean|p50|p90|p95|max)_km_(baseline|plan|delta)", c) for c in dist
    )
    for col in raw.columns:
        if col.startswith(("covered_pct", "gap_pct", "overlap_pct")):
            assert max(map(_decimals, raw[col])) <= 1, col
        if col.startswith(("dist_", "demand_", "covered_", "gap_", "overlap_")):
            assert max(map(_decimals, raw[col])) <= 2, col
        if col.startswith(("outlets_serving", "outlets_of_tier")):
            assert all(re.fullmatch(r"-?\d+", v) for v in raw[col]), col
    written = pd.read_csv(run / "kpis.csv")
    full = result.kpi_table()
    # each value is the unrounded one to 0.01 (km from metres: evaluation's demand layer)
    for col, places in [
        ("covered_pct_plan", 1),
        ("covered_pct_delta", 1),
        ("dist_mean_km_plan", 2),
        ("dist_p95_km_baseline", 2),
        ("demand_plan", 2),
        ("gap_pct_delta", 1),
    ]:
        assert np.array_equal(
            written[col], [round(v, places) for v in full[col]], equal_nan=True
        ), col
        # the figure a page prints for the exact value is the figure in the file
        assert [f"{v:.{places}f}" for v in written[col]] == [
            f"{v:.{places}f}" for v in full[col]
        ], col
    ev = result.evaluation
    d = ev.demand
    w = d["weight_point"].to_numpy()
    metres = d["dist_point"].to_numpy()
    ok = np.isfinite(metres) & (w > 0)
    mean_km = float((metres[ok] * w[ok]).sum() / w[ok].sum()) / 1000
    row = written[(written["region"] == "all") & (written["level"] == "point")].iloc[0]
    assert row["dist_mean_km_plan"] == round(mean_km, 2)
    # every delta is the exact delta rounded: within one last place of plan − baseline as printed
    for col in kpi_columns("km"):
        step = 10.0 ** -(
            1
            if col.endswith("_pct")
            else 2
            if col.startswith(("dist_", "demand", "covered", "gap", "overlap"))
            else 0
        )
        diff = written[f"{col}_plan"] - written[f"{col}_baseline"] - written[f"{col}_delta"]
        assert (diff.abs() <= step + 1e-9).all(), col


def test_gpkg_distance_attributes_carry_their_unit(small):
    result, run, _ = small
    demand = pyogrio.read_dataframe(run / "plan.gpkg", layer="demand", read_geometry=False)
    # per point, whole metres named so (plan.gpkg's size, tests/test_exports.py)
    assert {"dist_hub_m", "dist_point_m"} <= set(demand.columns)
    assert not {"dist_hub", "dist_point"} & set(demand.columns)
    assert {"baseline_dist_hub_m", "baseline_dist_point_m"} <= set(demand.columns)
    expected = result.evaluation.demand["dist_point"].to_numpy()
    got = demand["dist_point_m"].to_numpy(dtype=float)
    assert np.allclose(got, expected, rtol=0, atol=0.5 + 1e-9, equal_nan=True)
    assert np.array_equal(np.isnan(got), np.isnan(expected))
    outlets = pyogrio.read_dataframe(run / "plan.gpkg", layer="outlets", read_geometry=False)
    assert "support_dist_km" in outlets and "support_distance" not in outlets
    links = pyogrio.read_dataframe(run / "plan.gpkg", layer="links", read_geometry=False)
    assert "dist_km" in links and "distance" not in links
    expected_links = result.evaluation.links()["distance"].to_numpy() / 1000
    assert np.allclose(links["dist_km"].to_numpy(dtype=float), expected_links)


def test_level_and_region_kpis_frames_carry_the_unit(small):
    result, _, _ = small
    ev = result.evaluation
    lv, rg = ev.level_kpis(), ev.region_kpis()
    assert "dist_p95_km" in lv and "dist_p95" not in lv
    assert list(rg.columns) == list(lv.columns) and (rg["region"] != "all").all()
    assert len(rg) + len(lv) == len(ev.kpis)
    assert "dist_mean_km_delta" in result.kpi_table()


def test_run_json_has_format_version_and_no_absolute_path(small):
    result, run, scenario = small
    text = (run / "run.json").read_text()
    record = json.loads(text)
    assert record["format_version"] == 2
    assert str(run.parent.parent) not in text  # the test's tmp folder appears nowhere
    assert (run / record["scenario"]["file"]).resolve() == scenario.resolve()
    assert record["scenario"]["file"] == "../../case/scenario.yaml"
    for key, entry in record["inputs"].items():
        assert not Path(entry["path"]).is_absolute(), key
        assert (scenario.parent / entry["path"]).resolve() == Path(
            result.scenario.layer_specs()[key].path
        ).resolve()
    assert {v["path"] for v in record["inputs"].values()} == {
        "demand.csv",
        "outlets.csv",
        "candidates.csv",
    }
    # the solver record stays as the solver gave it: never rounded
    stage = record["solver"]["stages"][0]
    assert stage["objective"] == result.plan.solver_record()["stages"][0]["objective"]


def test_compare_reads_a_format_1_run_folder(small, tmp_path):
    result, run, _ = small
    old = to_format_1(run, result, tmp_path / "old")
    assert "dist_mean_plan" in pd.read_csv(old / "kpis.csv").columns
    c = netplan.compare(old, run)
    assert c.change_counts() == {"added": 0, "removed": 0, "retiered": 0}
    lv = c.kpis[c.kpis["region"] == "all"].set_index("level")
    full = result.kpi_table().set_index(["region", "level"]).loc["all"]
    # A (format 1, metres) converted to km; B as written (rounded to 0.01 km)
    assert lv["dist_mean_km_a"].to_numpy() == pytest.approx(
        full["dist_mean_km_plan"].to_numpy(), rel=1e-9
    )
    assert np.allclose(lv["dist_mean_km_delta"], 0, atol=0.005)
    assert set(c.kpis["unit"]) == {"km"}
    out = tmp_path / "cmp"
    cli = runner.invoke(app, ["compare", str(old), str(run), "--out", str(out)])
    assert cli.exit_code == 0, cli.stdout + cli.stderr
    deltas = pd.read_csv(out / "kpi_deltas.csv")
    assert "dist_mean_km_delta" in deltas and "dist_mean_delta" not in deltas
    # A unrounded (format 1), B rounded to 0.01 km: the same plan, a delta under half a hundredth
    assert len(re.findall(r"[+-]0\.00 km", cli.stdout)) == 2, cli.stdout


def test_a_format_1_folder_that_cannot_convert_says_run_it_again(small, tmp_path):
    result, run, _ = small
    old = to_format_1(run, result, tmp_path / "old")
    kpis = pd.read_csv(old / "kpis.csv")
    kpis.drop(columns=[c for c in kpis.columns if c.startswith("dist_")]).to_csv(
        old / "kpis.csv", index=False
    )
    with pytest.raises(netplan.CompareError) as info:
        netplan.compare(run, old)
    assert str(info.value) == f"B: {OLD_MESSAGE}"
    cli = runner.invoke(app, ["compare", str(old), str(run), "--out", str(tmp_path / "cmp")])
    assert cli.exit_code == 2
    errors = [line for line in cli.stderr.splitlines() if line.strip()]
    assert errors == [f"error: A: {OLD_MESSAGE}"], cli.stderr
    assert not (tmp_path / "cmp").exists()


def test_a_newer_format_is_refused_naming_it(small, tmp_path):
    _, run, _ = small
    new = tmp_path / "new"
    shutil.copytree(run, new)
    record = json.loads((new / "run.json").read_text())
    record["format_version"] = 3
    (new / "run.json").write_text(json.dumps(record))
    with pytest.raises(netplan.CompareError) as info:
        netplan.compare(run, new)
    assert str(info.value) == (
        "B: written by a newer netplan (run.json format 3; this netplan reads formats 1 to 2); "
        "compare it with that netplan or update this one"
    )


def test_display_rounding_of_a_kpi_table():
    frame = pd.DataFrame(
        {
            "region": ["all"],
            "covered_pct_baseline": [88.32883241],
            "covered_pct_plan": [90.436],
            "covered_pct_delta": [90.436 - 88.32883241],
            "dist_p95_km_b": [2.10166799000001],
            "time_mean_min_plan": [12.345],
            "outlets_serving_plan": [7.0],
            "cost": [2.10166799000001],
        }
    )
    out = rounded(frame)
    assert out.loc[0, "covered_pct_baseline"] == 88.3
    assert out.loc[0, "covered_pct_plan"] == 90.4
    assert out.loc[0, "covered_pct_delta"] == 2.1  # 2.10716759 rounded once, as pages print it
    assert out.loc[0, "dist_p95_km_b"] == 2.1
    assert out.loc[0, "time_mean_min_plan"] == 12.3
    assert str(out["outlets_serving_plan"].dtype) == "Int64"
    assert out.loc[0, "cost"] == 2.10166799000001  # not a KPI column: untouched
    assert (
        out.to_csv(index=False).splitlines()[1] == "all,88.3,90.4,2.1,2.1,12.3,7,2.10166799000001"
    )
    # at a half in decimal the binary value decides, as it does for "%.1f" on a page
    # (numpy's round gives 67.6 for 67.55, which pages print as 67.5)
    half = rounded(
        pd.DataFrame({"covered_pct_plan": [67.55, 0.15, 2.675], "gap_pct_delta": [-0.01] * 3})
    )
    assert half.to_csv(index=False).splitlines()[1].endswith(",0.0")  # never -0.0
    assert half["covered_pct_plan"].tolist() == [float(f"{v:.1f}") for v in (67.55, 0.15, 2.675)]


def _grid_case(folder: Path) -> Path:
    """A two-tier case on a 9 × 9 grid of residential streets (OSM XML, 250 m apart), drive times."""
    folder.mkdir(parents=True, exist_ok=True)
    lon0, lat0, step = 9.50, 47.10, 0.0025
    n = 9
    nodes, ways = [], []
    node = lambda i, j: 1 + i * n + j  # noqa: E731
    for i in range(n):
        for j in range(n):
            nodes.append(
                f'  <node id="{node(i, j)}" version="1" lat="{lat0 + i * step:.7f}" lon="{lon0 + j * step:.7f}"/>'
            )
    tags = '<tag k="highway" v="residential"/>'
    for i in range(n):
        row = "".join(f'<nd ref="{node(i, j)}"/>' for j in range(n))
        col = "".join(f'<nd ref="{node(j, i)}"/>' for j in range(n))
        ways.append(f'  <way id="{100 + i}" version="1">{row}{tags}</way>')
        ways.append(f'  <way id="{200 + i}" version="1">{col}{tags}</way>')
    osm = folder / "grid.osm"
    osm.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">\n'
        + "\n".join(nodes + ways)
        + "\n</osm>\n"
    )
    span = step * (n - 1)
    return write_road_case(
        folder, "grid.osm", name="grid", box=(lon0, lat0, lon0 + span, lat0 + span),
        outlet=(lon0 + span / 2, lat0 + span / 2), reach=("4 min", "1 min"), n_demand=60,
        n_sites=8, n_hubs=2, seed=5, solver={"time_limit": 60},
    )  # fmt: skip


def test_a_planar_run_and_a_road_run_are_refused_naming_both_units(tmp_path):
    planar_scenario = write_small_case(tmp_path / "planar")
    road_scenario = _grid_case(tmp_path / "road")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for scenario, out in ((planar_scenario, "p"), (road_scenario, "r")):
            netplan.write_run(
                netplan.run_scenario(netplan.Scenario.from_yaml(scenario)), tmp_path / out
            )
    road = pd.read_csv(tmp_path / "r" / "kpis.csv")
    assert set(road["unit"]) == {"min"}
    assert [c for c in road.columns if c.endswith("_plan") and c.startswith("time_")] == [
        f"time_{s}_min_plan" for s in DIST_STATS
    ]
    assert not any(c.startswith("dist_") for c in road.columns)
    assert max(map(_decimals, road["time_mean_min_plan"].astype(str))) <= 1
    demand = pyogrio.read_dataframe(
        tmp_path / "r" / "plan.gpkg", layer="demand", read_geometry=False
    )
    assert {"time_hub_min", "time_point_min"} <= set(demand.columns)
    # the same tiers (hub, point) and no regions: only the units differ
    cli = runner.invoke(
        app, ["compare", str(tmp_path / "p"), str(tmp_path / "r"), "--out", str(tmp_path / "c")]
    )
    assert cli.exit_code == 2
    errors = [line for line in cli.stderr.splitlines() if line.strip()]
    assert errors == [
        f"error: cannot compare {tmp_path / 'p'} with {tmp_path / 'r'}: A's distances are in km "
        "(travel planar), B's drive times are in min (travel network); reach and coverage mean "
        "different things in each, so run both with the same travel mode (travel.mode in the "
        "scenario) and compare those"
    ], cli.stderr
    assert not (tmp_path / "c").exists()
