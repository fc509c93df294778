"""The tiered covering model of DESIGN.md, assembled from whole arrays.

Variables (columns, in this order):

- ``x[j, k]`` binary, for every site j allowed to operate as tier k (0 = highest);
- ``y[g, l]`` in [0, 1]: demand group g covered at service level l (groups merge demand
  points with identical coverage, an exact reduction for every coverage objective);
- ``z[i, j, l]`` in [0, 1], only in the distance stage: demand point i at level l assigned to
  site j, for pairs within reach only (never an unmasked assignment).

Options (extension columns after x and y, present only when asked for):

- capacities: ``a[i, (j,k), l]`` assignment of demand point i at a loading level l to site j
  operating as tier k, only for pairs within that tier's reach. Covered = assigned
  (``y = sum a``), ``sum w a <= capacity[j,k] x[j,k]`` and optionally
  ``>= min_utilisation capacity x``. Continuous (multi-source) or binary (single-source).
  Loading levels are not merged into groups: points of a group may go to different outlets,
  and the distance stage needs each point's own distance.
- span of control: ``v[(j,k), j']`` binary, lower outlet (j,k) supported by parent site j'
  within the linkage reach of tier k: ``sum_j' v = x[j,k]``, ``v <= sum_{k'<k} x[j',k']``
  and ``sum v over j's children <= sum_k' span[k'] x[j',k']``.

Constraints: coverage ``y[g,l] <= sum x[j,k]`` over (j,k) reaching g at l with k <= l
(successively inclusive tiers); one tier per site; policies (``keep`` fixes the tier,
``may_retier`` forces some tier); budget (total, capex, yearly opex); count rules per tier
and region; linkage ``x[j,k] <= sum x[j',k']`` over higher tiers k' < k within the linkage
reach of tier k; coverage targets for ``min_cost``.

Objectives: coverage (weighted covered demand), cost (one-off + operating x horizon,
closing costs included), distance (weight x distance to the assigned, nearest open serving
outlet, for covered demand) and a final tie-break on site rank.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from netplan.inputs.costs import SiteCosts
from netplan.optimize.program import LinearProgram, csr_from_pieces
from netplan.optimize.reduction import DemandGroups, level_signature_matrix, merge_identical_rows
from netplan.optimize.scaling import row_scales
from netplan.travel.coverage import Coverage, Pairs

INF = np.inf


@dataclass
class CountLimit:
    """``lo <= number of open outlets of tier (None = any) in region (None = all) <= hi``."""

    tier: int | None
    region: int | None
    lo: float
    hi: float
    label: str = ""


@dataclass
class TieredProblem:
    """The data of one tiered covering problem, as arrays (no GeoDataFrames).

    Attributes
    ----------
    weights : ndarray (n, K)
        Demand weight per point and service level.
    coverage : Coverage
        In-reach pairs per tier (from :func:`netplan.travel.coverage.build_coverage`).
    allowed : ndarray (m, K) of bool
        Tiers each site may take.
    policy : ndarray (m,) of str
        ``keep``, ``may_close``, ``may_retier``, ``may_retier_or_close`` or ``new``.
    costs : SiteCosts
    linkage : list of Pairs or None
        Per tier, (supported site, supporting site) pairs within its linkage reach.
    objective : {"max_coverage", "min_cost"}
    level_weights : ndarray (K,)
    targets : ndarray (K,)
        Share of coverable demand per level to reach (``min_cost``), NaN = none.
    region_targets : dict
        ``{(region code, level): share}``.
    demand_region, site_region : ndarray of int
        Region code of each demand point / site (-1 = none).
    budget_total, budget_capex, budget_opex : float or None
    counts : list of CountLimit
    site_rank : ndarray (m,)
        Order of site ids, for the final tie-break (lower rank preferred).
    capacity : ndarray (m, K) or None
        Capacity (demand weight) of site j as tier k, inf = unlimited; None = no capacities.
    capacity_levels : ndarray (K,) of bool or None
        Levels whose demand loads the outlet it is assigned to.
    single_source : bool
        Each loading demand point is assigned whole to one outlet (else it may be split).
    min_utilisation : float
        An open capacitated outlet carries at least this share of its capacity.
    span : ndarray (K,) or None
        Most outlets a tier-k parent may support (inf = no limit); None = no span of control
        (plain linkage rows only).
    """

    weights: np.ndarray
    coverage: Coverage
    allowed: np.ndarray
    policy: np.ndarray
    costs: SiteCosts
    linkage: list[Pairs | None]
    objective: str = "max_coverage"
    level_weights: np.ndarray | None = None
    targets: np.ndarray | None = None
    region_targets: dict[tuple[int, int], float] = field(default_factory=dict)
    demand_region: np.ndarray | None = None
    site_region: np.ndarray | None = None
    budget_total: float | None = None
    budget_capex: float | None = None
    budget_opex: float | None = None
    counts: list[CountLimit] = field(default_factory=list)
    site_rank: np.ndarray | None = None
    capacity: np.ndarray | None = None
    capacity_levels: np.ndarray | None = None
    single_source: bool = False
    min_utilisation: float = 0.0
    span: np.ndarray | None = None

    @property
    def loading_levels(self) -> np.ndarray:
        """Bool (K,): levels under capacities (assignment variables, covered = assigned)."""
        if self.capacity is None:
            return np.zeros(self.n_tiers, dtype=bool)
        if self.capacity_levels is None:
            return np.ones(self.n_tiers, dtype=bool)
        return np.asarray(self.capacity_levels, dtype=bool)

    @property
    def n_demand(self) -> int:
        return self.weights.shape[0]

    @property
    def n_sites(self) -> int:
        return self.allowed.shape[0]

    @property
    def n_tiers(self) -> int:
        return self.allowed.shape[1]

    def lw(self) -> np.ndarray:
        return (
            np.ones(self.n_tiers)
            if self.level_weights is None
            else np.asarray(self.level_weights, dtype=float)
        )

    def modelled_levels(self) -> np.ndarray:
        """Levels that matter to the optimisation: positive weight or a target."""
        tg = np.full(self.n_tiers, np.nan) if self.targets is None else self.targets
        has_region_target = np.zeros(self.n_tiers, dtype=bool)
        for (_, level), share in self.region_targets.items():
            has_region_target[level] |= share > 0
        return (self.lw() > 0) | (np.nan_to_num(tg) > 0) | has_region_target

    def forced_tier(self) -> np.ndarray:
        """Tier fixed by policy ``keep`` (else -1)."""
        return np.where(self.policy == "keep", self.costs.current_tier, -1)

    def must_open(self) -> np.ndarray:
        """Sites that must operate at some tier (``keep`` and ``may_retier``)."""
        return np.isin(self.policy, ["keep", "may_retier"])


@dataclass
class StageObjective:
    """An objective vector over the model's columns with its sense and constant."""

    name: str
    c: np.ndarray
    sense: str
    offset: float = 0.0


