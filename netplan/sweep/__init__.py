"""Sweeps: one exact plan per value of a scenario key, run on dask.distributed.

The question a planner brings to the board is the trade-off curve: coverage per level as
the budget grows (``max_coverage``), or cost as a coverage target grows (``min_cost``),
with the plan behind each point. :func:`run_sweep` solves one plan per point and returns a
:class:`SweepResult` (one row per point, the baseline, the knees); :func:`write_sweep`
writes ``sweep.csv``, ``sweep.png`` and one plan folder per point, atomically.

How a sweep is spelled (the CLI options map one to one onto :func:`budget_axis`,
:func:`target_axis` and :func:`key_axis`):

- ``--budgets 1e6:10e6:10``: ``budget.total`` from 1e6 to 10e6 in 10 points, both ends
  included (``numpy.linspace``); ``--budgets 0.8x:1.4x:7`` in multiples of today's cost
  (``'0.8 x baseline'``); a comma list ``2e6,3e6,5e6`` gives the values themselves.
- ``--targets community=0.8:0.95:4``: a ``min_cost`` sweep of ``objective.targets.community``;
  several ``--targets`` move together (same number of points).
- ``--set KEY=VALUES``: any scenario key, dotted (``solver.mip_rel_gap=0,0.01``,
  ``counts[0].max=1:3:3``, ``costs.direct.city.open=3e5:5e5:3``). Values are ``a:b:n`` or a
  comma list read as YAML scalars (``35 km``, ``true``). The key is checked by the
  scenario's own strict validation, so a typo gets a "did you mean".

Several axes move together (zipped), they are not crossed. A sweep has at most
:data:`MAX_POINTS` (1000) points at once: each point is a full plan, and ``1:2:100000000``
would otherwise fill the memory before the first solve; split a longer sweep into several.

Sharing: the inputs and coverage matrices are built once on the client and scattered to
every worker (``client.scatter(..., broadcast=True)``), with today's network evaluated once.
A key that changes the inputs or the coverage (tiers, reach, travel, costs, capacity, input
layers) cannot share them: each point of such a sweep prepares its own.

Determinism: each point runs the same code as a sequential run (:func:`solve_point`), the
solver with the scenario's threads and seed (default one thread, seed 0) and the exact
lexicographic tie-break, so a sweep on any number of workers gives the same plans as
running the points one by one.

Failures: a point that raises (infeasible, validation) is caught inside its task and
reported as ``failed`` with the reason while the others complete. A sweep whose every
point failed raises :class:`SweepFailedError` (nothing is written). A point whose worker
process dies is rescheduled by Dask; after ``retries`` deaths
(``distributed.scheduler.allowed-failures``, set for the local cluster) it is reported as
failed (``KilledWorker``).

Knees: coverage is the level-weighted covered share (``coverage_pct``). Between consecutive
successful points the marginal gain is Δcoverage / Δx (x = the budget for budget sweeps,
else the plan's cost). A point is a **knee** when the step into it bought at least
``knee_threshold`` × the sweep's average gain per unit and the step out of it buys less:
beyond it, extra money buys little. The default threshold 0.25 is scale-free (a quarter of
the average slope over the sweep).

Modules: :mod:`~netplan.sweep.axes` (reading swept values, setting keys on a scenario),
:mod:`~netplan.sweep.points` (each point's scenario; solving one point, the task a worker
runs), :mod:`~netplan.sweep.cluster` (the points on dask.distributed),
:mod:`~netplan.sweep.results` (the table, knees, :class:`SweepResult`),
:mod:`~netplan.sweep.driver` (:func:`run_sweep`) and :mod:`~netplan.sweep.writing`
(:func:`write_sweep`); the curve and the notebook HTML are drawn by
:mod:`netplan.present.sweep_page`.
"""

from netplan.sweep.axes import (
    MAX_POINTS,
    SweepAxis,
    budget_axis,
    key_axis,
    parse_values,
    target_axis,
    with_key,
    with_keys,
)
from netplan.sweep.driver import PointCallback, check_sweep_options, run_sweep
from netplan.sweep.points import (
    CRASH_ONCE_ENV,
    PREPARED_KEYS,
    PointResult,
    Shared,
    SweepPoint,
    solve_point,
    sweep_points,
    weighted_coverage,
)
from netplan.sweep.results import SweepFailedError, SweepResult, mark_knees
from netplan.sweep.writing import write_sweep

__all__ = [
    "CRASH_ONCE_ENV",
    "MAX_POINTS",
    "PREPARED_KEYS",
    "PointCallback",
    "PointResult",
    "Shared",
    "SweepAxis",
    "SweepFailedError",
    "SweepPoint",
    "SweepResult",
    "budget_axis",
    "check_sweep_options",
    "key_axis",
    "mark_knees",
    "parse_values",
    "run_sweep",
    "solve_point",
    "sweep_points",
    "target_axis",
    "weighted_coverage",
    "with_key",
    "with_keys",
    "write_sweep",
]
