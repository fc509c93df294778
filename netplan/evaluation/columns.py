"""The names and display precision of KPI columns: every distance or time carries its unit.

Distances are computed in metres and drive times in minutes (:attr:`Scenario.unit`); what
users see — the KPI frames, kpis.csv, plan.gpkg attributes, compare tables — is in
kilometres (``dist_mean_km``) or minutes (``time_mean_min``), the same name everywhere.
"""

from __future__ import annotations

import pandas as pd

DIST_STATS = ("mean", "p50", "p90", "p95", "max")
"""The distance statistics of a KPI row, in column order."""

# KPI columns that are percentages, demand weights and counts (for rounding display files)
PERCENT_KPIS = ("covered_pct", "gap_pct", "overlap_pct", "overlap_capped_pct")
WEIGHT_KPIS = ("demand", "covered", "gap", "overlap", "overlap_capped")
# KPI columns present only when the scenario asks for them (siting.overlap caps)
OPTIONAL_KPIS = ("overlap_capped", "overlap_capped_pct")
COUNT_KPIS = ("outlets_serving", "outlets_of_tier")


def display_unit(unit: str) -> str:
    """Unit users see for a computation unit: ``"km"`` for ``"m"`` (or ``"km"``), else ``"min"``."""
    return "km" if unit in ("m", "km") else "min"


def to_display(values, unit: str):
    """Values in the computation unit (metres or minutes) converted to :func:`display_unit`."""
    return values / 1000.0 if unit == "m" else values


def distance_column(stat: str, unit: str) -> str:
    """Name of one distance statistic: ``dist_<stat>_km`` or ``time_<stat>_min``.

    Parameters
    ----------
    stat : str
        One of :data:`DIST_STATS` (``mean``, ``p50``, ``p90``, ``p95``, ``max``).
    unit : str
        The run's unit: ``"m"``/``"km"`` (planar, haversine) or ``"min"`` (road network).
    """
    shown = display_unit(unit)
    return f"{'dist' if shown == 'km' else 'time'}_{stat}_{shown}"


def distance_columns(unit: str) -> list[str]:
    """Names of every distance statistic for ``unit``, in :data:`DIST_STATS` order."""
    return [distance_column(s, unit) for s in DIST_STATS]


def kpi_columns(unit: str) -> list[str]:
    """The KPI columns of a level row (baseline, plan and delta each), for ``unit``."""
    return [
        "demand",
        "covered",
        "covered_pct",
        "gap",
        "gap_pct",
        "overlap",
        "overlap_pct",
        *distance_columns(unit),
        *COUNT_KPIS,
    ]


def decimals(column: str) -> int | None:
    """Display decimals of a KPI column (with or without a ``_baseline``/``_plan``/``_a``… suffix).

    Percentages 1 (as every page prints them), kilometres 2, minutes 1, demand weights 2,
    counts 0; None for other columns.
    """
    for suffix in ("_baseline", "_plan", "_delta", "_a", "_b"):
        if column.endswith(suffix):
            column = column[: -len(suffix)]
            break
    if column in PERCENT_KPIS:
        return 1
    if column in WEIGHT_KPIS:
        return 2
    if column in COUNT_KPIS:
        return 0
    if column.startswith("dist_") and column.endswith("_km"):
        return 2
    if column.startswith("time_") and column.endswith("_min"):
        return 1
    return None


def rounded(frame: pd.DataFrame) -> pd.DataFrame:
    """A KPI table rounded for display files (kpis.csv, kpi_deltas.csv, compare.json).

    Every KPI value is rounded to :func:`decimals` once, from the exact value — deltas too,
    so each figure equals what the pages and the terminal print for it (a delta may differ
    from plan − baseline of the rounded values by one unit of the last place). Counts become
    integers (nullable where a value is missing).
    """
    out = frame.copy()
    for col in out.columns:
        places = decimals(col)
        if places is None or not pd.api.types.is_numeric_dtype(out[col]):
            continue
        # Python's round is correctly rounded, as "%.1f" is; numpy's scales first and can differ
        # by one last place at a half (67.55 → 67.6, while pages print 67.5)
        # (+ 0.0: a tiny negative delta is written 0.0, not -0.0)
        values = out[col].astype(float).map(lambda v, p=places: round(v, p) + 0.0 if v == v else v)
        out[col] = values.astype("Int64") if places == 0 else values.astype(float)
    return out
