"""The constraint blocks of the tiered model, one function per rule.

Each function takes a :class:`~netplan.optimize.model.TieredModel` whose columns are laid out
and returns its rows ``(A, lo, hi)`` meaning ``lo <= A x <= hi`` over all ``n_cols`` columns:
coverage, one tier per site, budget, count rules, linkage, coverage targets, capacities, span
of control, and the saturation rows of the distance stage.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from netplan.optimize.program import csr_from_pieces

if TYPE_CHECKING:
    from netplan.optimize.model import TieredModel
    from netplan.optimize.problem import TieredProblem

INF = np.inf
Rows = tuple[sp.csr_matrix, np.ndarray, np.ndarray]  # A, lo, hi


def coverage_rows(model: TieredModel, n_cols: int) -> Rows:
    """Row per y column: ``y[g, l] - sum x[j, k] <= 0`` over (j, k) reaching group g at level l."""
    p = model.problem
    r_list, c_list, v_list = [], [], []
    for level, block in model.blocks.items():
        gs = block.y_groups
        rows_of_group = np.full(block.groups.n_groups, -1, dtype=np.int64)
        rows_of_group[gs] = block.ycol[gs] - model.nx  # row r <-> y column nx + r
        r_list.append(rows_of_group[gs])
        c_list.append(block.ycol[gs])
        v_list.append(np.ones(len(gs)))
        rep = block.groups.representative
        for tier in range(level + 1):
            if block.relaxed:  # every member's pairs; duplicates are clipped below
                M = p.coverage.matrix(tier, level).tocoo()
                rows = rows_of_group[block.groups.group[M.row]]
            else:
                M = p.coverage.matrix(tier, level)[rep].tocoo()
                rows = rows_of_group[M.row]
            keep = rows >= 0
            r_list.append(rows[keep])
            c_list.append(model.xcol[M.col[keep], tier])
            v_list.append(-np.ones(int(keep.sum())))
    A = csr_from_pieces(r_list, c_list, v_list, (model.ny, n_cols))
    if model.relaxed_groups:  # a (site, tier) shared by several members counts once
        np.maximum(A.data, -1.0, out=A.data)
    return A, np.full(model.ny, -INF), np.zeros(model.ny)


def one_tier_rows(model: TieredModel, n_cols: int) -> Rows:
    """At most one tier per site with a choice of tiers; at least one when it must stay open."""
    p = model.problem
    counts = p.allowed.sum(axis=1)
    multi = np.flatnonzero(counts >= 2)
    row_of_site = np.full(p.n_sites, -1)
    row_of_site[multi] = np.arange(len(multi))
    sel = row_of_site[model.x_site] >= 0
    A = sp.csr_matrix(
        (np.ones(int(sel.sum())), (row_of_site[model.x_site[sel]], np.flatnonzero(sel))),
        shape=(len(multi), n_cols),
    )
    lower = np.where(p.must_open()[multi], 1.0, -INF)
    return A, lower, np.ones(len(multi))


def budget_rows(model: TieredModel, n_cols: int) -> tuple[Rows, list[tuple[str, float, float]]]:
    """Total, capex and opex budgets on the x columns, and their (key, limit, constant part)."""
    p = model.problem
    closing = p.costs.closing()
    rows, hi = [], []
    keys: list[tuple[str, float, float]] = []  # (key, limit, constant part)
    if p.budget_total is not None:
        c, offset = model.cost_coefficients()
        rows.append(c)
        hi.append(p.budget_total - offset)
        keys.append(("budget.total", p.budget_total, offset))
    if p.budget_capex is not None:
        rows.append(p.costs.capex()[model.x_site, model.x_tier] - closing[model.x_site])
        hi.append(p.budget_capex - float(closing.sum()))
        keys.append(("budget.capex", p.budget_capex, float(closing.sum())))
    if p.budget_opex is not None:
        rows.append(p.costs.operate[model.x_site, model.x_tier])
        hi.append(p.budget_opex)
        keys.append(("budget.opex", p.budget_opex, 0.0))
    if not rows:
        return (sp.csr_matrix((0, n_cols)), np.zeros(0), np.zeros(0)), keys
    dense = np.zeros((len(rows), n_cols))
    dense[:, : model.nx] = np.vstack(rows)
    return (sp.csr_matrix(dense), np.full(len(rows), -INF), np.asarray(hi)), keys


def count_rows(model: TieredModel, n_cols: int) -> Rows:
    """``lo <= open outlets of the rule's tier and region <= hi`` per count rule."""
    p = model.problem
    if not p.counts:
        return sp.csr_matrix((0, n_cols)), np.zeros(0), np.zeros(0)
    data = np.zeros((len(p.counts), n_cols))
    lo, hi = [], []
    site_region = p.site_region if p.site_region is not None else np.full(p.n_sites, -1)
    for r, rule in enumerate(p.counts):
        sel = np.ones(model.nx, dtype=bool)
        if rule.tier is not None:
            sel &= model.x_tier == rule.tier
        if rule.region is not None:
            sel &= site_region[model.x_site] == rule.region
        data[r, : model.nx] = sel
        lo.append(rule.lo)
        hi.append(rule.hi)
    return sp.csr_matrix(data), np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)


