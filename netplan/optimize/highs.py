"""The HiGHS backend: a :class:`~netplan.optimize.program.LinearProgram` passed to highspy
from its arrays, solved as a MIP or as its LP relaxation."""

from __future__ import annotations

import math
import time

import numpy as np

from netplan.optimize.program import LinearProgram
from netplan.optimize.records import SolverOptions, SolverRecord, relative_gap


def highs_version() -> str:
    import highspy

    h = highspy.Highs()
    return f"{h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"


def highs_model(lp: LinearProgram, options: SolverOptions | None = None, relax: bool = False):
    """A ``highspy.Highs`` holding ``lp``, passed straight from its arrays, with netplan's options.

    Parameters
    ----------
    relax : bool
        Pass every column as continuous (the LP relaxation).
    """
    import highspy

    options = options or SolverOptions()
    h = highspy.Highs()
    h.setOptionValue("output_flag", bool(options.verbose))
    h.setOptionValue("mip_rel_gap", float(options.mip_rel_gap))
    h.setOptionValue("mip_abs_gap", 0.0 if options.mip_rel_gap == 0 else 1e-6)
    h.setOptionValue("threads", int(options.threads))
    h.setOptionValue("random_seed", int(options.seed))
    if options.time_limit is not None:
        h.setOptionValue("time_limit", max(float(options.time_limit), 0.01))
    if not options.highs_presolve:
        h.setOptionValue("presolve", "off")
    for name, value in options.highs_options.items():
        h.setOptionValue(name, value)
    A = lp.A.tocsc()
    A.sort_indices()
    sense = highspy.ObjSense.kMaximize if lp.sense == "max" else highspy.ObjSense.kMinimize
    integrality = np.zeros(lp.n_cols, dtype=np.int32) if relax else lp.integer.astype(np.int32)
    h.passModel(
        lp.n_cols,
        lp.n_rows,
        int(A.nnz),
        int(highspy.MatrixFormat.kColwise),
        int(sense),
        float(lp.offset),
        np.ascontiguousarray(lp.c, dtype=np.float64),
        np.ascontiguousarray(lp.lb, dtype=np.float64),
        np.ascontiguousarray(lp.ub, dtype=np.float64),
        np.ascontiguousarray(lp.row_lo, dtype=np.float64),
        np.ascontiguousarray(lp.row_hi, dtype=np.float64),
        np.ascontiguousarray(A.indptr[:-1], dtype=np.int32),
        np.ascontiguousarray(A.indices, dtype=np.int32),
        np.ascontiguousarray(A.data, dtype=np.float64),
        integrality,
    )
    return h


def solve_relaxation(
    lp: LinearProgram, options: SolverOptions | None = None
) -> tuple[np.ndarray | None, np.ndarray | None, SolverRecord]:
    """Solve the LP relaxation with HiGHS; returns the values, the reduced costs and the record."""
    import highspy

    options = options or SolverOptions()
    h = highs_model(lp, options, relax=True)
    t0 = time.perf_counter()
    h.run()
    seconds = time.perf_counter() - t0
    status = h.getModelStatus()
    optimal = status == highspy.HighsModelStatus.kOptimal
    value = float(h.getInfo().objective_function_value) if optimal else float("nan")
    record = SolverRecord(
        status="optimal"
        if optimal
        else ("time_limit" if status == highspy.HighsModelStatus.kTimeLimit else "no_solution"),
        objective=value,
        bound=value,
        gap=0.0 if optimal else float("nan"),
        seconds=seconds,
        solver="HiGHS",
        version=highs_version(),
        time_limit=options.time_limit,
        mip_rel_gap=0.0,
        message="LP relaxation",
    )
    if not optimal:
        return None, None, record
    solution = h.getSolution()
    return (
        np.asarray(solution.col_value, dtype=float),
        np.asarray(solution.col_dual, dtype=float),
        record,
    )


def solve_highs(
    lp: LinearProgram, options: SolverOptions, start: np.ndarray | None
) -> tuple[np.ndarray | None, SolverRecord]:
    """One HiGHS solve of ``lp``, as HiGHS reports it (:func:`netplan.optimize.solver.solve`
    checks and certifies the report).

    Parameters
    ----------
    lp : LinearProgram
    options : SolverOptions
    start : ndarray (n,) or None
        A solution to start from (``setSolution``).

    Returns
    -------
    x : ndarray or None
        The solution, None without one.
    record : SolverRecord
        HiGHS's status, objective and bound; the gap from :func:`relative_gap`.
    """
    import highspy

    t0 = time.perf_counter()
    h = highs_model(lp, options)
    if start is not None:
        idx = np.arange(lp.n_cols, dtype=np.int32)
        h.setSolution(lp.n_cols, idx, np.ascontiguousarray(start, dtype=np.float64))
    if options.time_limit is not None:
        # the limit covers passing the model too (national: ~1 s for 190 000 rows)
        left = float(options.time_limit) - (time.perf_counter() - t0)
        h.setOptionValue("time_limit", max(left, 0.01))
    h.HandleKeyboardInterrupt = True
    h.solve()
    seconds = time.perf_counter() - t0
    model_status = h.getModelStatus()
    info = h.getInfo()
    has_primal = info.primal_solution_status == 2  # kSolutionStatusFeasible
    x = np.asarray(h.getSolution().col_value, dtype=float) if has_primal else None
    S = highspy.HighsModelStatus
    is_mip = bool(lp.integer.any())
    if model_status == S.kOptimal:
        status = "optimal"
    elif model_status == S.kTimeLimit:
        status = "time_limit" if has_primal else "no_solution"
    elif model_status in (S.kInfeasible, S.kUnboundedOrInfeasible):
        status = "infeasible"
    elif model_status in (S.kInterrupt, S.kHighsInterrupt):
        status = "interrupted"
    else:
        status = "no_solution"
    objective = float(info.objective_function_value) if x is not None else float("nan")
    if is_mip:
        bound = float(info.mip_dual_bound)
        if not math.isfinite(bound):
            bound = float("nan")
    else:
        bound = objective if status == "optimal" else float("nan")
    gap = relative_gap(objective, bound)
    record = SolverRecord(
        status=status,
        objective=objective,
        bound=bound,
        gap=gap,
        seconds=seconds,
        solver="HiGHS",
        version=highs_version(),
        time_limit=options.time_limit,
        mip_rel_gap=options.mip_rel_gap,
        message=h.modelStatusToString(model_status),
        extra={"nodes": float(info.mip_node_count)} if is_mip else {},
    )
    return x, record