@dataclass
class LevelBlock:
    """Demand of one service level, merged into groups with identical coverage.

    Attributes
    ----------
    level : int
    groups : DemandGroups
        Group of every demand point at this level.
    weight : ndarray (G,)
        Summed demand weight of each group at this level.
    coverable : ndarray (G,) of bool
        Some allowed site and tier could serve the group.
    forced : ndarray (G,) of bool
        A ``keep`` outlet serves the group, so it is covered in every plan (no variable).
    ycol : ndarray (G,)
        Column of the group's y variable, -1 where there is none.
    region : ndarray (G,)
        Region code of the group (-1 = none).
    relaxed : bool
        Members may differ: the group's row lists the union of their (site, tier) sets.
    """

    level: int
    groups: DemandGroups
    weight: np.ndarray
    coverable: np.ndarray
    forced: np.ndarray
    ycol: np.ndarray
    region: np.ndarray
    relaxed: bool = False

    @property
    def y_groups(self) -> np.ndarray:
        return np.flatnonzero(self.ycol >= 0)

    def forced_weight(self, region: int | None = None) -> float:
        sel = self.forced & self.coverable
        if region is not None:
            sel &= self.region == region
        return float(self.weight[sel].sum())


class TieredModel:
    """The tiered covering MILP of a :class:`TieredProblem`.

    Attributes
    ----------
    lp : LinearProgram
        The model without distance variables (coverage and cost stages).
    blocks : dict of LevelBlock
        Per modelled level, demand merged by identical coverage at that level.
    x_site, x_tier : ndarray (nx,)
        Site and tier of each x column.
    reduction : dict
        Rows and columns before and after the exact reductions.
    """

    def __init__(
        self,
        problem: TieredProblem,
        merge_demand: bool = True,
        relaxed_groups: dict[int, DemandGroups] | None = None,
        merged_groups: dict[int, DemandGroups] | None = None,
    ):
        self.problem = p = problem
        # groups whose members may differ: each group's row covers the union of its members'
        # sets, which makes the model a relaxation (see netplan.optimize.aggregation)
        self.relaxed_groups = relaxed_groups or {}
        # exact merges already computed by the caller (a re-solve loop rebuilds the model)
        self.merged_groups = merged_groups or {}
        if self.relaxed_groups and (
            p.capacity is not None
            or p.span is not None
            or p.objective != "max_coverage"
            or p.region_targets
        ):
            raise ValueError(
                "relaxed demand groups are for the max-coverage model without capacities, span or region targets"
            )
        m, K = p.n_sites, p.n_tiers
        self.xcol = np.full((m, K), -1, dtype=np.int64)
        self.x_site, self.x_tier = np.nonzero(p.allowed)
        self.nx = len(self.x_site)
        self.xcol[self.x_site, self.x_tier] = np.arange(self.nx)
        self.levels = [int(lv) for lv in np.flatnonzero(p.modelled_levels())]
        self.merge_demand = merge_demand
        self._build_blocks()
        self._layout_extensions()
        self.lp = self._build_lp()
        self.reduction = {
            "demand_points": int(p.n_demand),
            "sites": int(m),
            "x_columns": int(self.nx),
            "y_columns": int(self.ny),
            "y_columns_unmerged": int(self._y_unmerged),
            "y_fixed_by_keep_outlets": int(self._y_forced),
            "assignment_columns": int(self.na),
            "parent_columns": int(self.nv),
            "rows": int(self.lp.n_rows),
            "nonzeros": int(self.lp.A.nnz),
        }
        for level, block in self.blocks.items():
            self.reduction[f"demand_groups_level_{level}"] = int(block.groups.n_groups)

    # ----------------------------------------------------------------- layout
    def _build_blocks(self) -> None:
        p = self.problem
        forced_tier = p.forced_tier()
        region = p.demand_region if p.demand_region is not None else np.full(p.n_demand, -1)
        self.blocks: dict[int, LevelBlock] = {}
        y_group, y_level = [], []
        unmerged = forced_total = 0
        loading = p.loading_levels
        for level in self.levels:
            relaxed = level in self.relaxed_groups
            if relaxed:
                groups = self.relaxed_groups[level]
            elif level in self.merged_groups:
                groups = self.merged_groups[level]
            elif self.merge_demand and not loading[level]:
                key = region if p.region_targets else None
                groups = merge_identical_rows(level_signature_matrix(p.coverage, level), key)
            else:
                groups = DemandGroups(np.arange(p.n_demand), np.arange(p.n_demand))
            rep = groups.representative
            weight = groups.sum(p.weights[:, level])
            coverable = p.coverage.coverable(level)
            forced_point = np.zeros(p.n_demand, dtype=bool)
            for tier in range(level + 1):
                pairs = p.coverage.pairs(tier, level)
                forced_point[pairs.demand[forced_tier[pairs.site] == tier]] = True
            unmerged += int((coverable & (p.weights[:, level] > 0)).sum())
            if relaxed:  # a group is coverable (served by a kept outlet) when some member is
                n_g = groups.n_groups
                coverable_g = np.bincount(groups.group, weights=coverable, minlength=n_g) > 0
                forced_g = np.bincount(groups.group, weights=forced_point, minlength=n_g) > 0
            else:
                coverable_g, forced_g = coverable[rep], forced_point[rep]
            forced = forced_g & ~loading[level]  # a kept outlet may be full
            has_y = coverable_g & ~forced & (weight > 0)
            forced_total += int((forced & (weight > 0)).sum())
            gs = np.flatnonzero(has_y)
            ycol = np.full(groups.n_groups, -1, dtype=np.int64)
            ycol[gs] = self.nx + sum(len(g) for g in y_group) + np.arange(len(gs))
            y_group.append(gs)
            y_level.append(np.full(len(gs), level))
            self.blocks[level] = LevelBlock(
                level, groups, weight, coverable_g, forced, ycol, region[rep], relaxed
            )
        self.y_group = np.concatenate(y_group) if y_group else np.zeros(0, np.int64)
        self.y_level = np.concatenate(y_level) if y_level else np.zeros(0, np.int64)
        self.y_weight = (
            np.concatenate(
                [self.blocks[lv].weight[g] for lv, g in zip(self.levels, y_group, strict=True)]
            )
            if y_group
            else np.zeros(0)
        )
        self.ny = len(self.y_group)
        self._y_unmerged = unmerged
        self._y_forced = forced_total

    @property
    def n_base_cols(self) -> int:
        return self.nx + self.ny

    @property
    def n_cols(self) -> int:
        """All columns: x, y, then the capacity assignments and the parent assignments."""
        return self.nx + self.ny + self.na + self.nv

    @property
    def has_extensions(self) -> bool:
        """Capacities or a span of control: a plan is more than its tiers (assignments too)."""
        return self.problem.capacity is not None or self.problem.span is not None

    def _layout_extensions(self) -> None:
        """Columns of the capacity assignments (a) and parent assignments (v)."""
        p = self.problem
        a_level, a_point, a_x, a_ycol, a_dist = [], [], [], [], []
        if p.capacity is not None:
            for level in self.levels:
                if not p.loading_levels[level]:
                    continue
                block = self.blocks[level]  # unmerged: group g is point g
                for tier in range(level + 1):
                    pairs = p.coverage.pairs(tier, level)
                    ycol = block.ycol[block.groups.group[pairs.demand]]
                    xc = self.xcol[pairs.site, tier]
                    ok = (ycol >= 0) & (xc >= 0)
                    a_level.append(np.full(int(ok.sum()), level))
                    a_point.append(pairs.demand[ok])
                    a_x.append(xc[ok])
                    a_ycol.append(ycol[ok])
                    a_dist.append(pairs.dist[ok])

        def cat(parts, dtype=np.int64):
            return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)

        self.a_level, self.a_point, self.a_x = cat(a_level), cat(a_point), cat(a_x)
        self.a_ycol, self.a_dist = cat(a_ycol), cat(a_dist, float)
        self.a_weight = p.weights[self.a_point, self.a_level] if len(self.a_point) else np.zeros(0)
        self.na = len(self.a_x)
        v_child, v_parent, v_dist = [], [], []
        if p.span is not None:
            for tier, pairs in enumerate(p.linkage):
                if pairs is None or tier == 0:
                    continue
                not_self = pairs.demand != pairs.site
                low, sup, dist = pairs.demand[not_self], pairs.site[not_self], pairs.dist[not_self]
                child = self.xcol[low, tier]
                can_parent = p.allowed[sup, :tier].any(axis=1)
                ok = (child >= 0) & can_parent
                v_child.append(child[ok])
                v_parent.append(sup[ok])
                v_dist.append(dist[ok])
        self.v_child, self.v_parent = cat(v_child), cat(v_parent)
        self.v_dist = cat(v_dist, float)
        self.nv = len(self.v_child)

    # ------------------------------------------------------------- constraints
    def _build_lp(self) -> LinearProgram:
        p = self.problem
        n_cols = self.n_cols
        rows: list[sp.csr_matrix] = []
        lo: list[np.ndarray] = []
        hi: list[np.ndarray] = []

        self.row_blocks: dict[str, tuple[int, int]] = {}  # rule -> (first row, end row)

        def add(name: str, block: sp.spmatrix, lower: np.ndarray, upper: np.ndarray) -> None:
            first = sum(r.shape[0] for r in rows)
            rows.append(sp.csr_matrix(block, shape=(block.shape[0], n_cols)))
            lo.append(np.asarray(lower, dtype=float))
            hi.append(np.asarray(upper, dtype=float))
            self.row_blocks[name] = (first, first + block.shape[0])

        add("coverage", *self._coverage_rows(n_cols))
        add("one_tier", *self._one_tier_rows(n_cols))
        add("budget", *self._budget_rows(n_cols))
        add("counts", *self._count_rows(n_cols))
        add("linkage", *self._linkage_rows(n_cols))
        add("targets", *self._target_rows(n_cols))
        add("capacity", *self._capacity_rows(n_cols))
        add("span", *self._span_rows(n_cols))
        A = sp.vstack(rows, format="csr") if rows else sp.csr_matrix((0, n_cols))
        lb = np.zeros(n_cols)
        ub = np.ones(n_cols)
        forced = p.forced_tier()
        keep_sites = np.flatnonzero(forced >= 0)
        lb[self.xcol[keep_sites, forced[keep_sites]]] = 1.0
        must = p.must_open() & (p.allowed.sum(axis=1) == 1)
        single = np.flatnonzero(must)
        lb[self.xcol[single, p.allowed[single].argmax(axis=1)]] = 1.0
        integer = np.zeros(n_cols, dtype=bool)
        integer[: self.nx] = True
        if p.single_source:
            integer[self.a_cols] = True
        integer[self.v_cols] = True
        return LinearProgram(
            c=np.zeros(n_cols),
            lb=lb,
            ub=ub,
            integer=integer,
            A=A,
            row_lo=np.concatenate(lo),
            row_hi=np.concatenate(hi),
        )

    def _coverage_rows(self, n_cols: int):
        """Row per y column: ``y[g, l] - sum x[j, k] <= 0`` over (j, k) reaching group g at level l."""
        p = self.problem
        r_list, c_list, v_list = [], [], []
        for level, block in self.blocks.items():
            gs = block.y_groups
            rows_of_group = np.full(block.groups.n_groups, -1, dtype=np.int64)
            rows_of_group[gs] = block.ycol[gs] - self.nx  # row r <-> y column nx + r
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
                c_list.append(self.xcol[M.col[keep], tier])
                v_list.append(-np.ones(int(keep.sum())))
        A = csr_from_pieces(r_list, c_list, v_list, (self.ny, n_cols))
        if self.relaxed_groups:  # a (site, tier) shared by several members counts once
            np.maximum(A.data, -1.0, out=A.data)
        return A, np.full(self.ny, -INF), np.zeros(self.ny)

    def _one_tier_rows(self, n_cols: int):
        p = self.problem
        counts = p.allowed.sum(axis=1)
        multi = np.flatnonzero(counts >= 2)
        row_of_site = np.full(p.n_sites, -1)
        row_of_site[multi] = np.arange(len(multi))
        sel = row_of_site[self.x_site] >= 0
        A = sp.csr_matrix(
            (np.ones(int(sel.sum())), (row_of_site[self.x_site[sel]], np.flatnonzero(sel))),
            shape=(len(multi), n_cols),
        )
        lower = np.where(p.must_open()[multi], 1.0, -INF)
        return A, lower, np.ones(len(multi))

    def cost_coefficients(self) -> tuple[np.ndarray, float]:
        """Total cost as ``c·x + offset`` (closing costs of existing outlets folded in)."""
        p = self.problem
        closing = p.costs.closing()
        c = p.costs.total()[self.x_site, self.x_tier] - closing[self.x_site]
        return c, float(closing.sum())

    def _budget_rows(self, n_cols: int):
        p = self.problem
        closing = p.costs.closing()
        rows, hi = [], []
        self.budget_rows: list[tuple[str, float, float]] = []  # (key, limit, constant part)
        if p.budget_total is not None:
            c, offset = self.cost_coefficients()
            rows.append(c)
            hi.append(p.budget_total - offset)
            self.budget_rows.append(("budget.total", p.budget_total, offset))
        if p.budget_capex is not None:
            rows.append(p.costs.capex()[self.x_site, self.x_tier] - closing[self.x_site])
            hi.append(p.budget_capex - float(closing.sum()))
            self.budget_rows.append(("budget.capex", p.budget_capex, float(closing.sum())))
        if p.budget_opex is not None:
            rows.append(p.costs.operate[self.x_site, self.x_tier])
            hi.append(p.budget_opex)
            self.budget_rows.append(("budget.opex", p.budget_opex, 0.0))
        if not rows:
            return sp.csr_matrix((0, n_cols)), np.zeros(0), np.zeros(0)
        dense = np.zeros((len(rows), n_cols))
        dense[:, : self.nx] = np.vstack(rows)
        return sp.csr_matrix(dense), np.full(len(rows), -INF), np.asarray(hi)

    def _count_rows(self, n_cols: int):
        p = self.problem
        if not p.counts:
            return sp.csr_matrix((0, n_cols)), np.zeros(0), np.zeros(0)
        data = np.zeros((len(p.counts), n_cols))
        lo, hi = [], []
        site_region = p.site_region if p.site_region is not None else np.full(p.n_sites, -1)
        for r, rule in enumerate(p.counts):
            sel = np.ones(self.nx, dtype=bool)
            if rule.tier is not None:
                sel &= self.x_tier == rule.tier
            if rule.region is not None:
                sel &= site_region[self.x_site] == rule.region
            data[r, : self.nx] = sel
            lo.append(rule.lo)
            hi.append(rule.hi)
        return sp.csr_matrix(data), np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)

    def _linkage_rows(self, n_cols: int):
        p = self.problem
        r_list, c_list, v_list = [], [], []
        n_rows = 0
        for tier, pairs in enumerate(p.linkage):
            if pairs is None or tier == 0:
                continue
            lower_sites = np.flatnonzero(p.allowed[:, tier])
            row_of_site = np.full(p.n_sites, -1)
            row_of_site[lower_sites] = n_rows + np.arange(len(lower_sites))
            r_list.append(row_of_site[lower_sites])
            c_list.append(self.xcol[lower_sites, tier])
            v_list.append(np.ones(len(lower_sites)))
            not_self = pairs.demand != pairs.site
            sup_site, low_site = pairs.site[not_self], pairs.demand[not_self]
            for upper in range(tier):
                cols = self.xcol[sup_site, upper]
                ok = cols >= 0
                r_list.append(row_of_site[low_site[ok]])
                c_list.append(cols[ok])
                v_list.append(-np.ones(int(ok.sum())))
            n_rows += len(lower_sites)
        if not n_rows:
            return sp.csr_matrix((0, n_cols)), np.zeros(0), np.zeros(0)
        A = csr_from_pieces(r_list, c_list, v_list, (n_rows, n_cols))
        return A, np.full(n_rows, -INF), np.zeros(n_rows)

    @property
    def a_cols(self) -> np.ndarray:
        return self.nx + self.ny + np.arange(self.na)

    @property
    def v_cols(self) -> np.ndarray:
        return self.nx + self.ny + self.na + np.arange(self.nv)

    def _capacity_rows(self, n_cols: int):
        """Covered = assigned on loading levels; load within capacity (and above the minimum utilisation)."""
        p = self.problem
        if p.capacity is None:
            return sp.csr_matrix((0, n_cols)), np.zeros(0), np.zeros(0)
        loading_y = np.flatnonzero(p.loading_levels[self.y_level])
        row_of_y = np.full(self.ny, -1, dtype=np.int64)
        row_of_y[loading_y] = np.arange(len(loading_y))
        n_assign = len(loading_y)
        # y - sum a = 0
        assign = csr_from_pieces(
            [np.arange(n_assign), row_of_y[self.a_ycol - self.nx]],
            [self.nx + loading_y, self.a_cols],
            [np.ones(n_assign), -np.ones(self.na)],
            (n_assign, n_cols),
        )
        # load - capacity x <= 0, per x column; unlimited tiers get the most they could carry
        load = np.zeros(self.nx)
        np.add.at(load, self.a_x, self.a_weight)
        cap = p.capacity[self.x_site, self.x_tier].astype(float)
        effective = np.minimum(cap, load)
        has = load > 0
        xs = np.flatnonzero(has)
        row_of_x = np.full(self.nx, -1, dtype=np.int64)
        row_of_x[xs] = np.arange(len(xs))
        A_cap = csr_from_pieces(
            [row_of_x[self.a_x], np.arange(len(xs))],
            [self.a_cols, xs],
            [self.a_weight, -effective[xs]],
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
            row_of_l = np.full(self.nx, -1, dtype=np.int64)
            row_of_l[limited] = np.arange(len(limited))
            sel = row_of_l[self.a_x] >= 0
            A_min = csr_from_pieces(
                [row_of_l[self.a_x[sel]], np.arange(len(limited))],
                [self.a_cols[sel], limited],
                [self.a_weight[sel], -p.min_utilisation * cap[limited]],
                (len(limited), n_cols),
            )
            blocks.append(A_min)
            lo.append(np.zeros(len(limited)))
            hi.append(np.full(len(limited), INF))
        return sp.vstack(blocks, format="csr"), np.concatenate(lo), np.concatenate(hi)

    def _span_rows(self, n_cols: int):
        """Each supported outlet has one parent of a higher tier; parents support at most their span."""
        p = self.problem
        if p.span is None:
            return sp.csr_matrix((0, n_cols)), np.zeros(0), np.zeros(0)
        children = np.flatnonzero((self.x_tier >= 1) & np.isin(self.x_tier, self._linked_tiers()))
        row_of_child = np.full(self.nx, -1, dtype=np.int64)
        row_of_child[children] = np.arange(len(children))
        # sum_j' v - x = 0
        one_parent = csr_from_pieces(
            [row_of_child[self.v_child], row_of_child[children]],
            [self.v_cols, children],
            [np.ones(self.nv), -np.ones(len(children))],
            (len(children), n_cols),
        )
        # v - sum_{k' < k} x[j', k'] <= 0
        r_list, c_list, v_list = [np.arange(self.nv)], [self.v_cols], [np.ones(self.nv)]
        child_tier = self.x_tier[self.v_child]
        for upper in range(p.n_tiers - 1):
            cols = self.xcol[self.v_parent, upper]
            ok = (cols >= 0) & (upper < child_tier)
            r_list.append(np.flatnonzero(ok))
            c_list.append(cols[ok])
            v_list.append(-np.ones(int(ok.sum())))
        parent_open = csr_from_pieces(r_list, c_list, v_list, (self.nv, n_cols))
        # sum over children v - sum_k' span[k'] x[j', k'] <= 0 (unlimited tiers: the number of possible children)
        parents = np.unique(self.v_parent)
        row_of_parent = np.full(p.n_sites, -1, dtype=np.int64)
        row_of_parent[parents] = np.arange(len(parents))
        possible = np.bincount(self.v_parent, minlength=p.n_sites).astype(float)
        px = np.flatnonzero(row_of_parent[self.x_site] >= 0)
        limit = np.minimum(p.span[self.x_tier[px]], possible[self.x_site[px]])
        span_rows = csr_from_pieces(
            [row_of_parent[self.v_parent], row_of_parent[self.x_site[px]]],
            [self.v_cols, px],
            [np.ones(self.nv), -limit],
            (len(parents), n_cols),
        )
        A = sp.vstack([one_parent, parent_open, span_rows], format="csr")
        lo = np.concatenate([np.zeros(len(children)), np.full(self.nv + len(parents), -INF)])
        hi = np.zeros(A.shape[0])
        return A, lo, hi

    def _linked_tiers(self) -> np.ndarray:
        return np.array(
            [k for k, pairs in enumerate(self.problem.linkage) if pairs is not None and k > 0],
            dtype=np.int64,
        )

    def assigned_distance_objective(self) -> StageObjective:
        """Weight x distance of every capacity assignment (the distance stage under capacities)."""
        c = np.zeros(self.n_cols)
        c[self.a_cols] = self.a_weight * self.a_dist
        return StageObjective("distance", c, "min")

    def support_distance_objective(self) -> StageObjective:
        """Total distance from each supported outlet to its assigned parent (last tie-break under a span of control)."""
        c = np.zeros(self.n_cols)
        c[self.v_cols] = self.v_dist
        return StageObjective("support_distance", c, "min")

    def assignments(self, x: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Capacity assignments (level, demand, site, tier, share, load, distance) and parent
        assignments (site, tier, parent, distance) of a full solution vector."""
        a = x[self.a_cols] if self.na else np.zeros(0)
        used = a > 1e-7  # below: solver noise, not an assignment
        demand = pd.DataFrame(
            {
                "level": self.a_level[used],
                "demand": self.a_point[used],
                "site": self.x_site[self.a_x[used]],
                "tier": self.x_tier[self.a_x[used]],
                "share": a[used],
                "load": a[used] * self.a_weight[used],
                "distance": self.a_dist[used],
            }
        )
        v = x[self.v_cols] if self.nv else np.zeros(0)
        on = v > 0.5
        parents = pd.DataFrame(
            {
                "site": self.x_site[self.v_child[on]],
                "tier": self.x_tier[self.v_child[on]],
                "parent": self.v_parent[on],
                "distance": self.v_dist[on],
            }
        )
        return demand, parents

    def row_scale_factors(self) -> dict[tuple, float]:
        """The power of two each budget and target row is divided by before a solve
        (:func:`netplan.optimize.scaling.row_scales`), keyed ``("budget", key)`` or
        ``("target", region or None, level)``."""
        out: dict[tuple, float] = {}
        first, end = self.row_blocks["budget"]
        budget = row_scales(self.lp.A[first:end])
        for (key, _, _), f in zip(self.budget_rows, budget, strict=True):
            out[("budget", key)] = float(f)
        first, end = self.row_blocks["targets"]
        for (region, level, _), f in zip(
            self.target_rows, row_scales(self.lp.A[first:end]), strict=True
        ):
            out[("target", region, level)] = float(f)
        return out

    def coverable_weight(self, level: int, region: int | None = None) -> float:
        """Demand weight at ``level`` that some allowed site and tier could cover (optionally in one region)."""
        p = self.problem
        mask = p.coverage.coverable(level)
        if region is not None:
            mask &= p.demand_region == region
        return float(p.weights[mask, level].sum())

    def _target_rows(self, n_cols: int):
        """``sum w y >= share x coverable weight - weight covered by keep outlets`` per target."""
        p = self.problem
        targets = []
        if p.objective == "min_cost":
            tg = p.targets if p.targets is not None else np.full(p.n_tiers, np.nan)
            targets += [
                (None, int(lv), float(tg[lv]))
                for lv in range(p.n_tiers)
                if np.isfinite(tg[lv]) and tg[lv] > 0
            ]
            targets += [
                (reg, lv, share) for (reg, lv), share in p.region_targets.items() if share > 0
            ]
        self.target_rows = targets
        if not targets:
            return sp.csr_matrix((0, n_cols)), np.zeros(0), np.zeros(0)
        data = np.zeros((len(targets), n_cols))
        lo = []
        for r, (region, level, share) in enumerate(targets):
            block = self.blocks[level]
            gs = block.y_groups
            w = (
                block.weight[gs]
                if region is None
                else np.where(block.region[gs] == region, block.weight[gs], 0.0)
            )
            data[r, block.ycol[gs]] = w
            lo.append(share * self.coverable_weight(level, region) - block.forced_weight(region))
        return sp.csr_matrix(data), np.asarray(lo), np.full(len(targets), INF)

    # ------------------------------------------------------------- objectives
    def saturation_rows(self, n_cols: int) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
        """Rows ``y[g, l] >= x[j, k]`` for every (j, k) reaching g, on levels with objective weight 0.

        On such levels (modelled only for their coverage targets) nothing pushes y up to the
        real coverage, and the distance stage would gain by pretending demand is uncovered.
        With these rows y equals ``min(1, sum x)`` exactly.
        """
        p = self.problem
        lw = p.lw()
        r_list, c_list, v_list = [], [], []
        n = 0
        for level, block in self.blocks.items():
            if lw[level] > 0:
                continue
            rep = block.groups.representative
            for tier in range(level + 1):
                M = p.coverage.matrix(tier, level)[rep].tocoo()
                ycol = block.ycol[M.row]
                keep = ycol >= 0
                rows = n + np.arange(int(keep.sum()))
                r_list += [rows, rows]
                c_list += [ycol[keep], self.xcol[M.col[keep], tier]]
                v_list += [np.ones(len(rows)), -np.ones(len(rows))]
                n += len(rows)
        A = csr_from_pieces(r_list, c_list, v_list, (n, n_cols))
        return A, np.zeros(n), np.full(n, INF)

    def coverage_objective(self) -> StageObjective:
        """Weighted covered demand; demand served by ``keep`` outlets is the constant."""
        c = np.zeros(self.n_cols)
        lw = self.problem.lw()
        c[self.nx : self.nx + self.ny] = lw[self.y_level] * self.y_weight
        offset = sum(lw[level] * block.forced_weight() for level, block in self.blocks.items())
        return StageObjective("coverage", c, "max", float(offset))

    def covered_by_level(self, x: np.ndarray) -> np.ndarray:
        """Covered demand weight per level according to the y variables of ``x``."""
        out = np.zeros(self.problem.n_tiers)
        y = x[self.nx : self.nx + self.ny]
        np.add.at(out, self.y_level, y * self.y_weight)
        for level, block in self.blocks.items():
            out[level] += block.forced_weight()
        return out

    def cost_objective(self) -> StageObjective:
        c = np.zeros(self.n_cols)
        cx, offset = self.cost_coefficients()
        c[: self.nx] = cx
        return StageObjective("cost", c, "min", offset)

    def tie_objective(self) -> StageObjective:
        p = self.problem
        rank = np.arange(p.n_sites) if p.site_rank is None else np.asarray(p.site_rank)
        c = np.zeros(self.n_cols)
        c[: self.nx] = rank[self.x_site] * p.n_tiers + self.x_tier + 1
        return StageObjective("site_id", c, "min")

    # ----------------------------------------------------------- solutions
    def site_tiers(self, x: np.ndarray) -> np.ndarray:
        """Tier of each site in a solution (-1 = not operating)."""
        tiers = np.full(self.problem.n_sites, -1, dtype=np.int64)
        on = np.round(x[: self.nx]) > 0.5
        tiers[self.x_site[on]] = self.x_tier[on]
        return tiers

    def x_from_tiers(self, tiers: np.ndarray) -> np.ndarray:
        """Base-column vector (x and the largest feasible y) of a tier assignment."""
        x = np.zeros(self.n_base_cols)
        on = np.flatnonzero(tiers >= 0)
        cols = self.xcol[on, tiers[on]]
        x[cols[cols >= 0]] = 1.0
        ax = self.lp.A[: self.ny] @ x  # coverage rows: y - sum x  -> here -sum x
        x[self.nx :] = np.minimum(1.0, -ax)
        return x

    def distance_of(self, tiers: np.ndarray) -> float:
        """Exact distance objective of a plan: weight x distance to the nearest open serving site, over modelled levels."""
        p = self.problem
        total = 0.0
        for level in self.levels:
            pairs, mask = p.coverage.level_pairs(level)
            t = tiers[pairs.site]
            serving = (t >= 0) & mask[np.arange(len(t)), np.maximum(t, 0)]
            nearest = np.full(p.n_demand, np.inf)
            np.minimum.at(nearest, pairs.demand[serving], pairs.dist[serving])
            covered = np.isfinite(nearest)
            total += float(np.sum(p.weights[covered, level] * nearest[covered]))
        return total
