"""Collecting a sweep's results: the table of points (sweep.csv), the knees, the result object."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from netplan._errors import NetplanError
from netplan.scenario import Scenario
from netplan.sweep.points import PointResult


class SweepFailedError(NetplanError):
    """Every point of a sweep failed; ``result`` holds the table with each point's reason."""

    def __init__(self, message: str, result: SweepResult | None = None):
        super().__init__(message)
        self.result = result


def mark_knees(
    x: np.ndarray, y: np.ndarray, threshold: float = 0.25
) -> tuple[np.ndarray, np.ndarray]:
    """Marginal gain into each point and the knee flags (see :mod:`netplan.sweep`).

    Parameters
    ----------
    x, y : ndarray
        Budget (or cost) and coverage of each point, NaN for failed points.
    threshold : float
        A step buys "little" below ``threshold`` × the average gain per unit over the sweep.

    Returns
    -------
    marginal : ndarray
        Δy / Δx from the previous successful point in x order (NaN for the first, for failed
        points and where x does not grow).
    knee : ndarray of bool
    """
    n = len(x)
    marginal = np.full(n, np.nan)
    knee = np.zeros(n, dtype=bool)
    ok = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    if len(ok) < 3:
        return marginal, knee
    order = ok[np.argsort(x[ok], kind="stable")]
    dx = np.diff(x[order])
    dy = np.diff(y[order])
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(dx > 0, dy / dx, np.nan)
    marginal[order[1:]] = slope
    span = x[order[-1]] - x[order[0]]
    if span <= 0:
        return marginal, knee
    average = (y[order[-1]] - y[order[0]]) / span
    if not average > 0:
        return marginal, knee
    cut = threshold * average
    # a knee: bought enough to get here, buys little beyond
    into = slope[:-1]
    out = slope[1:]
    flag = (into >= cut) & (out < cut)
    knee[order[1:-1][flag]] = True
    return marginal, knee


@dataclass
class SweepResult:
    """A finished sweep.

    Attributes
    ----------
    table : DataFrame
        One row per point (the content of sweep.csv).
    points : list of PointResult
    baseline : dict
        Today's network: ``cost``, ``coverage_pct`` and ``covered_pct_<level>``.
    x : str
        Column of the curve's x axis (``budget`` for budget sweeps, else ``cost``).
    keys : list of str
        The swept keys.
    seconds : float
        Wall time of the solves.
    workers : int
        Dask workers used (0 = sequential, in this process).
    scenario : Scenario
    """

    table: pd.DataFrame
    points: list[PointResult]
    baseline: dict[str, float]
    x: str
    keys: list[str]
    seconds: float
    workers: int
    scenario: Scenario
    knee_threshold: float = 0.25

    def __repr__(self) -> str:
        failed = sum(not p.ok for p in self.points)
        return (
            f"SweepResult({self.scenario.name!r}, keys={self.keys}, points={len(self.points)} "
            f"({failed} failed), workers={self.workers}, seconds={self.seconds:.1f}, "
            f"x={self.x!r}; .table for the figures, .figure() for the curve)"
        )

    def figure(self):
        """The curve as a matplotlib figure: coverage per level and weighted, baseline and knees.

        Returns
        -------
        matplotlib.figure.Figure
            Drawn by :func:`netplan.present.sweep_page.sweep_figure`.
        """
        from netplan.present.sweep_page import sweep_figure

        return sweep_figure(self)

    def _repr_html_(self) -> str:
        from netplan.present.sweep_page import sweep_html

        return sweep_html(self)


def _table(points: list[PointResult], scenario: Scenario, x: str, threshold: float) -> pd.DataFrame:
    rows = [p.row for p in sorted(points, key=lambda p: p.index)]
    table = pd.DataFrame(rows)
    numeric = [f"covered_pct_{k}" for k in scenario.tier_keys] + [
        f"outlets_{k}" for k in scenario.tier_keys
    ]
    for col in ["budget", "coverage_pct", "cost", "capex", "status", "gap", "objective"] + [
        "seconds",
        "error",
        *numeric,
    ]:
        if col not in table:
            table[col] = np.nan if col not in ("status", "error") else ""
    xs = pd.to_numeric(table[x], errors="coerce").to_numpy(dtype=float, copy=True)
    ys = pd.to_numeric(table["coverage_pct"], errors="coerce").to_numpy(dtype=float)
    failed = (table["status"] == "failed").to_numpy()
    xs[failed] = np.nan
    marginal, knee = mark_knees(xs, ys, threshold)
    table["marginal_pct_per_unit"] = marginal
    table["knee"] = knee
    table["error"] = table["error"].fillna("")
    front = ["point"] + [c for c in rows[0] if c not in ("point",)] if rows else []
    ordered = [c for c in front if c in table] + [c for c in table.columns if c not in front]
    level_cols = [f"covered_pct_{k}" for k in scenario.tier_keys]
    tier_cols = [f"outlets_{k}" for k in scenario.tier_keys]
    head = [
        c
        for c in ordered
        if c
        not in level_cols
        + tier_cols
        + [
            "coverage_pct",
            "cost",
            "capex",
            "status",
            "gap",
            "objective",
            "seconds",
            "marginal_pct_per_unit",
            "knee",
            "error",
        ]
    ]
    tail = (
        level_cols
        + ["coverage_pct", "cost", "capex"]
        + tier_cols
        + ["status", "gap", "objective", "seconds", "marginal_pct_per_unit", "knee", "error"]
    )
    return table[head + [c for c in tail if c in table]]