def linkage_rows(model: TieredModel, n_cols: int) -> Rows:
    """``x[j, k] <= sum x[j', k']`` over higher tiers k' < k within the linkage reach of tier k."""
    p = model.problem
    r_list, c_list, v_list = [], [], []
    n_rows = 0
    for tier, pairs in enumerate(p.linkage):
        if pairs is None or tier == 0:
            continue
        lower_sites = np.flatnonzero(p.allowed[:, tier])
        row_of_site = np.full(p.n_sites, -1)
        row_of_site[lower_sites] = n_rows + np.arange(len(lower_sites))
        r_list.append(row_of_site[lower_sites])
        c_list.append(model.xcol[lower_sites, tier])
        v_list.append(np.ones(len(lower_sites)))
        not_self = pairs.demand != pairs.site
        sup_site, low_site = pairs.site[not_self], pairs.demand[not_self]
        for upper in range(tier):
            cols = model.xcol[sup_site, upper]
            ok = cols >= 0
            r_list.append(row_of_site[low_site[ok]])
            c_list.append(cols[ok])
            v_list.append(-np.ones(int(ok.sum())))
        n_rows += len(lower_sites)
    if not n_rows:
        return sp.csr_matrix((0, n_cols)), np.zeros(0), np.zeros(0)
    A = csr_from_pieces(r_list, c_list, v_list, (n_rows, n_cols))
    return A, np.full(n_rows, -INF), np.zeros(n_rows)


def target_rows(
    model: TieredModel, n_cols: int
) -> tuple[Rows, list[tuple[int | None, int, float]]]:
    """``sum w y >= share x coverable weight - weight covered by keep outlets`` per target."""
    p = model.problem
    targets = []
    if p.objective == "min_cost":
        tg = p.targets if p.targets is not None else np.full(p.n_tiers, np.nan)
        targets += [
            (None, int(lv), float(tg[lv]))
            for lv in range(p.n_tiers)
            if np.isfinite(tg[lv]) and tg[lv] > 0
        ]
        targets += [(reg, lv, share) for (reg, lv), share in p.region_targets.items() if share > 0]
    if not targets:
        return (sp.csr_matrix((0, n_cols)), np.zeros(0), np.zeros(0)), targets
    data = np.zeros((len(targets), n_cols))
    lo = []
    for r, (region, level, share) in enumerate(targets):
        block = model.blocks[level]
        gs = block.y_groups
        w = (
            block.weight[gs]
            if region is None
            else np.where(block.region[gs] == region, block.weight[gs], 0.0)
        )
        data[r, block.ycol[gs]] = w
        lo.append(share * model.coverable_weight(level, region) - block.forced_weight(region))
    return (sp.csr_matrix(data), np.asarray(lo), np.full(len(targets), INF)), targets


def capacity_rows(model: TieredModel, n_cols: int) -> Rows:
    """Covered = assigned on loading levels; load within capacity (and above the minimum utilisation)."""
    p = model.problem
    if p.capacity is None:
        return sp.csr_matrix((0, n_cols)), np.zeros(0), np.zeros(0)
    loading_y = np.flatnonzero(p.loading_levels[model.y_level])
    row_of_y = np.full(model.ny, -1, dtype=np.int64)
    row_of_y[loading_y] = np.arange(len(loading_y))
    n_assign = len(loading_y)
    # y - sum a = 0
    assign = csr_from_pieces(
        [np.arange(n_assign), row_of_y[model.a_ycol - model.nx]],
        [model.nx + loading_y, model.a_cols],
        [np.ones(n_assign), -np.ones(model.na)],
        (n_assign, n_cols),
    )
    # load - capacity x <= 0, per x column; unlimited tiers get the most they could carry
    load = np.zeros(model.nx)
    np.add.at(load, model.a_x, model.a_weight)
    cap = p.capacity[model.x_site, model.x_tier].astype(float)
    effective = np.minimum(cap, load)
    has = load > 0
    xs = np.flatnonzero(has)
    row_of_x = np.full(model.nx, -1, dtype=np.int64)
    row_of_x[xs] = np.arange(len(xs))
    A_cap = csr_from_pieces(
        [row_of_x[model.a_x], np.arange(len(xs))],
        [model.a_cols, xs],
        [model.a_weight, -effective[xs]],
        (len(xs), n_cols),
    )
    blocks, lo, hi = (
        [assign, A_cap],
        [np.zeros(n_assign), np.full(len(xs), -INF)],
        [
            np.zeros(n_assign),
            np.zeros(len(xs)),
        ],
    )
    if p.min_utilisation > 0:
        limited = np.flatnonzero(np.isfinite(cap))
        row_of_l = np.full(model.nx, -1, dtype=np.int64)
        row_of_l[limited] = np.arange(len(limited))
        sel = row_of_l[model.a_x] >= 0
        A_min = csr_from_pieces(
            [row_of_l[model.a_x[sel]], np.arange(len(limited))],
            [model.a_cols[sel], limited],
            [model.a_weight[sel], -p.min_utilisation * cap[limited]],
            (len(limited), n_cols),
        )
        blocks.append(A_min)
        lo.append(np.zeros(len(limited)))
        hi.append(np.full(len(limited), INF))
    return sp.vstack(blocks, format="csr"), np.concatenate(lo), np.concatenate(hi)


