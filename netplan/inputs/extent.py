"""The cross-layer check: points far outside the extent of the other layers (swapped lon/lat)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from netplan._errors import InputDataError
from netplan.inputs.columns import file_row, layer_name
from netplan.scenario import LayerSpec
from netplan.travel.geometry import point_coords


def check_layers_together(
    layers: dict[str, tuple[gpd.GeoDataFrame | None, LayerSpec | None]],
) -> None:
    """Refuse points that lie far outside the extent of the other point layers.

    Swapped longitude/latitude inside the valid range (e.g. (47.1, 9.5) for a place at
    9.5 E, 47.1 N) passes every per-layer check but moves a point thousands of kilometres away.
    A point is *far outside* when it lies beyond the extent of the other layers (their 0.5-99.5 %
    quantile box, so one bad point elsewhere does not widen it) by more than the larger of that
    box's diagonal and 1 degree (about 111 km).

    Parameters
    ----------
    layers : dict
        Scenario key -> (layer as read, its scenario entry); a layer or entry that is None,
        or a layer without CRS or rows, is left out.

    Raises
    ------
    InputDataError
        Naming the first far point: its file row, how far out it lies, and whether longitude
        and latitude look swapped.
    """
    wgs: dict[str, np.ndarray] = {}
    for key, (frame, spec) in layers.items():
        if frame is None or spec is None or frame.crs is None or not len(frame):
            continue
        geoms = frame.geometry
        if not geoms.geom_type.eq("Point").all():
            geoms = geoms.representative_point()
        wgs[key] = point_coords(geoms.to_crs(4326))
    for key, xy in wgs.items():
        others = [v for k, v in wgs.items() if k != key]
        if not others:
            continue
        ref = np.vstack(others)
        ref = ref[np.isfinite(ref).all(axis=1)]
        if not len(ref):
            continue
        lo, hi = np.quantile(ref, 0.005, axis=0), np.quantile(ref, 0.995, axis=0)
        pad = max(float(np.hypot(*(hi - lo))), 1.0)
        lo, hi = lo - pad, hi + pad
        far = np.flatnonzero(((xy < lo) | (xy > hi)).any(axis=1))
        if not len(far):
            continue
        row = int(far[0])
        x, y = xy[row]
        cx, cy = np.clip(x, lo[0] + pad, hi[0] - pad), np.clip(y, lo[1] + pad, hi[1] - pad)
        km = _great_circle_km(x, y, cx, cy)
        spec = layers[key][1]
        swapped = lo[0] <= y <= hi[0] and lo[1] <= x <= hi[1]
        hint = (
            "longitude and latitude look swapped; exchange the x and y columns"
            if swapped
            else "check its coordinates and the layer's CRS"
        )
        names = ", ".join(k for k in wgs if k != key)
        raise InputDataError(
            f"{layer_name(spec)}: row {file_row(spec, row)}: point ({x:.6g}, {y:.6g}) lies {km:,.0f} km outside the extent of the "
            f"other layers ({names}) ({len(far)} such rows); {hint}"
        )


def _great_circle_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    lon1, lat1, lon2, lat2 = np.radians([lon1, lat1, lon2, lat2])
    h = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    return float(2 * 6371.0088 * np.arcsin(np.sqrt(min(h, 1.0))))
