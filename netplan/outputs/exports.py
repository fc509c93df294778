"""The exports analysts expect: outlets.csv, plan.xlsx, plan.gpkg with styles, GeoParquet.

- ``outlets.csv``: one row per outlet or site open today or in the plan (:func:`outlets_table`);
- ``plan.xlsx``: sheets outlets, KPIs, costs and changes (openpyxl; numbers as numbers);
- ``plan.gpkg``: the layers of :func:`netplan.outputs.layers.run_layers` with one default
  QGIS style each (:mod:`netplan.outputs.qgis_styles`);
- ``plan_<layer>.parquet`` (``--format gpkg,parquet``): the same layers as GeoParquet, one
  file per layer (a GeoParquet file holds one table), in WGS 84 like the GeoJSON convention.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from netplan.evaluation.columns import rounded
from netplan.outputs.layers import Layer, run_layers
from netplan.outputs.qgis_styles import write_styles

FORMATS = ("gpkg", "parquet")

OUTLET_COLUMNS = [
    "site_id",
    "name",
    "tier_today",
    "tier_plan",
    "action",
    "capex",
    "opex_per_year",
    "cost",
    "load",
    "supporting_outlet",
    "region",
    "lon",
    "lat",
]


def outlets_table(result) -> pd.DataFrame:
    """One row per outlet or site open today or in the plan.

    Parameters
    ----------
    result : netplan.pipeline.RunResult

    Returns
    -------
    DataFrame
        :data:`OUTLET_COLUMNS`: tier keys today and in the plan (empty where none), the
        action (keep, open, close, retier), the cost items over the horizon (``capex``:
        opening, conversion or closing; ``opex_per_year``; ``cost``: capex + opex over the
        horizon), ``load`` (assigned demand where capacities exist, else empty), the
        supporting outlet under the linkage rule (the nearest open outlet of a higher tier
        within linkage reach; empty for the top tier and closed outlets), region, WGS 84
        longitude and latitude rounded to 1e-6 degrees.
    """
    out = result.evaluation.outlets
    wgs = out.geometry.to_crs(4326)
    load = out["load"] if "load" in out else pd.Series(np.nan, index=out.index)
    table = pd.DataFrame(
        {
            "site_id": out["site_id"].astype(str),
            "name": out["name"].astype(str),
            "tier_today": out["current_tier"].fillna("").astype(str),
            "tier_plan": out["tier"].fillna("").astype(str),
            "action": out["action"].astype(str),
            "capex": out["capex"].astype(float),
            "opex_per_year": out["opex_per_year"].astype(float),
            "cost": out["cost"].astype(float),
            "load": load.astype(float),
            "supporting_outlet": out["supporting_outlet"].fillna("").astype(str),
            "region": out["region"].fillna("").astype(str) if "region" in out else "",
            "lon": np.round(shapely.get_x(wgs.to_numpy()), 6),
            "lat": np.round(shapely.get_y(wgs.to_numpy()), 6),
        }
    )
    return table.reset_index(drop=True)


def write_outlets_csv(result, path: str | Path) -> Path:
    """Write :func:`outlets_table` as CSV (empty cells for missing values)."""
    path = Path(path)
    outlets_table(result).to_csv(path, index=False, float_format="%.10g", lineterminator="\n")
    return path


def cost_table(result) -> pd.DataFrame:
    """Cost over the horizon by tier and action, with the totals of today and the plan.

    Returns
    -------
    DataFrame
        Columns ``tier``, ``keep``, ``open``, ``retier``, ``close``, ``total``; the last
        rows are the plan's total, today's cost and the budget (``total`` only).
    """
    plan = result.plan
    table = result.evaluation.costs().reset_index()
    table["total"] = table[["keep", "open", "retier", "close"]].sum(axis=1)
    extra = pd.DataFrame(
        {
            "tier": ["plan total", "today", "budget"],
            "total": [
                float(plan.cost()["total"]),
                float(plan.budget.get("baseline_cost", np.nan)),
                float(plan.budget["total"]) if plan.budget.get("total") is not None else np.nan,
            ],
        }
    )
    table.columns.name = None
    return pd.concat([table, extra], ignore_index=True)


def changes_table(result) -> pd.DataFrame:
    """The outlets whose tier changes: opened, closed and re-tiered (not the kept ones)."""
    table = outlets_table(result)
    order = {"open": 0, "retier": 1, "close": 2}
    table = table[table["action"] != "keep"]
    table = table.assign(_o=table["action"].map(order)).sort_values(["_o", "site_id"])
    return table[
        ["site_id", "name", "action", "tier_today", "tier_plan", "capex", "cost", "region"]
    ]


def write_xlsx(result, path: str | Path) -> Path:
    """Write plan.xlsx: sheets outlets, KPIs, costs, changes.

    Each sheet has a bold, frozen header row and column widths fitted to its content;
    numbers are stored as numbers (NaN as empty cells).

    Parameters
    ----------
    result : netplan.pipeline.RunResult
    path : str or Path

    Returns
    -------
    Path
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    sheets = {
        "outlets": outlets_table(result),
        "KPIs": rounded(result.kpi_table()),  # as kpis.csv
        "costs": cost_table(result),
        "changes": changes_table(result),
    }
    book = Workbook()
    book.remove(book.active)
    bold = Font(bold=True)
    for title, frame in sheets.items():
        ws = book.create_sheet(title)
        ws.append([str(c) for c in frame.columns])
        for row in frame.itertuples(index=False):
            ws.append([_cell(v) for v in row])
        for cell in ws[1]:
            cell.font = bold
        ws.freeze_panes = "A2"
        for i, col in enumerate(frame.columns, start=1):
            texts = [str(col)] + [_text(v) for v in frame[col].head(500)]
            width = min(max(len(t) for t in texts) + 2, 60)
            ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = width
    path = Path(path)
    book.save(path)
    return path


