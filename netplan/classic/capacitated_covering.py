"""Covering with site capacities: capacitated maximal covering and capacitated set covering."""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

from netplan._errors import NetplanError
from netplan.classic.data import LocationData, _as_data
from netplan.classic.facility import _assignment_blocks
from netplan.classic.result import LocationResult, _result, _shares
from netplan.classic.solving import INF, _binaries, _p_row, _solve_in_time
from netplan.optimize.program import LinearProgram
from netplan.optimize.records import SolverOptions


def _capacitated_covering(
    data: LocationData, single_source: bool, objective: str, p: int | None
) -> tuple[LinearProgram, np.ndarray]:
    m, k = data.n_sites, len(data.demand)
    if data.capacity is None:
        raise NetplanError(f"{objective}: needs site capacities (LocationData.capacity)")
    n_cols = m + k
    w = data.weights[data.demand]
    link, assign, cap = _assignment_blocks(data)
    coverable = data.coverable()
    A = sp.vstack([link, assign[coverable], cap], format="csr")
    n_assign = int(coverable.sum())
    if objective == "max_covering":  # each demand assigned at most once; covered = assigned
        a_lo, a_hi = np.full(n_assign, -INF), np.ones(n_assign)
        c = np.concatenate([np.zeros(m), w])
        sense = "max"
    else:  # every coverable demand fully assigned within reach
        a_lo, a_hi = np.ones(n_assign), np.ones(n_assign)
        c = np.concatenate([data.site_cost, np.zeros(k)])
        sense = "min"
    lb, ub, integer = _binaries(m, k, extra_integer=single_source)
    lp = LinearProgram(
        c=c, lb=lb, ub=ub, integer=integer, A=A,
        row_lo=np.concatenate([np.full(k, -INF), a_lo, np.full(m, -INF)]),
        row_hi=np.concatenate([np.zeros(k), a_hi, np.zeros(m)]),
        sense=sense,
    )  # fmt: skip
    if p is not None:
        lp = lp.with_rows(*_p_row(m, n_cols, min(p, m), exact=True))
    return lp, coverable


def capacitated_max_covering(
    data: LocationData | np.ndarray,
    radius: float | None,
    p: int,
    single_source: bool = False,
    options: SolverOptions | None = None,
) -> LocationResult:
    """Capacitated maximal covering: p sites; demand counts as covered only when assigned to an
    open site within reach whose capacity (in weight) it fits. Multi-source (a demand may be
    split; covered weight counts the assigned share) unless ``single_source``."""
    data = _as_data(data)
    if radius is not None:
        data = data.within(radius)
    t0 = time.perf_counter()
    lp, _ = _capacitated_covering(data, single_source, "max_covering", p)
    build = time.perf_counter() - t0
    x, record, seconds = _solve_in_time(lp, options, t0)
    return _result(
        "capacitated_max_covering",
        data,
        x,
        record,
        {"build": build, "solve": seconds},
        assignment=_shares(data, x),
        single_source=single_source,
    )


def capacitated_set_covering(
    data: LocationData | np.ndarray,
    radius: float | None,
    single_source: bool = False,
    options: SolverOptions | None = None,
) -> LocationResult:
    """Capacitated set covering: the cheapest sites to which every coverable demand can be
    assigned within reach without exceeding capacities. Uncoverable demand is reported."""
    data = _as_data(data)
    if radius is not None:
        data = data.within(radius)
    t0 = time.perf_counter()
    lp, coverable = _capacitated_covering(data, single_source, "set_covering", None)
    build = time.perf_counter() - t0
    x, record, seconds = _solve_in_time(lp, options, t0)
    return _result(
        "capacitated_set_covering", data, x, record, {"build": build, "solve": seconds},
        assignment=_shares(data, x), single_source=single_source,
        uncoverable=int((~coverable).sum()), uncoverable_weight=float(data.weights[~coverable].sum()),
    )  # fmt: skip
