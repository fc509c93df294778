"""Sparse coverage: which sites can serve which demand at each service level.

Only pairs within reach are ever built: a dual-tree KD search per tier (planar metres, or
the unit-sphere chord for haversine), in chunks of demand rows, so memory is proportional
to the number of in-range pairs, never to demand x sites.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree

from netplan.travel.geometry import EARTH_RADIUS_M

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
        if keep.all():  # the usual case (reach of the level = the tier's largest): no copy
            return self
        return Pairs(self.demand[keep], self.site[keep], self.dist[keep])


def pairs_within(
    query_xy: np.ndarray,
    tree_xy: np.ndarray,
    radius: float,
    mode: str,
    tree_index: np.ndarray | None = None,
    chunk: int = 50_000,
    workers: int | None = None,
) -> Pairs:
    """All (query, tree) point pairs no farther apart than ``radius``.

    A dual-tree search (scipy's ``cKDTree.sparse_distance_matrix``) per chunk of query
    points: both sides are trees, the traversal runs in C++ and returns the in-range pairs
    as flat arrays, so nothing per point is allocated in Python (a per-point radius query
    was 20x slower on a million points). ``haversine`` searches the unit-sphere chord,
    which is monotone in the great-circle angle, then keeps the pairs whose haversine
    distance is within reach. Distances are recomputed from the coordinates, so a pair has
    the same distance whatever the chunking.

    Parameters
    ----------
    query_xy : ndarray (n, 2)
        Metric coordinates of the query points (see :func:`netplan.travel.geometry.metric_coords`).
    tree_xy : ndarray (m, 2)
        Metric coordinates of the points to search among.
    radius : float
        Metres.
    mode : {"planar", "haversine"} or NetworkTravel
        A :class:`netplan.roads.NetworkTravel` gives drive-time pairs (radius in minutes).
    tree_index : ndarray (m,), optional
        Index reported for each tree point (default ``arange(m)``).
    chunk : int
        Query points per search; bounds peak memory to the pairs of one chunk per worker.
    workers : int, optional
        Chunks searched at once in threads (scipy's tree search releases the GIL); default
        the number of CPUs, at most 4. The result is the same for any number (chunks are
        joined in order).

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
    query_xy = np.asarray(query_xy, dtype=float)
    tree_xy = np.asarray(tree_xy, dtype=float)
    limit = radius + REACH_TOLERANCE
    if mode == "haversine":
        # chord of the angle, widened by a relative 1e-9 so rounding never drops a pair
        search = 2.0 * np.sin(min(limit / EARTH_RADIUS_M, np.pi) / 2.0) * (1 + 1e-9) + 1e-12
        tree = cKDTree(_unit_sphere(tree_xy))
    else:
        search = limit * (1 + 1e-12) + 1e-9
        tree = cKDTree(tree_xy)
    span = int(tree_index.max()) + 1
    chunk = max(1, int(chunk))

    def search_chunk(start: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        part = query_xy[start : start + chunk]
        found = cKDTree(_unit_sphere(part) if mode == "haversine" else part).sparse_distance_matrix(
            tree, search, output_type="ndarray"
        )
        if len(found) == 0:
            return None
        i = found["i"].astype(np.int64)
        j = found["j"].astype(np.int64)
        a, b = part[i], tree_xy[j]
        if mode == "haversine":
            dist = _haversine_m(a, b)
        else:
            dist = np.hypot(a[:, 0] - b[:, 0], a[:, 1] - b[:, 1])
        keep = dist <= limit
        # sort by (query, tree index) through scipy's CSR conversion: a counting sort by row,
        # then a sort within each (short) row; 3x faster than argsort of a combined key
        block = sp.csr_matrix((dist[keep], (i[keep], tree_index[j[keep]])), shape=(len(part), span))
        block.has_canonical_format = False
        block.sort_indices()
        rows = np.repeat(np.arange(start, start + len(part)), np.diff(block.indptr))
        return rows, block.indices.astype(np.int64), block.data

    starts = range(0, len(query_xy), chunk)
    # at most 4 by default: each chunk in flight holds its pairs (~100 MB for 50,000 points
    # at 20 km in a dense city), so more threads mostly add memory
    n_workers = min(len(starts), workers or min(4, os.cpu_count() or 1))
    if n_workers > 1:
        # 1M x 10k national coverage: the 20 km query 9.4-14 s on one core; 2 threads ~2x
        with ThreadPoolExecutor(n_workers) as pool:
            found = [f for f in pool.map(search_chunk, starts) if f is not None]
    else:
        found = [f for f in map(search_chunk, starts) if f is not None]
    if not found:
        return empty
    return Pairs(*(np.concatenate(parts) for parts in zip(*found, strict=True)))


def _unit_sphere(latlon: np.ndarray) -> np.ndarray:
    """Latitude, longitude (radians) as points on the unit sphere."""
    lat, lon = latlon[:, 0], latlon[:, 1]
    c = np.cos(lat)
    return np.column_stack([c * np.cos(lon), c * np.sin(lon), np.sin(lat)])


def _haversine_m(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Great-circle metres between matching rows of latitude, longitude (radians)."""
    h = (
        np.sin((b[:, 0] - a[:, 0]) / 2.0) ** 2
        + np.cos(a[:, 0]) * np.cos(b[:, 0]) * np.sin((b[:, 1] - a[:, 1]) / 2.0) ** 2
    )
    return 2.0 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(h, 1.0)))


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
    # pairs and matrices per (tier, level), built once: the model asks for each several times
    _cache: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def n_tiers(self) -> int:
        return self.reach.shape[0]

    def pairs(self, tier: int, level: int) -> Pairs:
        """Pairs where a tier-``tier`` outlet at the site serves the demand at ``level``."""
        if tier > level:
            raise ValueError(f"tier {tier} does not serve level {level}")
        key = ("pairs", tier, level)
        if key not in self._cache:
            self._cache[key] = self.by_tier[tier].within(self.reach[tier, level])
        return self._cache[key]

    def matrix(self, tier: int, level: int) -> sp.csr_matrix:
        """``(n_demand, n_sites)`` 0/1 matrix of :meth:`pairs` (built once; do not modify it)."""
        key = ("matrix", tier, level)
        if key not in self._cache:
            p = self.pairs(tier, level)
            # pairs are sorted by demand then site: the CSR arrays follow directly
            indptr = np.zeros(self.n_demand + 1, dtype=np.int64)
            np.cumsum(np.bincount(p.demand, minlength=self.n_demand), out=indptr[1:])
            self._cache[key] = sp.csr_matrix(
                (np.ones(len(p), dtype=np.int8), p.site.copy(), indptr),
                shape=(self.n_demand, self.n_sites),
            )
        return self._cache[key]

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
        Metric coordinates (:func:`netplan.travel.geometry.metric_coords`).
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
