"""Snapping to the road, not to the junction: drive times against a brute-force oracle.

The oracle does not use netplan's snapping: it finds each point's nearest edge by measuring the
distance to every edge, inserts the point into that edge as an explicit node (directed pieces
matching the edge's directions), joins the point to it by its straight access leg, and runs
networkx's Dijkstra on that augmented graph.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx
import numpy as np
import pytest
import shapely

from netplan.roads.network import NetworkTravel, RoadNetwork

CRS = "EPSG:32632"
ACCESS = 250.0  # metres per minute at 15 km/h


@dataclass
class Roads:
    """A hand-made road graph: nodes in metres, each road with its directions and shape."""

    nodes: dict[int, tuple[float, float]]
    roads: list[dict] = field(default_factory=list)

    def add(self, a, b, speed=30.0, way="both", via=()):
        """A road a–b at ``speed`` km/h; way: both, ab (one-way a→b) or ba; via: bends."""
        coords = [self.nodes[a], *via, self.nodes[b]]
        self.roads.append({"a": a, "b": b, "speed": speed, "way": way, "coords": coords})

    def network(self) -> RoadNetwork:
        g = nx.MultiDiGraph(crs=CRS)
        for n, (x, y) in self.nodes.items():
            g.add_node(n, x=float(x), y=float(y))
        for r in self.roads:
            line = shapely.LineString(r["coords"])
            extra = {"geometry": line} if len(r["coords"]) > 2 else {}
            common = {"length": line.length, "highway": "residential", "maxspeed": str(r["speed"])}
            if r["way"] in ("both", "ab"):
                r["key_ab"] = g.add_edge(r["a"], r["b"], **common, **extra)
            if r["way"] in ("both", "ba"):
                back = {"geometry": line.reverse()} if extra else {}
                r["key_ba"] = g.add_edge(r["b"], r["a"], **common, **back)
        return RoadNetwork.from_graph(g, crs=CRS)


def oracle(net: RoadNetwork, roads: Roads, customers, outlets, max_access=1000.0) -> np.ndarray:
    """Minutes customer i → outlet j by brute force (inf where unreachable)."""
    g = net.graph
    scc = max(nx.strongly_connected_components(g), key=len)
    candidates = [r for r in roads.roads if r["a"] in scc and r["b"] in scc]
    lines = [shapely.LineString(r["coords"]) for r in candidates]
    points = np.vstack([customers, outlets])
    on_road: dict[int, list[tuple[float, object]]] = {}
    h = nx.MultiDiGraph()
    for a, b, data in g.edges(data=True):
        h.add_edge(a, b, w=data["travel_time_min"], road=(min(a, b), max(a, b)))
    for i, xy in enumerate(points):
        pt = shapely.Point(xy)
        dist = np.array([line.distance(pt) for line in lines])
        k = int(np.argmin(dist))
        if dist[k] > max_access:
            continue
        f = lines[k].line_locate_point(pt, normalized=True)
        # the road point is a node of its own, shared by points at the same spot
        q = candidates[k]["a"] if f == 0 else candidates[k]["b"] if f == 1 else ("q", k, f)
        on_road.setdefault(k, []).append((f, q))
        h.add_edge(("p", i), q, w=dist[k] / ACCESS)
        h.add_edge(q, ("p", i), w=dist[k] / ACCESS)
    for k, found in on_road.items():
        r = candidates[k]
        t_ab = g.edges[r["a"], r["b"], r["key_ab"]]["travel_time_min"] if "key_ab" in r else None
        t_ba = g.edges[r["b"], r["a"], r["key_ba"]]["travel_time_min"] if "key_ba" in r else None
        h.remove_edges_from(
            [
                (u, v, key)
                for u, v, key, d in h.edges(keys=True, data=True)
                if d.get("road") and {u, v} == {r["a"], r["b"]}
            ]
        )
        chain = sorted([(0.0, r["a"]), (1.0, r["b"]), *found], key=lambda x: x[0])
        for (f0, n0), (f1, n1) in zip(chain, chain[1:], strict=False):
            if n0 == n1:
                continue
            if t_ab is not None:
                h.add_edge(n0, n1, w=(f1 - f0) * t_ab)
            if t_ba is not None:
                h.add_edge(n1, n0, w=(f1 - f0) * t_ba)
    out = np.full((len(customers), len(outlets)), np.inf)
    for i in range(len(customers)):
        if ("p", i) not in h:
            continue
        reach = nx.single_source_dijkstra_path_length(h, ("p", i), weight="w")
        for j in range(len(outlets)):
            out[i, j] = reach.get(("p", len(customers) + j), np.inf)
    return out


def assert_all_methods_match(travel, customers, outlets, want, radius):
    """times, nearest and pairs of ``travel`` equal the oracle matrix ``want`` to 1e-9."""
    nc, no = want.shape
    got = travel.times(np.repeat(customers, no, axis=0), np.tile(outlets, (nc, 1)))
    got = got.reshape(nc, no)
    assert np.array_equal(np.isinf(got), np.isinf(want))
    fin = np.isfinite(want)
    assert np.max(np.abs(got[fin] - want[fin]), initial=0) <= 1e-9
    near = travel.nearest(customers, outlets)
    best = want.min(axis=1)
    assert np.array_equal(np.isinf(near), np.isinf(best))
    fin = np.isfinite(best)
    assert np.max(np.abs(near[fin] - best[fin]), initial=0) <= 1e-9
    pairs = travel.pairs(customers, outlets, radius)
    i, j = np.nonzero(want <= radius + 1e-9)
    assert pairs.demand.tolist() == i.tolist() and pairs.site.tolist() == j.tolist()
    assert np.max(np.abs(pairs.dist - want[i, j]), initial=0) <= 1e-9


def _one_way_square() -> Roads:
    """A(1) (0,0) → B(2) (1000,0) → C(3) (1000,1000) → D(4) (0,1000) → A: 2 min a side."""
    roads = Roads({1: (0, 0), 2: (1000, 0), 3: (1000, 1000), 4: (0, 1000)})
    for a, b in ((1, 2), (2, 3), (3, 4), (4, 1)):
        roads.add(a, b, way="ab")
    return roads


def test_a_point_beside_a_one_way_street_drives_around():
    roads = _one_way_square()
    net = roads.network()
    travel = NetworkTravel(net)
    customer = np.array([[500.0, 20.0]])  # beside A→B at its middle, 20 m off: leg 0.08 min
    outlet = np.array([[400.0, -20.0]])  # 100 m behind the customer on the same one-way street
    # customer → outlet: rest of A→B (1) + B→C→D→A (6) + 0.4 of A→B (0.8), legs 0.08
    assert travel.times(customer, outlet)[0] == pytest.approx(7.96, abs=1e-12)
    # outlet → customer: straight on along the street, 0.1 of A→B
    assert travel.times(outlet, customer)[0] == pytest.approx(0.36, abs=1e-12)
    both = np.vstack([customer, outlet])
    want = oracle(net, roads, both, both)
    assert want[0, 1] == pytest.approx(7.96) and want[1, 0] == pytest.approx(0.36)
    assert_all_methods_match(travel, both, both, want, radius=5.0)


def test_two_points_on_a_two_way_edge_reach_each_other_both_ways():
    roads = Roads({1: (0, 0), 2: (1000, 0), 3: (1000, 1000), 4: (0, 1000)})
    roads.add(1, 2, way="both")  # the two points' street
    for a, b in ((2, 3), (3, 4), (4, 1)):
        roads.add(a, b, way="ab")
    net = roads.network()
    travel = NetworkTravel(net)
    pts = np.array([[500.0, 20.0], [400.0, -20.0]])
    assert travel.times(pts, pts[::-1]).tolist() == pytest.approx([0.36, 0.36], abs=1e-12)
    want = oracle(net, roads, pts, pts)
    assert_all_methods_match(travel, pts, pts, want, radius=0.36)
    assert travel.pairs(pts, pts, 0.35).demand.tolist() == [0, 1]  # only each point to itself


def test_a_point_nearer_an_edge_middle_than_any_node_snaps_to_the_edge():
    roads = _one_way_square()
    net = roads.network()
    travel = NetworkTravel(net)
    where, access, ok = travel.snap(np.array([[500.0, 30.0]]))
    assert where.road_xy.tolist() == [[500.0, 0.0]] and where.metres.tolist() == [30.0]
    assert where.fraction.tolist() == [0.5] and access.tolist() == [0.12] and ok.tolist() == [True]
    # to an outlet standing on node B: leg 0.12 + half of A→B (1 min); a node snap would
    # have walked 501 m to A or B (2 min of access leg)
    at_b = np.array([[1000.0, 0.0]])
    assert travel.times(np.array([[500.0, 30.0]]), at_b)[0] == pytest.approx(1.12, abs=1e-12)
    assert travel.nearest(np.array([[500.0, 30.0]]), at_b)[0] == pytest.approx(1.12, abs=1e-12)


def test_an_edge_outside_the_strongly_connected_part_is_not_snapped_onto():
    roads = _one_way_square()
    roads.nodes[5] = (500.0, 500.0)
    roads.add(1, 5, way="ab")  # a one-way dead end into the square: 5 cannot leave
    net = roads.network()
    assert net.snappable.sum() == 4
    travel = NetworkTravel(net)
    xy = np.array([[260.0, 240.0]])  # 14 m from the dead end, 240 m from A→B, 260 m from D→A
    where, access, _ = travel.snap(xy)
    assert where.road_xy.tolist() == [[260.0, 0.0]] and access[0] == pytest.approx(240 / ACCESS)
    outlets = np.array([[1000.0, 500.0], [0.0, 700.0]])
    want = oracle(net, roads, xy, outlets)
    # 0.96 leg + 0.74 x 2 of A→B + 0.5 x 2 of B→C
    assert want[0, 0] == pytest.approx(0.96 + 1.48 + 1.0)
    assert_all_methods_match(travel, xy, outlets, want, radius=30.0)


def test_max_access_cuts_the_straight_leg_only():
    roads = Roads({1: (0, 0), 2: (6000, 0)})
    roads.add(1, 2, speed=60.0)  # 6 km at 60 km/h: 6 min
    net = roads.network()
    travel = NetworkTravel(net, max_access_m=100.0)
    # 99 m and 101 m from the road's middle; the outlet at node 1, 3 km along the road
    customers = np.array([[3000.0, 99.0], [3000.0, 101.0]])
    outlet = np.array([[0.0, 0.0]])
    _, _, ok = travel.snap(customers)
    assert ok.tolist() == [True, False]
    want = np.array([[99 / ACCESS + 3.0], [np.inf]])
    assert np.allclose(oracle(net, roads, customers, outlet, max_access=100.0)[0], want[0])
    assert_all_methods_match(travel, customers, outlet, want, radius=10.0)


def _random_roads(seed: int) -> Roads:
    """A jittered 5 x 5 grid, 300 m apart: some links missing, one-way either way or bent, mixed
    speeds, and a dangling one-way spur outside the strongly connected part."""
    rng = np.random.default_rng(seed)
    nodes = {}
    for i in range(5):
        for j in range(5):
            nodes[5 * i + j] = (300.0 * i + rng.uniform(-40, 40), 300.0 * j + rng.uniform(-40, 40))
    roads = Roads(nodes)
    for i in range(5):
        for j in range(5):
            for di, dj in ((1, 0), (0, 1)):
                if i + di > 4 or j + dj > 4 or rng.random() < 0.08:
                    continue
                a, b = 5 * i + j, 5 * (i + di) + j + dj
                way = rng.choice(["both"] * 6 + ["ab", "ba"])
                via = ()
                if rng.random() < 0.3:  # a bend beside the straight line
                    mid = (np.array(nodes[a]) + np.array(nodes[b])) / 2
                    via = (tuple(mid + rng.uniform(-60, 60, 2)),)
                roads.add(a, b, speed=float(rng.choice([20, 30, 50])), way=way, via=via)
    roads.nodes[99] = (1300.0, 1300.0)
    roads.add(24, 99, way="ab")
    return roads


@pytest.mark.parametrize("seed", [0, 1, 2, 7])
def test_random_points_on_a_random_grid_equal_the_brute_force(seed):
    roads = _random_roads(seed)
    net = roads.network()
    rng = np.random.default_rng(100 + seed)
    customers = rng.uniform(-150, 1350, (45, 2))
    outlets = rng.uniform(-150, 1350, (7, 2))
    # points on an outlet's road (same edge), a point on a node and one past a dead end
    near_outlets = outlets[:4] + rng.uniform(-25, 25, (4, 2))
    customers = np.vstack([customers, near_outlets, [roads.nodes[12]], [[1350.0, 1350.0]]])
    # several chunks of outlets
    travel = NetworkTravel(net, max_access_m=150.0, chunk_cells=2 * 2 * max(net.n_nodes + 7, 60))
    want = oracle(net, roads, customers, outlets, max_access=150.0)
    assert np.isinf(want).any() and np.isfinite(want).sum() > 100
    radius = float(np.median(want[np.isfinite(want)]))
    assert_all_methods_match(travel, customers, outlets, want, radius)
    # linkage-style use: outlets to outlets
    want_oo = oracle(net, roads, outlets, outlets, max_access=150.0)
    assert_all_methods_match(travel, outlets, outlets, want_oo, radius)


def test_service_area_holds_every_node_that_reaches_the_outlet():
    roads = _random_roads(7)
    net = roads.network()
    travel = NetworkTravel(net)
    outlet = np.array([[610.0, 590.0]])
    node_xy = net.node_xy[net.snappable]
    want = oracle(net, roads, node_xy, outlet)[:, 0]
    inside = node_xy[want <= 3.0]
    assert 3 <= len(inside) < len(node_xy)
    area = travel.service_areas(outlet, np.array([3.0]))[0]
    assert shapely.contains(area, shapely.points(inside)).all()


def test_generated_candidates_sit_on_their_road_point():
    from pyproj import CRS as _CRS

    from netplan.inputs.candidates import generate_candidates
    from netplan.scenario import GenerateSpec

    net = _one_way_square().network()
    # two demand clusters: k-means centres at (500, 60) and (940, 500), 60 m inside the square
    demand = np.array([[480.0, 60.0], [520.0, 60.0], [940.0, 480.0], [940.0, 520.0]])
    spec = GenerateSpec(method="kmeans", n=2, tiers="a", seed=0)
    sites = generate_candidates(demand, np.ones(4), _CRS.from_user_input(CRS), [spec], ["a"], net)
    xy = sorted(map(tuple, sites.get_coordinates().to_numpy().round(9).tolist()))
    assert xy == [(500.0, 0.0), (1000.0, 500.0)]  # mid-edge, not the corners


def _graph_oracle(net: RoadNetwork, customers, outlets, max_access=1000.0) -> np.ndarray:
    """Brute force on any road graph (osmnx edges with ``geometry``): minutes customer → outlet.

    Each directed edge is a line of its own (its geometry reprojected here, ends on its
    nodes); a point splits the nearest one and every edge between the same nodes along the
    same line (the other direction of a two-way street), then networkx runs Dijkstra."""
    from pyproj import Transformer

    g = net.graph
    scc = max(nx.strongly_connected_components(g), key=len)
    at = {n: net.node_xy[i] for i, n in enumerate(net.nodes.tolist())}
    to_metric = Transformer.from_crs(g.graph.get("crs", "EPSG:4326"), net.crs, always_xy=True)
    edges, lines = [], []
    for u, v, k, data in g.edges(keys=True, data=True):
        if u not in scc or v not in scc:
            continue
        inner = np.zeros((0, 2))
        if data.get("geometry") is not None:
            lon, lat = np.asarray(data["geometry"].coords).T
            inner = np.column_stack(to_metric.transform(lon, lat))[1:-1]
        edges.append((u, v, k, data["travel_time_min"]))
        lines.append(np.vstack([at[u], inner, at[v]]))
    shapes = np.array([shapely.LineString(line) for line in lines])
    points = np.vstack([customers, outlets])
    h = nx.MultiDiGraph()
    for u, v, k, t in edges:
        h.add_edge(u, v, w=t, edge=(u, v, k))
    splits: dict[int, list[tuple[float, object]]] = {}
    for i, xy in enumerate(points):
        pt = shapely.Point(xy)
        dist = shapely.distance(shapes, pt)
        e = int(np.argmin(dist))
        if dist[e] > max_access:
            continue
        u, v = edges[e][0], edges[e][1]
        f = shapely.line_locate_point(shapes[e], pt, normalized=True)
        road = shapely.line_interpolate_point(shapes[e], f, normalized=True)
        q = u if f == 0 else v if f == 1 else ("q", i)
        for j, (a, b, _, _) in enumerate(edges):
            if {a, b} != {u, v}:
                continue
            if np.array_equal(lines[j], lines[e]):
                splits.setdefault(j, []).append((f, q))
            elif np.array_equal(lines[j][::-1], lines[e]):
                splits.setdefault(j, []).append((1.0 - f, q))
        leg = shapely.distance(road, pt) / ACCESS
        h.add_edge(("p", i), q, w=leg)
        h.add_edge(q, ("p", i), w=leg)
    for j, found in splits.items():
        u, v, k, t = edges[j]
        key = next(c for _, _, c, d in h.edges(u, keys=True, data=True) if d["edge"] == (u, v, k))
        h.remove_edge(u, v, key=key)
        chain = sorted([(0.0, u), (1.0, v), *found], key=lambda x: x[0])
        for (f0, n0), (f1, n1) in zip(chain, chain[1:], strict=False):
            if n0 != n1:
                h.add_edge(n0, n1, w=(f1 - f0) * t)
    out = np.full((len(customers), len(outlets)), np.inf)
    for i in range(len(customers)):
        if ("p", i) in h:
            reach = nx.single_source_dijkstra_path_length(h, ("p", i), weight="w")
            for j in range(len(outlets)):
                out[i, j] = reach.get(("p", len(customers) + j), np.inf)
    return out


def test_real_roads_of_liechtenstein_equal_the_brute_force():
    """osmnx geometries (reprojected), two-way streets as edge pairs, real one-way streets."""
    from test_roads import DRIVE, _need_shared

    from netplan.roads.network import load_network

    _need_shared()
    net = load_network(DRIVE)
    rng = np.random.default_rng(11)
    centre = net.node_xy[rng.choice(np.flatnonzero(net.snappable))]
    customers = centre + rng.uniform(-1500, 1500, (70, 2))
    outlets = centre + rng.uniform(-1000, 1000, (5, 2))
    # beside one-way streets: 20 points a few metres off the middle of one-way road pieces
    p = net.pieces
    one_way = np.flatnonzero(np.isinf(p.forward) | np.isinf(p.backward))
    picked = p.lines[rng.choice(one_way, 20, replace=False)]
    mid = shapely.get_coordinates(shapely.line_interpolate_point(picked, 0.5, normalized=True))
    near_outlets = outlets + rng.uniform(-15, 15, (5, 2))
    customers = np.vstack([customers, mid + rng.uniform(-8, 8, (20, 2)), near_outlets])
    want = _graph_oracle(net, customers, outlets)
    assert np.isfinite(want).sum() >= 400  # most of the 95 x 5 pairs are on the roads
    travel = NetworkTravel(net)
    where, _, _ = travel.snap(customers)
    one_way = np.isinf(net.pieces.forward[where.piece]) | np.isinf(net.pieces.backward[where.piece])
    inside = (where.fraction > 0) & (where.fraction < 1)
    assert (one_way & inside).sum() >= 10 and inside.sum() >= 60  # the cases that matter occur
    radius = float(np.median(want[np.isfinite(want)]))
    assert_all_methods_match(travel, customers, outlets, want, radius)
