"""Demand from zones: spread each zone's population (or customers) onto points.

Three ways, all preserving every zone's total exactly:

- ``uniform``: a square grid of the given spacing inside the zone, equal shares;
- ``h3``: the H3 cells (``h3.geo_to_cells``: cells whose centre lies in the zone) at a given
  resolution, equal shares, one point at each cell centre;
- ``points``: given points inside the zone (e.g. building centroids) in proportion to a
  weight column (e.g. the footprint) — dasymetric mapping. A zone holding no such point
  falls back to ``uniform``, with a warning.

A zone too small for any grid point or cell centre gets one point at its representative
point.

Whole people where possible, fractions where not (decided per zone, see :func:`spread_weights`):
a zone whose total is a whole number gets whole numbers (largest remainder rounding) when that
gives every point of a positive share at least one; otherwise (fewer people than points, or
points whose share is under one person) its weights stay exact fractions, so no point is
dropped and the zone keeps its geography. ``small_zones="fewer_points"`` instead keeps whole
people and leaves out the points rounded to none. Every zone total is exact either way.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from netplan._errors import InputDataError

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
        # only points of a positive share get the units left: near 2**53 every remainder may
        # round to 0, and a zero share must stay 0 whatever the precision
        eligible = np.flatnonzero(shares > 0)
        order = eligible[np.argsort(-(quota - base)[eligible], kind="stable")]
        base[order[:left]] += 1.0
        if left > len(order):  # more units than points (float rounding of huge totals)
            base[order[0]] += left - len(order)
    return base


def allocate(total: float, shares: np.ndarray, integer: bool) -> np.ndarray:
    """Split ``total`` in proportion to ``shares``: whole numbers, or fractions that sum to it.

    Parameters
    ----------
    total : float
        The amount to split (>= 0; a whole number when ``integer``).
    shares : ndarray
        Non-negative weights; all zero means equal shares.
    integer : bool
        Whole numbers by largest remainder rounding, else exact fractions.

    Returns
    -------
    ndarray of float
        One value per share, summing to ``total`` (fractions: to the last bits of a float).
    """
    shares = np.asarray(shares, dtype=float)
    if shares.sum() <= 0:
        shares = np.ones(len(shares))
    if integer:
        return largest_remainder(total, shares)
    out = shares / shares.sum() * total
    # the rounding residue goes to the largest value, where it is relatively smallest (on the
    # last value it could turn a tiny share of a huge total negative)
    big = int(np.argmax(out))
    out[big] += total - out.sum()
    return out


SMALL_ZONES = ("fractional", "fewer_points")


def spread_weights(
    total: float, shares: np.ndarray, small_zones: str = "fractional"
) -> tuple[np.ndarray, int]:
    """One zone's total split over its points: whole people where possible.

    A demanding planner wants each zone's people exactly where the data puts them: rounding
    3 people over 1 000 buildings to whole people keeps 3 buildings (chosen by rounding
    remainders, i.e. by chance) and drops 997, so whether the zone counts as covered depends
    on which 3 survived. Fractional weights (0.003 each) keep every building, the zone's
    total and its geography exactly, hence the default.

    Parameters
    ----------
    total : float
        The zone total (>= 0).
    shares : ndarray
        Non-negative share of each point (all zero: equal shares).
    small_zones : {"fractional", "fewer_points"}
        What a zone gets when whole numbers would give a point of a positive share 0:
        exact fractions (default), or whole numbers with those points left at 0.

    Returns
    -------
    weights : ndarray of float
        Sums to ``total``. Whole numbers when ``total`` is whole and every point of a positive
        share gets at least one (or with ``"fewer_points"``), else exact fractions. A weight is
        0 only where the share is 0 or the total is 0 (or, with ``"fewer_points"``, where
        rounding left the point none).
    short : int
        Points of a positive share that whole numbers would leave at 0 (0 when the total is
        0 or not a whole number).
    """
    shares = np.asarray(shares, dtype=float)
    if shares.sum() <= 0:
        shares = np.ones(len(shares))
    if not (0 < total <= 2.0**53 and total == np.round(total)):  # beyond 2**53 no float is odd
        return allocate(total, shares, False), 0
    whole = largest_remainder(total, shares)
    short = int(np.count_nonzero((whole == 0) & (shares > 0)))
    if short and small_zones == "fractional":
        return allocate(total, shares, False), short
    return whole, short


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
    small_zones: str = "fractional",
    extra: list[str] | None = None,
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
    extra : list of str, optional
        Further weight columns (a roadmap phase's demand) spread the same way: over the same
        points in the same shares, each zone's total kept exactly.
    carry : list of str, optional
        Zone columns copied onto its points (e.g. a region column).
    small_zones : {"fractional", "fewer_points"}
        A zone that whole people would leave some of its points without: exact fractions
        (default; no point dropped), or whole people on fewer points (the others left out).
        See :func:`spread_weights`.

    Returns
    -------
    points : GeoDataFrame
        Columns ``id`` (``<zone>-<n>``), ``zone``, ``weight``, the carried columns, point
        geometry in ``crs``.
    notes : list of str
        Warnings (zones that fell back to uniform spreading or to one point; zones with too
        few people to give each point a whole person).
    """
    if method not in {"uniform", "h3", "points"}:
        raise InputDataError(
            f"demand.spread.method: unknown method {method!r}; use uniform, h3 or points"
        )
    if method == "points" and points is None:
        raise InputDataError("demand.spread: method 'points' needs a points layer")
    if small_zones not in SMALL_ZONES:
        raise InputDataError(
            f"demand.spread.small_zones: unknown value {small_zones!r}; use fractional or fewer_points"
        )
    if not 0 <= resolution <= 15:
        raise InputDataError(f"demand.spread.resolution: H3 resolution is 0..15, got {resolution}")
    carry = [c for c in (carry or []) if c in zones.columns]
    metric = zones.to_crs(crs)
    wgs = zones.to_crs(4326)
    totals = pd.to_numeric(zones[weight], errors="coerce").to_numpy(dtype=float)
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
    extra = [c for c in (extra or []) if c != weight]
    extra_totals = {c: pd.to_numeric(zones[c], errors="coerce").to_numpy(dtype=float) for c in extra}
    rows_xy, rows_zone, rows_w = [], [], []
    rows_extra: dict[str, list[np.ndarray]] = {c: [] for c in extra}
    fallback = []
    short_zones: list[tuple[str, float, int, int]] = []  # (zone, total, points, points short)
    n_short = 0  # points left out (fewer_points)
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
        weights, short = spread_weights(total, share, small_zones)
        if short:
            short_zones.append((zone_ids[z], total, len(xy), short))
            if small_zones == "fewer_points":  # whole people on fewer points: leave the rest out
                keep = (weights > 0) | (share <= 0)  # a zero share is the user's 0, dropped later
                xy, weights = xy[keep], weights[keep]
                n_short += short
        kept_share = share if len(share) == len(xy) else share[keep]
        for c in extra:  # the same points and shares; each column's zone total kept exactly
            value = extra_totals[c][z]
            if not np.isfinite(value) or value < 0:
                raise InputDataError(
                    f"zone {zone_ids[z]}: column '{c}' is {zones[c].iloc[z]!r}; give a number >= 0"
                )
            rows_extra[c].append(spread_weights(value, kept_share, "fractional")[0])
        rows_xy.append(xy)
        rows_zone.append(np.full(len(xy), z))
        rows_w.append(weights)
    if fallback:
        notes.append(
            f"{len(fallback)} zones hold no demand point and were spread uniformly instead: {', '.join(fallback)}"
        )
    if short_zones:
        notes.append(_short_note(short_zones, sum(len(x) for x in rows_xy) + n_short, small_zones))
    xy = np.vstack(rows_xy)
    zone = np.concatenate(rows_zone)
    out = pd.DataFrame({"zone": zone_ids[zone]})
    out.insert(0, "id", out["zone"] + "-" + (out.groupby("zone").cumcount() + 1).astype(str))
    out["weight"] = np.concatenate(rows_w)
    for c in extra:
        out[c] = np.concatenate(rows_extra[c])
    for column in carry:
        out[column] = zones[column].to_numpy()[zone]
    return gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=crs), notes


