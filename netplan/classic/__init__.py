"""Classic location models on netplan's array-based model core.

Set covering (LSCP), maximal covering (MCLP), p-median, p-center, backup coverage,
fixed-charge facility location (UFL) and its capacitated form, capacitated maximal covering
and capacitated set covering. Each model is assembled from whole arrays into a
:class:`netplan.optimize.solver.LinearProgram` — the same core as the tiered model, solved by the same
backends — and returns a :class:`LocationResult` of the same shape: chosen sites,
assignments where the model has them, objective, best bound, gap, status, timings, solver.

Input is a :class:`LocationData`: demand x site costs (distances) kept as sparse pairs, built
from a matrix (:meth:`LocationData.from_matrix`) or from GeoDataFrames with a travel mode
(:meth:`LocationData.from_frames`). Assignment variables exist only for pairs present in the
data (within the reach when one is given): never an unmasked assignment.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp

from netplan._errors import NetplanError
from netplan.travel.coverage import REACH_TOLERANCE, pairs_within
from netplan.travel.geometry import metric_coords, point_coords
from netplan.optimize.cbc import cbc_version
from netplan.optimize.highs import highs_version, solve_relaxation
from netplan.optimize.program import LinearProgram, csr_from_pieces
from netplan.optimize.records import SolverOptions, SolverRecord, relative_gap
from netplan.optimize.solver import solve

INF = np.inf


# --------------------------------------------------------------------------- data
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


# ------------------------------------------------------------------------- result
@dataclass
class LocationResult:
    """What every classic model returns.

    Attributes
    ----------
    model : str
    status : str
        ``optimal``, ``time_limit``, ``infeasible``, ``no_solution`` or ``interrupted``.
    objective, bound, gap : float
    sites : ndarray of int
        Chosen sites (indices into the data's sites).
    site_ids : list of str
    assignment : DataFrame or None
        ``demand``, ``site``, ``share`` (and ``cost``) for models with assignments.
    timings : dict
        Seconds to build the model(s) and to solve.
    records : list of SolverRecord
        Every solve, in order (several for p-center and lexicographic models).
    details : dict
        Model-specific facts: covered weight, uncoverable demand, radius, ...
    """

    model: str
    status: str
    objective: float
    bound: float
    gap: float
    sites: np.ndarray
    site_ids: list[str]
    assignment: pd.DataFrame | None
    timings: dict[str, float]
    records: list[SolverRecord]
    details: dict[str, object] = field(default_factory=dict)

    @property
    def is_optimal(self) -> bool:
        return self.status == "optimal"

    @property
    def solver(self) -> str:
        return self.records[-1].solver if self.records else ""

    @property
    def version(self) -> str:
        return self.records[-1].version if self.records else ""

    def to_dict(self) -> dict[str, object]:
        return {
            "model": self.model,
            "status": self.status,
            "objective": self.objective,
            "bound": self.bound,
            "gap": self.gap,
            "sites": self.site_ids,
            "timings": self.timings,
            "solver": self.solver,
            "version": self.version,
            "details": self.details,
            "records": [r.to_dict() for r in self.records],
        }

    def __repr__(self) -> str:
        return f"LocationResult({self.model}: {self.status}, objective={self.objective:.6g}, gap={self.gap:.3g}, {len(self.sites)} sites)"


def _result(
    model: str,
    data: LocationData,
    x: np.ndarray | None,
    record: SolverRecord,
    timings: dict,
    records=None,
    assignment=None,
    **details,
) -> LocationResult:
    sites = (
        np.flatnonzero(np.round(x[: data.n_sites]) > 0.5)
        if x is not None
        else np.zeros(0, dtype=np.int64)
    )
    return LocationResult(
        model=model,
        status=record.status,
        objective=record.objective,
        bound=record.bound,
        gap=record.gap,
        sites=sites,
        site_ids=[data.site_ids[j] for j in sites],
        assignment=assignment,
        timings=timings,
        records=records if records is not None else [record],
        details=details,
    )


def _as_data(data: LocationData | np.ndarray | sp.spmatrix) -> LocationData:
    return data if isinstance(data, LocationData) else LocationData.from_matrix(data)


def _p_row(
    m: int, n_cols: int, p: int, exact: bool
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    row = np.zeros(n_cols)
    row[:m] = 1.0
    return (
        sp.csr_matrix(row.reshape(1, -1)),
        np.array([float(p) if exact else -INF]),
        np.array([float(p)]),
    )


def _binaries(
    m: int, extra: int, extra_integer: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = m + extra
    integer = np.zeros(n, dtype=bool)
    integer[:m] = True
    if extra_integer:
        integer[m:] = True
    return np.zeros(n), np.ones(n), integer


def _timed_solve(
    lp: LinearProgram, options: SolverOptions | None, start=None
) -> tuple[np.ndarray | None, SolverRecord, float]:
    t0 = time.perf_counter()
    x, record = solve(lp, options or SolverOptions(), start=start)
    return x, record, time.perf_counter() - t0


def _left(options: SolverOptions | None, t0: float) -> SolverOptions:
    """``options`` with the time limit cut to what is left of it since ``t0``: a model's time
    limit covers the whole call (heuristics, bounds, every solve), not each solve anew."""
    options = options or SolverOptions()
    if options.time_limit is None:
        return options
    return replace(options, time_limit=max(options.time_limit - (time.perf_counter() - t0), 0.01))


def _out_of_time(options: SolverOptions | None, t0: float) -> bool:
    return bool(options and options.time_limit is not None) and (
        time.perf_counter() - t0 >= options.time_limit
    )


def _timed_out(options: SolverOptions | None, stage: str | None = None) -> SolverRecord:
    """Record of a solve not started: the time limit was spent before it (no plan)."""
    options = options or SolverOptions()
    cbc = options.backend == "cbc"
    solver, version = ("CBC", cbc_version()) if cbc else ("HiGHS", highs_version())
    return SolverRecord(
        "no_solution", math.nan, math.nan, math.nan, 0.0, solver, version, options.time_limit,
        options.mip_rel_gap, stage, "the time limit was spent before this solve could start",
    )  # fmt: skip


def _solve_in_time(
    lp: LinearProgram, options: SolverOptions | None, t0: float, start=None
) -> tuple[np.ndarray | None, SolverRecord, float]:
    """:func:`_timed_solve` within what is left of the limit since ``t0``; without a start
    and with nothing left, no solve at all (so a spent limit always means no plan)."""
    if start is None and _out_of_time(options, t0):
        return None, _timed_out(options), 0.0
    return _timed_solve(lp, _left(options, t0), start=start)


# ------------------------------------------------------- set covering reductions
def _containment_pairs(
    A: sp.csr_matrix, chunk_nnz: int = 4_000_000
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs of rows (a, b) of a 0/1 matrix that share a column, with the count shared.

    Computed as ``A @ A.T`` one block of rows at a time, so memory follows the overlap
    pairs of one block, never the (rows x rows) square.
    """
    A = sp.csr_matrix(A)
    AT = A.T.tocsr()
    col_nnz = np.diff(AT.indptr)
    # products per row: sum of the column counts of its entries (bounds the block's output)
    row_of = np.repeat(np.arange(A.shape[0]), np.diff(A.indptr))
    work = np.bincount(row_of, weights=col_nnz[A.indices], minlength=A.shape[0]).astype(np.int64)
    block_of = np.cumsum(work) // chunk_nnz
    bounds = np.concatenate([[0], np.flatnonzero(np.diff(block_of)) + 1, [A.shape[0]]])
    out_a, out_b, out_n = [], [], []
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        block = (A[lo:hi] @ AT).tocoo()
        out_a.append(block.row.astype(np.int64) + lo)
        out_b.append(block.col.astype(np.int64))
        out_n.append(block.data.astype(np.int64))
    if not out_a:
        z = np.zeros(0, dtype=np.int64)
        return z, z, z
    return np.concatenate(out_a), np.concatenate(out_b), np.concatenate(out_n)


def _dominated_rows(A: sp.csr_matrix) -> np.ndarray:
    """Bool mask of covering rows implied by another row.

    Row a is redundant when some row b's set of sites is contained in a's: any plan that
    covers b covers a. Of identical rows the first is kept. Every dropped row contains a
    kept one (containment is a partial order), so the feasible plans are unchanged.
    """
    size = np.diff(A.indptr)
    a, b, shared = _containment_pairs(A)
    inside = (a != b) & (shared == size[b])  # b's set lies inside a's
    strict = size[b] < size[a]
    drop = inside & (strict | (b < a))
    out = np.zeros(A.shape[0], dtype=bool)
    out[a[drop]] = True
    return out


def _dominated_columns(A: sp.csr_matrix, cost: np.ndarray) -> np.ndarray:
    """Bool mask of sites that another site replaces at no more cost.

    Site j is dropped when site l covers every row j covers and costs no more (ties in set
    and cost: the lower index stays), or when j covers no row. Swapping j for l keeps any
    plan feasible and no dearer, so the optimum is unchanged (costs must be >= 0).
    """
    AT = sp.csr_matrix(A.T)
    size = np.diff(AT.indptr)
    j, k, shared = _containment_pairs(AT)  # site k covers `shared` of j's rows
    inside = (j != k) & (shared == size[j]) & (cost[k] <= cost[j])
    strict = (size[j] < size[k]) | (cost[k] < cost[j]) | (k < j)
    drop = inside & strict
    out = size == 0
    out[j[drop]] = True
    return out


def reduce_set_covering(
    A: sp.csr_matrix, cost: np.ndarray, max_rounds: int = 10
) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Exact reductions of a set covering matrix: dominated rows and dominated columns.

    Alternates the two until neither removes anything (dropping a column can make rows
    identical or nested; dropping a row can make columns nested).

    Parameters
    ----------
    A : csr_matrix (rows, sites), 0/1
        ``A[i, j] = 1`` when site j covers row i; every row must have an entry.
    cost : ndarray (sites,)
        Non-negative site costs.

    Returns
    -------
    rows, cols : ndarray of int
        The rows and sites kept (indices into ``A``).
    counts : dict
        ``rounds`` and rows / columns before and after.
    """
    A = sp.csr_matrix(A, dtype=float)
    A.data[:] = 1.0
    rows = np.arange(A.shape[0])
    cols = np.arange(A.shape[1])
    rounds = 0
    while rounds < max_rounds:
        rounds += 1
        sub = A[rows][:, cols].tocsr()
        keep_c = ~_dominated_columns(sub, cost[cols])
        cols = cols[keep_c]
        sub = sub[:, keep_c].tocsr()
        keep_r = ~_dominated_rows(sub)
        rows = rows[keep_r]
        if keep_c.all() and keep_r.all():
            break
    counts = {
        "rounds": rounds,
        "rows_before": int(A.shape[0]),
        "rows_after": int(len(rows)),
        "columns_before": int(A.shape[1]),
        "columns_after": int(len(cols)),
    }
    return rows, cols, counts


# ------------------------------------------------------------------ set covering
def set_covering(
    data: LocationData | np.ndarray,
    radius: float | None = None,
    options: SolverOptions | None = None,
    max_sites: int | None = None,
    merge: bool = True,
    dominance: bool = True,
) -> LocationResult:
    """Location set covering (LSCP): the cheapest sites covering all coverable demand.

    ``site_cost`` defaults to 1, which makes it "fewest sites". Demand that no site can
    reach is reported in ``details["uncoverable"]``, never made infeasible.

    Parameters
    ----------
    data : LocationData or cost matrix
    radius : float, optional
        Reach; without it every pair in ``data`` covers.
    max_sites : int, optional
        Also require at most this many sites (a feasibility question, used by p-center).
    merge : bool
        Merge demand with identical coverage sets into one row first (exact).
    dominance : bool
        Then drop rows implied by another row and sites another site replaces at no more
        cost (:func:`reduce_set_covering`; exact for non-negative site costs). The counts
        before and after are in ``details["reduction"]``.
    """
    data = _as_data(data)
    if radius is not None:
        data = data.within(radius)
    t0 = time.perf_counter()
    original = data
    coverable = data.coverable()
    if merge:
        data, _ = replace(data, weights=np.ones(data.n_demand)).merged()
        coverable = data.coverable()
    m = data.n_sites
    rows_of = np.cumsum(coverable) - 1
    A = sp.csr_matrix(
        (np.ones(len(data.demand)), (rows_of[data.demand], data.site)),
        shape=(int(coverable.sum()), m),
    )
    rows_after_merge = int(A.shape[0])
    cols = np.arange(m)
    reduction: dict[str, int] = {}
    if dominance and A.shape[0] and bool((data.site_cost >= 0).all()):
        keep_rows, cols, reduction = reduce_set_covering(A, data.site_cost)
        A = A[keep_rows][:, cols].tocsr()
    t_reduce = time.perf_counter() - t0
    r = len(cols)
    lb, ub, integer = _binaries(r, 0)
    lp = LinearProgram(
        c=data.site_cost[cols].astype(float),
        lb=lb,
        ub=ub,
        integer=integer,
        A=A,
        row_lo=np.ones(A.shape[0]),
        row_hi=np.full(A.shape[0], INF),
    )
    if max_sites is not None:
        lp = lp.with_rows(*_p_row(r, r, max_sites, exact=False))
    build = time.perf_counter() - t0 - t_reduce
    x_r, record, seconds = _solve_in_time(lp, options, t0)
    x = None
    if x_r is not None:
        x = np.zeros(m)
        x[cols] = x_r
    return _result(
        "set_covering",
        data,
        x,
        record,
        {"reduction": t_reduce, "build": build, "solve": seconds},
        uncoverable=int((~original.coverable()).sum()),
        uncoverable_weight=float(original.weights[~original.coverable()].sum()),
        demand_rows=int(original.n_demand),
        rows_after_merge=rows_after_merge,
        rows_in_model=int(A.shape[0]),
        sites_in_model=int(len(cols)),
        reduction=reduction,
    )


# ------------------------------------------------------------- maximal covering
def _covering_block(
    data: LocationData, weights: np.ndarray
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """Rows ``y_i - sum_{j covers i} x_j <= 0`` over columns [x (m) | y (coverable demand)]."""
    m = data.n_sites
    coverable = data.coverable() & (weights > 0)
    idx = np.flatnonzero(coverable)
    ycol = np.full(data.n_demand, -1, dtype=np.int64)
    ycol[idx] = m + np.arange(len(idx))
    keep = ycol[data.demand] >= 0
    rows = ycol[data.demand[keep]] - m
    A = csr_from_pieces(
        [np.arange(len(idx)), rows],
        [ycol[idx], data.site[keep]],
        [np.ones(len(idx)), -np.ones(int(keep.sum()))],
        (len(idx), m + len(idx)),
    )
    return A, idx, ycol


def max_covering(
    data: LocationData | np.ndarray,
    radius: float | None = None,
    p: int | None = None,
    budget: float | None = None,
    options: SolverOptions | None = None,
    merge: bool = True,
    start: np.ndarray | Literal["search"] | None = "search",
    dominance: bool = True,
    improve_start: bool = True,
) -> LocationResult:
    """Maximal covering (MCLP): p sites (or a budget on site costs) maximising covered weight.

    ``y_i <= sum_{j covers i} x_j``, ``sum x = p`` (and/or ``sum site_cost x <= budget``);
    y is continuous in [0, 1] and integral at the optimum for binary x. With ``merge``,
    demand with identical coverage sets is one row (weights summed; exact). ``start``: site
    indices of a plan to start from (e.g. a heuristic's); ``"search"`` (the default, p
    without a budget) runs :func:`search_max_covering` first — when it covers every
    coverable weight, HiGHS proves that at once without branching; ``None``: no start.

    With ``dominance`` (and p without a budget), a site whose coverage set lies inside
    another's is fixed closed: an optimal plan that opens it loses nothing by opening the
    other instead, or, when that one is already open, any other site (coverage only grows).
    Exact as long as p sites stay; the count is ``details["sites_fixed_closed"]``.
    With ``improve_start`` (p without a budget) the start is first improved by 1-swap local
    search (:func:`swap_improve_max_covering`); its value is ``details["start_objective"]``.
    """
    if p is None and budget is None:
        raise NetplanError("max_covering: give p (number of sites) or budget")
    data = _as_data(data)
    if radius is not None:
        data = data.within(radius)
    t0 = time.perf_counter()
    n_rows, total = data.n_demand, float(data.weights.sum())
    if merge:
        data, _ = data.merged()
    m = data.n_sites
    A, idx, _ = _covering_block(data, data.weights)
    n_cols = m + len(idx)
    lb, ub, integer = _binaries(m, len(idx))
    c = np.zeros(n_cols)
    c[m:] = data.weights[idx]
    lp = LinearProgram(
        c=c,
        lb=lb,
        ub=ub,
        integer=integer,
        A=A,
        row_lo=np.full(A.shape[0], -INF),
        row_hi=np.zeros(A.shape[0]),
        sense="max",
    )
    if p is not None:
        lp = lp.with_rows(*_p_row(m, n_cols, min(p, m), exact=True))
    if budget is not None:
        row = np.zeros(n_cols)
        row[:m] = data.site_cost
        lp = lp.with_rows(sp.csr_matrix(row.reshape(1, -1)), np.array([-INF]), np.array([budget]))
    closed = np.zeros(m, dtype=bool)
    if dominance and p is not None and budget is None and len(idx) and (data.weights >= 0).all():
        closed = _dominated_columns(data.matrix()[idx], np.ones(m))
        if m - int(closed.sum()) >= p:
            lp = lp.with_bounds(np.flatnonzero(closed), 0.0, 0.0)
        else:
            closed[:] = False
    build = time.perf_counter() - t0
    x0 = None
    start_objective = math.nan
    t_start = time.perf_counter()
    if isinstance(start, str):
        if start != "search":
            raise NetplanError(
                f'max_covering: start must be site indices, "search" or None, not {start!r}'
            )
        start = None
        if p is not None and budget is None and len(idx):
            opts = options or SolverOptions()
            # the search may use a tenth of a time limit, and never more than 10 s
            seconds = min(10.0, 0.1 * opts.time_limit) if opts.time_limit else 10.0
            start, _ = search_max_covering(
                data, p, allowed=~closed, seed=opts.seed, upper_bound=float(c[m:].sum()),
                time_limit=seconds,
            )  # fmt: skip
            improve_start = False  # already a 1-swap local optimum
    if start is not None:
        start = np.unique(np.asarray(start, dtype=np.int64))
        if closed[start].any():  # fixed-closed start sites: refill greedily from the others
            # (a dominating site gains at least as much as the one it replaces)
            start = greedy_max_covering(
                data, len(start), allowed=~closed, initial=start[~closed[start]]
            )
        if improve_start and p is not None and budget is None:
            start = swap_improve_max_covering(data, start, allowed=~closed)
        x0 = np.zeros(n_cols)
        x0[start] = 1.0
        covered_start = (A[:, :m] @ x0[:m]) < 0  # rows are y - sum x
        x0[m:] = covered_start.astype(float)
        start_objective = float(lp.c @ x0 + lp.offset)
    t_start = time.perf_counter() - t_start
    x, record, seconds = _solve_in_time(lp, options, t0, start=x0)
    covered = float(record.objective) if x is not None else math.nan
    return _result(
        "max_covering",
        data,
        x,
        record,
        {"build": build, "start": t_start, "solve": seconds},
        covered_weight=covered,
        total_weight=total,
        demand_rows=int(n_rows),
        rows_after_merge=int(A.shape[0]),
        sites_fixed_closed=int(closed.sum()),
        start_objective=start_objective,
    )


def _incidence(data: LocationData) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """The 0/1 demand x site matrix and its transpose (site -> rows it covers), both CSR."""
    A = data.matrix().tocsr()
    A.data[:] = 1.0
    return A, A.T.tocsr()


def _greedy_fill(
    AT: sp.csr_matrix, w: np.ndarray, p: int, barred: np.ndarray, chosen: list[int]
) -> list[int]:
    """Add sites to ``chosen`` until p, each covering the most still-uncovered weight."""
    uncovered = w.astype(float).copy()
    for j in chosen:
        uncovered[AT.indices[AT.indptr[j] : AT.indptr[j + 1]]] = 0.0
    for _ in range(min(p, int((~barred).sum()) + len(chosen)) - len(chosen)):
        gain = AT @ uncovered
        gain[chosen] = -1.0
        gain[barred] = -1.0
        j = int(np.argmax(gain))
        chosen.append(j)
        uncovered[AT.indices[AT.indptr[j] : AT.indptr[j + 1]]] = 0.0
    return chosen


def greedy_max_covering(
    data: LocationData,
    p: int,
    allowed: np.ndarray | None = None,
    initial: np.ndarray | None = None,
) -> np.ndarray:
    """Greedy MCLP start: p times, open the site covering the most still-uncovered weight.

    Vectorised over the sparse demand x site matrix (one sparse product per pick); the
    classic (1 - 1/e) approximation, used as the MIP start of :func:`max_covering`.
    ``allowed`` (bool per site) limits the picks; ``initial`` sites are open from the start
    and count towards p.
    """
    _, AT = _incidence(data)
    barred = np.zeros(data.n_sites, dtype=bool) if allowed is None else ~np.asarray(allowed)
    chosen: list[int] = [] if initial is None else [int(j) for j in np.unique(initial)]
    return np.array(sorted(_greedy_fill(AT, data.weights, p, barred, chosen)), dtype=np.int64)


def _swap_descent(
    A: sp.csr_matrix,
    AT: sp.csr_matrix,
    w: np.ndarray,
    is_open: np.ndarray,
    barred: np.ndarray,
    max_swaps: int,
) -> tuple[np.ndarray, float]:
    """Best-improvement 1-swaps from ``is_open`` (changed in place); returns it and its value."""
    tol = 1e-9 * max(1.0, float(w.sum()))
    for _ in range(max_swaps + 1):
        count = A @ is_open.astype(float)
        value = float(w[count > 0].sum())
        gain = AT @ (w * (count == 0))
        sole_rows = np.flatnonzero(count == 1)
        # the single open site of each solely-covered row
        sub = A[sole_rows].tocoo()
        on = is_open[sub.col]
        sole_site = np.empty(len(sole_rows), dtype=np.int64)
        sole_site[sub.row[on]] = sub.col[on]
        loss = np.bincount(sole_site, weights=w[sole_rows], minlength=len(is_open))
        S = sp.csr_matrix(
            (w[sole_rows], (sole_site, np.arange(len(sole_rows)))),
            shape=(len(is_open), len(sole_rows)),
        )
        overlap = (S @ A[sole_rows]).tocoo()  # (j, k): weight only j covers that k covers too
        open_idx = np.flatnonzero(is_open)
        cand = np.flatnonzero(~is_open & ~barred)
        if not len(cand) or not len(open_idx):
            break
        # best k per j: gain_k - loss_j, raised by the overlap where it is non-zero
        delta_base = gain[cand].max() - loss[open_idx]
        j_best = open_idx[int(np.argmax(delta_base))]
        best = (float(delta_base.max()), j_best, int(cand[np.argmax(gain[cand])]))
        sel = is_open[overlap.row] & ~is_open[overlap.col] & ~barred[overlap.col]
        if sel.any():
            d = gain[overlap.col[sel]] + overlap.data[sel] - loss[overlap.row[sel]]
            i = int(np.argmax(d))
            if d[i] > best[0]:
                best = (float(d[i]), int(overlap.row[sel][i]), int(overlap.col[sel][i]))
        if best[0] <= tol or _ >= max_swaps:
            break
        is_open[best[1]] = False
        is_open[best[2]] = True
    return is_open, value


def swap_improve_max_covering(
    data: LocationData, sites: np.ndarray, allowed: np.ndarray | None = None, max_swaps: int = 500
) -> np.ndarray:
    """Best-improvement 1-swap local search for MCLP from a plan (e.g. the greedy one).

    Each pass evaluates every (open j, closed k) swap at once: the change is
    ``gain_k + overlap_jk - loss_j``, where ``gain_k`` is the uncovered weight k covers,
    ``loss_j`` the weight only j covers, and ``overlap_jk`` the part of that which k also
    covers — one sparse product per pass, never a loop over pairs. Stops when no swap
    improves (a 1-swap local optimum) or after ``max_swaps``.
    """
    A, AT = _incidence(data)
    barred = np.zeros(data.n_sites, dtype=bool) if allowed is None else ~np.asarray(allowed)
    is_open = np.zeros(data.n_sites, dtype=bool)
    is_open[np.asarray(sites, dtype=np.int64)] = True
    is_open, _ = _swap_descent(A, AT, data.weights.astype(float), is_open, barred, max_swaps)
    return np.flatnonzero(is_open)


def search_max_covering(
    data: LocationData,
    p: int,
    allowed: np.ndarray | None = None,
    seed: int = 0,
    upper_bound: float | None = None,
    max_stall: int = 1000,
    time_limit: float = 10.0,
) -> tuple[np.ndarray, float]:
    """Iterated local search for MCLP: greedy, 1-swap descent, then perturb and descend again.

    Each round closes 2-5 random open sites, refills greedily from a random 70 % of the
    allowed sites, and runs the 1-swap descent; a plan at least as good as the best replaces
    it (equal plans too, so the search walks along plateaus). Stops when the best reaches
    ``upper_bound`` (default: every coverable weight, which proves it optimal), after
    ``max_stall`` rounds without improvement, or after ``time_limit`` seconds. Deterministic
    for a given ``seed`` unless the time limit stops it.

    Returns
    -------
    sites : ndarray of int
        The best plan's site indices (sorted).
    value : float
        Its covered weight.
    """
    A, AT = _incidence(data)
    w = data.weights.astype(float)
    m = data.n_sites
    barred = np.zeros(m, dtype=bool) if allowed is None else ~np.asarray(allowed)
    p = min(p, int((~barred).sum()))
    if upper_bound is None:
        upper_bound = float(w[(A @ (~barred).astype(float)) > 0].sum())
    tol = 1e-9 * max(1.0, float(w.sum()))
    rng = np.random.default_rng(seed)
    is_open = np.zeros(m, dtype=bool)
    is_open[_greedy_fill(AT, w, p, barred, [])] = True
    best, best_value = _swap_descent(A, AT, w, is_open, barred, max_swaps=10 * p)
    best = best.copy()
    stall, t0 = 0, time.perf_counter()
    while (
        p > 0
        and best_value < upper_bound - tol
        and stall < max_stall
        and time.perf_counter() - t0 < time_limit
    ):
        open_idx = np.flatnonzero(best)
        keep = np.delete(open_idx, rng.choice(p, min(p, int(rng.integers(2, 6))), replace=False))
        pool = barred | (rng.random(m) >= 0.7)
        free = ~pool
        free[keep] = False
        if int(free.sum()) < p - len(keep):  # too few to refill from: use every site
            pool = barred
        is_open = np.zeros(m, dtype=bool)
        is_open[_greedy_fill(AT, w, p, pool, [int(j) for j in keep])] = True
        is_open, value = _swap_descent(A, AT, w, is_open, barred, max_swaps=10 * p)
        stall = 0 if value > best_value + tol else stall + 1
        if value >= best_value - tol:
            best, best_value = is_open.copy(), value
    return np.flatnonzero(best), best_value


# ---------------------------------------------------------------- backup coverage
def backup_covering(
    data: LocationData | np.ndarray,
    radius: float | None,
    p: int,
    options: SolverOptions | None = None,
    merge: bool = True,
) -> LocationResult:
    """Backup coverage (Hogan & ReVelle): maximise demand covered twice, first coverage secured.

    Lexicographic and exact: stage 1 maximises covered weight (MCLP); stage 2 fixes it and
    maximises the weight covered by two or more sites. Columns x (binary), y (covered), u
    (covered twice) with ``y + u <= sum x``, ``u <= y <= 1``. y and u may stay continuous:
    for integral x, each demand's (y, u) problem has integral data (``sum x`` is an integer)
    and a totally unimodular constraint matrix, so its optimum is integral.
    """
    data = _as_data(data)
    if radius is not None:
        data = data.within(radius)
    t0 = time.perf_counter()
    if merge:
        data, _ = data.merged()  # identical coverage sets: identical counts, exact
    m = data.n_sites
    A_cov, idx, ycol = _covering_block(data, data.weights)
    k = len(idx)
    n_cols = m + 2 * k
    # y_i + u_i - sum x <= 0 ; u_i - y_i <= 0
    A_cov = sp.csr_matrix((A_cov.data, A_cov.indices, A_cov.indptr), shape=(k, n_cols))
    plus_u = sp.csr_matrix((np.ones(k), (np.arange(k), m + k + np.arange(k))), shape=(k, n_cols))
    u_le_y = csr_from_pieces(
        [np.arange(k), np.arange(k)],
        [m + k + np.arange(k), m + np.arange(k)],
        [np.ones(k), -np.ones(k)],
        (k, n_cols),
    )
    A = sp.vstack([A_cov + plus_u, u_le_y], format="csr")
    lb, ub, integer = _binaries(m, 2 * k)
    w = data.weights[idx]
    c1 = np.zeros(n_cols)
    c1[m : m + k] = w
    lp = LinearProgram(
        c=c1,
        lb=lb,
        ub=ub,
        integer=integer,
        A=A,
        row_lo=np.full(2 * k, -INF),
        row_hi=np.zeros(2 * k),
        sense="max",
    )
    lp = lp.with_rows(*_p_row(m, n_cols, min(p, m), exact=True))
    build = time.perf_counter() - t0
    x1, r1, s1 = _solve_in_time(lp, options, t0)
    r1.stage = "coverage"
    if r1.status != "optimal":
        return _result("backup_covering", data, x1, r1, {"build": build, "solve": s1}, records=[r1])
    covered = _weight_covered(data, x1, 1)
    from netplan.optimize.stage_fixing import tolerance

    fix = sp.csr_matrix(c1.reshape(1, -1))
    c2 = np.zeros(n_cols)
    c2[m + k :] = w
    lp2 = lp.with_rows(
        fix, np.array([covered - tolerance(covered)]), np.array([INF])
    ).with_objective(c2, "max")
    x2, r2, s2 = _solve_in_time(lp2, options, t0, start=x1)
    r2.stage = "backup"
    x = x2 if x2 is not None else x1
    backup = _weight_covered(data, x, 2)
    if r2.status == "optimal":
        # the plan's own value: the continuous y/u may carry solver noise of ~1e-6
        r2.objective, r2.bound, r2.gap = backup, max(backup, r2.bound), 0.0
    return _result(
        "backup_covering",
        data,
        x,
        r2,
        {"build": build, "solve": s1 + s2},
        records=[r1, r2],
        covered_weight=covered,
        backup_weight=backup,
    )


def _weight_covered(data: LocationData, x: np.ndarray, times: int) -> float:
    """Demand weight covered at least ``times`` times by the open sites of ``x`` (recounted exactly)."""
    is_open = np.round(x[: data.n_sites]) > 0.5
    count = np.bincount(data.demand[is_open[data.site]], minlength=data.n_demand)
    return float(data.weights[count >= times].sum())


# ----------------------------------------------------------------------- p-median
def p_median(
    data: LocationData | np.ndarray, p: int, options: SolverOptions | None = None
) -> LocationResult:
    """p-median: p sites minimising the total weighted cost of serving each demand from its nearest open site.

    Exact, in three steps, each recorded in ``details``:

    1. a heuristic plan (greedy, then best-improvement vertex interchange) gives an upper
       bound and the MIP start;
    2. the LP relaxation of the assignment formulation gives a lower bound and reduced costs;
       a site whose reduced cost exceeds the bound gap cannot be in any optimal plan and is
       removed (reduced-cost fixing, exact);
    3. the MIP on the remaining sites, with assignment variables ``z_ij <= x_j`` only for
       each demand's ``r - p + 1`` nearest remaining sites (with p of r sites open, one of
       those is always open).

    Scaling: the LP has one column per (demand, site) pair among each demand's ``m - p + 1``
    nearest, i.e. up to n·m — fine to a few million pairs; the MIP keeps only the sites
    that survive fixing (typically 10–30 % on OR-Library instances). Beyond that use
    :func:`p_median_radius` (one variable per distinct distance, Lagrangian reductions).

    ``options.time_limit`` covers the whole call: the LP and the MIP get what is left. Stopped,
    the result keeps the best plan (the heuristic's at least) and the best bound known (each
    demand's cheapest cost, the LP's, the MIP's), and its gap is computed from those two; it
    is ``optimal`` whenever that gap meets ``mip_rel_gap``.
    """
    data = _as_data(data)
    options = options or SolverOptions()
    t0 = time.perf_counter()
    m = data.n_sites
    if not data.coverable().all():
        raise NetplanError(
            f"p_median: {int((~data.coverable()).sum())} demand points have no allowed site; give every demand at least one site"
        )
    if not 1 <= p <= m:
        raise NetplanError(f"p_median: p must be between 1 and the number of sites ({m}), got {p}")
    weighted = _dense_costs(data)
    heuristic, upper = _p_median_heuristic(weighted, p)
    t_heur = time.perf_counter() - t0
    records: list[SolverRecord] = []
    # every demand pays at least its cheapest allowed cost: the bound before any solve
    starts = np.searchsorted(data.demand, np.arange(data.n_demand))
    lower = float(data.weights @ data.cost[starts])
    # LP bound and reduced-cost fixing on the full site set (within the one time limit)
    lp, _ = _p_median_assignment_lp(data, np.arange(m), p)
    s_lp = 0.0
    keep = np.ones(m, dtype=bool)
    if not _out_of_time(options, t0):
        # presolve finds nothing to reduce in this LP but spends seconds past the time limit
        # looking (n=900, p=90: 7 s in a 3 s limit; without it 3.2 s)
        lp_options = replace(_left(options, t0), highs_presolve=False)
        x_lp, reduced, rec_lp = solve_relaxation(lp, lp_options)
        rec_lp.stage = "lp_bound"
        s_lp = rec_lp.seconds
        records.append(rec_lp)
        if rec_lp.status == "optimal":
            lower = max(lower, rec_lp.objective)
            slack = upper - lower + 1e-6 * max(1.0, abs(upper))
            keep = ~((x_lp[:m] < 1e-9) & (reduced[:m] > slack))
            keep[heuristic] = True
    lp_bound = lower
    sites = np.flatnonzero(keep)
    build = time.perf_counter() - t0 - s_lp - t_heur
    x, seconds, n_cols = None, 0.0, 0
    if not _out_of_time(options, t0):
        tb = time.perf_counter()
        lp, zsite = _p_median_assignment_lp(data, sites, p)
        n_cols = lp.n_cols
        start = np.zeros(lp.n_cols)
        start[np.searchsorted(sites, heuristic)] = 1.0
        # z of each demand's nearest heuristic site (one of its r - p + 1 nearest kept sites)
        nearest = _nearest_assignment(data, heuristic)
        keys = zsite[0] * m + zsite[1]
        order = np.argsort(keys, kind="stable")
        wanted = nearest["demand"].to_numpy() * m + nearest["site"].to_numpy()
        start[len(sites) + order[np.searchsorted(keys[order], wanted)]] = 1.0
        build += time.perf_counter() - tb
        x, record, seconds = _timed_solve(lp, _left(options, t0), start=start)
        record.stage = "mip"
        records.append(record)
    chosen = sites[np.flatnonzero(np.round(x[: len(sites)]) > 0.5)] if x is not None else heuristic
    objective = (
        float(_nearest_assignment(data, chosen)["cost"].to_numpy() @ data.weights)
        if x is not None
        else float(upper)
    )
    if x is not None and objective > upper:  # a re-solve stopped early: the start was better
        chosen, objective = heuristic, float(upper)
    if x is not None and math.isfinite(record.bound):
        lower = max(lower, record.bound)  # fixing keeps every optimal plan: valid for all
    # the plan is the heuristic's when the MIP found none (stopped first)
    status = record.status if x is not None else "time_limit"
    if status == "no_solution":
        status = "time_limit"
    gap = relative_gap(objective, lower)
    if gap <= options.mip_rel_gap:
        status = "optimal"  # the best bound proves the plan, whoever found it
    elif status == "optimal":
        status = "unproven"
    final = SolverRecord(
        status, objective, lower, gap, sum(r.seconds for r in records),
        records[-1].solver if records else "HiGHS", records[-1].version if records else "",
        options.time_limit, options.mip_rel_gap, "p_median",
        "the best plan and the best bound of the heuristic, LP and MIP",
    )  # fmt: skip
    full_x = np.zeros(m)
    full_x[chosen] = 1.0
    return _result(
        "p_median",
        data,
        full_x,
        final,
        {"build": build, "heuristic": t_heur, "lp": s_lp, "solve": seconds},
        records=records + [final],
        assignment=_nearest_assignment(data, chosen),
        heuristic_objective=float(upper),
        lp_bound=float(lp_bound),
        sites_after_fixing=int(len(sites)),
        assignment_columns=int(n_cols - len(sites)) if n_cols else 0,
    )


DENSE_PAIRS_LIMIT = 50_000_000  # 400 MB of float64 costs


def _dense_costs(data: LocationData) -> np.ndarray:
    """Weighted (n, m) cost matrix with ``inf`` for pairs not allowed (heuristics only)."""
    if data.n_demand * data.n_sites > DENSE_PAIRS_LIMIT:
        raise NetplanError(
            "p_median: more than 5e7 demand-site pairs; reduce the problem (reach, aggregation)"
        )
    out = np.full((data.n_demand, data.n_sites), np.inf)
    out[data.demand, data.site] = data.weights[data.demand] * data.cost
    return out


def _p_median_descent(W: np.ndarray, chosen: np.ndarray, block: int = 64) -> np.ndarray:
    """Best-improvement vertex interchange (Teitz & Bart) from ``chosen`` until no swap helps.

    A swap (open j out, closed k in) costs ``sum_i min(W_ik, d1_i)`` plus, for the demand
    whose nearest open site is j, the step from ``d1`` to ``min(W_ik, d2)``; scored for blocks
    of closed k at once (one (n, block) minimum and one sparse product per block).
    """
    n, m = W.shape
    chosen = np.array(chosen, dtype=np.int64)
    p = len(chosen)
    big = float(W.max()) * n + 1.0
    while True:
        sub = W[:, chosen]
        if p > 1:
            two = np.argpartition(sub, 1, axis=1)[:, :2]
            v = np.take_along_axis(sub, two, axis=1)
            first = v[:, 0] <= v[:, 1]
            c1 = np.where(first, two[:, 0], two[:, 1])
            d1, d2 = np.where(first, v[:, 0], v[:, 1]), np.where(first, v[:, 1], v[:, 0])
        else:
            c1, d1, d2 = np.zeros(n, dtype=np.int64), sub[:, 0], np.full(n, big)
        cost = float(d1.sum())
        owner = sp.csr_matrix((np.ones(n), (c1, np.arange(n))), shape=(p, n))
        best_gain, best = 1e-9 * max(1.0, cost), None
        closed = np.setdiff1d(np.arange(m), chosen)
        for lo in range(0, len(closed), block):
            ks = closed[lo : lo + block]
            a = np.minimum(W[:, ks], d1[:, None])
            b = np.minimum(W[:, ks], d2[:, None])
            new = a.sum(axis=0)[None, :] + owner @ (b - a)  # (p, block): close t, open k
            t, kk = np.unravel_index(int(np.argmin(new)), new.shape)
            if cost - new[t, kk] > best_gain:
                best_gain, best = cost - float(new[t, kk]), (int(t), int(ks[kk]))
        if best is None:
            return chosen
        chosen[best[0]] = best[1]


def _p_median_heuristic(
    weighted: np.ndarray,
    p: int,
    seed: int = 0,
    max_stall: int = 0,
    time_limit: float = 0.0,
) -> tuple[np.ndarray, float]:
    """Greedy addition, vertex interchange, then (``max_stall`` > 0) iterated local search.

    The search replaces 2-4 random open sites by random closed ones, runs the interchange
    again and keeps a plan at least as cheap; it stops after ``max_stall`` rounds without
    improvement or ``time_limit`` seconds. Deterministic for a seed unless timed out.
    """
    n, m = weighted.shape
    big = np.where(np.isfinite(weighted), weighted, np.nan)
    cap = np.nanmax(big) * 10 + 1 if np.isfinite(np.nanmax(big)) else 1.0
    W = np.where(np.isfinite(weighted), weighted, cap * n)
    chosen: list[int] = []
    current = np.full(n, cap * n)
    for _ in range(p):
        totals = np.minimum(W, current[:, None]).sum(axis=0)
        totals[chosen] = np.inf
        j = int(np.argmin(totals))
        chosen.append(j)
        current = np.minimum(current, W[:, j])
    best = _p_median_descent(W, np.array(chosen))
    best_value = float(W[:, best].min(axis=1).sum())
    rng = np.random.default_rng(seed)
    stall, t0 = 0, time.perf_counter()
    tol = 1e-9 * max(1.0, best_value)
    while p < m and stall < max_stall and time.perf_counter() - t0 < time_limit:
        plan = best.copy()
        out = rng.choice(p, min(p, int(rng.integers(2, 5)), m - p), replace=False)
        plan[out] = rng.choice(np.setdiff1d(np.arange(m), best), len(out), replace=False)
        plan = _p_median_descent(W, plan)
        value = float(W[:, plan].min(axis=1).sum())
        stall = 0 if value < best_value - tol else stall + 1
        if value <= best_value + tol:
            best, best_value = plan, value
    return np.sort(best), float(W[:, best].min(axis=1).sum())


def _p_median_assignment_lp(
    data: LocationData, sites: np.ndarray, p: int
) -> tuple[LinearProgram, tuple[np.ndarray, np.ndarray]]:
    """Assignment formulation over ``sites``: columns x (len(sites)), then z for each demand's
    ``len(sites) - p + 1`` nearest of them."""
    r = len(sites)
    local = np.full(data.n_sites, -1, dtype=np.int64)
    local[sites] = np.arange(r)
    sel = local[data.site] >= 0
    d, s, c = data.demand[sel], local[data.site[sel]], data.cost[sel]
    starts = np.searchsorted(d, np.arange(data.n_demand))
    pos = np.arange(len(d)) - starts[d]
    keep = pos < r - p + 1
    d, s, c = d[keep], s[keep], c[keep]
    k = len(d)
    n_cols = r + k
    z = r + np.arange(k)
    link = csr_from_pieces(
        [np.arange(k), np.arange(k)], [z, s], [np.ones(k), -np.ones(k)], (k, n_cols)
    )
    assign = csr_from_pieces([d], [z], [np.ones(k)], (data.n_demand, n_cols))
    A = sp.vstack([link, assign], format="csr")
    lb, ub, integer = _binaries(r, k)
    cost = np.concatenate([np.zeros(r), data.weights[d] * c])
    lp = LinearProgram(
        c=cost, lb=lb, ub=ub, integer=integer, A=A,
        row_lo=np.concatenate([np.full(k, -INF), np.ones(data.n_demand)]),
        row_hi=np.concatenate([np.zeros(k), np.ones(data.n_demand)]),
    )  # fmt: skip
    return lp.with_rows(*_p_row(r, n_cols, p, exact=True)), (d, sites[s])


def _nearest_assignment(data: LocationData, open_sites: np.ndarray) -> pd.DataFrame:
    """Each demand to its cheapest open allowed site (ties: lowest site index)."""
    is_open = np.zeros(data.n_sites, dtype=bool)
    is_open[open_sites] = True
    sel = is_open[data.site]
    d, s, c = data.demand[sel], data.site[sel], data.cost[sel]
    first = np.ones(len(d), dtype=bool)
    first[1:] = d[1:] != d[:-1]  # pairs are sorted by demand, cost, site
    return pd.DataFrame({"demand": d[first], "site": s[first], "share": 1.0, "cost": c[first]})


# ------------------------------------------------------- p-median, radius formulation
def _radius_levels(data: LocationData, p: int) -> dict[str, np.ndarray]:
    """Per demand, the distinct costs of its ``m - p + 1`` cheapest allowed sites.

    With p of m sites open at most m - p are closed, so a demand's nearest open site is
    always among them: farther pairs never matter (an exact cut). Returns the kept pairs
    (demand, site, level = rank of the pair's cost among the demand's distinct costs) and,
    per demand, the first global level id, the number of levels and the level values.
    """
    n, m = data.n_demand, data.n_sites
    d, s, c = data.demand, data.site, data.cost
    starts = np.searchsorted(d, np.arange(n))
    keep = (np.arange(len(d)) - starts[d]) < m - p + 1
    d, s, c = d[keep], s[keep], c[keep]
    new = np.ones(len(d), dtype=bool)
    new[1:] = (d[1:] != d[:-1]) | (c[1:] != c[:-1])  # pairs are sorted by demand, then cost
    gid = np.cumsum(new) - 1  # global level id of each pair
    first = np.zeros(n, dtype=np.int64)
    n_levels = np.bincount(d[new], minlength=n)
    first[1:] = np.cumsum(n_levels)[:-1]
    return {
        "demand": d,
        "site": s,
        "level": gid - first[d],
        "first": first,
        "n_levels": n_levels,
        "value": c[new],
    }


def _radius_lp(
    lv: dict[str, np.ndarray],
    weights: np.ndarray,
    kept: np.ndarray,
    m: int,
    p: int,
    limit: np.ndarray | None = None,
) -> tuple[LinearProgram, np.ndarray, np.ndarray]:
    """The radius formulation truncated at ``kept[i]`` levels per demand.

    Columns: x (m sites), then z_ig for each kept row. Row (i, g), g < kept[i]:
    ``z_ig >= 1 - sum_{j: c_ij <= D_ig} x_j`` (written chained, see below) — z_ig = 1 when
    demand i has no open site within its g-th distinct cost D_ig; its cost is
    ``D_i0 + sum_g (D_i,g+1 - D_ig) z_ig``. A demand whose levels are all kept, or kept up
    to its ``limit`` (levels beyond which no plan worth having serves it, from the
    Lagrangian bound), is complete: no z on its last row (it must be served within its last
    kept level). A truncated demand's last z is charged up to its next
    level D_i,kept, so its cost is capped there: the truncated model is a relaxation
    (a lower bound), exact for every plan that serves each truncated demand within its
    kept levels.
    Returns the program, the (demand, level) of each row and the column of its z (-1: none).
    """
    n = len(kept)
    complete = kept >= (lv["n_levels"] if limit is None else limit)
    row_first = np.zeros(n, dtype=np.int64)
    row_first[1:] = np.cumsum(kept)[:-1]
    n_rows = int(kept.sum())
    row_dem = np.repeat(np.arange(n), kept)
    row_lvl = np.arange(n_rows) - row_first[row_dem]
    has_z = ~(complete[row_dem] & (row_lvl == kept[row_dem] - 1))
    zcol = np.full(n_rows, -1, dtype=np.int64)
    zcol[has_z] = m + np.arange(int(has_z.sum()))
    gvalue = lv["first"][row_dem] + row_lvl
    step = lv["value"][np.minimum(gvalue + 1, len(lv["value"]) - 1)] - lv["value"][gvalue]
    # chained rows: z_ig - z_i,g-1 + sum_{j at level g} x_j >= [g = 0]; with positive step
    # costs the least z_ig is max(0, 1 - sum_{j at level <= g} x_j), as in the cumulative
    # form, but each pair enters one row only (the cumulative form repeats it in every
    # later row: 14.7 M instead of 0.5 M non-zeros at 5000 x 500)
    d, s, lvl = lv["demand"], lv["site"], lv["level"]
    pair = np.flatnonzero(lvl < kept[d])
    prow = row_first[d[pair]] + lvl[pair]
    zr = np.flatnonzero(has_z)
    chained = zr[row_lvl[zr] < kept[row_dem[zr]] - 1]  # z of row g, again in row g + 1
    n_cols = m + len(zr)
    A = csr_from_pieces(
        [prow, zr, chained + 1],
        [s[pair], zcol[zr], zcol[chained]],
        [np.ones(len(pair)), np.ones(len(zr)), -np.ones(len(chained))],
        (n_rows, n_cols),
    )
    c = np.zeros(n_cols)
    c[zcol[zr]] = weights[row_dem[zr]] * step[zr]
    offset_value = float(weights @ lv["value"][lv["first"]])
    lb, ub, integer = _binaries(m, len(zr))
    lp = LinearProgram(
        c=c, lb=lb, ub=ub, integer=integer, A=A,
        row_lo=(row_lvl == 0).astype(float), row_hi=np.full(n_rows, INF), offset=offset_value,
    )  # fmt: skip
    return (
        lp.with_rows(*_p_row(m, n_cols, p, exact=True)),
        np.column_stack([row_dem, row_lvl]),
        zcol,
    )


def _served_level(lv: dict[str, np.ndarray], is_open: np.ndarray, n: int) -> np.ndarray:
    """Per demand, the level of its nearest open site among the kept pairs (-1: none)."""
    sel = is_open[lv["site"]]
    out = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(out, lv["demand"][sel], lv["level"][sel])
    out[out == np.iinfo(np.int64).max] = -1
    return out


def p_median_lagrangian(
    weighted: np.ndarray,
    p: int,
    upper: float,
    plan: np.ndarray,
    time_limit: float = 30.0,
    max_iterations: int = 2000,
    heuristic_every: int = 100,
) -> dict[str, Any]:
    """Lagrangian bound for the p-median by subgradient optimisation (Beasley, 1993).

    Relaxing "each demand is served once" with multipliers ``lambda`` leaves, per site j,
    ``rho_j = sum_i min(0, W_ij - lambda_i)``; the bound is ``sum lambda + the p smallest
    rho``. Every ``heuristic_every`` steps the p sites of the subproblem are improved by
    vertex interchange (a Lagrangian heuristic) and may lower ``upper``. Any plan costs at
    least ``bound + sum_i max(0, W_i,a(i) - lambda_i)`` and, if it opens a site j outside
    the subproblem's p, also ``rho_j`` minus the p-th smallest rho more: pairs and sites
    that would push a plan above ``upper`` can be left out without losing any plan as good
    as the best known.

    Parameters
    ----------
    weighted : ndarray (n, m)
        Weighted costs, ``inf`` where a pair is not allowed.
    p : int
    upper, plan : float, ndarray of int
        Cost and sites of the best known plan.

    Returns
    -------
    dict
        ``bound``, ``upper``, ``plan``, ``multipliers`` (of the best bound), ``rho`` (per
        site, at those multipliers), ``subproblem_sites``, ``iterations``, ``seconds``.
    """
    t0 = time.perf_counter()
    n, m = weighted.shape
    finite = np.isfinite(weighted)
    W = np.where(finite, weighted, 0.0)
    costs = np.where(finite, weighted, np.inf)  # a plan's cost: row minima over its columns
    capped = np.where(finite, weighted, W.max() * n + 1.0)  # for the interchange's arithmetic
    lam = costs.min(axis=1)  # the trivial bound to start from
    best_lam, bound = lam.copy(), -np.inf
    plan = np.sort(np.asarray(plan, dtype=np.int64))
    step, since, it = 2.0, 0, 0
    for it in range(1, max_iterations + 1):
        below = finite & (W < lam[:, None])
        red = np.where(below, W - lam[:, None], 0.0)
        rho = red.sum(axis=0)
        chosen = np.argpartition(rho, p - 1)[:p] if p < m else np.arange(m)
        value = float(lam.sum() + rho[chosen].sum())
        if value > bound + 1e-12 * abs(value):
            bound, best_lam, since = value, lam.copy(), 0
        else:
            since += 1
            if since >= 30:  # no progress for a while: shorter steps
                step, since = step / 2.0, 0
        if heuristic_every and it % heuristic_every == 0:
            local = _p_median_descent(capped, chosen)
            cost = float(costs[:, local].min(axis=1).sum())
            if cost < upper:
                upper, plan = cost, np.sort(local)
        if (
            (math.isfinite(upper) and upper - bound <= 1e-9 * max(1.0, abs(upper)))
            or step < 1e-4
            or time.perf_counter() - t0 > time_limit
        ):
            break
        g = 1.0 - below[:, chosen].sum(axis=1)  # subgradient: 1 - times i is served
        norm = float(g @ g)
        if norm == 0.0:  # every demand served exactly once: the subproblem's plan is optimal
            cost = float(costs[:, chosen].min(axis=1).sum())
            if cost < upper:
                upper, plan = cost, np.sort(chosen)
            break
        # Polyak step towards the best plan's cost (while no plan is known: 5 % above the bound)
        target = upper if math.isfinite(upper) else value + 0.05 * abs(value) + 1.0
        lam = lam + step * (target - value) / norm * g
    below = finite & (W < best_lam[:, None])
    rho = np.where(below, W - best_lam[:, None], 0.0).sum(axis=0)
    return {
        "bound": bound,
        "upper": upper,
        "plan": plan,
        "multipliers": best_lam,
        "rho": rho,
        "subproblem_sites": np.sort(np.argpartition(rho, p - 1)[:p] if p < m else np.arange(m)),
        "iterations": it,
        "seconds": time.perf_counter() - t0,
    }


def p_median_radius(
    data: LocationData | np.ndarray,
    p: int,
    options: SolverOptions | None = None,
    start: np.ndarray | None = None,
    max_rounds: int = 100,
    lagrangian: bool = True,
) -> LocationResult:
    """p-median by the radius formulation with truncation (García, Labbé & Marín, 2011).

    For each demand i with sorted distinct costs ``D_i0 < D_i1 < ...`` the cost of a plan is
    ``D_i0 + sum_g (D_i,g+1 - D_ig) z_ig`` with ``z_ig >= 1 - sum_{j: c_ij <= D_ig} x_j``
    (Elloumi, 2010): one variable per distinct cost, not per pair, and only the costs up to
    the ``m - p + 1``-th cheapest site matter. Truncation: each demand keeps only its costs
    up to the one it pays in the heuristic plan (its cost is capped at the next one), which
    makes the model a relaxation; its optimum is optimal for the full problem when it serves
    every demand within the kept costs, else the demands served beyond their kept costs get
    more levels and it is solved again (warm-started with the best plan so far). Each
    truncated bound is a valid lower bound, each plan's recomputed cost an upper bound.

    Parameters
    ----------
    data : LocationData or cost matrix
    p : int
        Number of sites to open.
    options : SolverOptions, optional
        ``time_limit`` is for the whole loop.
    start : ndarray of int, optional
        Sites of a plan to start from; default: greedy + vertex interchange (without the
        Lagrangian also iterated interchange: 50 rounds without improvement, at most a tenth
        of the time limit).
    max_rounds : int
        Most re-solves before giving up with the best plan and bound so far.
    lagrangian : bool
        First run :func:`p_median_lagrangian` (at most 30 % of the time limit, 30 s): its
        bound, its heuristic's plans, and reduced-cost reductions that keep every plan as
        good as the best known — sites fixed closed, and per demand only the distance
        levels such a plan may use (those demands must be served within them, which also
        tightens the LP). When the bound meets the best plan no MIP is solved.

    Returns
    -------
    LocationResult
        ``details``: rounds, rows and z columns of the last model, distinct costs kept and
        available, heuristic objective.
    """
    data = _as_data(data)
    options = options or SolverOptions()
    n, m = data.n_demand, data.n_sites
    if not data.coverable().all():
        raise NetplanError(
            f"p_median: {int((~data.coverable()).sum())} demand points have no allowed site; give every demand at least one site"
        )
    if not 1 <= p <= m:
        raise NetplanError(f"p_median: p must be between 1 and the number of sites ({m}), got {p}")
    t0 = time.perf_counter()
    # the heuristic and the Lagrangian work on the dense (n, m) costs; with a start given,
    # an instance too large for them still runs (the truncation loop alone)
    dense_ok = start is None or n * m <= DENSE_PAIRS_LIMIT
    weighted = _dense_costs(data) if dense_ok else None
    if start is None:
        # iterated interchange for at most a tenth of the time limit (10 s without one)
        seconds = min(10.0, 0.1 * options.time_limit) if options.time_limit else 10.0
        # with the Lagrangian, its heuristic improves the plan better than iterating here
        stall = 0 if lagrangian else 50
        start, _ = _p_median_heuristic(
            weighted, p, seed=options.seed, max_stall=stall, time_limit=seconds
        )
    best = np.sort(np.asarray(start, dtype=np.int64))
    t_heur = time.perf_counter() - t0
    lv = _radius_levels(data, p)
    n_levels = lv["n_levels"]

    def plan_cost(sites: np.ndarray) -> float:
        served = _nearest_assignment(data, sites)
        if len(served) < n:  # some demand has no open allowed site: not a plan
            return INF
        return float(served["cost"].to_numpy() @ data.weights[served["demand"].to_numpy()])

    upper = plan_cost(best)
    heuristic_objective = upper
    # every demand pays at least its cheapest allowed cost: the bound before any solve
    lower = float(data.weights @ lv["value"][lv["first"]])
    limit = n_levels.copy()  # levels a plan as good as the best known may use, per demand
    fixed_closed = np.zeros(m, dtype=bool)
    lagr: dict[str, Any] = {}
    t_lagr = time.perf_counter()
    if lagrangian and p < m and weighted is not None:
        seconds = min(30.0, 0.3 * options.time_limit) if options.time_limit else 30.0
        lagr = p_median_lagrangian(weighted, p, upper, best, time_limit=seconds)
        lower = max(lower, lagr["bound"])
        if lagr["upper"] < upper:
            best = lagr["plan"]
            upper = min(upper, plan_cost(best))
        # reduced-cost reductions: keep every plan that costs at most ``upper``
        slack = upper - lagr["bound"] + 1e-9 * max(1.0, abs(upper))
        rho = lagr["rho"]
        fixed_closed = rho - np.partition(rho, p - 1)[p - 1] > slack
        fixed_closed[best] = False
        level_dem = np.repeat(np.arange(n), n_levels)
        usable = data.weights[level_dem] * lv["value"] - lagr["multipliers"][level_dem] <= slack
        limit = np.bincount(level_dem[usable], minlength=n)  # levels rise with cost: a prefix
    t_lagr = time.perf_counter() - t_lagr
    is_open = np.zeros(m, dtype=bool)
    is_open[best] = True
    served_best = _served_level(lv, is_open, n)
    limit = np.minimum(np.maximum(limit, served_best + 1), n_levels)
    kept = np.minimum(2 * served_best + 2, n_levels)
    kept[kept <= 0] = n_levels[kept <= 0]
    kept = np.minimum(kept, limit)
    if lagr and limit.sum() <= max(4 * kept.sum(), 500_000):
        # every level a plan as good as the best known may use: exact in one round (5000 x
        # 500: 176,598 rows, solved in 3 s, where growing the truncation took 4 rounds of
        # 20-70 s); beyond 500,000 rows the truncation loop keeps the model small
        kept = limit.copy()
    records: list[SolverRecord] = []
    timings = {"heuristic": t_heur, "lagrangian": t_lagr, "build": 0.0, "solve": 0.0}
    status, rounds, lp = "time_limit", 0, None
    if math.isfinite(upper) and upper <= lower + 1e-9 * max(1.0, abs(upper)):
        status = "optimal"  # the Lagrangian bound meets the best plan: nothing to solve
    while status != "optimal" and rounds < max_rounds:
        rounds += 1
        tb = time.perf_counter()
        lp, rows, zcol = _radius_lp(lv, data.weights, kept, m, p, limit)
        if fixed_closed.any():
            lp = lp.with_bounds(np.flatnonzero(fixed_closed), 0.0, 0.0)
        x0 = np.zeros(lp.n_cols)
        x0[best] = 1.0
        is_open[:] = False
        is_open[best] = True
        served = _served_level(lv, is_open, n)
        zr = zcol >= 0
        # z_ig = 1 when the start plan serves i beyond level g (or not within the kept pairs)
        x0[zcol[zr]] = ((served[rows[zr, 0]] < 0) | (served[rows[zr, 0]] > rows[zr, 1])).astype(
            float
        )
        timings["build"] += time.perf_counter() - tb
        remaining = None
        if options.time_limit is not None:
            remaining = options.time_limit - (time.perf_counter() - t0)
            if remaining <= 0:
                break
        x, record, seconds = _timed_solve(lp, replace(options, time_limit=remaining), start=x0)
        record.stage = f"radius round {rounds}"
        records.append(record)
        timings["solve"] += seconds
        if math.isfinite(record.bound):
            # the reductions keep every plan as good as ``upper``: a bound above it only
            # says no better plan exists
            lower = max(lower, min(record.bound, upper))
        if x is None:  # the best plan so far stays the answer
            status = "time_limit" if record.status == "no_solution" else record.status
            break
        sites = np.flatnonzero(np.round(x[:m]) > 0.5)
        cost = plan_cost(sites)
        if cost < upper:
            upper, best = cost, sites
        is_open[:] = False
        is_open[sites] = True
        served = _served_level(lv, is_open, n)
        beyond = (served < 0) | (served >= kept)
        if record.status == "optimal" and not beyond.any():
            # the relaxation's optimum serves within the kept levels: its bound (taken into
            # ``lower`` above) is the plan's; the gap below is checked, never assumed
            status = "optimal"
            break
        if math.isfinite(upper) and upper <= lower + 1e-9 * max(1.0, abs(upper)):
            status = "optimal"
            break
        if record.status != "optimal":
            status = record.status
            break
        # more levels where the relaxed optimum serves beyond them: at least to the level
        # it uses, and at least double, so few rounds are needed
        grow = np.where(served[beyond] >= 0, served[beyond] + 1, n_levels[beyond])
        kept[beyond] = np.minimum(np.maximum(grow, 2 * kept[beyond]), limit[beyond])
    gap = relative_gap(upper, lower)
    if gap <= options.mip_rel_gap:
        status = "optimal"  # the best bound proves the best plan, whoever found them
    elif status == "optimal":
        status = "unproven"
    final = SolverRecord(
        status,
        upper,
        lower,
        gap,
        sum(r.seconds for r in records),
        records[-1].solver if records else "HiGHS",
        records[-1].version if records else "",
        options.time_limit,
        options.mip_rel_gap,
        "p_median_radius",
        f"{rounds} radius rounds",
    )
    x_full = np.zeros(m)
    x_full[best] = 1.0
    return _result(
        "p_median",
        data,
        x_full,
        final,
        timings,
        records=records + [final],
        assignment=_nearest_assignment(data, best),
        method="radius",
        rounds=rounds,
        heuristic_objective=heuristic_objective,
        model_rows=int(lp.n_rows) if lp is not None else 0,
        model_z_columns=int(lp.n_cols - m) if lp is not None else 0,
        levels_kept=int(kept.sum()),
        levels_available=int(n_levels.sum()),
        levels_usable=int(limit.sum()),
        pairs=int(len(data.demand)),
        lagrangian_bound=float(lagr.get("bound", math.nan)),
        lagrangian_iterations=int(lagr.get("iterations", 0)),
        sites_fixed_closed=int(fixed_closed.sum()),
    )


# ----------------------------------------------------------------------- p-center
def p_center(
    data: LocationData | np.ndarray, p: int, options: SolverOptions | None = None
) -> LocationResult:
    """p-center: p sites minimising the largest cost (distance) from any demand to its nearest open site.

    Exact by bisection over the sorted distinct costs: radius r is feasible when the set
    covering at r needs at most p sites (each check a MILP solved to proof). The answer r*
    is the smallest feasible distinct cost; the check at the largest distinct cost below r*
    is infeasible, which proves that no radius below r* works (coverage sets only change at
    distinct costs). Both checks are kept in ``details``.

    ``options.time_limit`` covers all the checks together. Stopped, the result keeps the
    smallest radius proven feasible so far (with its sites) and, as bound, the smallest
    radius not yet proven infeasible; ``no_solution`` when no radius was proven yet.
    """
    data = _as_data(data)
    if not data.coverable().all():
        raise NetplanError("p_center: some demand has no allowed site")
    t0 = time.perf_counter()
    values = np.unique(data.cost)
    # lower bound: every demand needs its cheapest site
    starts = np.searchsorted(data.demand, np.arange(data.n_demand))
    lower = float(np.max(data.cost[starts]))
    lo = int(np.searchsorted(values, lower))
    hi = len(values) - 1
    records: list[SolverRecord] = []
    checks: dict[float, str] = {}
    best_x = None
    best_k = [len(values)]

    def feasible(k: int) -> bool:
        nonlocal best_x
        within = data.within(values[k])
        if not within.coverable().all():  # some demand has no site this close: no plan at all
            checks[float(values[k])] = "infeasible"
            return False
        if _out_of_time(options, t0):  # the time limit is for all the checks together
            raise _Stopped("time_limit")
        res = set_covering(within, options=_left(options, t0), max_sites=p)
        records.extend(res.records)
        status = res.status
        checks[float(values[k])] = status
        if status == "optimal":
            if best_x is None or k < best_k[0]:
                best_x, best_k[0] = res.sites, k
            return True
        if status == "infeasible":
            return False
        raise _Stopped(status)

    try:
        if not feasible(hi):
            raise _Stopped("infeasible")
        while lo < hi:
            mid = (lo + hi) // 2
            if feasible(mid):
                hi = mid
            else:
                lo = mid + 1
        radius = float(values[hi])
        below = float(values[hi - 1]) if hi > 0 else None
        if below is not None and below not in checks:
            feasible(hi - 1)  # the proof that nothing smaller works
    except _Stopped as stop:
        if best_x is None:  # stopped before any plan
            status = "no_solution" if stop.status == "time_limit" else stop.status
            return LocationResult(
                "p_center", status, math.nan, float(values[lo]), math.nan,
                np.zeros(0, np.int64), [], None, {"solve": time.perf_counter() - t0}, records,
                {"checks": checks},
            )  # fmt: skip
        # the best radius proven feasible so far, and the smallest not yet proven infeasible
        sites, radius, bound = np.asarray(best_x), float(values[best_k[0]]), float(values[lo])
        status = "time_limit" if stop.status == "no_solution" else stop.status
        return LocationResult(
            "p_center", status, radius, bound, relative_gap(radius, bound), sites,
            [data.site_ids[j] for j in sites], _nearest_assignment(data, sites),
            {"solve": time.perf_counter() - t0}, records, {"radius": radius, "checks": checks},
        )  # fmt: skip
    seconds = time.perf_counter() - t0
    sites = np.asarray(best_x)
    lower_check = checks.get(below) if below is not None else None
    record = SolverRecord(
        "optimal",
        radius,
        radius,
        0.0,
        sum(r.seconds for r in records),
        records[-1].solver,
        records[-1].version,
        None,
        0.0,
        "p_center",
        f"{len(records)} set-covering checks",
    )
    result = LocationResult(
        "p_center",
        "optimal" if lower_check in (None, "infeasible") else "no_solution",
        radius,
        radius,
        0.0,
        sites,
        [data.site_ids[j] for j in sites],
        _nearest_assignment(data, sites),
        {"solve": seconds},
        records + [record],
        {"radius": radius, "radius_below": below, "check_below": lower_check, "checks": checks},
    )
    return result


class _Stopped(Exception):
    def __init__(self, status: str):
        super().__init__(status)
        self.status = status


def _assignment_blocks(
    data: LocationData,
) -> tuple[sp.csr_matrix, sp.csr_matrix, sp.csr_matrix]:
    """Rows over columns [x (m) | z (one per allowed pair)] of the assignment models:
    ``z_ij - x_j <= 0`` (k rows), ``sum_j z_ij`` (n rows) and ``sum_i w_i z_ij - capacity_j x_j``
    (m rows; zeros for the capacity when there is none)."""
    m, n, k = data.n_sites, data.n_demand, len(data.demand)
    n_cols = m + k
    z = m + np.arange(k)
    link = csr_from_pieces(
        [np.arange(k), np.arange(k)], [z, data.site], [np.ones(k), -np.ones(k)], (k, n_cols)
    )
    assign = csr_from_pieces([data.demand], [z], [np.ones(k)], (n, n_cols))
    capacity = np.zeros(m) if data.capacity is None else data.capacity
    cap = csr_from_pieces(
        [data.site, np.arange(m)],
        [z, np.arange(m)],
        [data.weights[data.demand], -capacity],
        (m, n_cols),
    )
    return link, assign, cap


# ------------------------------------------------------------ facility location
def facility_location(
    data: LocationData | np.ndarray,
    capacitated: bool = False,
    single_source: bool = False,
    radius: float | None = None,
    options: SolverOptions | None = None,
) -> LocationResult:
    """Fixed-charge facility location: opening costs plus service costs.

    Uncapacitated (UFL): ``min sum f_j x_j + sum_ij w_i c_ij z_ij`` with ``sum_j z_ij = 1``
    and ``z_ij <= x_j`` (the strong, disaggregated form). Capacitated (CFL) adds
    ``sum_i w_i z_ij <= capacity_j x_j``; multi-source (z continuous: a demand may be split)
    unless ``single_source`` (z binary: each demand served by one site). Assignment columns
    exist only for the pairs in ``data`` — within ``radius`` when given — never unmasked.

    Costs are per unit of weight: the objective charges ``weights[i] * cost[i, j]``. For
    OR-Library ``cap`` instances, whose costs are for a customer's whole demand, use weights 1.
    """
    data = _as_data(data)
    if radius is not None:
        data = data.within(radius)
    if not data.coverable().all():
        raise NetplanError(
            f"facility_location: {int((~data.coverable()).sum())} demand points have no allowed site (within the reach); every demand must be served"
        )
    if capacitated and data.capacity is None:
        raise NetplanError(
            "facility_location: capacitated=True needs site capacities (LocationData.capacity)"
        )
    t0 = time.perf_counter()
    m, n, k = data.n_sites, data.n_demand, len(data.demand)
    link, assign, cap = _assignment_blocks(data)  # z <= x ; sum_j z_ij = 1 ; load <= capacity x
    blocks = [link, assign]
    lo = [np.full(k, -INF), np.ones(n)]
    hi = [np.zeros(k), np.ones(n)]
    if capacitated:
        blocks.append(cap)
        lo.append(np.full(m, -INF))
        hi.append(np.zeros(m))
    A = sp.vstack(blocks, format="csr")
    c = np.concatenate([data.site_cost, data.weights[data.demand] * data.cost])
    lb, ub, integer = _binaries(m, k, extra_integer=single_source)
    lp = LinearProgram(
        c=c,
        lb=lb,
        ub=ub,
        integer=integer,
        A=A,
        row_lo=np.concatenate(lo),
        row_hi=np.concatenate(hi),
    )
    build = time.perf_counter() - t0
    x, record, seconds = _solve_in_time(lp, options, t0)
    assignment = _shares(data, x)
    name = "capacitated_facility_location" if capacitated else "facility_location"
    return _result(
        name,
        data,
        x,
        record,
        {"build": build, "solve": seconds},
        assignment=assignment,
        single_source=single_source,
    )


# ------------------------------------------------------ capacitated covering
def _capacitated_covering(
    data: LocationData, single_source: bool, objective: str, p: int | None
) -> tuple[LinearProgram, np.ndarray]:
    m, k = data.n_sites, len(data.demand)
    if data.capacity is None:
        raise NetplanError(f"{objective}: needs site capacities (LocationData.capacity)")
    n_cols = m + k
    w = data.weights[data.demand]
    link, assign, cap = _assignment_blocks(data)
    coverable = data.coverable()
    A = sp.vstack([link, assign[coverable], cap], format="csr")
    n_assign = int(coverable.sum())
    if objective == "max_covering":  # each demand assigned at most once; covered = assigned
        a_lo, a_hi = np.full(n_assign, -INF), np.ones(n_assign)
        c = np.concatenate([np.zeros(m), w])
        sense = "max"
    else:  # every coverable demand fully assigned within reach
        a_lo, a_hi = np.ones(n_assign), np.ones(n_assign)
        c = np.concatenate([data.site_cost, np.zeros(k)])
        sense = "min"
    lb, ub, integer = _binaries(m, k, extra_integer=single_source)
    lp = LinearProgram(
        c=c, lb=lb, ub=ub, integer=integer, A=A,
        row_lo=np.concatenate([np.full(k, -INF), a_lo, np.full(m, -INF)]),
        row_hi=np.concatenate([np.zeros(k), a_hi, np.zeros(m)]),
        sense=sense,
    )  # fmt: skip
    if p is not None:
        lp = lp.with_rows(*_p_row(m, n_cols, min(p, m), exact=True))
    return lp, coverable


def capacitated_max_covering(
    data: LocationData | np.ndarray,
    radius: float | None,
    p: int,
    single_source: bool = False,
    options: SolverOptions | None = None,
) -> LocationResult:
    """Capacitated maximal covering: p sites; demand counts as covered only when assigned to an
    open site within reach whose capacity (in weight) it fits. Multi-source (a demand may be
    split; covered weight counts the assigned share) unless ``single_source``."""
    data = _as_data(data)
    if radius is not None:
        data = data.within(radius)
    t0 = time.perf_counter()
    lp, _ = _capacitated_covering(data, single_source, "max_covering", p)
    build = time.perf_counter() - t0
    x, record, seconds = _solve_in_time(lp, options, t0)
    return _result(
        "capacitated_max_covering",
        data,
        x,
        record,
        {"build": build, "solve": seconds},
        assignment=_shares(data, x),
        single_source=single_source,
    )


def capacitated_set_covering(
    data: LocationData | np.ndarray,
    radius: float | None,
    single_source: bool = False,
    options: SolverOptions | None = None,
) -> LocationResult:
    """Capacitated set covering: the cheapest sites to which every coverable demand can be
    assigned within reach without exceeding capacities. Uncoverable demand is reported."""
    data = _as_data(data)
    if radius is not None:
        data = data.within(radius)
    t0 = time.perf_counter()
    lp, coverable = _capacitated_covering(data, single_source, "set_covering", None)
    build = time.perf_counter() - t0
    x, record, seconds = _solve_in_time(lp, options, t0)
    return _result(
        "capacitated_set_covering", data, x, record, {"build": build, "solve": seconds},
        assignment=_shares(data, x), single_source=single_source,
        uncoverable=int((~coverable).sum()), uncoverable_weight=float(data.weights[~coverable].sum()),
    )  # fmt: skip


def _shares(data: LocationData, x: np.ndarray | None) -> pd.DataFrame | None:
    if x is None:
        return None
    share = x[data.n_sites :]
    used = share > 1e-9
    return pd.DataFrame(
        {
            "demand": data.demand[used],
            "site": data.site[used],
            "share": share[used],
            "cost": data.cost[used],
        }
    )


def result_table(results: list[LocationResult]) -> pd.DataFrame:
    """One row per result: model, status, objective, bound, gap, sites, seconds, solver."""
    return pd.DataFrame(
        [
            {
                "model": r.model,
                "status": r.status,
                "objective": r.objective,
                "bound": r.bound,
                "gap": r.gap,
                "sites": len(r.sites),
                "seconds": sum(r.timings.values()),
                "solver": f"{r.solver} {r.version}",
            }
            for r in results
        ]
    )


__all__ = [
    "LocationData",
    "LocationResult",
    "backup_covering",
    "capacitated_max_covering",
    "capacitated_set_covering",
    "facility_location",
    "greedy_max_covering",
    "max_covering",
    "p_center",
    "p_median",
    "p_median_radius",
    "p_median_lagrangian",
    "reduce_set_covering",
    "swap_improve_max_covering",
    "search_max_covering",
    "result_table",
    "set_covering",
]
