"""Classic location models on netplan's array-based model core, one module per model family.

Set covering (LSCP), maximal covering (MCLP), p-median, p-center, backup coverage,
fixed-charge facility location (UFL) and its capacitated form, capacitated maximal covering
and capacitated set covering. Each model is assembled from whole arrays into a
:class:`netplan.optimize.solver.LinearProgram` — the same core as the tiered model, solved by
the same backends — and returns a :class:`LocationResult` of the same shape: chosen sites,
assignments where the model has them, objective, best bound, gap, status, timings, solver.

Input is a :class:`LocationData`: demand x site costs (distances) kept as sparse pairs, built
from a matrix (:meth:`LocationData.from_matrix`) or from GeoDataFrames with a travel mode
(:meth:`LocationData.from_frames`). Assignment variables exist only for pairs present in the
data (within the reach when one is given): never an unmasked assignment.

Where each piece lives:

- ``data``: :class:`LocationData`, the input of every model.
- ``result``: :class:`LocationResult`, its assignment tables, :func:`result_table`.
- ``solving``: the p row, binary site columns, solves within one time limit per call.
- ``covering``: :func:`set_covering` with :func:`reduce_set_covering`, :func:`max_covering`,
  :func:`backup_covering`.
- ``covering_heuristics``: :func:`greedy_max_covering`, :func:`swap_improve_max_covering`,
  :func:`search_max_covering` (the start plans of maximal covering).
- ``median``: :func:`p_median` (assignment formulation) and the p-median heuristics.
- ``median_radius``: :func:`p_median_radius` and its bound :func:`p_median_lagrangian`.
- ``center``: :func:`p_center`.
- ``facility``: :func:`facility_location` (UFL, CFL).
- ``capacitated_covering``: :func:`capacitated_max_covering`, :func:`capacitated_set_covering`.
- ``orlib``: readers of the OR-Library benchmark instances.
"""

from __future__ import annotations

from netplan.classic.capacitated_covering import (
    capacitated_max_covering,
    capacitated_set_covering,
)
from netplan.classic.center import p_center
from netplan.classic.covering import (
    backup_covering,
    max_covering,
    reduce_set_covering,
    set_covering,
)
from netplan.classic.covering_heuristics import (
    greedy_max_covering,
    search_max_covering,
    swap_improve_max_covering,
)
from netplan.classic.data import LocationData
from netplan.classic.facility import facility_location
from netplan.classic.median import DENSE_PAIRS_LIMIT, p_median
from netplan.classic.median_radius import p_median_lagrangian, p_median_radius
from netplan.classic.result import LocationResult, result_table
from netplan.classic.solving import INF

__all__ = [
    "DENSE_PAIRS_LIMIT",
    "INF",
    "LocationData",
    "LocationResult",
    "backup_covering",
    "capacitated_max_covering",
    "capacitated_set_covering",
    "facility_location",
    "greedy_max_covering",
    "max_covering",
    "p_center",
    "p_median",
    "p_median_radius",
    "p_median_lagrangian",
    "reduce_set_covering",
    "swap_improve_max_covering",
    "search_max_covering",
    "result_table",
    "set_covering",
]
