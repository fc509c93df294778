"""What every classic model returns: :class:`LocationResult`, its assignments, the results table."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from netplan.classic.data import LocationData
from netplan.optimize.records import SolverRecord


@dataclass
class LocationResult:
    """What every classic model returns.

    Attributes
    ----------
    model : str
    status : str
        ``optimal``, ``time_limit``, ``infeasible``, ``no_solution`` or ``interrupted``.
    objective, bound, gap : float
    sites : ndarray of int
        Chosen sites (indices into the data's sites).
    site_ids : list of str
    assignment : DataFrame or None
        ``demand``, ``site``, ``share`` (and ``cost``) for models with assignments.
    timings : dict
        Seconds to build the model(s) and to solve.
    records : list of SolverRecord
        Every solve, in order (several for p-center and lexicographic models).
    details : dict
        Model-specific facts: covered weight, uncoverable demand, radius, ...
    """

    model: str
    status: str
    objective: float
    bound: float
    gap: float
    sites: np.ndarray
    site_ids: list[str]
    assignment: pd.DataFrame | None
    timings: dict[str, float]
    records: list[SolverRecord]
    details: dict[str, object] = field(default_factory=dict)

    @property
    def is_optimal(self) -> bool:
        return self.status == "optimal"

    @property
    def solver(self) -> str:
        return self.records[-1].solver if self.records else ""

    @property
    def version(self) -> str:
        return self.records[-1].version if self.records else ""

    def to_dict(self) -> dict[str, object]:
        return {
            "model": self.model,
            "status": self.status,
            "objective": self.objective,
            "bound": self.bound,
            "gap": self.gap,
            "sites": self.site_ids,
            "timings": self.timings,
            "solver": self.solver,
            "version": self.version,
            "details": self.details,
            "records": [r.to_dict() for r in self.records],
        }

    def __repr__(self) -> str:
        return f"LocationResult({self.model}: {self.status}, objective={self.objective:.6g}, gap={self.gap:.3g}, {len(self.sites)} sites)"


def _result(
    model: str,
    data: LocationData,
    x: np.ndarray | None,
    record: SolverRecord,
    timings: dict,
    records=None,
    assignment=None,
    **details,
) -> LocationResult:
    sites = (
        np.flatnonzero(np.round(x[: data.n_sites]) > 0.5)
        if x is not None
        else np.zeros(0, dtype=np.int64)
    )
    return LocationResult(
        model=model,
        status=record.status,
        objective=record.objective,
        bound=record.bound,
        gap=record.gap,
        sites=sites,
        site_ids=[data.site_ids[j] for j in sites],
        assignment=assignment,
        timings=timings,
        records=records if records is not None else [record],
        details=details,
    )


def _nearest_assignment(data: LocationData, open_sites: np.ndarray) -> pd.DataFrame:
    """Each demand to its cheapest open allowed site (ties: lowest site index)."""
    is_open = np.zeros(data.n_sites, dtype=bool)
    is_open[open_sites] = True
    sel = is_open[data.site]
    d, s, c = data.demand[sel], data.site[sel], data.cost[sel]
    first = np.ones(len(d), dtype=bool)
    first[1:] = d[1:] != d[:-1]  # pairs are sorted by demand, cost, site
    return pd.DataFrame({"demand": d[first], "site": s[first], "share": 1.0, "cost": c[first]})


def _shares(data: LocationData, x: np.ndarray | None) -> pd.DataFrame | None:
    if x is None:
        return None
    share = x[data.n_sites :]
    used = share > 1e-9
    return pd.DataFrame(
        {
            "demand": data.demand[used],
            "site": data.site[used],
            "share": share[used],
            "cost": data.cost[used],
        }
    )


def result_table(results: list[LocationResult]) -> pd.DataFrame:
    """One row per result: model, status, objective, bound, gap, sites, seconds, solver."""
    return pd.DataFrame(
        [
            {
                "model": r.model,
                "status": r.status,
                "objective": r.objective,
                "bound": r.bound,
                "gap": r.gap,
                "sites": len(r.sites),
                "seconds": sum(r.timings.values()),
                "solver": f"{r.solver} {r.version}",
            }
            for r in results
        ]
    )
