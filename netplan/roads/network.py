"""Road networks: read OpenStreetMap offline, travel times per edge, snapping, drive-time pairs.

Travel mode ``network`` measures reach in minutes of driving on a road graph:

- :func:`load_network` reads an OSM extract, ``.osm.pbf`` or ``.osm`` / ``.osm.bz2`` XML
  (pyosmium keeps the drivable ``highway=*`` ways and their nodes, splitting ways cut by a
  clipped extract at the missing nodes, see :mod:`netplan.roads.extract`; then
  ``osmnx.graph_from_xml`` builds the graph), or GraphML (``osmnx.load_graphml``). Never
  downloads.
- Each edge's speed is its OSM ``maxspeed`` where tagged (the mean of several values, as
  osmnx does), else the default of its ``highway`` type (:data:`DEFAULT_SPEEDS_KMH`, which a
  scenario may override); travel time = length / speed, in minutes.
- Points snap to the nearest point of the nearest edge whose ends are in the largest strongly
  connected part of the graph (:mod:`netplan.roads.snapping`); the straight off-network leg is
  driven at an access speed, the part of the edge to its ends at the edge's speed (one-way
  streets respected). A point whose straight leg is longer than the allowed maximum is
  *unreachable*: it is never covered, and reported.
- Direction: the time of a pair is **customer → outlet** (the customer's way onto the
  network, roads between the two edges' ends, the outlet's way off it; or along their shared
  edge). It is computed by Dijkstra from the outlets' edge ends on the *reversed* graph, so
  one-way streets count the right way.
- :meth:`NetworkTravel.pairs` (:mod:`netplan.roads.drivetimes`, importable from here) runs
  ``scipy.sparse.csgraph.dijkstra`` truncated at the reach (``limit``), chunked over the
  outlets, and keeps only the in-reach pairs of each chunk, so the result is the same sparse
  :class:`netplan.travel.coverage.Pairs` as the planar modes produce.
"""

from __future__ import annotations

import functools
import hashlib
import re
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import scipy.sparse as sp
from pyproj import CRS, Transformer
from scipy.sparse.csgraph import connected_components

from netplan._errors import InputDataError, InputFileNotFoundError, NetplanWarning
from netplan.roads.drivetimes import NetworkTravel
from netplan.roads.extract import write_drive_xml
from netplan.roads.snapping import RoadPieces, RoadPoints, road_pieces, snap_to_roads

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


def is_road(tags: dict[str, str]) -> bool:
    """Whether an OSM way is a road by its type: a ``highway`` value for cars, not an area.

    The rule for OSM XML input, which is often already a road selection (an osmnx "drive"
    export keeps some ways its own access rules allow): netplan drops what is not a road
    (buildings, footways, areas) and reads the access tags as given.

    Parameters
    ----------
    tags : dict
        The way's tags.
    """
    highway = tags.get("highway")
    return bool(highway) and highway not in _NOT_DRIVABLE and tags.get("area") != "yes"


def is_drivable(tags: dict[str, str]) -> bool:
    """Whether an OSM way with these tags is a road for cars (the rule used for .pbf input).

    :func:`is_road` and open to cars: not ``motor_vehicle=no`` / ``motorcar=no``, not
    ``access=private``, not ``service=parking`` / ``parking_aisle`` / ``private`` /
    ``emergency_access``.

    Parameters
    ----------
    tags : dict
        The way's tags.
    """
    if not is_road(tags):
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
#: File name endings read_graph accepts (OSM files go through pyosmium, GraphML through osmnx).
_OSM_SUFFIXES = (".osm.pbf", ".pbf", ".osm", ".osm.bz2", ".xml", ".xml.bz2")
_ACCEPTED = ".osm.pbf, .osm, .osm.bz2, .xml, .xml.bz2 or .graphml"


