"""Snapping points to the road they are on: the nearest point of the nearest drivable edge.

A customer, outlet or site meets the road graph at its *road point*: the nearest point of the
nearest edge (over the edges' real geometries, in the network's metric CRS) among the edges
whose both ends lie in the largest strongly connected part of the graph. From there:

- the straight *access leg* (point ↔ road point) is driven at the access speed; ``max_access``
  applies to it alone;
- the point *leaves* onto the network at the edge's ends the street allows: for an edge u → v
  of ``t`` minutes and the road point at fraction ``f`` of it (0 at u, 1 at v), v after
  ``(1 - f)·t``, and u after ``f·t'`` if the reverse edge v → u (``t'`` minutes) exists;
- the point is *reached* from u after ``f·t`` and from v after ``(1 - f)·t'`` the same way;
- two points on the same road piece also reach each other directly along it, where the
  street's direction allows.

Each point thus carries up to two ``(node, minutes)`` exit entries and two arrival entries
(missing ones have ``inf`` minutes). Those offsets are additive, so shortest paths still run
between the nodes of the simplified graph (:class:`netplan.roads.drivetimes.NetworkTravel`).

A *road piece* is one undirected piece of road: the edges u → v and v → u of a two-way street
share one geometry and are one piece with a time per direction (``inf`` where one-way).
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
import shapely
from pyproj import CRS, Transformer


@dataclass(frozen=True)
class RoadPieces:
    """The undirected pieces of road that points may snap onto.

    Attributes
    ----------
    u, v : ndarray (p,) of int64
        Node index of each piece's ends; the line runs from u to v (u <= v).
    forward, backward : ndarray (p,)
        Minutes u → v and v → u (the least of parallel edges with this geometry); ``inf``
        where the street is one-way the other way.
    lines : ndarray (p,) of shapely.LineString
        The pieces in the network's metric CRS, ends exactly on their nodes.
    tree : shapely.STRtree
        Spatial index over ``lines``.
    """

    u: np.ndarray
    v: np.ndarray
    forward: np.ndarray
    backward: np.ndarray
    lines: np.ndarray
    tree: shapely.STRtree

    def __len__(self) -> int:
        return len(self.u)


@dataclass(frozen=True)
class RoadPoints:
    """Where points meet the road network (see the module docstring).

    Attributes
    ----------
    piece : ndarray (n,) of int64
        Road piece of each point (-1 if the network has none to snap onto).
    fraction : ndarray (n,)
        Position of the road point along its piece, 0 at ``u`` and 1 at ``v``.
    metres : ndarray (n,)
        Length of the straight access leg (``inf`` without a piece).
    road_xy : ndarray (n, 2)
        The road point, in the network's CRS.
    exit_node, exit_min : ndarray (n, 2)
        Nodes the point reaches first when it leaves (v, then u) and the minutes along the
        piece to them (``inf`` where the direction is not allowed).
    arrive_node, arrive_min : ndarray (n, 2)
        Nodes the point is reached from (u, then v) and the minutes along the piece from them.
    """

    piece: np.ndarray
    fraction: np.ndarray
    metres: np.ndarray
    road_xy: np.ndarray
    exit_node: np.ndarray
    exit_min: np.ndarray
    arrive_node: np.ndarray
    arrive_min: np.ndarray


def road_pieces(
    graph: nx.MultiDiGraph,
    node_xy: np.ndarray,
    crs: CRS,
    snappable: np.ndarray,
) -> RoadPieces:
    """The road pieces of a graph whose edges carry ``travel_time_min``.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        Nodes in the order of ``node_xy``; edges with ``travel_time_min`` and, where osmnx
        simplified them, a ``geometry`` in the graph's CRS (else the straight segment).
    node_xy : ndarray (n, 2)
        Node coordinates in ``crs``.
    crs : pyproj.CRS
        The metric working CRS.
    snappable : ndarray (n,) of bool
        Nodes a piece's both ends must be in.

    Returns
    -------
    RoadPieces
    """
    index = {node: i for i, node in enumerate(graph.nodes)}
    edges = list(graph.edges(data=True))
    m = len(edges)
    u = np.fromiter((index[a] for a, _, _ in edges), np.int64, m)
    v = np.fromiter((index[b] for _, b, _ in edges), np.int64, m)
    t = np.fromiter((float(d["travel_time_min"]) for _, _, d in edges), float, m)
    geoms = np.empty(m, dtype=object)
    geoms[:] = [d.get("geometry") for _, _, d in edges]
    keep = snappable[u] & snappable[v]
    u, v, t, geoms = u[keep], v[keep], t[keep], geoms[keep]
    if len(u) == 0:  # no edge inside the strongly connected part: nothing to snap onto
        empty = np.zeros(0, dtype=object)
        none = np.zeros(0, np.int64)
        return RoadPieces(none, none, np.zeros(0), np.zeros(0), empty, shapely.STRtree(empty))
    graph_crs = CRS.from_user_input(graph.graph.get("crs", "EPSG:4326"))
    lines = _edge_lines(geoms, u, v, node_xy, graph_crs, crs)
    coords, owner = shapely.get_coordinates(lines, return_index=True)
    starts = np.searchsorted(owner, np.arange(len(lines)))
    # one pass over the edges: u -> v and v -> u of a two-way street are one piece (same line)
    pieces: dict[tuple[int, int, bytes], int] = {}
    pu, pv, fwd, bwd, parts = [], [], [], [], []
    for e, part in enumerate(np.split(coords, starts[1:])):
        a, b = int(u[e]), int(v[e])
        flip = a > b or (a == b and tuple(part[1]) > tuple(part[-2]))  # a loop: by its shape
        if flip:
            a, b, part = b, a, part[::-1]
        key = (a, b, np.round(part, 3).tobytes())
        p = pieces.setdefault(key, len(pu))
        if p == len(pu):
            pu.append(a)
            pv.append(b)
            fwd.append(np.inf)
            bwd.append(np.inf)
            parts.append(part)
        if flip:
            bwd[p] = min(bwd[p], float(t[e]))
        else:
            fwd[p] = min(fwd[p], float(t[e]))
    if parts:
        sizes = np.array([len(x) for x in parts])
        piece_lines = shapely.linestrings(
            np.concatenate(parts), indices=np.repeat(np.arange(len(parts)), sizes)
        )
    else:
        piece_lines = np.zeros(0, dtype=object)
    return RoadPieces(
        u=np.asarray(pu, dtype=np.int64),
        v=np.asarray(pv, dtype=np.int64),
        forward=np.asarray(fwd, dtype=float),
        backward=np.asarray(bwd, dtype=float),
        lines=piece_lines,
        tree=shapely.STRtree(piece_lines),
    )


def _edge_lines(
    geoms: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    node_xy: np.ndarray,
    graph_crs: CRS,
    crs: CRS,
) -> np.ndarray:
    """Each edge's line in the metric CRS: its geometry reprojected at once, else u–v straight."""
    has = np.array([g is not None for g in geoms], dtype=bool)
    lines = np.empty(len(geoms), dtype=object)
    straight = np.flatnonzero(~has)
    if len(straight):
        pts = np.stack([node_xy[u[straight]], node_xy[v[straight]]], axis=1).reshape(-1, 2)
        lines[straight] = shapely.linestrings(pts, indices=np.repeat(np.arange(len(straight)), 2))
    curved = np.flatnonzero(has)
    if len(curved):
        coords, owner = shapely.get_coordinates(geoms[curved], return_index=True)
        x, y = Transformer.from_crs(graph_crs, crs, always_xy=True).transform(
            coords[:, 0], coords[:, 1]
        )
        xy = np.column_stack([x, y])
        first = np.searchsorted(owner, np.arange(len(curved)))
        last = np.append(first[1:], len(owner)) - 1
        # ends exactly on the nodes: a road point at an end is that node
        xy[first], xy[last] = node_xy[u[curved]], node_xy[v[curved]]
        lines[curved] = shapely.linestrings(xy, indices=owner)
    return lines


