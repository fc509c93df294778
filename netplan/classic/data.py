"""The input of every classic model: demand x site costs as sparse pairs (:class:`LocationData`).

Built from a matrix (:meth:`LocationData.from_matrix`) or from GeoDataFrames with a travel mode
(:meth:`LocationData.from_frames`). Assignment variables exist only for pairs present in the
data (within the reach when one is given): never an unmasked assignment.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import geopandas as gpd
import numpy as np
import scipy.sparse as sp

from netplan._errors import NetplanError
from netplan.travel.coverage import REACH_TOLERANCE, pairs_within
from netplan.travel.geometry import metric_coords, point_coords


@dataclass(frozen=True)
class LocationData:
    """Demand points, candidate sites and the cost (distance) of each allowed pair.

    Attributes
    ----------
    n_demand, n_sites : int
    demand, site : ndarray of int64
        The pairs, sorted by demand then cost then site.
    cost : ndarray of float
        Cost or distance of each pair.
    weights : ndarray (n_demand,)
        Demand weight (customers, volume).
    site_cost : ndarray (n_sites,)
        Fixed cost of opening each site (default 1: "fewest sites").
    capacity : ndarray (n_sites,) or None
    demand_ids, site_ids : list of str
    """

    n_demand: int
    n_sites: int
    demand: np.ndarray
    site: np.ndarray
    cost: np.ndarray
    weights: np.ndarray
    site_cost: np.ndarray
    capacity: np.ndarray | None = None
    demand_ids: list[str] = field(default_factory=list)
    site_ids: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.demand_ids:
            object.__setattr__(self, "demand_ids", [str(i) for i in range(self.n_demand)])
        if not self.site_ids:
            object.__setattr__(self, "site_ids", [str(j) for j in range(self.n_sites)])

    @classmethod
    def from_matrix(
        cls,
        cost: np.ndarray | sp.spmatrix,
        weights: np.ndarray | None = None,
        site_cost: np.ndarray | None = None,
        capacity: np.ndarray | None = None,
        max_cost: float | None = None,
        demand_ids: list[str] | None = None,
        site_ids: list[str] | None = None,
    ) -> LocationData:
        """From a demand x site cost matrix.

        Parameters
        ----------
        cost : ndarray or scipy.sparse matrix (n, m)
            Dense: every finite entry is an allowed pair. Sparse: every stored entry (zeros
            included) is an allowed pair.
        weights, site_cost, capacity : ndarray, optional
            Demand weights (default 1), fixed site costs (default 1), site capacities.
        max_cost : float, optional
            Keep only pairs with cost at most this (a reach).
        """
        if sp.issparse(cost):
            coo = sp.coo_matrix(cost)
            n, m = coo.shape
            d, s, c = coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data.astype(float)
        else:
            cost = np.asarray(cost, dtype=float)
            n, m = cost.shape
            d, s = np.nonzero(np.isfinite(cost))
            c = cost[d, s]
        if max_cost is not None:
            keep = c <= max_cost + REACH_TOLERANCE
            d, s, c = d[keep], s[keep], c[keep]
        return cls._build(n, m, d, s, c, weights, site_cost, capacity, demand_ids, site_ids)

    @classmethod
    def from_frames(
        cls,
        demand: gpd.GeoDataFrame,
        sites: gpd.GeoDataFrame,
        mode: Any = "planar",
        max_distance: float | None = None,
        weight: str | None = None,
        site_cost: str | None = None,
        capacity: str | None = None,
        demand_id: str | None = None,
        site_id: str | None = None,
    ) -> LocationData:
        """From point GeoDataFrames and a travel mode (``planar`` metres or ``haversine``).

        ``mode`` may also be a :class:`netplan.roads.NetworkTravel`: costs are then drive
        times in minutes (customer → site) and ``max_distance`` is in minutes.
        Both frames must share a CRS: projected for ``planar``, EPSG:4326 for ``haversine``.
        With ``max_distance`` (metres) only pairs within it are built (radius queries);
        without, every pair is (fine for small problems).
        """
        if demand.crs is None or sites.crs is None or not demand.crs.equals(sites.crs):
            raise NetplanError("LocationData.from_frames: demand and sites need the same, set CRS")
        if isinstance(mode, str) and mode not in ("planar", "haversine"):
            raise NetplanError(
                f"LocationData.from_frames: mode {mode!r} is not 'planar' or 'haversine'; for drive times "
                "pass a netplan.roads.NetworkTravel as mode"
            )
        if not isinstance(mode, str) and not demand.crs.equals(mode.network.crs):
            raise NetplanError(
                "LocationData.from_frames: with a NetworkTravel the frames must be in the network's CRS "
                f"({mode.network.crs.to_string()}); reproject them with to_crs"
            )
        if mode == "planar" and demand.crs.is_geographic:
            raise NetplanError(
                "LocationData.from_frames: planar travel needs a projected CRS (metres); reproject or use mode='haversine'"
            )
        a = metric_coords(point_coords(demand.geometry), mode)
        b = metric_coords(point_coords(sites.geometry), mode)
        radius = max_distance if max_distance is not None else 1e12
        pairs = pairs_within(a, b, radius, mode)

        def col(frame, name):
            return None if name is None else frame[name].to_numpy(dtype=float)

        return cls._build(
            len(demand),
            len(sites),
            pairs.demand,
            pairs.site,
            pairs.dist,
            col(demand, weight),
            col(sites, site_cost),
            col(sites, capacity),
            None if demand_id is None else demand[demand_id].astype(str).tolist(),
            None if site_id is None else sites[site_id].astype(str).tolist(),
        )

    @classmethod
    def _build(
        cls, n, m, d, s, c, weights, site_cost, capacity, demand_ids, site_ids
    ) -> LocationData:
        order = np.lexsort((s, c, d))
        return cls(
            n_demand=int(n),
            n_sites=int(m),
            demand=np.asarray(d, dtype=np.int64)[order],
            site=np.asarray(s, dtype=np.int64)[order],
            cost=np.asarray(c, dtype=float)[order],
            weights=np.ones(n) if weights is None else np.asarray(weights, dtype=float),
            site_cost=np.ones(m) if site_cost is None else np.asarray(site_cost, dtype=float),
            capacity=None if capacity is None else np.asarray(capacity, dtype=float),
            demand_ids=list(demand_ids or []),
            site_ids=list(site_ids or []),
        )

    def within(self, radius: float) -> LocationData:
        """The pairs no costlier than ``radius``."""
        keep = self.cost <= radius + REACH_TOLERANCE
        return replace(self, demand=self.demand[keep], site=self.site[keep], cost=self.cost[keep])

    def coverable(self) -> np.ndarray:
        """Bool (n_demand,): demand with at least one allowed site."""
        out = np.zeros(self.n_demand, dtype=bool)
        out[self.demand] = True
        return out

    def merged(self) -> tuple[LocationData, np.ndarray]:
        """Demand with identical sets of allowed sites merged into one row (weights summed).

        Exact for every objective that depends only on which sites reach which demand (set
        covering, maximal and backup covering) — not for cost-based ones. Demand with no
        allowed site or zero weight is dropped. Returns the merged data and the group of
        every original demand point (-1 = dropped).
        """
        from netplan.optimize.reduction import merge_identical_rows

        keep = self.coverable() & (self.weights > 0)
        idx = np.flatnonzero(keep)
        groups = merge_identical_rows(self.matrix()[idx])
        group_of = np.full(self.n_demand, -1, dtype=np.int64)
        group_of[idx] = groups.group
        rep = idx[groups.representative]
        sel = np.isin(self.demand, rep)
        merged = LocationData._build(
            groups.n_groups, self.n_sites, group_of[self.demand[sel]], self.site[sel],
            self.cost[sel], groups.sum(self.weights[idx]), self.site_cost, self.capacity,
            [self.demand_ids[i] for i in rep], self.site_ids,
        )  # fmt: skip
        return merged, group_of

    def matrix(self) -> sp.csr_matrix:
        """0/1 (n_demand, n_sites) matrix of the allowed pairs."""
        return sp.csr_matrix(
            (np.ones(len(self.demand)), (self.demand, self.site)),
            shape=(self.n_demand, self.n_sites),
        )


def _as_data(data: LocationData | np.ndarray | sp.spmatrix) -> LocationData:
    return data if isinstance(data, LocationData) else LocationData.from_matrix(data)
