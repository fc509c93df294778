"""Travel mode network: drive times on OpenStreetMap roads, checked against networkx.

The Liechtenstein tests read ``../shared/data/liechtenstein`` beside the repository; without it
they skip, except on CI (``CI=true``), where a missing folder is a failure.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from netplan.cli import app
from netplan.roads.network import NetworkTravel, RoadNetwork, load_network, parse_maxspeed

from conftest import ROOT, SHARED, on_ci

LI = SHARED / "data" / "liechtenstein"
DRIVE = LI / "liechtenstein-2015_drive.osm.bz2"
PBF = LI / "liechtenstein-latest.osm.pbf"
SCENARIO = ROOT / "scenarios" / "liechtenstein.yaml"

try:
    runner = CliRunner(mix_stderr=False)
except TypeError:
    runner = CliRunner()


def _need_shared() -> None:
    if not DRIVE.exists():
        if on_ci():
            pytest.fail(f"Liechtenstein data missing at {LI} (required on CI)")
        pytest.skip(f"Liechtenstein data not found at {LI}")


@pytest.fixture(scope="module")
def net() -> RoadNetwork:
    _need_shared()
    return load_network(DRIVE)


def _sites(net: RoadNetwork, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.choice(np.flatnonzero(net.snappable), n, replace=False)


def test_per_site_drive_times_equal_networkx_on_the_reversed_graph(net):
    """Points on nodes (no access leg): every in-reach pair equals networkx's Dijkstra."""
    travel = NetworkTravel(net, chunk_cells=3 * net.n_nodes)  # several chunks
    sites = _sites(net, 7, seed=1)
    nodes = np.flatnonzero(net.snappable)
    limit = 8.0
    pairs = travel.pairs(net.node_xy[nodes], net.node_xy[sites], limit)
    reverse = net.graph.reverse(copy=False)
    checked = 0
    for j, s in enumerate(sites):
        want = nx.single_source_dijkstra_path_length(
            reverse, int(net.nodes[s]), cutoff=limit, weight="travel_time_min"
        )
        sel = pairs.site == j
        got = dict(zip(net.nodes[nodes[pairs.demand[sel]]].tolist(), pairs.dist[sel], strict=True))
        snappable = set(net.nodes[nodes].tolist())
        inside = {k for k, v in want.items() if v < limit - 1e-6 and k in snappable}
        assert inside <= set(got)
        assert set(got) <= set(want)
        for node, t in got.items():
            assert abs(t - want[node]) <= 1e-6
            checked += 1
    assert checked > 500
    # one-way streets: customer -> outlet differs from outlet -> customer somewhere
    forward = nx.single_source_dijkstra_path_length(
        net.graph, int(net.nodes[sites[0]]), cutoff=limit, weight="travel_time_min"
    )
    back = nx.single_source_dijkstra_path_length(
        reverse, int(net.nodes[sites[0]]), cutoff=limit, weight="travel_time_min"
    )
    assert any(abs(forward[k] - back[k]) > 1e-3 for k in set(forward) & set(back))


def test_nearest_outlet_times_equal_multi_source_dijkstra(net):
    travel = NetworkTravel(net)
    sites = _sites(net, 12, seed=2)
    nodes = np.flatnonzero(net.snappable)
    got = travel.nearest(net.node_xy[nodes], net.node_xy[sites])
    want = nx.multi_source_dijkstra_path_length(
        net.graph.reverse(copy=False), {int(n) for n in net.nodes[sites]}, weight="travel_time_min"
    )
    expected = np.array([want.get(int(n), np.inf) for n in net.nodes[nodes]])
    assert np.all(np.isfinite(got))
    assert np.max(np.abs(got - expected)) <= 1e-6
    # the truncated pairs agree with the untruncated nearest time where it is in reach
    pairs = travel.pairs(net.node_xy[nodes], net.node_xy[sites], 5.0)
    best = np.full(len(nodes), np.inf)
    np.minimum.at(best, pairs.demand, pairs.dist)
    inside = expected <= 5.0 - 1e-6
    assert np.allclose(best[inside], expected[inside], atol=1e-9)
    assert np.all(np.isinf(best[expected > 5.0 + 1e-6]))


