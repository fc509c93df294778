"""Drive times between points over a road network: coverage pairs, nearest outlet, row times.

Points meet the roads as :mod:`netplan.roads.snapping` describes (the nearest point of the nearest
drivable edge, with up to two ways onto the network and two ways off it). The partial edges
and access legs are constants added at the ends, so shortest paths run between the nodes of
the simplified graph: ``scipy.sparse.csgraph.dijkstra`` on the *reversed* graph, from one
virtual source per outlet joined to the nodes it is reached from, gives every node's time
*to* the outlet (customer → outlet, one-way streets the right way round), truncated at the
reach and chunked over the outlets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import dijkstra

from netplan.roads.snapping import RoadPoints, along_piece, same_piece_pairs
from netplan.travel.coverage import REACH_TOLERANCE, Pairs

if TYPE_CHECKING:
    from netplan.roads.network import RoadNetwork


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

        Same contract as :func:`netplan.travel.coverage.pairs_within` with minutes for metres:
        ``query_xy`` are customers, ``tree_xy`` outlets (or supported / supporting sites for
        linkage), ``dist`` is minutes. In chunks of outlets, Dijkstra runs on the reversed
        graph from one virtual source per outlet, joined to the (up to two) nodes the outlet
        is reached from by the minutes from there (partial edge and access leg), truncated at
        ``radius``; a customer's time is the better of its two exits (dense, per chunk), or the
        way along an edge it shares with the outlet; each chunk is cut to its in-reach pairs
        at once.
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
        per_chunk = max(1, self.chunk_cells // (2 * max(n + len(s_rows), len(d_rows))))
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
