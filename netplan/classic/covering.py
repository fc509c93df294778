"""Covering models: set covering (LSCP) and its exact reductions, maximal and backup covering.

The start heuristics of maximal covering (greedy, 1-swap, iterated search) are in
:mod:`netplan.classic.covering_heuristics`.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
from typing import Literal

import numpy as np
import scipy.sparse as sp

from netplan._errors import NetplanError
from netplan.classic.covering_heuristics import (
    greedy_max_covering,
    search_max_covering,
    swap_improve_max_covering,
)
from netplan.classic.data import LocationData, _as_data
from netplan.classic.result import LocationResult, _result
from netplan.classic.solving import INF, _binaries, _p_row, _solve_in_time
from netplan.optimize.program import LinearProgram, csr_from_pieces
from netplan.optimize.records import SolverOptions


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
