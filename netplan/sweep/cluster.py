"""Solving sweep points on dask.distributed: a local cluster or a scheduler, retries, failures.

Every point is a task running :func:`netplan.sweep.points.solve_point` in a worker process; the
prepared inputs are scattered once to every worker. A point whose worker died more than
``retries`` times, or whose task failed outside ``solve_point``, becomes a failed row.
"""

from __future__ import annotations

import logging
import os
import time

from netplan._errors import NetplanError, ScenarioError
from netplan.sweep.points import PointResult, SweepPoint, _scalar, solve_point


def run_on_dask(shared, points, client, scheduler, workers, retries, files, html, on_point):
    """Solve ``points`` on dask.distributed; return the results (as they finish) and the workers.

    Parameters
    ----------
    shared : Shared
        Scattered once to every worker (sent again if the workers holding it died).
    points : list of SweepPoint
    client : distributed.Client or None
        Used as is; else one is made for ``scheduler``, or for a local cluster of ``workers``
        processes with one thread each.
    scheduler : str or None
    workers : int or None
    retries : int
        Times a point is retried after its worker dies.
    files, html : bool
        Passed to :func:`netplan.sweep.points.solve_point`.
    on_point : callable or None
        Called with each :class:`PointResult` as it finishes.

    Returns
    -------
    results : list of PointResult
        In the order they finished; a point lost with its workers is a failed row.
    n_workers : int
    """
    import dask
    from distributed import Client, LocalCluster, as_completed

    own_client = own_cluster = None
    if retries < 0:
        raise ScenarioError(f"--retries must be >= 0, got {retries}")
    try:
        if client is None:
            if scheduler:
                try:
                    client = own_client = Client(scheduler, timeout="10s")
                except OSError as exc:
                    raise NetplanError(
                        f"--scheduler {scheduler}: cannot connect ({exc}); start it with `dask scheduler` or drop --scheduler for a local cluster"
                    ) from None
            else:
                n = workers or os.cpu_count() or 1
                # the local scheduler runs in this process: its config decides how often a
                # point whose worker died is retried before KilledWorker
                with dask.config.set({"distributed.scheduler.allowed-failures": retries}):
                    own_cluster = LocalCluster(
                        n_workers=n,
                        threads_per_worker=1,
                        processes=True,
                        dashboard_address=":0",  # any free port (8787 may be taken)
                        silence_logs=logging.ERROR,
                    )
                client = own_client = Client(own_cluster)
        n_workers = len(client.nthreads())
        shared_f = client.scatter(shared, broadcast=True, hash=False)

        def submit(p: SweepPoint, data):
            key = f"netplan-sweep-{p.name}-{os.getpid()}-{time.time_ns()}"
            return client.submit(
                solve_point, data, p, files, html, retries=retries, pure=False, key=key
            )

        futures = {submit(p, shared_f): p for p in points}
        attempts = dict.fromkeys(range(len(points)), 0)
        results = []
        pending = as_completed(list(futures))
        for fut in pending:
            p = futures.pop(fut)
            try:
                res = fut.result()
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as exc:  # KilledWorker after the retries, lost data, ...
                if fut.cancelled() and attempts[p.index] < retries:
                    # the only workers holding the scattered inputs (or this result) died:
                    # scattered data has no lineage, so send it again and resubmit the point
                    attempts[p.index] += 1
                    if shared_f.status != "finished":
                        shared_f = client.scatter(shared, broadcast=True, hash=False)
                    again = submit(p, shared_f)
                    futures[again] = p
                    pending.add(again)
                    continue
                message = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
                row = {
                    "point": p.index,
                    **{k: _scalar(v) for k, v in p.changes if k != "objective.type"},
                }
                row.update({"status": "failed", "error": message})
                res = PointResult(p.index, row, error=message)
            results.append(res)
            if on_point is not None:
                on_point(res)
        return results, n_workers
    finally:
        if own_client is not None:
            own_client.close()
        if own_cluster is not None:
            own_cluster.close()
