"""The HiGHS backend: a :class:`~netplan.optimize.program.LinearProgram` passed to highspy
from its arrays, solved as a MIP or as its LP relaxation."""

from __future__ import annotations

import functools
import math
import os
import sys
import threading
import time

import numpy as np

from netplan.optimize.program import LinearProgram
from netplan.optimize.progress import Throttle, current_watcher
from netplan.optimize.records import SolverOptions, SolverRecord, relative_gap

_first_lock = threading.Lock()
_banner_done = False


def new_highs():
    """A ``highspy.Highs`` with its output off, and HiGHS's banner kept off stdout.

    highspy 1.16 prints "Running HiGHS ... Copyright ..." to the C-level stdout when the
    first ``Highs`` of a process is constructed, before any option can be set; that first
    construction runs with file descriptor 1 pointed at ``os.devnull`` (Dask workers and
    Jupyter kernels included: each is its own process).
    """
    global _banner_done
    import highspy

    with _first_lock:
        if _banner_done:
            h = highspy.Highs()
        else:
            h = _quietly(highspy.Highs)
            _banner_done = True
    h.setOptionValue("output_flag", False)
    return h


def _quietly(make):
    try:
        sys.stdout.flush()
        fd = sys.__stdout__.fileno() if sys.__stdout__ is not None else 1
        saved = os.dup(fd)
    except (OSError, ValueError, AttributeError):  # no real stdout (embedded): nothing to guard
        return make()
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), fd)
            try:
                return make()
            finally:
                os.dup2(saved, fd)
    finally:
        os.close(saved)


@functools.cache
def highs_version() -> str:
    h = new_highs()
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
    h = new_highs()
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
    watch = _watch(h, current_watcher()) if lp.integer.any() else None
    if watch is not None and start is not None:  # the plan started from is the first incumbent
        watch(lp.objective_value(start), float("nan"), force=True)
    try:
        h.solve()
    finally:
        if watch is not None:
            info = h.getInfo()
            watch(float(info.objective_function_value), float(info.mip_dual_bound), done=True)
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


def _watch(h, watcher) -> Throttle | None:
    """Subscribe ``watcher`` to the MIP's progress: each improving solution at once, the
    bound through the interrupt check (which HiGHS calls often; the throttle keeps it cheap)."""
    if watcher is None:
        return None
    throttle = Throttle(watcher, "HiGHS")

    def improving(e) -> None:
        throttle(e.data_out.mip_primal_bound, e.data_out.mip_dual_bound, force=True)

    def tick(e) -> None:
        throttle(e.data_out.mip_primal_bound, e.data_out.mip_dual_bound)

    h.cbMipImprovingSolution.subscribe(improving)
    h.cbMipInterrupt.subscribe(tick)
    throttle(float("nan"), float("nan"), force=True)
    return throttle
