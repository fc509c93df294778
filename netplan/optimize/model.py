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
- overlap caps: ``o[i, l]`` binary, demand group i within reach of 2+ open outlets of the
  counted tiers at a capped level l (formulation in :mod:`netplan.optimize.overlap`).

Constraints: coverage ``y[g,l] <= sum x[j,k]`` over (j,k) reaching g at l with k <= l
(successively inclusive tiers); one tier per site; policies (``keep`` fixes the tier,
``may_retier`` forces some tier); budget (total, capex, yearly opex); count rules per tier
and region; linkage ``x[j,k] <= sum x[j',k']`` over higher tiers k' < k within the linkage
reach of tier k; coverage targets for ``min_cost``. Each block of rows is built by its
function in :mod:`netplan.optimize.constraints`; the problem's data is a
:class:`~netplan.optimize.problem.TieredProblem`.

Objectives: coverage (weighted covered demand), cost (one-off + operating x horizon,
closing costs included), distance (weight x distance to the assigned, nearest open serving
outlet, for covered demand) and a final tie-break on site rank.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from netplan.optimize.constraints import (
    budget_rows,
    capacity_rows,
    count_rows,
    coverage_rows,
    linkage_rows,
    one_tier_rows,
    saturation_rows,
    span_rows,
    target_rows,
)
from netplan.optimize.overlap import layout_overlap, overlap_rows, overlap_values
from netplan.optimize.problem import TieredProblem
from netplan.optimize.program import LinearProgram
from netplan.optimize.reduction import DemandGroups, level_signature_matrix, merge_identical_rows
from netplan.optimize.scaling import row_scales
from netplan.optimize.spacing import spacing_rows


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
            or p.active_overlap_caps()
        ):
            raise ValueError(
                "relaxed demand groups are for the max-coverage model without capacities, span, region targets or overlap caps"
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
        self.overlap = layout_overlap(self)
        self.no = self.overlap.n
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
            "overlap_columns": int(self.no),
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
        """All columns: x, y, then the capacity assignments, the parent assignments and the
        overlap indicators."""
        return self.nx + self.ny + self.na + self.nv + self.no

    @property
    def has_extensions(self) -> bool:
        """Capacities or a span of control: a plan is more than its tiers (assignments too)."""
        return self.problem.capacity is not None or self.problem.span is not None

    @property
    def a_cols(self) -> np.ndarray:
        return self.nx + self.ny + np.arange(self.na)

    @property
    def v_cols(self) -> np.ndarray:
        return self.nx + self.ny + self.na + np.arange(self.nv)

    @property
    def o_cols(self) -> np.ndarray:
        return self.nx + self.ny + self.na + self.nv + np.arange(self.no)

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

        budget, self.budget_rows = budget_rows(self, n_cols)  # (key, limit, constant part)
        targets, self.target_rows = target_rows(self, n_cols)  # (region, level, share)
        add("coverage", *coverage_rows(self, n_cols))
        add("one_tier", *one_tier_rows(self, n_cols))
        add("budget", *budget)
        add("counts", *count_rows(self, n_cols))
        add("linkage", *linkage_rows(self, n_cols))
        add("targets", *targets)
        add("capacity", *capacity_rows(self, n_cols))
        add("span", *span_rows(self, n_cols))
        add("overlap", *overlap_rows(self, n_cols))
        add("spacing", *spacing_rows(self, n_cols))
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
        integer[self.o_cols] = True
        return LinearProgram(
            c=np.zeros(n_cols),
            lb=lb,
            ub=ub,
            integer=integer,
            A=A,
            row_lo=np.concatenate(lo),
            row_hi=np.concatenate(hi),
        )

    def cost_coefficients(self) -> tuple[np.ndarray, float]:
        """Total cost as ``c·x + offset`` (closing costs of existing outlets folded in)."""
        p = self.problem
        closing = p.costs.closing()
        c = p.costs.total()[self.x_site, self.x_tier] - closing[self.x_site]
        return c, float(closing.sum())

    def coverable_weight(self, level: int, region: int | None = None) -> float:
        """Demand weight at ``level`` that some allowed site and tier could cover (optionally in one region)."""
        p = self.problem
        mask = p.coverage.coverable(level)
        if region is not None:
            mask &= p.demand_region == region
        return float(p.weights[mask, level].sum())

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

    def saturation_rows(self, n_cols: int) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
        """Rows ``y[g, l] >= x[j, k]`` on levels with objective weight 0
        (:func:`netplan.optimize.constraints.saturation_rows`)."""
        return saturation_rows(self, n_cols)

    # ------------------------------------------------------------- objectives
    def coverage_objective(self) -> StageObjective:
        """Weighted covered demand; demand served by ``keep`` outlets is the constant."""
        c = np.zeros(self.n_cols)
        lw = self.problem.lw()
        c[self.nx : self.nx + self.ny] = lw[self.y_level] * self.y_weight
        offset = sum(lw[level] * block.forced_weight() for level, block in self.blocks.items())
        return StageObjective("coverage", c, "max", float(offset))

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

    # ----------------------------------------------------------- solutions
    def covered_by_level(self, x: np.ndarray) -> np.ndarray:
        """Covered demand weight per level according to the y variables of ``x``."""
        out = np.zeros(self.problem.n_tiers)
        y = x[self.nx : self.nx + self.ny]
        np.add.at(out, self.y_level, y * self.y_weight)
        for level, block in self.blocks.items():
            out[level] += block.forced_weight()
        return out

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

    def site_tiers(self, x: np.ndarray) -> np.ndarray:
        """Tier of each site in a solution (-1 = not operating)."""
        tiers = np.full(self.problem.n_sites, -1, dtype=np.int64)
        on = np.round(x[: self.nx]) > 0.5
        tiers[self.x_site[on]] = self.x_tier[on]
        return tiers

    def x_from_tiers(self, tiers: np.ndarray) -> np.ndarray:
        """Base-column vector (x and the largest feasible y) of a tier assignment; without
        capacity or parent columns also the least o, so the vector is a full column vector."""
        full = self.na + self.nv == 0
        x = np.zeros(self.n_cols if full else self.n_base_cols)
        on = np.flatnonzero(tiers >= 0)
        cols = self.xcol[on, tiers[on]]
        x[cols[cols >= 0]] = 1.0
        base = self.n_base_cols  # coverage rows: y - sum x  -> here -sum x
        ax = self.lp.A[: self.ny, :base] @ x[:base]
        x[self.nx : self.n_base_cols] = np.minimum(1.0, -ax[: self.ny])
        if full and self.no:
            x[self.o_cols] = overlap_values(self, x)
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
