"""Caps on overlapped demand (``siting.overlap``): exact columns and rows of the tiered model.

For a capped level l with counted tiers T (default: every tier serving l), a demand group i
of the level's block (points merged by identical coverage, :class:`~netplan.optimize.model.LevelBlock`)
with weight w_i is *overlapped* when two or more open outlets whose tiers are in T reach it
at level l. Let C_i be the candidate columns x[j, k], k in T, k <= l, that reach i at l, and
M_i = |C_i|. Each site opens at most one tier, so

    n_i = sum_{(j,k) in C_i} x[j, k]

is the number of open counted outlets in reach of i. Groups with M_i <= 1 can never be
overlapped and get no column. Every other group with positive weight gets a binary o_i and
one row

    n_i <= y_i + (M_i - 1) o_i          (i with a y column, level not under capacities)
    n_i <= 1   + (M_i - 1) o_i          (i covered by a ``keep`` outlet, no y column; or a
                                         level under capacities, where y means *assigned*)

and each cap one row

    sum_i w_i o_i - max_share * (sum_g w_g y_g + F_l) <= 0

over the level's y groups g (its covered demand) with F_l the weight covered by ``keep``
outlets without a y column (``LevelBlock.forced_weight``).

Why it is exact. If n_i >= 2, then n_i - y_i >= 1 > 0 for every y_i <= 1, so o_i = 1 is
forced: every feasible point counts at least the true overlap, and its covered weight is at
most the true covered weight (y_i <= min(1, coverage row)); so the plan x itself, with
y = min(1, coverage) and o = [n >= 2], also meets the cap. Conversely, that completion is
feasible: with y_i = min(1, sum over all serving tiers) >= min(1, n_i), n_i <= 1 leaves
o_i = 0 possible. With y_i instead of the constant 1 the row is tighter in the LP (y_i <= 1),
and the solver may always raise y_i to 1 when i is covered, which only loosens the cap, so
nothing is lost. Groups covered by a ``keep`` outlet have y = 1 fixed (no column) yet may still
be overlapped, hence the constant form. On levels under capacities y is the *assigned* share:
an unassigned point in reach of one outlet is not overlapped, hence the constant form too
("within reach", not "assigned"). A merged group's members share C_i (they are merged by
identical (site, tier) sets at the level), so they are overlapped together and merging stays
exact; relaxed groups (:mod:`netplan.optimize.aggregation`, union of members' sets) are not,
and the model refuses them with a cap. A capped level without demand is no model level, and a
cap with ``max_share >= 1`` cannot bind (overlapped demand is covered): both are no-ops. A
capped level with demand but objective weight 0 is modelled (like a level with a target),
so it also joins the distance stage.

The cap is the first rule that penalises opening *more* outlets; speed-ups that assume
"opening more never hurts feasibility" are switched off where they would be wrong
(see ``_aggregation`` in :mod:`netplan.planner`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from netplan.optimize.program import csr_from_pieces

if TYPE_CHECKING:
    from netplan.optimize.model import TieredModel
    from netplan.optimize.problem import OverlapCap

Rows = tuple[sp.csr_matrix, np.ndarray, np.ndarray]


@dataclass
class OverlapLayout:
    """The o columns of the overlap caps (in model order, after x, y, a, v).

    Attributes
    ----------
    level, group : ndarray (no,)
        Level and group (in that level's block) of each o column.
    weight : ndarray (no,)
        Demand weight of the group at its level.
    ycol : ndarray (no,)
        y column used in the group's row, -1 for the constant form (kept / loading level).
    candidates : csr_matrix (no, nx)
        The counted x columns reaching each group (``C_i`` above).
    caps : list of (OverlapCap, first o, end o)
        Each cap with its range of o columns.
    """

    level: np.ndarray
    group: np.ndarray
    weight: np.ndarray
    ycol: np.ndarray
    candidates: sp.csr_matrix
    caps: list[tuple[OverlapCap, int, int]] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.level)

    @property
    def n_candidates(self) -> np.ndarray:
        return np.diff(self.candidates.indptr)


def layout_overlap(model: TieredModel) -> OverlapLayout:
    """The o columns of every cap of ``model.problem`` (none without caps)."""
    p = model.problem
    level_l, group_l, weight_l, ycol_l, mats = [], [], [], [], []
    caps: list[tuple[OverlapCap, int, int]] = []
    first = 0
    for cap in p.active_overlap_caps():
        block = model.blocks.get(cap.level)
        if block is None:  # no demand at the level: nothing can be overlapped
            continue
        if block.relaxed:
            raise ValueError("an overlap cap needs exact demand groups (no relaxed aggregation)")
        rep = block.groups.representative
        parts = []
        for tier in cap.tiers:
            if tier > cap.level:
                continue
            M = p.coverage.matrix(tier, cap.level)[rep].tocoo()
            xc = model.xcol[M.col, tier]
            ok = xc >= 0
            parts.append(
                sp.csr_matrix(
                    (np.ones(int(ok.sum())), (M.row[ok], xc[ok])),
                    shape=(block.groups.n_groups, model.nx),
                )
            )
        C = sum(parts[1:], parts[0]) if parts else sp.csr_matrix((block.groups.n_groups, model.nx))
        C = sp.csr_matrix(C)
        C.data[:] = 1.0
        n_cand = np.diff(C.indptr)
        has = (n_cand >= 2) & (block.weight > 0) & ((block.ycol >= 0) | block.forced)
        gs = np.flatnonzero(has)
        use_y = not p.loading_levels[cap.level]
        ycol = np.where(use_y, block.ycol[gs], -1)
        level_l.append(np.full(len(gs), cap.level))
        group_l.append(gs)
        weight_l.append(block.weight[gs])
        ycol_l.append(ycol)
        mats.append(C[gs])
        caps.append((cap, first, first + len(gs)))
        first += len(gs)

    def cat(parts, dtype=np.int64):
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)

    candidates = sp.vstack(mats, format="csr") if mats else sp.csr_matrix((0, model.nx))
    return OverlapLayout(
        cat(level_l), cat(group_l), cat(weight_l, float), cat(ycol_l), candidates, caps
    )


def overlap_rows(model: TieredModel, n_cols: int) -> Rows:
    """One row per o column (``n_i - y_i - (M_i - 1) o_i <= 0``, or ``<= 1`` in the constant
    form), then one cap row per cap (``sum w o - max_share · covered <= max_share · F``)."""
    lay = model.overlap
    o_cols = model.o_cols
    C = lay.candidates.tocoo()
    n_o = lay.n
    with_y = lay.ycol >= 0
    rows = [C.row, np.arange(n_o), np.flatnonzero(with_y)]
    cols = [C.col, o_cols, lay.ycol[with_y]]
    vals = [C.data, -(lay.n_candidates - 1.0), -np.ones(int(with_y.sum()))]
    hi = [np.where(with_y, 0.0, 1.0)]
    for r, (cap, first, end) in enumerate(lay.caps):
        block = model.blocks[cap.level]
        gs = block.y_groups
        row = n_o + r
        rows += [np.full(end - first, row), np.full(len(gs), row)]
        cols += [o_cols[first:end], block.ycol[gs]]
        vals += [lay.weight[first:end], -cap.max_share * block.weight[gs]]
        hi.append(np.array([cap.max_share * block.forced_weight()]))
    n_rows = n_o + len(lay.caps)
    A = csr_from_pieces(rows, cols, vals, (n_rows, n_cols))
    upper = np.concatenate(hi) if hi else np.zeros(0)
    return A, np.full(n_rows, -np.inf), upper


def cap_row_offset(model: TieredModel) -> int:
    """Row of the first cap row (the cap rows follow the o rows, in ``model.overlap.caps`` order)."""
    first, _ = model.row_blocks["overlap"]
    return first + model.overlap.n


def overlap_values(model: TieredModel, x: np.ndarray) -> np.ndarray:
    """The least o of a full vector's x and y values: 1 where its row needs it."""
    lay = model.overlap
    if lay.n == 0:
        return np.zeros(0)
    n = lay.candidates @ x[: model.nx]
    base = np.ones(lay.n)
    with_y = lay.ycol >= 0
    base[with_y] = x[lay.ycol[with_y]]
    return (n - base > 1e-9).astype(float)


def overlap_shares(model: TieredModel, x: np.ndarray) -> dict[int, float]:
    """Overlapped weight / covered weight per capped level of a full vector (the model's claim)."""
    covered = model.covered_by_level(x)
    o = x[model.o_cols] if model.overlap.n else np.zeros(0)
    out = {}
    for cap, first, end in model.overlap.caps:
        over = float(model.overlap.weight[first:end] @ o[first:end])
        out[cap.level] = over / covered[cap.level] if covered[cap.level] > 0 else 0.0
    return out