def _cell(value):
    """A value openpyxl stores as a number, a string or an empty cell."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _text(value) -> str:
    value = _cell(value)
    if value is None:
        return ""
    return f"{value:,.2f}" if isinstance(value, float) else str(value)


def _clean(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Types GeoPackage stores well: bools as 0/1 integers, objects as strings."""
    out = frame.copy()
    for col in out.columns:
        if col == out.geometry.name:
            continue
        if out[col].dtype == bool:
            out[col] = out[col].astype("int32")
        elif out[col].dtype == object:
            out[col] = out[col].astype(str)
    return out


def _compact_demand(frame: gpd.GeoDataFrame, unit: str) -> gpd.GeoDataFrame:
    """Demand distances rounded to 1 m (0.01 min): whole metres are stored as small integers."""
    out = frame.copy()
    for col in out.columns:
        if col != out.geometry.name and (col.startswith("dist") or "_dist" in col):
            digits = 3 if col.endswith("_km") else 2 if col.endswith("_min") or unit != "m" else 0
            out[col] = out[col].round(digits)
    return out


def write_gpkg(result, path: str | Path, layers: list[Layer] | None = None) -> Path:
    """Write plan.gpkg: every layer of :func:`run_layers` and its default QGIS style.

    The demand layer has no spatial index (a point layer read whole; QGIS builds one on
    request) and its distances are rounded to 1 m or 0.01 min; the file is vacuumed at the end
    with 1 kB pages. So the demo's file is under 3 MB with every layer.

    Parameters
    ----------
    result : netplan.pipeline.RunResult
    path : str or Path
    layers : list of Layer, optional
        As from :func:`run_layers` (computed when not given).

    Returns
    -------
    Path
    """
    path = Path(path)
    layers = run_layers(result) if layers is None else layers
    for layer in layers:
        frame = layer.frame
        options = {}
        if layer.kind == "demand":
            frame = _compact_demand(frame, result.scenario.unit)
            options = {"SPATIAL_INDEX": "NO"}
        polygonal = layer.geometry_type in ("Polygon", "Unknown") and layer.kind != "links"
        pyogrio.write_dataframe(
            _clean(frame),
            path,
            layer=layer.name,
            driver="GPKG",
            geometry_type="MultiPolygon" if polygonal else layer.geometry_type,
            promote_to_multi=polygonal,
            layer_options=options,
        )
    write_styles(path, layers, result.scenario)
    con = sqlite3.connect(str(path))
    try:  # 1 kB pages: about 100 small tables (layers, indexes) waste less than with 4 kB
        con.execute("PRAGMA page_size = 1024")
        con.execute("VACUUM")
    finally:
        con.close()
    return path


def parquet_name(layer: str) -> str:
    """File name of a layer's GeoParquet file: ``plan_<layer>.parquet``."""
    return f"plan_{layer}.parquet"


def write_parquet(result, folder: str | Path, layers: list[Layer] | None = None) -> list[Path]:
    """Write each layer of :func:`run_layers` as a GeoParquet file ``plan_<layer>.parquet``.

    Geometries are in WGS 84 (GeoParquet's default CRS, what most readers expect).

    Parameters
    ----------
    result : netplan.pipeline.RunResult
    folder : str or Path
    layers : list of Layer, optional

    Returns
    -------
    list of Path
    """
    folder = Path(folder)
    layers = run_layers(result) if layers is None else layers
    written = []
    for layer in layers:
        frame = _clean(layer.frame)
        frame = frame.to_crs(4326) if frame.crs is not None else frame
        path = folder / parquet_name(layer.name)
        frame.to_parquet(path, index=False)
        written.append(path)
    return written


def parse_formats(value: str | None) -> tuple[str, ...]:
    """The geodata formats of ``--format``: comma-separated names of :data:`FORMATS`.

    Parameters
    ----------
    value : str or None
        E.g. ``"gpkg"`` or ``"gpkg,parquet"``; None means ``"gpkg"``.

    Returns
    -------
    tuple of str

    Raises
    ------
    ValueError
        An unknown or repeated name, or an empty list; the message names the choices.
    """
    if value is None:
        return ("gpkg",)
    names = [v.strip().lower() for v in str(value).split(",")]
    bad = [n for n in names if n not in FORMATS]
    if not bad and len(set(names)) == len(names) and "gpkg" not in names:
        raise ValueError(
            "--format: plan.gpkg is always written (netplan compare reads it); "
            f"choose from {', '.join(FORMATS)}, comma-separated (e.g. --format gpkg,parquet)"
        )
    if not names or bad or len(set(names)) != len(names):
        what = f"unknown format {bad[0]!r}" if bad and bad[0] else "expected a list of formats"
        if not bad and names:
            what = f"{', '.join(names)} names a format twice"
        raise ValueError(
            f"--format: {what}; choose from {', '.join(FORMATS)}, comma-separated "
            "(e.g. --format gpkg,parquet)"
        )
    return tuple(names)