def snap_to_roads(pieces: RoadPieces, xy: np.ndarray) -> RoadPoints:
    """The road point of each point: nearest point of the nearest piece, and its entries.

    Parameters
    ----------
    pieces : RoadPieces
    xy : ndarray (n, 2)
        Points in the network's CRS (metres).

    Returns
    -------
    RoadPoints
    """
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    n = len(xy)
    piece = np.full(n, -1, dtype=np.int64)
    metres = np.full(n, np.inf)
    fraction = np.zeros(n)
    road_xy = np.full((n, 2), np.nan)
    if n and len(pieces):
        points = shapely.points(xy)
        (qi, ti), dist = pieces.tree.query_nearest(points, return_distance=True, all_matches=False)
        piece[qi], metres[qi] = ti, dist
        lines = pieces.lines[ti]
        f = shapely.line_locate_point(lines, points[qi], normalized=True)
        fraction[qi] = np.nan_to_num(f, nan=0.0)  # a zero-length piece: at its (one) node
        road_xy[qi] = shapely.get_coordinates(
            shapely.line_interpolate_point(lines, fraction[qi], normalized=True)
        )
    found = piece >= 0
    p = np.where(found, piece, 0)
    f = fraction
    fwd = np.where(found, pieces.forward[p] if len(pieces) else np.inf, np.inf)
    bwd = np.where(found, pieces.backward[p] if len(pieces) else np.inf, np.inf)
    at_u, at_v = found & (f <= 0.0), found & (f >= 1.0)
    u = pieces.u[p] if len(pieces) else np.zeros(n, np.int64)
    v = pieces.v[p] if len(pieces) else np.zeros(n, np.int64)
    out = RoadPoints(
        piece=piece,
        fraction=fraction,
        metres=metres,
        road_xy=road_xy,
        exit_node=np.column_stack([v, u]),
        exit_min=np.column_stack([_along(1.0 - f, fwd, at_v), _along(f, bwd, at_u)]),
        arrive_node=np.column_stack([u, v]),
        arrive_min=np.column_stack([_along(f, fwd, at_u), _along(1.0 - f, bwd, at_v)]),
    )
    for values in vars(out).values():  # shared by every caller (memoised per point set)
        values.flags.writeable = False
    return out