def small_zone_hint(zone: np.ndarray, weight: np.ndarray) -> str:
    """Explain a ratio-rule message whose smallest weight is a small zone's fractional share.

    Fractional weights (:func:`spread_weights`) of a zone with few people over many points
    can be far below the largest point's weight; what the solver may lose is then at most
    that zone's few people, but the ratio rule (netplan.scenario.conditioning) judges single values.

    Parameters
    ----------
    zone : ndarray of str
        Zone id of each spread point.
    weight : ndarray of float
        Weight of each spread point.

    Returns
    -------
    str
        ``""`` unless the smallest non-zero weight is a fraction in a zone whose total is a
        whole number; else a sentence naming that zone and the fix, to append to the message.
    """
    weight = np.asarray(weight, dtype=float)
    positive = np.flatnonzero(weight > 0)
    if len(positive) == 0:
        return ""
    i = positive[np.argmin(weight[positive])]
    mine = zone == zone[i]
    total = float(weight[mine].sum())
    if weight[i] == np.round(weight[i]) or abs(total - np.round(total)) > 1e-9 * max(total, 1.0):
        return ""
    return (
        f". The smallest is a fractional share of zone {zone[i]} ({_count(total)} people over "
        f"{_count(mine.sum())} points, kept fractional so no point is dropped): set "
        f"demand.spread.small_zones: fewer_points to put such zones' people on whole-person "
        f"points, or spread onto fewer points"
    )


def _count(n: float) -> str:
    """``2 428``: whole numbers grouped by thin spaces, as in the README."""
    return f"{n:,.0f}".replace(",", " ")


def _short_note(zones: list[tuple[str, float, int, int]], n_points: int, small_zones: str) -> str:
    """The warning naming the zones whole people would leave points without, and the counts."""
    short = sum(z[3] for z in zones)
    fewer = sum(1 for z in zones if z[1] < z[2])
    n_zones = f"{len(zones)} zones have" if len(zones) > 1 else "1 zone has"
    if fewer == len(zones):
        what = f"{n_zones} fewer people than spread points"
    elif fewer == 0:
        what = f"{n_zones} spread points whose share is under one person"
    else:
        what = (
            f"{n_zones} too few people for a whole person on each spread point ({fewer} with "
            f"fewer people than points, {len(zones) - fewer} with points whose share is under one)"
        )
    zones = sorted(zones, key=lambda z: -z[3])  # the zones that empty most points first
    listed = ", ".join(
        f"{zid} {_count(t)} people over {_count(p)} points" for zid, t, p, _ in zones[:5]
    )
    listed += f" and {len(zones) - 5} more" if len(zones) > 5 else ""
    counts = (
        f"{what}: {listed}; rounded to whole people, {_count(short)} of {_count(n_points)} "
        f"points would get none"
    )
    if small_zones == "fewer_points":
        return (
            f"{counts}, and are left out (demand.spread.small_zones: fewer_points keeps whole "
            f"people; zone totals exact)"
        )
    return f"{counts}, so their weights stay fractional and no point is dropped (zone totals exact)"
