"""Coordinates for drawing: longitudes unwrapped across ±180°, the data's view, metres for cells.

Longitudes are unwrapped around the data's centre (:func:`lon_centre`), so a network that
straddles the antimeridian (Fiji, Chukotka) draws as one piece: a cell or reach area crossing
±180° stays a small polygon instead of spanning the world, and the view fits the data.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from netplan.travel.geometry import to_wgs84


def lon_centre(lon: np.ndarray) -> float:
    """Centre of the shortest arc of longitude holding every point (the arc may cross ±180°).

    Parameters
    ----------
    lon : ndarray
        Longitudes in degrees (non-finite values are ignored).

    Returns
    -------
    float
        Degrees in [-180, 180); 0 when there is no finite longitude.
    """
    lon = np.asarray(lon, dtype=float)
    lon = lon[np.isfinite(lon)]
    if len(lon) == 0:
        return 0.0
    x = np.sort((lon + 180.0) % 360.0 - 180.0)
    gaps = np.diff(np.append(x, x[0] + 360.0))  # the gap after each point; the last wraps round
    widest = int(np.argmax(gaps))  # the data lie on the arc outside the widest gap
    start = x[(widest + 1) % len(x)]
    centre = start + (360.0 - gaps[widest]) / 2.0
    return float((centre + 180.0) % 360.0 - 180.0)


def unwrap_lon(geoms: np.ndarray, centre: float) -> np.ndarray:
    """Longitude/latitude geometries with each longitude moved by whole turns to within 180° of
    ``centre`` (a longitude already there is left exactly as it is).

    Leaflet draws longitudes beyond ±180 on the neighbouring copy of the world, so a polygon
    whose corners lie on both sides of the antimeridian stays small and the view can fit data
    on both sides.

    Parameters
    ----------
    geoms : ndarray of shapely geometries
        In EPSG:4326.
    centre : float
        Longitude to unwrap around, e.g. :func:`lon_centre` of the data.

    Returns
    -------
    ndarray of shapely geometries
    """

    def shift(xy: np.ndarray) -> np.ndarray:
        off = xy[:, 0] - centre
        far = np.abs(off) > 180.0
        if far.any():
            xy = xy.copy()
            xy[far, 0] = centre + (off[far] + 180.0) % 360.0 - 180.0
        return xy

    return shapely.transform(np.asarray(geoms, dtype=object), shift)


def unwrapped_wgs84(geoms: gpd.GeoSeries, centre: float) -> np.ndarray:
    """Geometries in EPSG:4326 with longitudes unwrapped around ``centre``.

    Parameters
    ----------
    geoms : GeoSeries
        In any CRS.
    centre : float
        See :func:`unwrap_lon`.

    Returns
    -------
    ndarray of shapely geometries
    """
    wgs = to_wgs84(gpd.GeoDataFrame(geometry=geoms.reset_index(drop=True), crs=geoms.crs))
    return unwrap_lon(wgs.geometry.to_numpy(), centre)


def data_view(*layers: gpd.GeoSeries) -> tuple[float, tuple[float, float, float, float]]:
    """Centre longitude and unwrapped bounds (minx, miny, maxx, maxy) of the given layers.

    Parameters
    ----------
    *layers : GeoSeries
        Geometries in any CRS; empty layers are skipped.

    Returns
    -------
    centre : float
        See :func:`lon_centre`.
    bounds : tuple of float
        In degrees, longitudes unwrapped around ``centre`` (may pass ±180); a box around
        Europe when every layer is empty.
    """
    parts = [
        to_wgs84(gpd.GeoDataFrame(geometry=g.reset_index(drop=True), crs=g.crs)).geometry
        for g in layers
        if len(g)
    ]
    parts = [g[~(g.is_empty | g.isna())] for g in parts]
    parts = [g for g in parts if len(g)]
    if not parts:
        return 0.0, (-10.0, 35.0, 30.0, 60.0)
    coords = np.concatenate([shapely.get_coordinates(g.to_numpy()) for g in parts])
    centre = lon_centre(coords[:, 0])
    bounds = shapely.total_bounds(unwrap_lon(np.concatenate([g.to_numpy() for g in parts]), centre))
    return centre, tuple(float(v) for v in bounds)


def in_metres(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The frame in a metric CRS for drawing cells: as it is when projected, else in its UTM
    zone, else (beyond 84° N or 80° S, where there is none) in an azimuthal equidistant
    projection centred on the data.

    Parameters
    ----------
    frame : GeoDataFrame
        Non-empty, with a CRS.

    Returns
    -------
    GeoDataFrame
    """
    if frame.crs.is_projected:
        return frame
    try:
        return frame.to_crs(frame.estimate_utm_crs())
    except RuntimeError:  # pyproj: "Unable to determine UTM CRS"
        xy = shapely.get_coordinates(to_wgs84(frame).geometry.to_numpy())
        lon0, lat0 = lon_centre(xy[:, 0]), float(np.mean(xy[:, 1]))
        return frame.to_crs(f"+proj=aeqd +lat_0={lat0} +lon_0={lon0} +datum=WGS84 +units=m")
