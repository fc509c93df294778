"""Solve a program with the chosen backend, and certify what the backend says.

:func:`solve` runs HiGHS (:mod:`netplan.optimize.highs`, the default, no per-element Python
work) or CBC (:mod:`netplan.optimize.cbc`) on a
:class:`~netplan.optimize.program.LinearProgram` and returns a
:class:`~netplan.optimize.records.SolverRecord`. A solve stopped by its time limit is never
``optimal``, nor is one whose objective (c·x of the plan, checked against the solver's) and
bound, as computed here, do not meet the gap setting. A running solve reports its elapsed
time, incumbent and bound to whoever subscribed with :func:`watch_solves`
(:mod:`netplan.optimize.progress`).
"""

from __future__ import annotations

import math
import time
from dataclasses import replace

import numpy as np

from netplan.optimize.cbc import solve_cbc
from netplan.optimize.highs import highs_version, solve_highs
from netplan.optimize.program import LinearProgram
from netplan.optimize.progress import SolveProgress, watch_solves  # noqa: F401  (re-exported)
from netplan.optimize.records import SolverOptions, SolverRecord, relative_gap


def search_record(
    status: str,
    objective: float,
    bound: float,
    seconds: float,
    options: SolverOptions,
    stage: str,
    message: str,
    solver: str = "HiGHS",
    version: str | None = None,
) -> SolverRecord:
    """Record of a search made of several solves (grid aggregation, LP-guided search).

    The gap is :func:`relative_gap` (0 when objective and bound agree), infinite without a
    plan.
    """
    gap = relative_gap(objective, bound) if math.isfinite(objective) else math.inf
    return SolverRecord(
        status,
        objective,
        bound,
        gap,
        seconds,
        solver,
        highs_version() if version is None else version,
        options.time_limit,
        options.mip_rel_gap,
        stage,
        message,
    )


# a solver's objective and c·x of the solution it returns must agree this closely (relative)
OBJECTIVE_TOLERANCE = 1e-9
MIP_FEASIBILITY = 1e-6  # HiGHS' default mip_feasibility_tolerance (on the scaled rows)
MIP_ABS_GAP = 1e-6  # HiGHS' default mip_abs_gap: it may stop this far from the bound


