"""Fixed-charge facility location, uncapacitated (UFL) and capacitated (CFL)."""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

from netplan._errors import NetplanError
from netplan.classic.data import LocationData, _as_data
from netplan.classic.result import LocationResult, _result, _shares
from netplan.classic.solving import INF, _binaries, _solve_in_time
from netplan.optimize.program import LinearProgram, csr_from_pieces
from netplan.optimize.records import SolverOptions


def _assignment_blocks(
    data: LocationData,
) -> tuple[sp.csr_matrix, sp.csr_matrix, sp.csr_matrix]:
    """Rows over columns [x (m) | z (one per allowed pair)] of the assignment models:
    ``z_ij - x_j <= 0`` (k rows), ``sum_j z_ij`` (n rows) and ``sum_i w_i z_ij - capacity_j x_j``
    (m rows; zeros for the capacity when there is none)."""
    m, n, k = data.n_sites, data.n_demand, len(data.demand)
    n_cols = m + k
    z = m + np.arange(k)
    link = csr_from_pieces(
        [np.arange(k), np.arange(k)], [z, data.site], [np.ones(k), -np.ones(k)], (k, n_cols)
    )
    assign = csr_from_pieces([data.demand], [z], [np.ones(k)], (n, n_cols))
    capacity = np.zeros(m) if data.capacity is None else data.capacity
    cap = csr_from_pieces(
        [data.site, np.arange(m)],
        [z, np.arange(m)],
        [data.weights[data.demand], -capacity],
        (m, n_cols),
    )
    return link, assign, cap


def facility_location(
    data: LocationData | np.ndarray,
    capacitated: bool = False,
    single_source: bool = False,
    radius: float | None = None,
    options: SolverOptions | None = None,
) -> LocationResult:
    """Fixed-charge facility location: opening costs plus service costs.

    Uncapacitated (UFL): ``min sum f_j x_j + sum_ij w_i c_ij z_ij`` with ``sum_j z_ij = 1``
    and ``z_ij <= x_j`` (the strong, disaggregated form). Capacitated (CFL) adds
    ``sum_i w_i z_ij <= capacity_j x_j``; multi-source (z continuous: a demand may be split)
    unless ``single_source`` (z binary: each demand served by one site). Assignment columns
    exist only for the pairs in ``data`` — within ``radius`` when given — never unmasked.

    Costs are per unit of weight: the objective charges ``weights[i] * cost[i, j]``. For
    OR-Library ``cap`` instances, whose costs are for a customer's whole demand, use weights 1.
    """
    data = _as_data(data)
    if radius is not None:
        data = data.within(radius)
    if not data.coverable().all():
        raise NetplanError(
            f"facility_location: {int((~data.coverable()).sum())} demand points have no allowed site (within the reach); every demand must be served"
        )
    if capacitated and data.capacity is None:
        raise NetplanError(
            "facility_location: capacitated=True needs site capacities (LocationData.capacity)"
        )
    t0 = time.perf_counter()
    m, n, k = data.n_sites, data.n_demand, len(data.demand)
    link, assign, cap = _assignment_blocks(data)  # z <= x ; sum_j z_ij = 1 ; load <= capacity x
    blocks = [link, assign]
    lo = [np.full(k, -INF), np.ones(n)]
    hi = [np.zeros(k), np.ones(n)]
    if capacitated:
        blocks.append(cap)
        lo.append(np.full(m, -INF))
        hi.append(np.zeros(m))
    A = sp.vstack(blocks, format="csr")
    c = np.concatenate([data.site_cost, data.weights[data.demand] * data.cost])
    lb, ub, integer = _binaries(m, k, extra_integer=single_source)
    lp = LinearProgram(
        c=c,
        lb=lb,
        ub=ub,
        integer=integer,
        A=A,
        row_lo=np.concatenate(lo),
        row_hi=np.concatenate(hi),
    )
    build = time.perf_counter() - t0
    x, record, seconds = _solve_in_time(lp, options, t0)
    assignment = _shares(data, x)
    name = "capacitated_facility_location" if capacitated else "facility_location"
    return _result(
        name,
        data,
        x,
        record,
        {"build": build, "solve": seconds},
        assignment=assignment,
        single_source=single_source,
    )
