"""p-center: bisection over the distinct costs, each radius checked by a set covering MILP."""

from __future__ import annotations

import math
import time

import numpy as np

from netplan._errors import NetplanError
from netplan.classic.covering import set_covering
from netplan.classic.data import LocationData, _as_data
from netplan.classic.result import LocationResult, _nearest_assignment
from netplan.classic.solving import _left, _out_of_time
from netplan.optimize.records import SolverOptions, SolverRecord, relative_gap


def p_center(
    data: LocationData | np.ndarray, p: int, options: SolverOptions | None = None
) -> LocationResult:
    """p-center: p sites minimising the largest cost (distance) from any demand to its nearest open site.

    Exact by bisection over the sorted distinct costs: radius r is feasible when the set
    covering at r needs at most p sites (each check a MILP solved to proof). The answer r*
    is the smallest feasible distinct cost; the check at the largest distinct cost below r*
    is infeasible, which proves that no radius below r* works (coverage sets only change at
    distinct costs). Both checks are kept in ``details``.

    ``options.time_limit`` covers all the checks together. Stopped, the result keeps the
    smallest radius proven feasible so far (with its sites) and, as bound, the smallest
    radius not yet proven infeasible; ``no_solution`` when no radius was proven yet.
    """
    data = _as_data(data)
    if not data.coverable().all():
        raise NetplanError("p_center: some demand has no allowed site")
    t0 = time.perf_counter()
    values = np.unique(data.cost)
    # lower bound: every demand needs its cheapest site
    starts = np.searchsorted(data.demand, np.arange(data.n_demand))
    lower = float(np.max(data.cost[starts]))
    lo = int(np.searchsorted(values, lower))
    hi = len(values) - 1
    records: list[SolverRecord] = []
    checks: dict[float, str] = {}
    best_x = None
    best_k = [len(values)]

    def feasible(k: int) -> bool:
        nonlocal best_x
        within = data.within(values[k])
        if not within.coverable().all():  # some demand has no site this close: no plan at all
            checks[float(values[k])] = "infeasible"
            return False
        if _out_of_time(options, t0):  # the time limit is for all the checks together
            raise _Stopped("time_limit")
        res = set_covering(within, options=_left(options, t0), max_sites=p)
        records.extend(res.records)
        status = res.status
        checks[float(values[k])] = status
        if status == "optimal":
            if best_x is None or k < best_k[0]:
                best_x, best_k[0] = res.sites, k
            return True
        if status == "infeasible":
            return False
        raise _Stopped(status)

    try:
        if not feasible(hi):
            raise _Stopped("infeasible")
        while lo < hi:
            mid = (lo + hi) // 2
            if feasible(mid):
                hi = mid
            else:
                lo = mid + 1
        radius = float(values[hi])
        below = float(values[hi - 1]) if hi > 0 else None
        if below is not None and below not in checks:
            feasible(hi - 1)  # the proof that nothing smaller works
    except _Stopped as stop:
        if best_x is None:  # stopped before any plan
            status = "no_solution" if stop.status == "time_limit" else stop.status
            return LocationResult(
                "p_center", status, math.nan, float(values[lo]), math.nan,
                np.zeros(0, np.int64), [], None, {"solve": time.perf_counter() - t0}, records,
                {"checks": checks},
            )  # fmt: skip
        # the best radius proven feasible so far, and the smallest not yet proven infeasible
        sites, radius, bound = np.asarray(best_x), float(values[best_k[0]]), float(values[lo])
        status = "time_limit" if stop.status == "no_solution" else stop.status
        return LocationResult(
            "p_center", status, radius, bound, relative_gap(radius, bound), sites,
            [data.site_ids[j] for j in sites], _nearest_assignment(data, sites),
            {"solve": time.perf_counter() - t0}, records, {"radius": radius, "checks": checks},
        )  # fmt: skip
    seconds = time.perf_counter() - t0
    sites = np.asarray(best_x)
    lower_check = checks.get(below) if below is not None else None
    record = SolverRecord(
        "optimal",
        radius,
        radius,
        0.0,
        sum(r.seconds for r in records),
        records[-1].solver,
        records[-1].version,
        None,
        0.0,
        "p_center",
        f"{len(records)} set-covering checks",
    )
    result = LocationResult(
        "p_center",
        "optimal" if lower_check in (None, "infeasible") else "no_solution",
        radius,
        radius,
        0.0,
        sites,
        [data.site_ids[j] for j in sites],
        _nearest_assignment(data, sites),
        {"solve": seconds},
        records + [record],
        {"radius": radius, "radius_below": below, "check_below": lower_check, "checks": checks},
    )
    return result


class _Stopped(Exception):
    def __init__(self, status: str):
        super().__init__(status)
        self.status = status