def read_graph(path: str | Path) -> nx.MultiDiGraph:
    """Read an OpenStreetMap road graph offline.

    Parameters
    ----------
    path : str or Path
        An OSM file: ``.osm.pbf``, ``.osm``, ``.osm.bz2`` or ``.xml`` (a whole or clipped
        extract; its drivable ``highway=*`` ways are kept, see :func:`is_drivable`, and ways
        that reference nodes missing from the file are split at each gap, with a
        :class:`~netplan.NetplanWarning`), or ``.graphml`` (an osmnx graph, read as is).

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
        The format is unknown, the file cannot be read or holds no drivable roads.
    """
    import osmnx as ox

    path = Path(path)
    if not path.is_file():
        raise InputFileNotFoundError(
            f"{path}: road network file not found; fix 'travel.network' in the scenario "
            "(relative paths start at the scenario's folder)"
        )
    name = path.name.lower()
    if name.endswith(".graphml"):
        try:
            return ox.load_graphml(path)
        except (OSError, ValueError, KeyError, SyntaxError, nx.NetworkXError) as exc:
            raise InputDataError(
                f"{path}: cannot read this GraphML file ({_first_line(exc)}); "
                "write it again with osmnx.save_graphml, or give the OSM extract itself"
            ) from None
    if not name.endswith(_OSM_SUFFIXES):
        raise InputDataError(f"{path}: unknown road network format; give {_ACCEPTED}")
    with tempfile.TemporaryDirectory(prefix="netplan-osm-") as tmp:
        xml = Path(tmp) / "drive.osm"
        kind, note = _osm_to_drive_xml(path, xml)
        try:
            graph = ox.graph_from_xml(xml)
        except (OSError, ValueError, KeyError, SyntaxError, nx.NetworkXError) as exc:
            raise InputDataError(
                f"{path}: cannot build the road graph from {kind} ({_first_line(exc)}); "
                "check the extract with `netplan validate` and `osmium fileinfo`"
            ) from None
    # kept on the graph too: a cached network still reports it with each run's input notes
    graph.graph["netplan_notes"] = [note] if note else []
    return graph


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _osm_to_drive_xml(path: Path, out: Path) -> tuple[str, str | None]:
    """Write the drivable ways of an OSM file (split at missing nodes) and their nodes to XML.

    Returns what the file is ("this .osm.pbf" or "this OSM XML file"), for messages. Warns
    (:class:`NetplanWarning`) when ways were split; raises :class:`InputDataError` naming the
    cause and the fix when the file cannot be read or holds no drivable roads.
    """
    pbf = path.name.lower().endswith(".pbf")
    kind = "this .osm.pbf" if pbf else "this OSM XML file"
    try:
        summary = write_drive_xml(path, out, is_drivable if pbf else is_road)
    except (RuntimeError, OSError, ValueError) as exc:  # pyosmium's read errors are RuntimeError
        raise InputDataError(
            f"{path}: cannot read {kind} ({_first_line(exc)}); the file may be truncated or not "
            "OSM data: download it again or check it with `osmium fileinfo`"
        ) from None
    if summary.written_ways == 0:
        clipped = (
            f" ({_plural(summary.clipped_ways, 'drivable way')} cut by the clip, none with 2 "
            "nodes in the file)"
            if summary.clipped_ways
            else ""
        )
        raise InputDataError(
            f"{path}: no drivable roads (highway=* ways open to cars) in this extract{clipped}; "
            "give an extract that covers the study area with its roads (e.g. from Geofabrik or "
            "BBBike, or `osmium extract --bbox` of a larger one)"
        )
    note = None
    if summary.clipped_ways:
        note = (
            f"{path}: clipped extract: {summary.clipped_ways:,} of {summary.ways:,} drivable ways "
            f"reference {_plural(summary.missing_nodes, 'node')} not in the file; kept their parts "
            f"between known nodes (split into {_plural(summary.pieces, 'piece')})"
        )
        warnings.warn(note, NetplanWarning, stacklevel=3)
    return kind, note


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
    notes: tuple[str, ...] = ()  # what reading the file warned about (a clipped extract)

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
        :mod:`netplan.roads.snapping` for the entries (one-way streets respected).

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
    graph = read_graph(path)
    network = RoadNetwork.from_graph(
        graph, crs=crs, speeds=speeds, default_speed=default_speed, source=str(path)
    )
    network.notes = tuple(graph.graph.get("netplan_notes", ()))
    return network


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
