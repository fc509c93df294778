"""p-median by the assignment formulation, with its heuristics (greedy, vertex interchange).

The exact method: a heuristic start, the LP bound, reduced-cost fixing, then the MIP.

The heuristics here (on the dense weighted cost matrix) also start the radius formulation of
:mod:`netplan.classic.median_radius`.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace

import numpy as np
import scipy.sparse as sp

from netplan._errors import NetplanError
from netplan.classic.data import LocationData, _as_data
from netplan.classic.result import LocationResult, _nearest_assignment, _result
from netplan.classic.solving import INF, _binaries, _left, _out_of_time, _p_row, _timed_solve
from netplan.optimize.highs import solve_relaxation
from netplan.optimize.program import LinearProgram, csr_from_pieces
from netplan.optimize.records import SolverOptions, SolverRecord, relative_gap


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


def _fits_dense(data: LocationData) -> bool:
    """Whether the dense (n, m) cost matrix of the heuristics stays within the limit."""
    return data.n_demand * data.n_sites <= DENSE_PAIRS_LIMIT


def _dense_costs(data: LocationData) -> np.ndarray:
    """Weighted (n, m) cost matrix with ``inf`` for pairs not allowed (heuristics only)."""
    if not _fits_dense(data):
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
