"""Valid inequalities for the tiered covering model: linkage-lifted coverage cuts.

The LP relaxation of the tiered model is weak where coverage and linkage meet. A demand
group g at service level l is covered by the columns N_g that reach it; a covering column
of the lowest tier l (a community point for community service) may only open when one of
its supporters U_j (higher-tier outlets within its linkage reach) is open. In the LP,
several community points at 0.3 can all lean on the *same* city station at 0.3 and cover g
at 0.9, although in every plan g is covered only if that station is open.

For any split of N_g into columns D kept as they are and columns V replaced by their
supporters,

    y_g  <=  sum_{j in D} x_j  +  sum_{u in U(V)} x_u,        U(V) = union of U_j, j in V

holds for every plan: if g is covered, some j in N_g is open; either j is in D, or j is in
V and one of its supporters (which the linkage rows force open) is in U(V). The union counts
a supporter shared by many columns once — that is what the LP misses. These are the
implied-bound cuts HiGHS finds at its root (its cut pool on a 50 000-row restriction of the
national benchmark: the cuts of this form alone move the LP bound from 26,184,238 to
26,107,705, all 472 of its cuts to 26,103,807); netplan separates them from a first-order
LP solution itself, because at a million demand points HiGHS needs minutes to reach its
first cut round.

Separation (:meth:`LinkageCoverCuts.separate`): V = the lowest-tier covering columns that
the LP opens at all (above ``open_tolerance``); columns that are themselves supporters, or
of a tier above the group's level, stay in D. Vectorised: one sparse product gives every
group's supporter union.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from netplan.optimize.model import TieredModel

# a lowest-tier column the LP opens above this is routed through its supporters
OPEN_TOLERANCE = 1e-3


@dataclass
class CutRows:
    """Cut rows ``A x <= 0`` over the model's columns, and the groups (y rows) they lift."""

    A: sp.csr_matrix
    groups: np.ndarray
    violation: np.ndarray  # y_g - RHS at the separated point, per cut
    weighted_violation: float  # sum of objective weight x violation


class LinkageCoverCuts:
    """Separator of the linkage-lifted coverage cuts of a max-coverage :class:`TieredModel`.

    Parameters
    ----------
    model : TieredModel
        Its coverage rows (``y - sum x <= 0``, first ``ny`` rows) and linkage rows
        (``x_j - sum supporters <= 0``) define the cuts; other rows are not used.
    """

    def __init__(self, model: TieredModel):
        self.nx, self.ny = model.nx, model.ny
        self.n_cols = model.n_cols
        self.weight = model.y_weight
        A = model.lp.A.tocsr()
        first, end = model.row_blocks["linkage"]
        link = A[first:end, : self.nx].tocoo()
        own = np.full(end - first, -1, dtype=np.int64)
        own[link.row[link.data > 0]] = link.col[link.data > 0]
        self.has_link = np.zeros(self.nx, dtype=bool)
        self.has_link[own[own >= 0]] = True
        sup = (link.data < 0) & (own[link.row] >= 0)
        # supporters[j, u] = 1: column u is a supporter of column j
        self.supporters = sp.csr_matrix(
            (np.ones(int(sup.sum())), (own[link.row[sup]], link.col[sup])),
            shape=(self.nx, self.nx),
        )
        is_supporter = np.asarray(self.supporters.sum(axis=0)).ravel() > 0
        cover = A[: self.ny, : self.nx].tocsr()
        cover.data[:] = 1.0
        cover.sum_duplicates()
        self.cover = cover
        level_of_entry = np.repeat(model.y_level, np.diff(cover.indptr))
        tier = model.x_tier[cover.indices]
        # only the lowest tier of a level leans on supporters (a covering column that is a
        # supporter itself is cheaper counted once as it is)
        self.routable = (tier == level_of_entry) & self.has_link[cover.indices]
        self.routable &= ~is_supporter[cover.indices]

    @property
    def useful(self) -> bool:
        """True when some coverage row has a column that needs a supporter (else no cut exists)."""
        return bool(self.routable.any())

    def separate(
        self, x: np.ndarray, tolerance: float = 1e-3, open_tolerance: float = OPEN_TOLERANCE
    ) -> CutRows:
        """Cuts violated by more than ``tolerance`` at ``x`` (the model's columns).

        Returns
        -------
        CutRows
            One row per violated group: ``y_g - sum_D x - sum_U x <= 0``.
        """
        xv = np.asarray(x[: self.nx], dtype=float)
        y = np.asarray(x[self.nx : self.nx + self.ny], dtype=float)
        cover = self.cover
        via = self.routable & (xv[cover.indices] > open_tolerance)
        rows_with_via = np.add.reduceat(via.astype(np.int64), cover.indptr[:-1]) > 0
        rows_with_via &= np.diff(cover.indptr) > 0
        candidates = np.flatnonzero(rows_with_via & (y > tolerance))
        empty = CutRows(sp.csr_matrix((0, self.n_cols)), np.zeros(0, np.int64), np.zeros(0), 0.0)
        if not len(candidates):
            return empty
        sub = cover[candidates]
        sub_via = via[_entries_of_rows(cover.indptr, candidates)]
        direct = sp.csr_matrix((np.where(sub_via, 0.0, 1.0), sub.indices, sub.indptr), sub.shape)
        routed = sp.csr_matrix((np.where(sub_via, 1.0, 0.0), sub.indices, sub.indptr), sub.shape)
        rhs_cols = (direct + routed @ self.supporters).tocsr()
        rhs_cols.eliminate_zeros()
        rhs_cols.data[:] = 1.0  # a column is counted once however many ways it enters
        violation = y[candidates] - rhs_cols @ xv
        hit = np.flatnonzero(violation > tolerance)
        if not len(hit):
            return empty
        groups = candidates[hit]
        rhs = rhs_cols[hit]
        y_part = sp.csr_matrix(
            (np.ones(len(hit)), (np.arange(len(hit)), self.nx + groups)),
            shape=(len(hit), self.n_cols),
        )
        x_part = sp.csr_matrix((-rhs.data, rhs.indices, rhs.indptr), shape=(len(hit), self.n_cols))
        return CutRows(
            (y_part + x_part).tocsr(),
            groups,
            violation[hit],
            float(np.sum(self.weight[groups] * violation[hit])),
        )


def _entries_of_rows(indptr: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Positions in a CSR's data of every entry of ``rows`` (in row order)."""
    starts, ends = indptr[rows], indptr[rows + 1]
    lengths = ends - starts
    offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    return np.arange(int(lengths.sum())) + offsets
