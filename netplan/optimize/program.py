"""A mixed-integer linear program held as whole arrays, and sparse rows built from pieces.

A :class:`LinearProgram` holds a MILP as whole arrays (costs, bounds, integrality, a sparse
constraint matrix with row bounds), the way PyPSA/linopy assemble models; the backends
(:mod:`netplan.optimize.highs`, :mod:`netplan.optimize.cbc`) take it as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import scipy.sparse as sp

Sense = Literal["min", "max"]


@dataclass(frozen=True)
class LinearProgram:
    """A mixed-integer linear program ``opt c·x + offset  s.t.  row_lo <= A x <= row_hi, lb <= x <= ub``.

    Attributes
    ----------
    c, lb, ub : ndarray (n,)
    integer : ndarray (n,) of bool
    A : scipy.sparse.csr_matrix (m, n)
    row_lo, row_hi : ndarray (m,)
        Use ``-inf`` / ``inf`` for one-sided rows.
    sense : {"min", "max"}
    offset : float
        Constant added to the objective.
    """

    c: np.ndarray
    lb: np.ndarray
    ub: np.ndarray
    integer: np.ndarray
    A: sp.csr_matrix
    row_lo: np.ndarray
    row_hi: np.ndarray
    sense: Sense = "min"
    offset: float = 0.0

    @property
    def n_cols(self) -> int:
        return len(self.c)

    @property
    def n_rows(self) -> int:
        return self.A.shape[0]

    def with_objective(self, c: np.ndarray, sense: Sense, offset: float = 0.0) -> LinearProgram:
        """The same constraints with another objective."""
        return replace(self, c=np.asarray(c, dtype=float), sense=sense, offset=float(offset))

    def with_rows(self, A: sp.spmatrix, lo: np.ndarray, hi: np.ndarray) -> LinearProgram:
        """The program with extra constraint rows appended."""
        return replace(
            self,
            A=sp.vstack([self.A, sp.csr_matrix(A)], format="csr"),
            row_lo=np.concatenate([self.row_lo, np.asarray(lo, dtype=float)]),
            row_hi=np.concatenate([self.row_hi, np.asarray(hi, dtype=float)]),
        )

    def with_columns(
        self, count: int, lb: float = 0.0, ub: float = 1.0, integer: bool = False
    ) -> LinearProgram:
        """The program with ``count`` new columns (zero cost, no entries yet) appended."""
        A = sp.csr_matrix(
            (self.A.data, self.A.indices, self.A.indptr), shape=(self.n_rows, self.n_cols + count)
        )
        return replace(
            self,
            c=np.concatenate([self.c, np.zeros(count)]),
            lb=np.concatenate([self.lb, np.full(count, lb)]),
            ub=np.concatenate([self.ub, np.full(count, ub)]),
            integer=np.concatenate([self.integer, np.full(count, integer)]),
            A=A,
        )

    def with_bounds(self, columns: np.ndarray, lb: float, ub: float) -> LinearProgram:
        """The program with the bounds of ``columns`` replaced."""
        new_lb, new_ub = self.lb.copy(), self.ub.copy()
        new_lb[columns] = lb
        new_ub[columns] = ub
        return replace(self, lb=new_lb, ub=new_ub)

    def objective_value(self, x: np.ndarray) -> float:
        return float(self.c @ x + self.offset)

    def max_violation(self, x: np.ndarray) -> float:
        """Largest violation of a row or column bound by ``x`` (0 when feasible)."""
        ax = self.A @ x
        viol = [0.0]
        if self.n_rows:
            viol.append(float(np.max(np.maximum(self.row_lo - ax, ax - self.row_hi))))
        viol.append(float(np.max(np.maximum(self.lb - x, x - self.ub))))
        if self.integer.any():
            xi = x[self.integer]
            viol.append(float(np.max(np.abs(xi - np.round(xi)))))
        return max(viol)


def csr_from_pieces(
    rows: list[np.ndarray], cols: list[np.ndarray], vals: list[np.ndarray], shape: tuple[int, int]
) -> sp.csr_matrix:
    """CSR matrix from lists of COO pieces (row, column and value arrays); empty lists allowed."""
    if not rows:
        return sp.csr_matrix(shape)
    return sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=shape
    )
