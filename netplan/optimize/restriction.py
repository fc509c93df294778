"""Restricting the max-coverage MIP: which site columns to fix, the reduced program, the proof.

A relaxation point fixes the columns it leaves decided (:func:`fixing`), or a plan fixes all
but the columns where the point disagrees with it most (:func:`neighbourhood`, RINS);
:func:`restricted_program` drops and merges what the fixing decides; :func:`fixings_proven`
is the reduced-cost test that makes the restricted optimum the global one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from netplan.optimize.model import TieredModel
from netplan.optimize.program import LinearProgram
from netplan.optimize.reduction import merge_identical_rows


@dataclass
class RestrictedProgram:
    """The max-coverage MIP with some site columns fixed, reduced and re-merged.

    Columns: the free x columns (``free``, in that order), then one y column per group of
    remaining demand rows with the same free sites.
    """

    lp: LinearProgram
    free: np.ndarray
    fixed_values: np.ndarray  # (nx,) value of every x column (free ones: NaN)
    rows_before: int
    feasible: bool = True

    def full_x(self, x_restricted: np.ndarray, nx: int) -> np.ndarray:
        """Values of the model's x columns for a solution of the restricted program."""
        out = np.nan_to_num(self.fixed_values.copy())
        out[self.free] = np.round(x_restricted[: len(self.free)])
        return out[:nx]


def restricted_program(
    model: TieredModel, lp: LinearProgram, fixed: np.ndarray
) -> RestrictedProgram:
    """Fix the x columns where ``fixed`` is 0 or 1 (NaN = free) and reduce the model.

    ``lp`` is the max-coverage program of ``model`` (x and y columns only). A coverage row
    with a column fixed at 1 is covered in every plan of the restriction (its weight becomes a
    constant); one whose columns are all fixed at 0 is lost; the others keep only their free
    columns and rows with the same free columns merge (weights summed) — an exact reduction of
    the restricted MIP. The other rows (one tier, budget, counts, linkage) move the fixed
    columns' contribution into their bounds.
    """
    nx, ny = model.nx, model.ny
    fixed = np.asarray(fixed, dtype=float)
    free = np.flatnonzero(np.isnan(fixed))
    values = np.nan_to_num(fixed)
    A = lp.A.tocsr()
    cov = A[:ny, :nx]
    weight = lp.c[nx : nx + ny]
    ones = (values > 0.5) & ~np.isnan(fixed)
    covered = (abs(cov) @ ones.astype(float)) > 0
    cov_free = sp.csr_matrix(cov[:, free])
    live = ~covered & (cov_free.getnnz(axis=1) > 0)
    constant = float(weight[covered].sum()) + lp.offset
    rows = np.flatnonzero(live)
    groups = merge_identical_rows(cov_free[rows])
    g_weight = np.bincount(groups.group, weights=weight[rows], minlength=groups.n_groups)
    nf, ng = len(free), groups.n_groups
    cov_rows = sp.hstack(
        [cov_free[rows[groups.representative]], sp.identity(ng, format="csr")], format="csr"
    )
    other = A[ny:]
    if other[:, nx:].nnz:  # rows on y columns (targets): not a restriction this supports
        raise ValueError("restricted_program: rows other than coverage may not use y columns")
    shift = other[:, :nx] @ values
    o_lo, o_hi = lp.row_lo[ny:] - shift, lp.row_hi[ny:] - shift
    o_free = sp.csr_matrix(other[:, free])
    keep = o_free.getnnz(axis=1) > 0
    tol = 1e-6 * np.maximum(1.0, np.abs(np.where(np.isfinite(o_hi), o_hi, 0.0)))
    empty_ok = (o_lo[~keep] <= tol[~keep]) & (o_hi[~keep] >= -tol[~keep])
    o_rows = sp.hstack([o_free[keep], sp.csr_matrix((int(keep.sum()), ng))], format="csr")
    restricted = LinearProgram(
        c=np.concatenate([np.zeros(nf), g_weight]),
        lb=np.concatenate([lp.lb[free], np.zeros(ng)]),
        ub=np.concatenate([lp.ub[free], np.ones(ng)]),
        integer=np.concatenate([np.ones(nf, dtype=bool), np.zeros(ng, dtype=bool)]),
        A=sp.vstack([cov_rows, o_rows], format="csr"),
        row_lo=np.concatenate([np.full(ng, -np.inf), o_lo[keep]]),
        row_hi=np.concatenate([np.zeros(ng), o_hi[keep]]),
        sense="max",
        offset=constant,
    )
    fixed_values = np.where(np.isnan(fixed), np.nan, values)
    return RestrictedProgram(restricted, free, fixed_values, int(lp.n_rows), bool(empty_ok.all()))


