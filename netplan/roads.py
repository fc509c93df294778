"""Road networks: read OpenStreetMap offline, travel times per edge, snapping, drive-time pairs.

Travel mode ``network`` measures reach in minutes of driving on a road graph:

- :func:`load_network` reads ``.osm`` / ``.osm.bz2`` XML (``osmnx.graph_from_xml``), GraphML
  (``osmnx.load_graphml``) or an ``.osm.pbf`` extract (pyosmium keeps the drivable
  ``highway=*`` ways and their nodes, then osmnx builds the graph). Never downloads.
- Each edge's speed is its OSM ``maxspeed`` where tagged (the mean of several values, as
  osmnx does), else the default of its ``highway`` type (:data:`DEFAULT_SPEEDS_KMH`, which a
  scenario may override); travel time = length / speed, in minutes.
- Points snap to the nearest point of the nearest edge whose ends are in the largest strongly
  connected part of the graph (:mod:`netplan.snapping`); the straight off-network leg is
  driven at an access speed, the part of the edge to its ends at the edge's speed (one-way
  streets respected). A point whose straight leg is longer than the allowed maximum is
  *unreachable*: it is never covered, and reported.
- Direction: the time of a pair is **customer → outlet** (the customer's way onto the
  network, roads between the two edges' ends, the outlet's way off it; or along their shared
  edge). It is computed by Dijkstra from the outlets' edge ends on the *reversed* graph, so
  one-way streets count the right way.
- :meth:`NetworkTravel.pairs` runs ``scipy.sparse.csgraph.dijkstra`` truncated at the reach
  (``limit``), chunked over the sources, and keeps only the in-reach pairs of each chunk, so
  the result is the same sparse :class:`netplan.coverage.Pairs` as the planar modes produce.
"""

from __future__ import annotations

import functools
import hashlib
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import scipy.sparse as sp
import shapely
from pyproj import CRS, Transformer
from scipy.sparse.csgraph import connected_components, dijkstra

from ._errors import InputDataError, InputFileNotFoundError
from .coverage import REACH_TOLERANCE, Pairs
from .snapping import (
    RoadPieces,
    RoadPoints,
    along_piece,
    road_pieces,
    same_piece_pairs,
    snap_to_roads,
)

#: Attribution every output derived from OpenStreetMap data must carry.
OSM_ATTRIBUTION = "© OpenStreetMap contributors, ODbL"

#: Speed (km/h) of a way without ``maxspeed``, by ``highway`` type. Typical urban/rural
#: European values; a scenario overrides any of them with ``travel.speeds``.
DEFAULT_SPEEDS_KMH: dict[str, float] = {
    "motorway": 110.0,
    "motorway_link": 60.0,
    "trunk": 90.0,
    "trunk_link": 50.0,
    "primary": 70.0,
    "primary_link": 50.0,
    "secondary": 60.0,
    "secondary_link": 40.0,
    "tertiary": 50.0,
    "tertiary_link": 40.0,
    "unclassified": 40.0,
    "residential": 30.0,
    "living_street": 10.0,
    "service": 20.0,
    "road": 30.0,
    "busway": 30.0,
}

#: ``highway`` values that are not for cars (osmnx's "drive_service" filter, plus areas).
_NOT_DRIVABLE = {
    "abandoned",
    "bridleway",
    "bus_guideway",
    "construction",
    "corridor",
    "cycleway",
    "elevator",
    "escalator",
    "footway",
    "no",
    "path",
    "pedestrian",
    "planned",
    "platform",
    "proposed",
    "raceway",
    "razed",
    "steps",
    "track",
    "bus_stop",
    "rest_area",
    "services",
}
_NO_SERVICE = {"emergency_access", "parking", "parking_aisle", "private"}

_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph)?\s*$")


def is_drivable(tags: dict[str, str]) -> bool:
    """Whether an OSM way with these tags is a road for cars (the rule used for .pbf input).

    Parameters
    ----------
    tags : dict
        The way's tags.
    """
    highway = tags.get("highway")
    if not highway or highway in _NOT_DRIVABLE or tags.get("area") == "yes":
        return False
    if tags.get("motor_vehicle") == "no" or tags.get("motorcar") == "no":
        return False
    if tags.get("access") == "private" or tags.get("service") in _NO_SERVICE:
        return False
    return True