def _five_nodes() -> RoadNetwork:
    """1(0,0) <-> 2(1000,0) <-> 3(2000,0) -> 4(2000,1000) -> 5(0,1000) -> 1, metres in UTM 32N."""
    g = nx.MultiDiGraph(crs="EPSG:32632")
    for n, (x, y) in {1: (0, 0), 2: (1000, 0), 3: (2000, 0), 4: (2000, 1000), 5: (0, 1000)}.items():
        g.add_node(n, x=float(x), y=float(y))
    for a, b in ((1, 2), (2, 1)):
        g.add_edge(a, b, length=1000.0, highway="residential")  # 30 km/h: 2 min
    for a, b in ((2, 3), (3, 2)):
        g.add_edge(a, b, length=1000.0, highway="primary", maxspeed="60")  # maxspeed wins: 1 min
    g.add_edge(3, 4, length=1000.0, highway="primary")  # one-way, 70 km/h: 6/7 min
    g.add_edge(4, 5, length=2000.0, highway="service")  # 20 km/h: 6 min
    g.add_edge(5, 1, length=1000.0, highway="living_street")  # 10 km/h: 6 min
    return RoadNetwork.from_graph(g, crs="EPSG:32632")


def test_snapping_and_access_leg_on_a_hand_made_graph():
    net = _five_nodes()
    assert net.snappable.all()
    travel = NetworkTravel(net, access_speed_kmh=15.0, max_access_m=1000.0)
    customers = np.array([[2000.0, 1100.0], [5000.0, 5000.0], [1000.0, 30.0]])
    outlet = np.array([[0.0, -50.0]])
    where, access, ok = travel.snap(customers)
    # the nearest road points are nodes 4 and 2 (each projection falls on an edge's end)
    assert where.road_xy[[0, 2]].tolist() == [[2000.0, 1000.0], [1000.0, 0.0]]
    assert np.allclose(access[[0, 2]], [100 / 250, 30 / 250])  # 15 km/h = 250 m/min
    assert ok.tolist() == [True, False, True]  # 5 km from the nearest road (node 4): unreachable
    # customer 0 -> outlet: leg 0.4 + 4->5->1 (6 + 6) + outlet leg 0.2 = 12.6 min
    # (outlet -> customer would be 1->2->3->4 = 3.857 min: direction matters)
    # customer 2 -> outlet: 0.12 + 2->1 (2) + 0.2 = 2.32 min
    near = travel.nearest(customers, outlet)
    assert np.allclose(near, [12.6, np.inf, 2.32])
    p = travel.pairs(customers, outlet, 12.6)
    assert p.demand.tolist() == [0, 2] and np.allclose(p.dist, [12.6, 2.32])
    assert travel.pairs(customers, outlet, 12.5).demand.tolist() == [2]
    assert np.allclose(travel.times(customers, np.repeat(outlet, 3, axis=0)), [12.6, np.inf, 2.32])
    assert net.graph.edges[3, 4, 0]["travel_time_min"] == pytest.approx(60 / 70)


def test_maxspeed_parsing():
    assert parse_maxspeed("50") == 50
    assert parse_maxspeed(["50", "80"]) == 65
    assert parse_maxspeed("30 mph") == pytest.approx(48.28032)
    assert np.isnan(parse_maxspeed("signals")) and np.isnan(parse_maxspeed(None))


@pytest.mark.slow
def test_pbf_and_drive_xml_give_about_the_same_graph(net):
    """Tolerance 12 %: the .pbf keeps 74 driveways the drive export left out and drops the
    21 ways tagged motor_vehicle=no / motorcar=no the export kept; both graphs keep only the
    largest weakly connected part after osmnx's simplification, so a missing connector
    removes a few branches (measured: 2457 vs 2668 nodes, 5544 vs 6123 edges)."""
    pbf = load_network(PBF)
    for a, b in (
        (pbf.n_nodes, net.n_nodes),
        (pbf.graph.number_of_edges(), net.graph.number_of_edges()),
    ):
        assert abs(a - b) / b <= 0.12, (a, b)
    assert pbf.snappable.sum() / pbf.n_nodes > 0.99


@pytest.mark.slow
def test_liechtenstein_run_is_optimal_in_minutes_and_attributed(tmp_path):
    _need_shared()
    out = tmp_path / "li"
    result = runner.invoke(app, ["run", str(SCENARIO), "--out", str(out)])
    assert result.exit_code == 0, result.stdout + result.stderr
    run = json.loads((out / "run.json").read_text())
    assert run["data_attribution"] == "© OpenStreetMap contributors, ODbL"
    assert all(s["status"] == "optimal" and s["gap"] == 0 for s in run["solver"]["stages"])
    assert sum(run["timings_seconds"].values()) < 120
    assert "OpenStreetMap contributors, ODbL" in (out / "map.html").read_text()
    assert "OpenStreetMap contributors, ODbL" in (out / "report.html").read_text()
    import pandas as pd

    kpis = pd.read_csv(out / "kpis.csv")
    assert set(kpis["unit"]) == {"min"}
    total = kpis[(kpis["region"] == "all")]["demand_plan"]
    assert np.allclose(total, 36838)  # every person of the 11 municipalities, spread exactly
    for col in (
        "time_mean_min_plan",
        "time_p50_min_plan",
        "time_p90_min_plan",
        "time_p95_min_plan",
        "time_max_min_plan",
    ):
        assert col in kpis


