"""Coordinates, the working CRS and distances for the travel modes ``planar`` and ``haversine``.

``planar`` works in metres of a projected CRS (an EPSG code or the local UTM zone);
``haversine`` works on longitude/latitude with great-circle distances on a sphere of
radius 6 371 008.8 m (the IUGG mean radius). Never Euclidean distance on degrees.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Geod
from shapely import Polygon

EARTH_RADIUS_M = 6_371_008.8
WGS84 = CRS.from_epsg(4326)
_SPHERE = Geod(a=EARTH_RADIUS_M, b=EARTH_RADIUS_M)


def resolve_working_crs(mode: str, crs_setting: str | int, sample: gpd.GeoSeries) -> CRS:
    """The CRS the plan is computed in.

    Parameters
    ----------
    mode : {"planar", "haversine"}
        Travel mode of the scenario.
    crs_setting : str or int
        ``travel.crs``: an EPSG code or ``"auto"`` for the local UTM zone of ``sample``.
    sample : GeoSeries
        Geometries (any CRS) used to pick the UTM zone.

    Returns
    -------
    pyproj.CRS
        EPSG:4326 for ``haversine``; a projected, metric CRS for ``planar``.
    """
    if mode == "haversine":
        return WGS84
    if str(crs_setting).lower() == "auto":
        # pick the zone from the points that are valid longitude/latitude: a stray bad row is
        # reported by the layer checks with its row number, not as a failed UTM estimate
        wgs = sample[~(sample.is_empty | sample.isna())].to_crs(WGS84)
        points = wgs.representative_point()
        x, y = points.x.to_numpy(dtype=float), points.y.to_numpy(dtype=float)
        ok = np.isfinite(x) & np.isfinite(y) & (np.abs(x) <= 180) & (np.abs(y) <= 90)
        if not ok.any():
            from netplan._errors import InputDataError

            raise InputDataError(
                "no demand point has a valid longitude/latitude to choose the UTM zone from; check the "
                "coordinates and the CRS of the demand layer, or set travel.crs to an EPSG code"
            )
        return points[ok].estimate_utm_crs()
    return CRS.from_user_input(crs_setting)


def point_coords(geoms: gpd.GeoSeries) -> np.ndarray:
    """``(n, 2)`` array of x, y (longitude, latitude for a geographic CRS) of point geometries."""
    return np.column_stack([geoms.x.to_numpy(dtype=float), geoms.y.to_numpy(dtype=float)])


def metric_coords(xy: np.ndarray, mode: str) -> np.ndarray:
    """Coordinates in the space where the travel mode's distance is measured.

    ``planar``: x, y in metres, unchanged. ``haversine``: latitude, longitude in radians,
    the order scikit-learn's haversine BallTree expects.
    """
    if mode == "haversine":
        return np.radians(xy[:, ::-1])
    return np.asarray(xy, dtype=float)


def distance(a: np.ndarray, b: np.ndarray, mode: str) -> np.ndarray:
    """Distance in metres between matching rows of two ``(n, 2)`` coordinate arrays.

    Parameters
    ----------
    a, b : ndarray of shape (n, 2) or (2,)
        x, y in metres (``planar``) or longitude, latitude in degrees (``haversine``).
        Broadcasting applies, so ``b`` may be a single point.
    mode : {"planar", "haversine"}
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if mode == "haversine":
        lon1, lat1 = np.radians(a[..., 0]), np.radians(a[..., 1])
        lon2, lat2 = np.radians(b[..., 0]), np.radians(b[..., 1])
        h = (
            np.sin((lat2 - lat1) / 2) ** 2
            + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
        )
        return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    return np.hypot(a[..., 0] - b[..., 0], a[..., 1] - b[..., 1])