def parse_maxspeed(value: object) -> float:
    """km/h of an OSM ``maxspeed`` value (a list: the mean of its numbers); NaN if none is numeric.

    ``"50"`` → 50, ``"30 mph"`` → 48.28, ``["50", "80"]`` → 65, ``"signals"`` → NaN.
    """
    values = value if isinstance(value, list | tuple) else [value]
    speeds = []
    for v in values:
        m = _NUMBER.match(str(v)) if v is not None else None
        if m:
            speeds.append(float(m.group(1)) * (1.609344 if m.group(2) == "mph" else 1.0))
    return float(np.mean(speeds)) if speeds else float("nan")


def highway_speed(highway: object, table: dict[str, float], fallback: float) -> float:
    """Default speed of a ``highway`` value (a list: the mean of its types' defaults)."""
    kinds = highway if isinstance(highway, list | tuple) else [highway]
    speeds = [table.get(str(k), fallback) for k in kinds]
    return float(np.mean(speeds)) if speeds else fallback


# --------------------------------------------------------------------- reading
def read_graph(path: str | Path) -> nx.MultiDiGraph:
    """Read an OpenStreetMap road graph offline.

    Parameters
    ----------
    path : str or Path
        ``.osm``, ``.osm.bz2`` or ``.xml`` (OSM XML, read by ``osmnx.graph_from_xml``; the file
        should hold roads only, e.g. an osmnx "drive" export), ``.graphml``, or ``.osm.pbf``
        (any extract: only drivable ``highway=*`` ways are kept, see :func:`is_drivable`).

    Returns
    -------
    networkx.MultiDiGraph
        osmnx's graph: nodes with ``x``, ``y`` (longitude, latitude), edges with ``length``
        (metres), ``highway`` and, where tagged, ``maxspeed``.

    Raises
    ------
    InputFileNotFoundError
        The file does not exist.
    InputDataError
        The format is unknown or the file cannot be read.
    """
    import osmnx as ox

    path = Path(path)
    if not path.is_file():
        raise InputFileNotFoundError(
            f"{path}: road network file not found; fix 'travel.network' in the scenario "
            "(relative paths start at the scenario's folder)"
        )
    name = path.name.lower()
    try:
        if name.endswith(".pbf"):
            with tempfile.TemporaryDirectory(prefix="netplan-pbf-") as tmp:
                xml = Path(tmp) / "drive.osm"
                _pbf_to_drive_xml(path, xml)
                return ox.graph_from_xml(xml)
        if name.endswith((".osm", ".osm.bz2", ".xml", ".xml.bz2")):
            return ox.graph_from_xml(path)
        if name.endswith(".graphml"):
            return ox.load_graphml(path)
    except (
        OSError,
        ValueError,
        KeyError,
        EOFError,
        SyntaxError,
    ) as exc:  # ParseError is a SyntaxError
        raise InputDataError(
            f"{path}: cannot read the road network ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__}); "
            "give an OSM XML (.osm/.osm.bz2), GraphML or .osm.pbf file"
        ) from None
    raise InputDataError(
        f"{path}: unknown road network format; give .osm, .osm.bz2, .graphml or .osm.pbf"
    )


def _pbf_to_drive_xml(pbf: Path, out: Path) -> None:
    """Write the drivable ways of a .pbf and the nodes they use to OSM XML."""
    import osmium

    with osmium.BackReferenceWriter(str(out), ref_src=str(pbf), overwrite=True) as writer:
        ways = osmium.FileProcessor(str(pbf), osmium.osm.WAY).with_filter(
            osmium.filter.KeyFilter("highway")
        )
        for way in ways:
            if is_drivable(dict(way.tags)):
                writer.add(way)


