"""Demand from zones: spread each zone's population (or customers) onto points.

Three ways, all preserving every zone's total exactly:

- ``uniform``: a square grid of the given spacing inside the zone, equal shares;
- ``h3``: the H3 cells (``h3.geo_to_cells``: cells whose centre lies in the zone) at a given
  resolution, equal shares, one point at each cell centre;
- ``points``: given points inside the zone (e.g. building centroids) in proportion to a
  weight column (e.g. the footprint) — dasymetric mapping. A zone holding no such point
  falls back to ``uniform``, with a warning.

A zone too small for any grid point or cell centre gets one point at its representative
point. When every zone total is a whole number, the shares are whole numbers too (largest
remainder rounding); otherwise they are exact fractions of the total.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from ._errors import InputDataError

# Most points zones may be spread onto in total: a too fine spacing or H3 resolution (1 mm, or
# resolution 15 over a country) would otherwise exhaust memory before saying anything.
MAX_SPREAD_POINTS = 10_000_000


def largest_remainder(total: float, shares: np.ndarray) -> np.ndarray:
    """Whole numbers proportional to ``shares`` that sum exactly to the whole number ``total``.

    Parameters
    ----------
    total : float
        A whole number >= 0.
    shares : ndarray
        Non-negative weights, not all zero.

    Returns
    -------
    ndarray of float
        Floors of the exact quotas, plus one for the largest remainders (ties: first point).
    """
    shares = np.asarray(shares, dtype=float)
    quota = shares / shares.sum() * total
    base = np.floor(quota)
    left = int(round(total - base.sum()))
    if left > 0:
        order = np.argsort(-(quota - base), kind="stable")[:left]
        base[order] += 1.0
    return base


def allocate(total: float, shares: np.ndarray, integer: bool) -> np.ndarray:
    """Split ``total`` in proportion to ``shares``: whole numbers, or fractions that sum to it."""
    shares = np.asarray(shares, dtype=float)
    if shares.sum() <= 0:
        shares = np.ones(len(shares))
    if integer:
        return largest_remainder(total, shares)
    out = shares / shares.sum() * total
    out[-1] = total - out[:-1].sum()  # the sum is the total, whatever the rounding
    return out


def _estimated_points(polygon: shapely.Geometry, method: str, spacing: float, resolution: int) -> float:
    """Upper estimate of the grid points (bounding box / spacing²) or H3 cells (area / cell area)."""
    if method == "h3":
        import h3

        return polygon.area / h3.average_hexagon_area(resolution, unit="m^2")
    x0, y0, x1, y1 = polygon.bounds
    return (np.floor((x1 - x0) / spacing) + 1) * (np.floor((y1 - y0) / spacing) + 1)


def _grid_points(polygon: shapely.Geometry, spacing: float) -> np.ndarray:
    """Centres of a square grid of ``spacing`` (metres) that lie inside ``polygon``."""
    x0, y0, x1, y1 = polygon.bounds
    xs = np.arange(np.floor(x0 / spacing) * spacing + spacing / 2, x1, spacing)
    ys = np.arange(np.floor(y0 / spacing) * spacing + spacing / 2, y1, spacing)
    gx, gy = np.meshgrid(xs, ys)
    pts = np.column_stack([gx.ravel(), gy.ravel()])
    if len(pts) == 0:
        return pts
    inside = shapely.contains_xy(polygon, pts[:, 0], pts[:, 1])
    return pts[inside]


def spread_zones(
    zones: gpd.GeoDataFrame,
    weight: str,
    method: str,
    crs: CRS,
    spacing: float = 250.0,
    resolution: int = 9,
    points: gpd.GeoDataFrame | None = None,
    point_weight: str | None = None,
    id_column: str | None = None,
    carry: list[str] | None = None,
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Spread each zone's weight onto points.

    Parameters
    ----------
    zones : GeoDataFrame
        Polygons with a CRS and a numeric, non-negative ``weight`` column.
    weight : str
        Column of the zone total (population, customers).
    method : {"uniform", "h3", "points"}
    crs : pyproj.CRS
        Metric CRS for the uniform grid and for the result.
    spacing : float
        ``uniform``: grid spacing in metres.
    resolution : int
        ``h3``: H3 resolution (0-15).
    points : GeoDataFrame, optional
        ``points``: the points to spread onto (any CRS).
    point_weight : str, optional
        ``points``: column weighting each point (default: equal).
    id_column : str, optional
        Zone id column (default: row number).
    carry : list of str, optional
        Zone columns copied onto its points (e.g. a region column).

    Returns
    -------
    points : GeoDataFrame
        Columns ``id`` (``<zone>-<n>``), ``zone``, ``weight``, the carried columns, point
        geometry in ``crs``.
    notes : list of str
        Warnings (zones that fell back to uniform spreading or to one point).
    """
    if method not in {"uniform", "h3", "points"}:
        raise InputDataError(
            f"demand.spread.method: unknown method {method!r}; use uniform, h3 or points"
        )
    if method == "points" and points is None:
        raise InputDataError("demand.spread: method 'points' needs a points layer")
    if not 0 <= resolution <= 15:
        raise InputDataError(f"demand.spread.resolution: H3 resolution is 0..15, got {resolution}")
    carry = [c for c in (carry or []) if c in zones.columns]
    metric = zones.to_crs(crs)
    wgs = zones.to_crs(4326)
    totals = pd.to_numeric(zones[weight], errors="coerce").to_numpy(dtype=float)
    integer = bool(np.all(np.isfinite(totals)) and np.all(totals == np.round(totals)))
    zone_ids = (
        zones[id_column].astype(str).to_numpy()
        if id_column
        else np.arange(1, len(zones) + 1).astype(str)
    )
    notes: list[str] = []
    assigned = None
    if method == "points":
        pts = points.to_crs(crs).reset_index(drop=True)
        w = (
            pd.to_numeric(pts[point_weight], errors="coerce").fillna(0.0).clip(lower=0).to_numpy()
            if point_weight
            else np.ones(len(pts))
        )
        joined = gpd.sjoin(
            gpd.GeoDataFrame(geometry=pts.geometry, crs=crs),
            metric[["geometry"]].reset_index(drop=True),
            how="inner",
            predicate="within",
        )
        joined = joined[
            ~joined.index.duplicated(keep="first")
        ]  # a point on a shared border: first zone
        assigned = (joined.index.to_numpy(), joined["index_right"].to_numpy(), pts, w)
    if method != "points":  # points: the given layer's size is the user's choice
        estimate = sum(
            _estimated_points(g, method, spacing, resolution) for g in metric.geometry
        )
        if estimate > MAX_SPREAD_POINTS:
            setting = (
                f"demand.spread.resolution ({resolution})"
                if method == "h3"
                else f"demand.spread.spacing ({spacing:g} m)"
            )
            raise InputDataError(
                f"demand.spread: about {estimate:,.0f} points from {setting}, more than {MAX_SPREAD_POINTS:,}; "
                f"use a {'lower resolution' if method == 'h3' else 'larger spacing'}"
            )
    rows_xy, rows_zone, rows_w = [], [], []
    fallback = []
    for z in range(len(zones)):  # one pass per zone (a handful to thousands), vectorised inside
        total = totals[z]
        if not np.isfinite(total) or total < 0:
            raise InputDataError(
                f"zone {zone_ids[z]}: column '{weight}' is {zones[weight].iloc[z]!r}; give a number >= 0"
            )
        xy = np.zeros((0, 2))
        share = np.zeros(0)
        if method == "points":
            pidx, zidx, pts, w = assigned
            mine = pidx[zidx == z]
            if len(mine):
                xy = np.column_stack(
                    [pts.geometry.x.to_numpy()[mine], pts.geometry.y.to_numpy()[mine]]
                )
                share = w[mine] if w[mine].sum() > 0 else np.ones(len(mine))
            else:
                fallback.append(zone_ids[z])
        if method == "h3" and len(xy) == 0:
            import h3

            cells = sorted(h3.geo_to_cells(wgs.geometry.iloc[z], resolution))
            if cells:
                latlng = np.array([h3.cell_to_latlng(c) for c in cells])
                xy = np.column_stack(
                    gpd.GeoSeries(gpd.points_from_xy(latlng[:, 1], latlng[:, 0]), crs=4326)
                    .to_crs(crs)
                    .get_coordinates()
                    .to_numpy()
                    .T
                )
                share = np.ones(len(xy))
        if len(xy) == 0 and method != "h3":
            xy = _grid_points(metric.geometry.iloc[z], spacing)
            share = np.ones(len(xy))
        if len(xy) == 0:
            p = metric.geometry.iloc[z].representative_point()
            xy, share = np.array([[p.x, p.y]]), np.ones(1)
            notes.append(
                f"zone {zone_ids[z]}: too small for the spreading grid; its demand sits at one point"
            )
        rows_xy.append(xy)
        rows_zone.append(np.full(len(xy), z))
        rows_w.append(allocate(total, share, integer))
    if fallback:
        notes.append(
            f"{len(fallback)} zones hold no demand point and were spread uniformly instead: {', '.join(fallback)}"
        )
    xy = np.vstack(rows_xy)
    zone = np.concatenate(rows_zone)
    out = pd.DataFrame({"zone": zone_ids[zone]})
    out.insert(0, "id", out["zone"] + "-" + (out.groupby("zone").cumcount() + 1).astype(str))
    out["weight"] = np.concatenate(rows_w)
    for column in carry:
        out[column] = zones[column].to_numpy()[zone]
    return gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=crs), notes