def _along(share: np.ndarray, minutes: np.ndarray, at_node: np.ndarray) -> np.ndarray:
    """Minutes of ``share`` of a piece in one direction: 0 at the node itself even if one-way."""
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(minutes), share * minutes, np.where(at_node, 0.0, np.inf))


def along_piece(
    pieces: RoadPieces, piece: np.ndarray, f_from: np.ndarray, f_to: np.ndarray
) -> np.ndarray:
    """Minutes from fraction ``f_from`` to ``f_to`` along one piece (inf against a one-way)."""
    d = np.asarray(f_to, dtype=float) - np.asarray(f_from, dtype=float)
    if len(pieces) == 0:
        return np.where(d == 0, 0.0, np.inf)
    p = np.maximum(piece, 0)
    with np.errstate(invalid="ignore"):
        return np.where(
            d > 0, d * pieces.forward[p], np.where(d < 0, -d * pieces.backward[p], 0.0)
        )


def same_piece_pairs(
    pieces: RoadPieces, a: RoadPoints, a_rows: np.ndarray, b: RoadPoints, b_rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (a, b) on the same piece and the minutes a → b along it (without access legs).

    Parameters
    ----------
    pieces : RoadPieces
    a, b : RoadPoints
    a_rows, b_rows : ndarray of int64
        The rows of ``a`` and ``b`` to pair (e.g. the reachable ones).

    Returns
    -------
    ia, ib : ndarray of int64
        Rows of ``a`` and ``b``.
    minutes : ndarray
        ``inf`` where the street's direction forbids a → b.
    """
    a_rows = a_rows[a.piece[a_rows] >= 0]
    b_rows = b_rows[b.piece[b_rows] >= 0]
    order = b_rows[np.argsort(b.piece[b_rows], kind="stable")]
    sorted_piece = b.piece[order]
    lo = np.searchsorted(sorted_piece, a.piece[a_rows], side="left")
    hi = np.searchsorted(sorted_piece, a.piece[a_rows], side="right")
    count = hi - lo
    ia = np.repeat(a_rows, count)
    offset = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    ib = order[np.repeat(lo, count) + offset]
    minutes = along_piece(pieces, a.piece[ia], a.fraction[ia], b.fraction[ib])
    return ia.astype(np.int64), ib.astype(np.int64), minutes