# ------------------------------------------------------------------- the network
@dataclass
class RoadNetwork:
    """A road graph ready for drive-time queries, in a metric working CRS.

    Attributes
    ----------
    graph : networkx.MultiDiGraph
        The osmnx graph; every edge carries ``speed_kph`` and ``travel_time_min``.
    nodes : ndarray (n,)
        OSM node id of each node index.
    node_xy : ndarray (n, 2)
        Node coordinates in ``crs`` (metres).
    crs : pyproj.CRS
    reversed_csr : scipy.sparse.csr_matrix (n, n)
        ``[v, u]`` = the least travel time (minutes) of an edge u → v: Dijkstra from an
        outlet on it gives every node's time *to* the outlet.
    snappable : ndarray (n,) of bool
        Nodes of the largest strongly connected component (points snap only onto these, so a
        snapped point can reach and be reached from the rest of the network).
    source : str
        Where the graph came from.
    """

    graph: nx.MultiDiGraph
    nodes: np.ndarray
    node_xy: np.ndarray
    crs: CRS
    reversed_csr: sp.csr_matrix
    snappable: np.ndarray
    source: str = ""

    @property
    def n_nodes(self) -> int:
        return len(self.nodes)

    def __repr__(self) -> str:
        return (
            f"RoadNetwork({self.n_nodes} nodes, {self.graph.number_of_edges()} edges, "
            f"{int(self.snappable.sum())} in the largest strongly connected part, {self.crs.to_string()})"
        )

    @classmethod
    def from_graph(
        cls,
        graph: nx.MultiDiGraph,
        crs: CRS | str | int | None = None,
        speeds: dict[str, float] | None = None,
        default_speed: float = 30.0,
        source: str = "",
    ) -> RoadNetwork:
        """Add speeds and travel times to an osmnx graph and index it.

        Parameters
        ----------
        graph : networkx.MultiDiGraph
            Nodes with ``x``, ``y`` in the graph's CRS (``graph.graph["crs"]``, default
            EPSG:4326); edges with ``length`` in metres. Edited in place (speed, time).
        crs : CRS, optional
            Metric working CRS of node coordinates (default: local UTM zone).
        speeds : dict, optional
            km/h per ``highway`` type, overriding :data:`DEFAULT_SPEEDS_KMH`.
        default_speed : float
            km/h of a ``highway`` type that is in neither table.
        source : str
            A label for messages (the file name).
        """
        table = {**DEFAULT_SPEEDS_KMH, **(speeds or {})}
        nodes = np.fromiter(graph.nodes, dtype=np.int64, count=graph.number_of_nodes())
        if len(nodes) == 0:
            raise InputDataError(f"{source or 'road network'}: the road graph has no nodes")
        lonlat = np.array([(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in nodes], dtype=float)
        graph_crs = CRS.from_user_input(graph.graph.get("crs", "EPSG:4326"))
        if crs is None:
            wgs = gpd.GeoSeries(gpd.points_from_xy(lonlat[:, 0], lonlat[:, 1]), crs=graph_crs)
            crs = wgs.estimate_utm_crs()
        crs = CRS.from_user_input(crs)
        x, y = Transformer.from_crs(graph_crs, crs, always_xy=True).transform(
            lonlat[:, 0], lonlat[:, 1]
        )
        index = {n: i for i, n in enumerate(nodes.tolist())}
        m = graph.number_of_edges()
        u = np.empty(m, dtype=np.int64)
        v = np.empty(m, dtype=np.int64)
        t = np.empty(m)
        # one pass over the edges (not over demand-site pairs): tags are per-edge Python objects
        for e, (a, b, data) in enumerate(graph.edges(data=True)):
            speed = parse_maxspeed(data.get("maxspeed"))
            if not speed > 0:
                speed = highway_speed(data.get("highway"), table, default_speed)
            data["speed_kph"] = speed
            data["travel_time_min"] = float(data["length"]) / (speed / 3.6) / 60.0
            u[e], v[e], t[e] = index[a], index[b], data["travel_time_min"]
        reversed_csr = _min_csr(v, u, t, len(nodes))
        _, labels = connected_components(reversed_csr, directed=True, connection="strong")
        largest = np.bincount(labels).argmax()
        return cls(
            graph=graph,
            nodes=nodes,
            node_xy=np.column_stack([x, y]),
            crs=crs,
            reversed_csr=reversed_csr,
            snappable=labels == largest,
            source=source,
        )

    @functools.cached_property
    def pieces(self) -> RoadPieces:
        """The undirected road pieces points snap onto (edges in the strongly connected part)."""
        return road_pieces(self.graph, self.node_xy, self.crs, self.snappable)

    def snap(self, xy: np.ndarray) -> RoadPoints:
        """The nearest point of the nearest drivable edge of each point, with its entries.

        Only edges whose both ends are in the largest strongly connected part are candidates,
        so a snapped point can reach and be reached from the rest of the network. See
        :mod:`netplan.snapping` for the entries (one-way streets respected).

        Parameters
        ----------
        xy : ndarray (n, 2)
            Points in the network's CRS (metres).

        Returns
        -------
        RoadPoints
            Piece, fraction along it, straight leg (metres), road point, exit and arrival
            entries of each point.
        """
        xy = np.ascontiguousarray(xy, dtype=float).reshape(-1, 2)
        # coverage, linkage and the KPIs snap the same demand and sites again and again
        key = hashlib.blake2b(xy.tobytes(), digest_size=16).digest()
        memo = self._snap_memo
        if key not in memo:
            if len(memo) >= 8:
                memo.pop(next(iter(memo)))
            memo[key] = snap_to_roads(self.pieces, xy)
        return memo[key]

    @functools.cached_property
    def _snap_memo(self) -> dict[bytes, RoadPoints]:
        return {}


def _min_csr(rows: np.ndarray, cols: np.ndarray, w: np.ndarray, n: int) -> sp.csr_matrix:
    """CSR matrix keeping the least weight of parallel entries (a coo→csr would sum them)."""
    order = np.lexsort((w, cols, rows))
    rows, cols, w = rows[order], cols[order], w[order]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    # explicit zeros are edges for csgraph on sparse input, so zero-length edges are kept
    return sp.csr_matrix((w[first], (rows[first], cols[first])), shape=(n, n))


def _with_sources(
    csr: sp.csr_matrix, k: int, source: np.ndarray, node: np.ndarray, w: np.ndarray
) -> sp.csr_matrix:
    """``csr`` (n × n) with ``k`` virtual nodes n + i appended: an edge n + source → node of
    weight w (the least of duplicates); the virtual nodes have no incoming edges."""
    n = csr.shape[0]
    order = np.lexsort((w, node, source))
    source, node, w = source[order], node[order], w[order]
    first = np.ones(len(source), dtype=bool)
    first[1:] = (source[1:] != source[:-1]) | (node[1:] != node[:-1])
    source, node, w = source[first], node[first], w[first]
    ends = csr.indptr[-1] + np.cumsum(np.bincount(source, minlength=k))
    # rows appended by hand: a generic stack could sum or drop the explicit zero-minute edges
    return sp.csr_matrix(
        (
            np.concatenate([csr.data, w]),
            np.concatenate([csr.indices, node]),
            np.concatenate([csr.indptr, ends]),
        ),
        shape=(n + k, n + k),
    )


def load_network(
    path: str | Path,
    crs: CRS | str | int | None = None,
    speeds: dict[str, float] | None = None,
    default_speed: float = 30.0,
) -> RoadNetwork:
    """Read a road network file (see :func:`read_graph`) and prepare it for drive times.

    Parameters
    ----------
    path : str or Path
        ``.osm``, ``.osm.bz2``, ``.graphml`` or ``.osm.pbf``.
    crs : CRS, optional
        Metric working CRS (default: the local UTM zone).
    speeds : dict, optional
        km/h per ``highway`` type for ways without ``maxspeed``, overriding the defaults.
    default_speed : float
        km/h of a ``highway`` type in no table.

    Returns
    -------
    RoadNetwork
    """
    return RoadNetwork.from_graph(
        read_graph(path), crs=crs, speeds=speeds, default_speed=default_speed, source=str(path)
    )


# ----------------------------------------------------------------- travel times
@dataclass
class NetworkTravel:
    """Drive times between points over a :class:`RoadNetwork`, with the access legs.

    A point snaps to the nearest point of the nearest drivable edge (:meth:`RoadNetwork.snap`).
    Its time to or from the network is the straight leg at :attr:`access_speed_kmh` plus the
    part of its edge to one of the edge's ends at the edge's speed (one-way streets respected);
    between those ends Dijkstra runs on the simplified graph, and two points on the same edge
    also reach each other along it. Every method (pairs, nearest, times, service areas) uses
    this same snapping, so coverage, linkage, KPIs, the validator and the map agree.

    Attributes
    ----------
    network : RoadNetwork
    access_speed_kmh : float
        Speed of the straight leg between a point and its road point.
    max_access_m : float
        A point whose straight leg is longer than this is unreachable.
    chunk_cells : int
        Bound on the cells of one dense block (sources × nodes or sources × demand).
    """

    network: RoadNetwork
    access_speed_kmh: float = 15.0
    max_access_m: float = 1000.0
    chunk_cells: int = 4_000_000

    mode = "network"

    def snap(self, xy: np.ndarray) -> tuple[RoadPoints, np.ndarray, np.ndarray]:
        """Road point, access time (minutes) and reachability of each point.

        Returns
        -------
        where : RoadPoints
            Piece, road point and entries of each point (:meth:`RoadNetwork.snap`).
        access_min : ndarray
            Minutes of the straight leg (inf for unreachable points).
        ok : ndarray of bool
            The straight leg is at most :attr:`max_access_m`.
        """
        where = self.network.snap(xy)
        ok = where.metres <= self.max_access_m
        access = np.where(ok, where.metres / (self.access_speed_kmh * 1000.0 / 60.0), np.inf)
        return where, access, ok

    def pairs(
        self,
        query_xy: np.ndarray,
        tree_xy: np.ndarray,
        radius: float,
        tree_index: np.ndarray | None = None,
    ) -> Pairs:
        """(customer, outlet) pairs whose drive time customer → outlet is at most ``radius``.

        Same contract as :func:`netplan.coverage.pairs_within` with minutes for metres:
        ``query_xy`` are customers, ``tree_xy`` outlets (or supported / supporting sites for
        linkage), ``dist`` is minutes. In chunks of outlets, Dijkstra runs on the reversed
        graph from the nodes those outlets are reached from (up to two each), truncated at
        ``radius`` minus the least minutes from such a node to its outlet; a pair's time is
        the least over the customer's two exits and the outlet's two arrivals (dense, per
        chunk), or along their common edge; each chunk is cut to its in-reach pairs at once.
        """
        tree_index = np.arange(len(tree_xy)) if tree_index is None else np.asarray(tree_index)
        empty = Pairs(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
        if len(query_xy) == 0 or len(tree_xy) == 0:
            return empty
        cust, c_acc, c_ok = self.snap(query_xy)
        site, s_acc, s_ok = self.snap(tree_xy)
        reach = radius + REACH_TOLERANCE
        d_rows = np.flatnonzero(c_ok)
        s_rows = np.flatnonzero(s_ok & (s_acc <= reach))
        if len(d_rows) == 0 or len(s_rows) == 0:
            return empty
        n = self.network.n_nodes
        # one virtual source per site, joined on the reversed graph to the (up to two) nodes it
        # is reached from by the minutes from there (partial edge and leg): Dijkstra from it
        # gives each node's time to the site, truncated exactly at the reach
        ent_min = site.arrive_min[s_rows] + s_acc[s_rows, None]
        use = ent_min <= reach
        graph = _with_sources(
            self.network.reversed_csr,
            len(s_rows),
            np.repeat(np.arange(len(s_rows)), 2)[use.ravel()],
            site.arrive_node[s_rows][use],
            ent_min[use],
        )
        exit_node = cust.exit_node[d_rows]
        exit_min = cust.exit_min[d_rows] + c_acc[d_rows, None]
        # customer and site on the same edge: along it (a few pairs, merged into each block)
        ia, ib, along = same_piece_pairs(self.network.pieces, cust, d_rows, site, s_rows)
        d_pos = np.searchsorted(d_rows, ia)
        s_pos = np.empty(len(tree_xy), np.int64)
        s_pos[s_rows] = np.arange(len(s_rows))
        s_pos = s_pos[ib]
        direct = c_acc[ia] + along + s_acc[ib]
        per_chunk = max(1, self.chunk_cells // (2 * max(n, len(d_rows))))
        out_d, out_s, out_t = [], [], []
        for start in range(0, len(s_rows), per_chunk):
            stop = min(start + per_chunk, len(s_rows))
            dist = dijkstra(graph, indices=n + np.arange(start, stop), limit=reach)
            # by the better of the customer's two exits
            t = np.take(dist, exit_node[:, 0], axis=1)
            t += exit_min[:, 0]
            other = np.take(dist, exit_node[:, 1], axis=1)
            other += exit_min[:, 1]
            np.minimum(t, other, out=t)
            del dist, other
            mine = np.flatnonzero((s_pos >= start) & (s_pos < stop))
            r0, c0 = s_pos[mine] - start, d_pos[mine]
            t[r0, c0] = np.minimum(t[r0, c0], direct[mine])  # (site, customer) pairs are unique
            r, c = np.nonzero(t <= reach)
            out_s.append(tree_index[s_rows[start + r]])
            out_d.append(d_rows[c])
            out_t.append(t[r, c])
        if not out_d:
            return empty
        d = np.concatenate(out_d).astype(np.int64)
        s = np.concatenate(out_s).astype(np.int64)
        t = np.concatenate(out_t)
        order = np.lexsort((s, d))
        return Pairs(d[order], s[order], t[order])

    def nearest(self, query_xy: np.ndarray, tree_xy: np.ndarray) -> np.ndarray:
        """Minutes from each customer to its nearest outlet (inf if none is reachable).

        One Dijkstra on the reversed graph from a virtual source joined to every node an
        outlet is reached from by an edge of the minutes from there to the outlet (partial
        edge and access leg): exact multi-source shortest paths; then each customer's better
        exit, or an outlet on its own edge.
        """
        n = self.network.n_nodes
        out = np.full(len(query_xy), np.inf)
        if len(query_xy) == 0 or len(tree_xy) == 0:
            return out
        cust, c_acc, c_ok = self.snap(query_xy)
        site, s_acc, s_ok = self.snap(tree_xy)
        s_rows = np.flatnonzero(s_ok)
        if len(s_rows) == 0:
            return out
        ent_min = (site.arrive_min[s_rows] + s_acc[s_rows, None]).ravel()
        ent_node = site.arrive_node[s_rows].ravel()
        use = np.isfinite(ent_min)
        one = np.zeros(int(use.sum()), np.int64)  # a single virtual source joined to them all
        aug = _with_sources(self.network.reversed_csr, 1, one, ent_node[use], ent_min[use])
        dist = dijkstra(aug, indices=n)[:n]
        d_rows = np.flatnonzero(c_ok)
        core = np.full(len(query_xy), np.inf)
        core[d_rows] = np.min(dist[cust.exit_node[d_rows]] + cust.exit_min[d_rows], axis=1)
        ia, ib, along = same_piece_pairs(self.network.pieces, cust, d_rows, site, s_rows)
        np.minimum.at(core, ia, along + s_acc[ib])
        out[d_rows] = core[d_rows] + c_acc[d_rows]
        return out

    def times(self, from_xy: np.ndarray, to_xy: np.ndarray) -> np.ndarray:
        """Minutes from each row of ``from_xy`` to the same row of ``to_xy`` (inf if unreachable).

        Dijkstra on the reversed graph from the nodes each destination is reached from
        (chunked), the least over the origin's two exits and the destination's two arrivals,
        or along their common edge.
        """
        out = np.full(len(from_xy), np.inf)
        if len(from_xy) == 0:
            return out
        a, a_acc, a_ok = self.snap(from_xy)
        b, b_acc, b_ok = self.snap(to_xy)
        rows = np.flatnonzero(a_ok & b_ok)
        ent_min = b.arrive_min[rows].ravel()
        use = np.isfinite(ent_min)
        ent_row, ent_min = np.repeat(rows, 2)[use], ent_min[use]
        targets, inv = np.unique(b.arrive_node[rows].ravel()[use], return_inverse=True)
        core = np.full(len(from_xy), np.inf)
        per_chunk = max(1, self.chunk_cells // self.network.n_nodes)
        for start in range(0, len(targets), per_chunk):
            dist = dijkstra(self.network.reversed_csr, indices=targets[start : start + per_chunk])
            sel = np.flatnonzero((inv >= start) & (inv < start + per_chunk))
            r = ent_row[sel]
            via = dist[(inv[sel] - start)[:, None], a.exit_node[r]] + a.exit_min[r]
            np.minimum.at(core, r, via.min(axis=1) + ent_min[sel])
        same = rows[a.piece[rows] == b.piece[rows]]
        along = along_piece(self.network.pieces, a.piece[same], a.fraction[same], b.fraction[same])
        core[same] = np.minimum(core[same], along)
        out[rows] = core[rows] + a_acc[rows] + b_acc[rows]
        return out

    def service_areas(self, xy: np.ndarray, minutes: np.ndarray) -> list[shapely.Geometry]:
        """Area from which each outlet is reached within its minutes: the hull of the reached roads.

        For each outlet, the nodes whose drive time to it (through its edge's ends, with its
        partial edge and access leg) is within ``minutes``, with its road point, as a concave
        hull buffered by 100 m (the roads themselves lie inside).
        """
        minutes = np.broadcast_to(np.asarray(minutes, dtype=float), (len(xy),))
        where, acc, _ = self.snap(xy)
        entries = where.arrive_min + acc[:, None]  # inf for unreachable outlets
        areas: list[shapely.Geometry] = []
        for i in range(len(xy)):  # one Dijkstra per outlet shown on the map
            use = entries[i] <= minutes[i]
            if not use.any():
                areas.append(shapely.Point(xy[i]).buffer(100.0))
                continue
            extra = entries[i][use]
            dist = dijkstra(
                self.network.reversed_csr,
                indices=where.arrive_node[i][use],
                limit=float(minutes[i] - extra.min()),
            )
            reached = np.min(dist + extra[:, None], axis=0) <= minutes[i]
            pts = shapely.multipoints(
                np.vstack([self.network.node_xy[reached], where.road_xy[i : i + 1]])
            )
            hull = shapely.concave_hull(pts, ratio=0.3) if len(pts.geoms) >= 3 else pts
            areas.append(shapely.buffer(hull, 100.0))
        return areas


def data_attribution_html(scenario) -> str:
    """A fixed map note with the OpenStreetMap attribution for road-network runs ("" otherwise)."""
    if scenario.travel.mode != "network":
        return ""
    return (
        '<div class="netplan-attribution" style="position:fixed;bottom:2px;left:50%;'
        "transform:translateX(-50%);z-index:1000;background:rgba(255,255,255,.85);"
        f'font:11px sans-serif;padding:1px 6px">Roads and data: {OSM_ATTRIBUTION}</div>'
    )


@functools.lru_cache(maxsize=4)
def _cached_network(
    path: str, mtime: float, crs_wkt: str, speeds: tuple, default_speed: float
) -> RoadNetwork:
    return load_network(
        path, crs=CRS.from_wkt(crs_wkt), speeds=dict(speeds), default_speed=default_speed
    )


def scenario_travel(scenario, crs: CRS) -> NetworkTravel:
    """The :class:`NetworkTravel` of a scenario with ``travel.mode: network`` (cached per file and CRS).

    Parameters
    ----------
    scenario : Scenario
    crs : pyproj.CRS
        The working CRS (metres) of the inputs.
    """
    spec = scenario.travel
    path = Path(spec.network)
    if not path.is_file():
        raise InputFileNotFoundError(
            f"{scenario._where()}: travel.network: road network file not found: {path}; fix the path "
            "(relative paths start at the scenario's folder)"
        )
    net = _cached_network(
        str(path.resolve()),
        path.stat().st_mtime,
        CRS.from_user_input(crs).to_wkt(),
        tuple(sorted((spec.speeds or {}).items())),
        float(spec.default_speed),
    )
    return NetworkTravel(net, float(spec.access_speed), spec.max_access_metres)
