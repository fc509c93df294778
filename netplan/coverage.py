"""Sparse coverage: which sites can serve which demand at each service level.

Only pairs within reach are ever built: a KD-tree (planar) or haversine BallTree radius
query per tier, in chunks of demand rows, so memory is proportional to the number of
in-range pairs, never to demand x sites.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.neighbors import BallTree, KDTree

from .geometry import EARTH_RADIUS_M

#: Distances within this many metres beyond the reach still count as within reach, so that a
#: point exactly on the boundary is covered whatever the rounding of the distance formula.
REACH_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Pairs:
    """Demand-site pairs within some radius, with their distance.

    Attributes
    ----------
    demand, site : ndarray of int64
        Row (demand) and column (site) index of each pair, sorted by demand then site.
    dist : ndarray of float64
        Distance of each pair, metres.
    """

    demand: np.ndarray
    site: np.ndarray
    dist: np.ndarray

    def __len__(self) -> int:
        return len(self.dist)

    def within(self, radius: float) -> Pairs:
        keep = self.dist <= radius + REACH_TOLERANCE
        return Pairs(self.demand[keep], self.site[keep], self.dist[keep])


def pairs_within(
    query_xy: np.ndarray,
    tree_xy: np.ndarray,
    radius: float,
    mode: str,
    tree_index: np.ndarray | None = None,
    chunk: int = 20_000,
) -> Pairs:
    """All (query, tree) point pairs no farther apart than ``radius``.

    Parameters
    ----------
    query_xy : ndarray (n, 2)
        Metric coordinates of the query points (see :func:`netplan.geometry.metric_coords`).
    tree_xy : ndarray (m, 2)
        Metric coordinates of the points to search among.
    radius : float
        Metres.
    mode : {"planar", "haversine"} or NetworkTravel
        A :class:`netplan.roads.NetworkTravel` gives drive-time pairs (radius in minutes).
    tree_index : ndarray (m,), optional
        Index reported for each tree point (default ``arange(m)``).
    chunk : int
        Query points per radius query; bounds peak memory.

    Returns
    -------
    Pairs
        Sorted by query index, then tree index.
    """
    if not isinstance(mode, str):  # a travel object (netplan.roads.NetworkTravel): drive times
        return mode.pairs(query_xy, tree_xy, radius, tree_index=tree_index)
    tree_index = np.arange(len(tree_xy)) if tree_index is None else np.asarray(tree_index)
    empty = Pairs(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    if len(tree_xy) == 0 or len(query_xy) == 0:
        return empty
    if mode == "haversine":
        tree = BallTree(tree_xy, metric="haversine")
        r = (radius + REACH_TOLERANCE) / EARTH_RADIUS_M
        scale = EARTH_RADIUS_M
    else:
        tree = KDTree(tree_xy)
        r = radius + REACH_TOLERANCE
        scale = 1.0
    rows, cols, dists = [], [], []
    for start in range(0, len(query_xy), chunk):
        ind, dist = tree.query_radius(query_xy[start : start + chunk], r=r, return_distance=True)
        counts = np.fromiter((len(a) for a in ind), dtype=np.int64, count=len(ind))
        if counts.sum() == 0:
            continue
        rows.append(np.repeat(np.arange(start, start + len(ind), dtype=np.int64), counts))
        cols.append(tree_index[np.concatenate(ind)])
        dists.append(np.concatenate(dist) * scale)
    if not rows:
        return empty
    d, s, dist = np.concatenate(rows), np.concatenate(cols).astype(np.int64), np.concatenate(dists)
    order = np.lexsort((s, d))
    return Pairs(d[order], s[order], dist[order])


@dataclass
class Coverage:
    """Which sites can serve which demand, per tier and service level.

    Attributes
    ----------
    n_demand, n_sites : int
    reach : ndarray (K, K)
        ``reach[k, l]``: reach of a tier-k outlet for level l (NaN where k > l).
    by_tier : list of Pairs
        For each tier k, pairs (demand, site allowed at tier k) within the largest reach
        tier k has at any level.
    """

    n_demand: int
    n_sites: int
    reach: np.ndarray
    by_tier: list[Pairs]

    @property
    def n_tiers(self) -> int:
        return self.reach.shape[0]

    def pairs(self, tier: int, level: int) -> Pairs:
        """Pairs where a tier-``tier`` outlet at the site serves the demand at ``level``."""
        if tier > level:
            raise ValueError(f"tier {tier} does not serve level {level}")
        return self.by_tier[tier].within(self.reach[tier, level])

    def matrix(self, tier: int, level: int) -> sp.csr_matrix:
        """``(n_demand, n_sites)`` 0/1 matrix of :meth:`pairs`."""
        p = self.pairs(tier, level)
        return sp.csr_matrix(
            (np.ones(len(p), dtype=np.int8), (p.demand, p.site)),
            shape=(self.n_demand, self.n_sites),
        )

    def level_pairs(self, level: int) -> tuple[Pairs, np.ndarray]:
        """All (demand, site) pairs able to serve ``level`` by some tier, and a ``(pairs, K)`` mask of which tiers."""
        parts = [self.pairs(k, level) for k in range(level + 1)]
        d = np.concatenate([p.demand for p in parts])
        s = np.concatenate([p.site for p in parts])
        dist = np.concatenate([p.dist for p in parts])
        tier = np.concatenate([np.full(len(p), k) for k, p in enumerate(parts)])
        key = d * self.n_sites + s
        uniq, inverse = np.unique(key, return_inverse=True)
        mask = np.zeros((len(uniq), self.n_tiers), dtype=bool)
        mask[inverse, tier] = True
        pair_dist = np.empty(len(uniq))
        pair_dist[inverse] = dist  # a pair has one distance whichever tier found it
        return Pairs(uniq // self.n_sites, uniq % self.n_sites, pair_dist), mask

    def coverable(self, level: int) -> np.ndarray:
        """Bool ``(n_demand,)``: some allowed site and tier could serve this demand at ``level``."""
        out = np.zeros(self.n_demand, dtype=bool)
        for k in range(level + 1):
            out[self.pairs(k, level).demand] = True
        return out

    @property
    def n_pairs(self) -> int:
        return int(sum(len(p) for p in self.by_tier))


def build_coverage(
    demand_xy: np.ndarray, site_xy: np.ndarray, allowed: np.ndarray, reach: np.ndarray, mode: str
) -> Coverage:
    """Coverage of every demand point by every site able to host each tier.

    Parameters
    ----------
    demand_xy, site_xy : ndarray (n, 2), (m, 2)
        Metric coordinates (:func:`netplan.geometry.metric_coords`).
    allowed : ndarray (m, K) of bool
        Tiers each site may take.
    reach : ndarray (K, K)
        Reach matrix of the scenario, metres.
    mode : {"planar", "haversine"}

    Returns
    -------
    Coverage
    """
    by_tier = []
    for k in range(reach.shape[0]):
        cols = np.flatnonzero(allowed[:, k])
        radius = float(np.nanmax(reach[k, k:]))
        by_tier.append(pairs_within(demand_xy, site_xy[cols], radius, mode, tree_index=cols))
    return Coverage(len(demand_xy), len(site_xy), reach, by_tier)


def linkage_pairs(
    site_xy: np.ndarray, allowed: np.ndarray, linkage: np.ndarray, mode: str
) -> list[Pairs | None]:
    """For each tier k >= 1 with a linkage reach: (site able to be tier k, site able to be a higher tier) pairs within it.

    Returns
    -------
    list
        One entry per tier; ``None`` where the tier needs no support. In each Pairs,
        ``demand`` holds the supported site and ``site`` the supporting site.
    """
    out: list[Pairs | None] = [None] * allowed.shape[1]
    for k in range(1, allowed.shape[1]):
        if not np.isfinite(linkage[k]):
            continue
        lower = np.flatnonzero(allowed[:, k])
        upper = np.flatnonzero(allowed[:, :k].any(axis=1))
        p = pairs_within(site_xy[lower], site_xy[upper], float(linkage[k]), mode, tree_index=upper)
        out[k] = Pairs(lower[p.demand], p.site, p.dist)
    return out
