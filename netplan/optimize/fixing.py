"""Variable fixing that is valid for every remaining lexicographic stage.

After the first two stages, every later stage only looks at plans whose first two objective
values are optimal. Any site-tier variable that takes the same value in all of those plans
can be fixed. Two LP-based tests prove this, both exact (they only ever fix a variable
when its LP relaxation shows the other value cannot reach the optimum):

- reduced-cost fixing from one LP solve;
- LP probing: set the variable to the other value, re-solve the LP (warm-started dual
  simplex), and fix it when the LP is infeasible or its bound misses the optimum.

Probing runs within a time budget; whatever is not proven stays free, so the result is
exact whatever the budget — only the size of the later models depends on it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from netplan.optimize.highs import highs_model
from netplan.optimize.program import LinearProgram
from netplan.optimize.records import SolverOptions
from netplan.optimize.scaling import equilibrate


@dataclass
class Fixings:
    """Site-tier columns proven constant in every remaining optimal plan."""

    zero: np.ndarray
    one: np.ndarray
    probed: int = 0
    seconds: float = 0.0

    @property
    def free(self) -> int:
        return int((~self.zero & ~self.one).sum())


def prove_fixings(
    lp: LinearProgram,
    n_x: int,
    incumbent: np.ndarray,
    cutoff: float,
    time_budget: float,
    columns: np.ndarray | None = None,
) -> Fixings:
    """Fix binary columns ``0..n_x-1`` that cannot change without the LP bound passing ``cutoff``.

    Parameters
    ----------
    lp : LinearProgram
        The model of the last finished stage, with its objective (min or max) and the rows
        fixing earlier stages.
    n_x : int
        The first ``n_x`` columns are the binaries to test.
    incumbent : ndarray
        Values of the first ``n_x`` columns in an optimal plan.
    cutoff : float
        The stage optimum with its tolerance: plans must stay at least this good.
    time_budget : float
        Seconds available for probing.
    columns : ndarray of int, optional
        The binaries to test when they are not the first ``n_x`` columns (the roadmap's
        site-tier columns of every phase); ``incumbent`` and the result follow this order.
    """
    import highspy

    t0 = time.perf_counter()
    # rows and objective scaled by powers of two: the LP's absolute tolerances and the
    # margin below mean the same whatever the unit of weights or costs
    scaled = equilibrate(lp)
    lp, cutoff = scaled.lp, cutoff / scaled.objective_scale
    sign = -1.0 if lp.sense == "max" else 1.0  # work on a minimisation
    limit = sign * (cutoff - lp.offset)
    h = highs_model(
        replace(lp, c=sign * lp.c, sense="min", offset=0.0), SolverOptions(threads=1), relax=True
    )
    cols = np.arange(n_x) if columns is None else np.asarray(columns, dtype=np.int64)
    zero = lp.ub[cols] <= 0.5
    one = lp.lb[cols] >= 0.5
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return Fixings(zero, one, 0, time.perf_counter() - t0)
    bound = h.getInfo().objective_function_value
    solution = h.getSolution()
    value = np.asarray(solution.col_value)[cols]
    reduced = np.asarray(solution.col_dual)[cols]
    margin = 1e-7 * max(1.0, abs(limit))
    # reduced-cost fixing: moving a non-basic column off its bound raises the bound by |reduced cost|
    zero |= (value <= 1e-9) & (bound + reduced > limit + margin)
    one |= (value >= 1 - 1e-9) & (bound - reduced > limit + margin)
    # probing the remaining columns, most promising first (largest reduced cost)
    inc = np.round(np.asarray(incumbent[: len(cols)])) > 0.5
    todo = np.flatnonzero(~zero & ~one)
    todo = todo[np.argsort(-np.abs(reduced[todo]), kind="stable")]
    probed = 0
    for j in todo:
        if time.perf_counter() - t0 > time_budget:
            break
        other = 0.0 if inc[j] else 1.0
        col = int(cols[j])
        lo, hi = lp.lb[col], lp.ub[col]
        h.changeColBounds(col, other, other)
        h.run()
        probed += 1
        status = h.getModelStatus()
        cut = status == highspy.HighsModelStatus.kInfeasible or (
            status == highspy.HighsModelStatus.kOptimal
            and h.getInfo().objective_function_value > limit + margin
        )
        h.changeColBounds(col, lo, hi)
        if cut:
            if inc[j]:
                one[j] = True
                h.changeColBounds(col, 1.0, 1.0)  # tighten the LP for the next probes
            else:
                zero[j] = True
                h.changeColBounds(col, 0.0, 0.0)
    return Fixings(zero, one, probed, time.perf_counter() - t0)