def solve(
    lp: LinearProgram, options: SolverOptions | None = None, start: np.ndarray | None = None
) -> tuple[np.ndarray | None, SolverRecord]:
    """Solve a :class:`LinearProgram` with the chosen backend, and check what it says.

    The solver's objective is checked against c·x of the solution it returns
    (:meth:`LinearProgram.objective_value`). When they disagree by more than
    ``OBJECTIVE_TOLERANCE * max(1, |c·x|)`` (HiGHS 1.16 with presolve and a start reported
    "Optimal" at 1682 for a start worth 1789 on a round of OR-Library pmed20), the program is
    solved again without the start, then (HiGHS) with presolve off, within what is left of
    the time limit; ``record.extra`` says so (``solver_objective``: the first objective
    reported, ``objective_resolves``: re-solves made, ``resolved_by``: the one that agreed).
    The record's objective is always c·x of the returned solution and its gap is computed
    here from that and the bound; a bound from a solve whose objective disagreed is not
    used. A solve is ``optimal`` only when that gap meets ``options.mip_rel_gap``; a solver
    claim of optimality that does not is reported as ``unproven``.

    Parameters
    ----------
    lp : LinearProgram
    options : SolverOptions, optional
        Backend, time limit (seconds, for the whole call including re-solves), relative MIP
        gap (default 0: prove optimality), threads, random seed.
    start : ndarray (n,), optional
        A feasible solution to start from (HiGHS ``setSolution``, CBC warm start).

    Returns
    -------
    x : ndarray or None
        Values of the variables in the best solution found, None if there is none.
    record : SolverRecord
    """
    options = options or SolverOptions()
    if options.backend == "highs":
        backend = solve_highs
    elif options.backend == "cbc":
        backend = solve_cbc
    else:
        raise ValueError(f"unknown solver backend {options.backend!r}; use 'highs' or 'cbc'")
    t0 = time.perf_counter()
    x, record = backend(lp, options, start)
    agrees = _objective_agrees(lp, x, record)
    first_objective, resolves = record.objective, []
    # a plan from a solve that misreports it is kept only if it keeps the rules
    best_x = x if agrees or (x is not None and lp.max_violation(x) <= 1e-6) else None
    fallback = x
    retries: list[tuple[str, SolverOptions]] = []
    if not agrees:
        if start is not None:
            retries.append(("no start", options))
        if options.backend == "highs" and options.highs_presolve:
            retries.append(("presolve off", replace(options, highs_presolve=False)))
    for reason, retry_options in retries:
        if agrees:
            break
        left = None
        if options.time_limit is not None:
            left = options.time_limit - (time.perf_counter() - t0)
            if left <= 0.01:
                # no time left to check: a plan, but no proof
                record.status = "time_limit" if fallback is not None else "no_solution"
                break
        x, record = backend(lp, replace(retry_options, time_limit=left), None)
        resolves.append(reason)
        agrees = _objective_agrees(lp, x, record)
        # a checked plan wins (a misreported one may gain from the solver's tolerances); else
        # the better one
        if x is not None and (
            agrees
            or best_x is None
            or _better(lp, lp.objective_value(x), lp.objective_value(best_x))
        ):
            best_x = x
    if resolves or not agrees:
        record.extra["solver_objective"] = first_objective
        record.extra["objective_resolves"] = float(len(resolves))
        if agrees and x is not None:
            record.extra["resolved_by"] = resolves[-1]
    record.seconds = time.perf_counter() - t0
    x = best_x if best_x is not None else fallback
    if x is None:
        return None, record
    if record.status == "no_solution":
        record.status = "time_limit"  # the re-solve stopped before a plan: an earlier one's
    record.objective = lp.objective_value(x)
    if not agrees:
        record.bound = float("nan")  # the bound of a solve that misreports its plan
    if not math.isfinite(record.bound):
        # stopped before any bound (e.g. a time limit inside the root LP): the column bounds
        # alone still give one, so a plan never goes out without a bound when one is known
        record.bound = box_bound(lp)
    # plan and bound agree when they differ by no more than the solver's own tolerances: its
    # absolute MIP gap and the feasibility noise of continuous columns (a distance stage closed
    # by HiGHS at gap 0 was 7.7e-8 apart in scaled units); beyond that the gap must meet the
    # setting
    slack = (
        OBJECTIVE_TOLERANCE * max(1.0, abs(record.objective)) + noise_allowance(lp) + MIP_ABS_GAP
    )
    apart = abs(record.objective - record.bound)
    record.gap = 0.0 if apart <= slack else relative_gap(record.objective, record.bound)
    if record.status == "optimal" and not (
        apart <= slack + options.mip_rel_gap * abs(record.objective)
    ):
        record.status = "unproven"
    return x, record


def noise_allowance(lp: LinearProgram) -> float:
    """How far the objective of a solution may move when its continuous columns move by the
    solver's feasibility tolerance: ``MIP_FEASIBILITY · Σ |c_j|`` over continuous columns
    (in ``lp``'s units; 0 when the objective has only integer columns)."""
    return MIP_FEASIBILITY * float(np.abs(lp.c[~lp.integer]).sum())


def _objective_agrees(lp: LinearProgram, x: np.ndarray | None, record: SolverRecord) -> bool:
    """Whether the solver's objective is c·x of its solution (True when there is none)."""
    if x is None:
        return True
    value = lp.objective_value(x)
    # continuous columns may sit within the solver's feasibility tolerance of their bounds,
    # which moves c·x a little away from the solver's own (postsolve) objective; that noise
    # is not a false proof (measured: 4e-7 relative on a distance stage)
    tolerance = OBJECTIVE_TOLERANCE * max(1.0, abs(value)) + noise_allowance(lp)
    if record.solver == "CBC":
        tolerance = max(tolerance, 1e-8)  # its log prints the objective with 8 decimals
    return abs(record.objective - value) <= tolerance


def _better(lp: LinearProgram, a: float, b: float) -> bool:
    return a > b if lp.sense == "max" else a < b


def box_bound(lp: LinearProgram) -> float:
    """Best objective over the column bounds alone (rows ignored): a bound every solution
    respects; NaN when a column with a non-zero cost is unbounded in the improving direction."""
    c = lp.c
    better_ub = (c > 0) if lp.sense == "max" else (c < 0)
    at = np.where(better_ub, lp.ub, lp.lb)
    at = np.where(c == 0, 0.0, at)
    if not np.isfinite(at).all():
        return float("nan")
    return float(c @ at + lp.offset)