def _scenario_with(tmp_path: Path, **travel) -> Path:
    raw = yaml.safe_load(SCENARIO.read_text())
    for spec in (raw["demand"], raw["demand"]["spread"]["points"], raw["outlets"]):
        spec["path"] = str((SCENARIO.parent / spec["path"]).resolve())
    raw["travel"].update(travel)
    path = tmp_path / "li.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_missing_road_file_is_one_clear_error(tmp_path):
    _need_shared()
    scenario = _scenario_with(tmp_path, network="nowhere/roads.osm.bz2")
    result = runner.invoke(app, ["run", str(scenario), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    errors = [x for x in result.stderr.splitlines() if x.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert re.search(
        r"travel\.network: road network file not found: .*nowhere/roads\.osm\.bz2", errors[0]
    )


def test_without_shared_every_missing_file_is_named(tmp_path):
    """The scenario copied where ../../shared does not exist: exit 2, each missing file named."""
    (tmp_path / "scenarios").mkdir()
    copy = tmp_path / "scenarios" / "liechtenstein.yaml"
    copy.write_text(SCENARIO.read_text())
    result = runner.invoke(app, ["validate", str(copy)])
    assert result.exit_code == 2
    text = result.stderr
    assert "liechtenstein-2015_drive.osm.bz2" in text and "liechtenstein-2015_demo.gpkg" in text
    assert "Traceback" not in text + result.stdout


@pytest.mark.parametrize(
    ("travel", "message"),
    [
        (
            {"mode": "planar", "network": None},
            r"measures distance; give reach and linkage in m or km",
        ),
        ({"max_access": "5 min"}, r"travel\.max_access: give a distance"),
        ({"netwrk": "x"}, r"unknown key 'travel\.netwrk' \(did you mean 'network'\?\)"),
    ],
)
def test_network_scenario_keys_are_checked(tmp_path, travel, message):
    import netplan

    with pytest.raises(netplan.ScenarioError, match=message):
        netplan.Scenario.from_yaml(_scenario_with(tmp_path, **travel))


def test_network_mode_needs_minutes(tmp_path):
    import netplan

    raw = yaml.safe_load(SCENARIO.read_text())
    raw["tiers"][0]["reach"] = "30 km"
    path = tmp_path / "km.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(
        netplan.ScenarioError, match=r"measures drive time; give reach and linkage in minutes"
    ):
        netplan.Scenario.from_yaml(path)


def test_classic_p_median_on_roads_matches_brute_force_with_networkx(net):
    """A classic model on drive times: p-median with p = 2 equals the best of all site pairs."""
    import itertools

    import geopandas as gpd

    from netplan.classic import LocationData, p_median

    rng = np.random.default_rng(5)
    nodes = rng.choice(np.flatnonzero(net.snappable), 150, replace=False)
    sites = _sites(net, 8, seed=6)
    frame = lambda idx: gpd.GeoDataFrame(  # noqa: E731
        geometry=gpd.points_from_xy(net.node_xy[idx, 0], net.node_xy[idx, 1]), crs=net.crs
    )
    data = LocationData.from_frames(frame(nodes), frame(sites), mode=NetworkTravel(net))
    result = p_median(data, 2)
    reverse = net.graph.reverse(copy=False)
    lengths = [
        nx.single_source_dijkstra_path_length(reverse, int(net.nodes[s]), weight="travel_time_min")
        for s in sites
    ]
    cost = np.array([[length[int(net.nodes[d])] for d in nodes] for length in lengths])
    best = min(cost[list(pair)].min(axis=0).sum() for pair in itertools.combinations(range(8), 2))
    assert result.status == "optimal"
    assert result.objective == pytest.approx(best, abs=1e-6)


def test_graphml_round_trip_gives_the_same_travel_times(net, tmp_path):
    import osmnx as ox

    path = tmp_path / "li.graphml"
    ox.save_graphml(net.graph, path)
    again = load_network(path, crs=net.crs)
    assert (again.n_nodes, again.graph.number_of_edges()) == (
        net.n_nodes,
        net.graph.number_of_edges(),
    )
    assert (again.nodes == net.nodes).all()  # same node order, so the matrices compare directly
    assert again.reversed_csr.nnz == net.reversed_csr.nnz
    assert abs(again.reversed_csr - net.reversed_csr).max() <= 1e-9
