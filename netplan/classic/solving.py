"""Program pieces every classic model shares: site columns, the p row, solves in one time limit.

A model's time limit covers the whole call (heuristics, bounds and every solve together).
"""

from __future__ import annotations

import math
import time
from dataclasses import replace

import numpy as np
import scipy.sparse as sp

from netplan.optimize.cbc import cbc_version
from netplan.optimize.highs import highs_version
from netplan.optimize.program import LinearProgram
from netplan.optimize.records import SolverOptions, SolverRecord
from netplan.optimize.solver import solve

INF = np.inf


def _p_row(
    m: int, n_cols: int, p: int, exact: bool
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    row = np.zeros(n_cols)
    row[:m] = 1.0
    return (
        sp.csr_matrix(row.reshape(1, -1)),
        np.array([float(p) if exact else -INF]),
        np.array([float(p)]),
    )


def _binaries(
    m: int, extra: int, extra_integer: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = m + extra
    integer = np.zeros(n, dtype=bool)
    integer[:m] = True
    if extra_integer:
        integer[m:] = True
    return np.zeros(n), np.ones(n), integer


def _timed_solve(
    lp: LinearProgram, options: SolverOptions | None, start=None
) -> tuple[np.ndarray | None, SolverRecord, float]:
    t0 = time.perf_counter()
    x, record = solve(lp, options or SolverOptions(), start=start)
    return x, record, time.perf_counter() - t0


def _left(options: SolverOptions | None, t0: float) -> SolverOptions:
    """``options`` with the time limit cut to what is left of it since ``t0``: a model's time
    limit covers the whole call (heuristics, bounds, every solve), not each solve anew."""
    options = options or SolverOptions()
    if options.time_limit is None:
        return options
    return replace(options, time_limit=max(options.time_limit - (time.perf_counter() - t0), 0.01))


def _out_of_time(options: SolverOptions | None, t0: float) -> bool:
    return bool(options and options.time_limit is not None) and (
        time.perf_counter() - t0 >= options.time_limit
    )


def _timed_out(options: SolverOptions | None, stage: str | None = None) -> SolverRecord:
    """Record of a solve not started: the time limit was spent before it (no plan)."""
    options = options or SolverOptions()
    cbc = options.backend == "cbc"
    solver, version = ("CBC", cbc_version()) if cbc else ("HiGHS", highs_version())
    return SolverRecord(
        "no_solution", math.nan, math.nan, math.nan, 0.0, solver, version, options.time_limit,
        options.mip_rel_gap, stage, "the time limit was spent before this solve could start",
    )  # fmt: skip


def _solve_in_time(
    lp: LinearProgram, options: SolverOptions | None, t0: float, start=None
) -> tuple[np.ndarray | None, SolverRecord, float]:
    """:func:`_timed_solve` within what is left of the limit since ``t0``; without a start
    and with nothing left, no solve at all (so a spent limit always means no plan)."""
    if start is None and _out_of_time(options, t0):
        return None, _timed_out(options), 0.0
    return _timed_solve(lp, _left(options, t0), start=start)