def fixing(x: np.ndarray, reduced: np.ndarray, tolerance: float, width: int) -> np.ndarray:
    """x columns fixed at 0 / 1 by a relaxation point ``x`` (NaN = free), ``width`` free.

    Columns within ``tolerance`` of a bound are fixed there. If more than ``width`` others
    remain, the ones nearest a bound are rounded; if fewer, the fixed columns with the
    smallest reduced cost in absolute value (the cheapest to force the other way) are freed.
    """
    fixed = np.full(len(x), np.nan)
    fixed[x <= tolerance] = 0.0
    fixed[x >= 1.0 - tolerance] = 1.0
    fractional = np.flatnonzero(np.isnan(fixed))
    if len(fractional) > width:
        decided = fractional[np.argsort(-np.abs(x[fractional] - 0.5), kind="stable")]
        rounded = decided[: len(fractional) - width]
        fixed[rounded] = np.round(x[rounded])
    elif len(fractional) < width:
        candidates = np.flatnonzero(~np.isnan(fixed))
        order = candidates[np.argsort(np.abs(reduced[candidates]), kind="stable")]
        fixed[order[: width - len(fractional)]] = np.nan
    return fixed


def neighbourhood(plan: np.ndarray, x: np.ndarray, reduced: np.ndarray, width: int) -> np.ndarray:
    """RINS fixing around ``plan``: ``width`` columns free (NaN), the rest at the plan's values.

    The free columns are those where the relaxation point ``x`` and the plan disagree most
    (ties: the smallest reduced cost in absolute value, the cheapest to move). Measured on
    the national benchmark: this neighbourhood improved the plan by 5 000-12 000 in rounds of
    7-20 s; freeing only the disagreements above 0.1 and then the plan's open columns or the
    smallest reduced costs solved in under 2 s and found nothing.
    """
    order = np.lexsort((np.abs(reduced), -np.abs(x - plan)))
    fixed = plan.astype(float).copy()
    fixed[order[:width]] = np.nan
    return fixed


def respects(x: np.ndarray, fixed: np.ndarray) -> bool:
    """The plan ``x`` takes every fixed column's value (so it is a plan of the restriction)."""
    mask = ~np.isnan(fixed)
    return bool(np.all(np.abs(x[mask] - fixed[mask]) < 0.5))


def complete_start(lp: LinearProgram, start: np.ndarray) -> np.ndarray | None:
    """Give the y columns of a start their best value (covered when a free site covers them)."""
    n_y = int((~lp.integer).sum())
    nf = lp.n_cols - n_y
    cov = lp.A[:n_y, :nf]
    covered = (abs(cov) @ start[:nf]) > 0.5
    out = start.copy()
    out[nf:] = covered.astype(float)
    return out if lp.max_violation(out) <= 1e-6 else None


def fixings_proven(
    fixed: np.ndarray, reduced: np.ndarray, lb: np.ndarray, ub: np.ndarray, margin: float
) -> bool:
    """Reduced-cost test: every plan better than the bound minus ``margin`` takes each fixed
    column's fixed value. Moving a column off the bound the Lagrangian maximiser puts it at
    lowers the bound by ``|d_j|``, so a column fixed at 0 needs ``d_j < -margin`` and one
    fixed at 1 needs ``d_j > margin`` (columns with ``lb == ub`` cannot move)."""
    at0, at1 = fixed == 0.0, fixed == 1.0
    immovable = lb == ub
    ok0 = immovable[at0] | (reduced[at0] < -margin)
    ok1 = immovable[at1] | (reduced[at1] > margin)
    return bool(ok0.all() and ok1.all())