def reach_areas(
    xy: np.ndarray, radii: np.ndarray, mode: str, crs: CRS, n_vertices: int = 64
) -> gpd.GeoSeries:
    """Areas within reach of points: planar discs, or geodesic circles for ``haversine``.

    Parameters
    ----------
    xy : ndarray (n, 2)
        Centres in the working CRS.
    radii : ndarray (n,)
        Reach in metres (minutes for a NetworkTravel).
    mode : {"planar", "haversine"} or NetworkTravel
        A :class:`netplan.roads.NetworkTravel` draws drive-time service areas instead.
    crs : pyproj.CRS
        The working CRS of ``xy``; the result is in the same CRS.
    """
    xy = np.asarray(xy, dtype=float)
    radii = np.broadcast_to(np.asarray(radii, dtype=float), (len(xy),))
    if not isinstance(mode, str):  # a NetworkTravel: the area each outlet is reached from by road
        return gpd.GeoSeries(mode.service_areas(xy, radii), crs=crs)
    if mode != "haversine":
        points = shapely.points(xy)
        return gpd.GeoSeries(shapely.buffer(points, radii, quad_segs=16), crs=crs)
    # geodesic circle: walk the sphere from each centre at evenly spaced azimuths
    az = np.linspace(0.0, 360.0, n_vertices, endpoint=False)
    lon0 = np.repeat(xy[:, 0], n_vertices)
    lat0 = np.repeat(xy[:, 1], n_vertices)
    dist = np.repeat(radii, n_vertices)
    lon, lat, _ = _SPHERE.fwd(lon0, lat0, np.tile(az, len(xy)), dist)
    ring = np.stack([lon, lat], axis=1).reshape(len(xy), n_vertices, 2)
    return gpd.GeoSeries([Polygon(r) for r in ring], crs=crs)


def to_wgs84(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The frame in EPSG:4326 (for maps and GeoJSON)."""
    if frame.crs is not None and CRS.from_user_input(frame.crs).equals(WGS84):
        return frame
    return frame.to_crs(WGS84)


def grid_cells(xy: np.ndarray, size: float) -> tuple[np.ndarray, np.ndarray]:
    """Square grid cell of each point: integer cell keys ``(n, 2)`` and cell origin ``(n, 2)``."""
    keys = np.floor(np.asarray(xy) / size).astype(np.int64)
    return keys, keys.astype(float) * size


def cell_polygons(origins: np.ndarray, size: float) -> np.ndarray:
    """Square polygons of side ``size`` with lower-left corners ``origins``.

    Parameters
    ----------
    origins : ndarray (n, 2)
        Lower-left corner x, y of each cell.
    size : float
        Side of a cell, in the units of ``origins``.

    Returns
    -------
    ndarray (n,) of shapely.Polygon
        One counter-clockwise square per row of ``origins``, in the same order.
    """
    origins = np.asarray(origins, dtype=float).reshape(-1, 2)
    x, y = origins[:, 0], origins[:, 1]
    return shapely.box(x, y, x + size, y + size)


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, qs: list[float]) -> list[float]:
    """Weighted quantiles of ``values``: the lower value where the cumulative weight reaches q.

    Parameters
    ----------
    values : ndarray (n,)
        Values; non-finite ones (unreachable demand) are left out.
    weights : ndarray (n,)
        Non-negative weights; rows of weight 0 are left out.
    qs : list of float
        Quantiles in [0, 1].

    Returns
    -------
    list of float
        One value per ``q``: the smallest value whose share of the total weight at or below it
        is at least ``q`` (numpy's ``inverted_cdf``: a cumulative weight exactly at ``q``
        gives the lower value); NaN for every ``q`` when no weight is left.
    """
    values = np.asarray(values, dtype=float)
    weights = np.asarray(weights, dtype=float)
    keep = np.isfinite(values) & (weights > 0)
    if not keep.any():  # np.quantile refuses a total weight of 0
        return [float("nan")] * len(qs)
    found = np.quantile(values[keep], qs, weights=weights[keep], method="inverted_cdf")
    return [float(v) for v in found]


def as_series(values: np.ndarray, index: pd.Index) -> pd.Series:
    return pd.Series(values, index=index)
