"""p-median at scale: the truncated radius formulation and its Lagrangian bound."""

from __future__ import annotations

import math
import time
from dataclasses import replace
from typing import Any

import numpy as np

from netplan._errors import NetplanError
from netplan.classic.data import LocationData, _as_data
from netplan.classic.median import (
    _dense_costs,
    _fits_dense,
    _p_median_descent,
    _p_median_heuristic,
)
from netplan.classic.result import LocationResult, _nearest_assignment, _result
from netplan.classic.solving import INF, _binaries, _p_row, _timed_solve
from netplan.optimize.program import LinearProgram, csr_from_pieces
from netplan.optimize.records import SolverOptions, SolverRecord, relative_gap


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
    dense_ok = start is None or _fits_dense(data)
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
