"""Scale-invariant solves: every row and every objective normalised by a power of two.

A solver's tolerances are absolute (HiGHS: 1e-7 primal feasibility, 1e-6 MIP feasibility,
matrix entries below 1e-9 dropped), so a model whose weights are 1e-9 customers or whose
costs are 1e12 cents is not the same problem to the solver as the one in plain units. Before
a program reaches the solver, each row and the objective are divided by the power of two at
their largest coefficient (each holds one family of data: coverage weights, costs, or
weight x distance), which brings every family to [1, 2) at its largest whatever its unit.
Dividing by a power of two is exact in binary, so the solution columns are untouched and
objective and bound convert back to the user's units exactly.

A stage is called ``optimal`` only when (1) the solver says so, (2) its objective is
``c·x`` of the solution it returned, within ``OBJECTIVE_MATCH · max(1, |c·x|)`` in scaled
units, and (3) the gap netplan computes between the plan's exact value and the best bound
meets the requested ``mip_rel_gap``; see :func:`certify`.

Continuous columns (coverage y, assignments) come back from the solver within its
feasibility tolerance, not exactly: HiGHS's objective and ``c·x`` of its returned columns
were measured 4e-7 apart (scaled, relative) on a distance stage after postsolve. Both
comparisons therefore also allow ``MIP_FEASIBILITY · Σ |c_j|`` over the continuous columns
(:func:`noise_allowance`); a program whose objective has only binary columns (cost, site
rank) is held to ``OBJECTIVE_MATCH`` alone.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from netplan.optimize.program import LinearProgram
from netplan.optimize.progress import in_user_units
from netplan.optimize.records import SolverOptions, SolverRecord, relative_gap
from netplan.optimize.solver import noise_allowance, solve

OBJECTIVE_MATCH = 1e-9
# two objective values closer than this are equal (scaled units: relative to the value, and
# absolute against a largest coefficient in [1, 2)); the same slack fixes finished stages
STAGE_TOLERANCE_REL = 1e-9
STAGE_TOLERANCE_ABS = 1e-6


def stage_tolerance(value: float, scale: float = 1.0) -> float:
    """Slack within which two values of an objective of scale ``scale`` count as equal
    (user units): ``scale · (STAGE_TOLERANCE_REL · max(1, |value / scale|) + STAGE_TOLERANCE_ABS)``."""
    return scale * (STAGE_TOLERANCE_REL * max(1.0, abs(value / scale)) + STAGE_TOLERANCE_ABS)


def pow2_scale(values: np.ndarray) -> float:
    """The power of two ``s`` with ``max |values| / s`` in [1, 2); 1.0 when all are zero.

    Non-finite entries are ignored.
    """
    a = np.abs(np.asarray(values, dtype=float))
    a = a[np.isfinite(a)]
    biggest = float(a.max()) if a.size else 0.0
    if biggest == 0.0:
        return 1.0
    _, exponent = math.frexp(biggest)  # biggest = f * 2**exponent, f in [0.5, 1)
    return math.ldexp(1.0, exponent - 1)


def row_scales(A: sp.spmatrix) -> np.ndarray:
    """Per row, the power of two at its largest absolute coefficient (1 for empty rows)."""
    if A.shape[0] == 0:
        return np.ones(0)
    biggest = np.asarray(abs(sp.csr_matrix(A)).max(axis=1).todense(), dtype=float).ravel()
    _, exponent = np.frexp(np.where(biggest > 0, biggest, 1.0))
    return np.where(biggest > 0, np.ldexp(1.0, exponent - 1), 1.0)


@dataclass(frozen=True)
class ScaledProgram:
    """A program with each row and the objective divided by a power of two.

    Attributes
    ----------
    lp : LinearProgram
        The scaled program (same columns, same solutions).
    objective_scale : float
        Scaled objective = user objective / ``objective_scale``.
    row_scale : ndarray (rows,)
    """

    lp: LinearProgram
    objective_scale: float
    row_scale: np.ndarray


def equilibrate(lp: LinearProgram) -> ScaledProgram:
    """Divide each row of ``lp`` and its objective by the power of two at their largest coefficient."""
    rs = row_scales(lp.A)
    os_ = pow2_scale(lp.c)
    inv = 1.0 / rs  # exact: reciprocals of powers of two
    scaled = replace(
        lp,
        A=sp.csr_matrix(sp.diags(inv) @ lp.A) if lp.n_rows else lp.A,
        row_lo=lp.row_lo * inv,
        row_hi=lp.row_hi * inv,
        c=lp.c / os_,
        offset=lp.offset / os_,
    )
    return ScaledProgram(scaled, os_, rs)


def solve_scaled(
    lp: LinearProgram, options: SolverOptions, start: np.ndarray | None = None
) -> tuple[np.ndarray | None, SolverRecord]:
    """Solve the equilibrated ``lp``; the record's objective and bound are in ``lp``'s units.

    ``record.extra`` gets ``objective_scale`` and, when the solver returned a solution,
    ``solution_objective`` (``c·x + offset`` of the returned columns, user units). A solver
    that says ``optimal`` with an objective that is not that of its own solution (beyond
    ``OBJECTIVE_MATCH`` relative in scaled units, plus :func:`noise_allowance`) gets the
    status ``unproven``. ``noise_allowance`` (user units) is recorded for :func:`certify`.
    """
    t0 = time.perf_counter()
    scaled = equilibrate(lp)
    if options.time_limit is not None:  # the limit covers the scaling too
        spent = time.perf_counter() - t0
        options = replace(options, time_limit=max(options.time_limit - spent, 0.01))
    with in_user_units(scaled.objective_scale):  # live progress in the user's figures
        x, record = solve(scaled.lp, options, start=start)
    s = scaled.objective_scale
    noise = noise_allowance(scaled.lp)
    record.extra["objective_scale"] = s
    record.extra["noise_allowance"] = noise * s
    if x is not None:
        own = scaled.lp.objective_value(x)
        record.extra["solution_objective"] = own * s
        allowed = OBJECTIVE_MATCH * max(1.0, abs(own)) + noise
        if math.isfinite(record.objective) and abs(record.objective - own) > allowed:
            record.extra["solver_objective"] = record.objective * s
            if record.status == "optimal":
                record.status = "unproven"
                record.message = (
                    f"the solver reported objective {record.objective * s:.10g}, but its solution's "
                    f"objective is {own * s:.10g}: optimality not proven"
                )
    record.objective *= s
    record.bound *= s
    return x, record


def scaled_gap(value: float, bound: float, scale: float) -> float:
    """Relative gap of ``value`` to ``bound`` computed in scaled units (0 when they agree to
    1e-9 relative), so that it does not depend on the unit of the data."""
    return relative_gap(value / scale, bound / scale)


def certify(
    record: SolverRecord, value: float, sense: str, mip_rel_gap: float, scale: float
) -> SolverRecord:
    """Set the record's objective to the plan's exact ``value`` and decide its status.

    The gap is recomputed from ``value`` and the record's bound (both user units) in scaled
    units; it is 0 when they agree within :func:`stage_tolerance` plus the record's
    ``noise_allowance`` (the solver's feasibility tolerance on continuous columns). A
    record that says ``optimal`` keeps it only when the gap is within ``mip_rel_gap``;
    otherwise it becomes ``feasible`` (gap too large, or no bound) or ``unproven`` (the plan
    beats the bound by more than the tolerance: the bound is wrong).
    """
    solver_value = record.objective
    record.objective = value
    record.extra["exact_objective"] = value
    if math.isfinite(solver_value) and solver_value != value:
        record.extra.setdefault("solver_objective", solver_value)
    bound = record.bound
    if not math.isfinite(bound):
        record.gap = math.nan
        if record.status == "optimal":
            record.status = "feasible"
            record.message = "no bound known: optimality not proven"
        return record
    beyond = (value - bound) if sense == "max" else (bound - value)
    slack = stage_tolerance(value, scale) + float(record.extra.get("noise_allowance", 0.0))
    record.gap = 0.0 if abs(value - bound) <= slack else scaled_gap(value, bound, scale)
    if record.status != "optimal":
        return record
    if beyond > slack:
        record.status = "unproven"
        record.message = (
            f"the plan's objective {value:.10g} is better than the solver's bound {bound:.10g}: "
            "optimality not proven"
        )
    elif abs(value - bound) > mip_rel_gap * abs(value) + slack:  # the gap, with the noise
        record.status = "feasible"
        record.message = (
            f"gap {record.gap:.3g} between the plan ({value:.10g}) and the bound ({bound:.10g}) "
            f"is above mip_rel_gap {mip_rel_gap:g}"
        )
    return record