def span_rows(model: TieredModel, n_cols: int) -> Rows:
    """Each supported outlet has one parent of a higher tier; parents support at most their span."""
    p = model.problem
    if p.span is None:
        return sp.csr_matrix((0, n_cols)), np.zeros(0), np.zeros(0)
    children = np.flatnonzero((model.x_tier >= 1) & np.isin(model.x_tier, linked_tiers(p)))
    row_of_child = np.full(model.nx, -1, dtype=np.int64)
    row_of_child[children] = np.arange(len(children))
    # sum_j' v - x = 0
    one_parent = csr_from_pieces(
        [row_of_child[model.v_child], row_of_child[children]],
        [model.v_cols, children],
        [np.ones(model.nv), -np.ones(len(children))],
        (len(children), n_cols),
    )
    # v - sum_{k' < k} x[j', k'] <= 0
    r_list, c_list, v_list = [np.arange(model.nv)], [model.v_cols], [np.ones(model.nv)]
    child_tier = model.x_tier[model.v_child]
    for upper in range(p.n_tiers - 1):
        cols = model.xcol[model.v_parent, upper]
        ok = (cols >= 0) & (upper < child_tier)
        r_list.append(np.flatnonzero(ok))
        c_list.append(cols[ok])
        v_list.append(-np.ones(int(ok.sum())))
    parent_open = csr_from_pieces(r_list, c_list, v_list, (model.nv, n_cols))
    # sum over children v - sum_k' span[k'] x[j', k'] <= 0 (unlimited tiers: the number of possible children)
    parents = np.unique(model.v_parent)
    row_of_parent = np.full(p.n_sites, -1, dtype=np.int64)
    row_of_parent[parents] = np.arange(len(parents))
    possible = np.bincount(model.v_parent, minlength=p.n_sites).astype(float)
    px = np.flatnonzero(row_of_parent[model.x_site] >= 0)
    limit = np.minimum(p.span[model.x_tier[px]], possible[model.x_site[px]])
    span_rows = csr_from_pieces(
        [row_of_parent[model.v_parent], row_of_parent[model.x_site[px]]],
        [model.v_cols, px],
        [np.ones(model.nv), -limit],
        (len(parents), n_cols),
    )
    A = sp.vstack([one_parent, parent_open, span_rows], format="csr")
    lo = np.concatenate([np.zeros(len(children)), np.full(model.nv + len(parents), -INF)])
    hi = np.zeros(A.shape[0])
    return A, lo, hi


def linked_tiers(problem: TieredProblem) -> np.ndarray:
    """Tiers below the first whose outlets need a supporting outlet of a higher tier."""
    return np.array(
        [k for k, pairs in enumerate(problem.linkage) if pairs is not None and k > 0],
        dtype=np.int64,
    )


def saturation_rows(model: TieredModel, n_cols: int) -> Rows:
    """Rows ``y[g, l] >= x[j, k]`` for every (j, k) reaching g, on levels with objective weight 0.

    On such levels (modelled only for their coverage targets) nothing pushes y up to the
    real coverage, and the distance stage would gain by pretending demand is uncovered.
    With these rows y equals ``min(1, sum x)`` exactly.
    """
    p = model.problem
    lw = p.lw()
    r_list, c_list, v_list = [], [], []
    n = 0
    for level, block in model.blocks.items():
        if lw[level] > 0:
            continue
        rep = block.groups.representative
        for tier in range(level + 1):
            M = p.coverage.matrix(tier, level)[rep].tocoo()
            ycol = block.ycol[M.row]
            keep = ycol >= 0
            rows = n + np.arange(int(keep.sum()))
            r_list += [rows, rows]
            c_list += [ycol[keep], model.xcol[M.col[keep], tier]]
            v_list += [np.ones(len(rows)), -np.ones(len(rows))]
            n += len(rows)
    A = csr_from_pieces(r_list, c_list, v_list, (n, n_cols))
    return A, np.zeros(n), np.full(n, INF)
