"""Gap and overlap cells: demand aggregated on a square grid, and their coloured map layers."""

from __future__ import annotations

from collections.abc import Callable

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from netplan.present.formats import money
from netplan.present.i18n import translator
from netplan.present.map_coords import in_metres
from netplan.present.map_layers import add_shapes, tips
from netplan.travel.geometry import cell_polygons, grid_cells, point_coords

GAP_COLOURS = ["#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15"]
# overlap cells by how many outlets cover their demand: 2, 3, 4 or more
OVERLAP_COUNT_COLOURS = ["#9e9ac8", "#6a51a3", "#3f007d"]
OVERLAP_COUNT_LABELS = ["2", "3", "4+"]
# at most this many cells per gap or overlap layer: a coarser grid beyond it keeps the page
# small and fast whatever the number of customers (about 0.35 kB per cell)
MAX_CELLS = 3000


def cell_size(reach: float, unit: str) -> float:
    """Side in metres of the cells of a level: half its reach, between 500 m and 5 km.

    Parameters
    ----------
    reach : float
        The level's reach, in metres or minutes (about 30 km/h).
    unit : str
        ``"m"`` or ``"min"``.

    Returns
    -------
    float
    """
    metres = reach if unit == "m" else reach * 500.0  # minutes: about 30 km/h
    return float(np.clip(metres / 2.0, 500.0, 5000.0))


def _cell_keys(xy: np.ndarray, size: float, max_cells: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Grid cell of each point; the cell side doubles until at most ``max_cells`` cells are used."""
    while True:
        keys, origins = grid_cells(xy, size)
        if len(keys) == 0 or len(np.unique(keys, axis=0)) <= max_cells:
            return keys, origins, size
        size *= 2.0


def demand_cells(
    points: gpd.GeoDataFrame,
    values: np.ndarray,
    size: float,
    agg: str = "sum",
    max_cells: int = MAX_CELLS,
) -> gpd.GeoDataFrame:
    """Aggregate point values onto square cells of ``size`` metres (in a metric CRS).

    Cells are doubled in size until there are at most ``max_cells``, so a layer never grows
    with the number of customers (only with the area they spread over, up to the cap).

    Parameters
    ----------
    points : GeoDataFrame
        Demand points in any CRS.
    values : ndarray
        One value per point (e.g. its weight).
    size : float
        Cell side in metres.
    agg : str
        How the values of a cell combine (a pandas aggregation name).
    max_cells : int
        At most this many cells.

    Returns
    -------
    GeoDataFrame
        One row per cell: ``value`` and ``count`` (points), square geometries in the metric CRS.
    """
    if points.empty:
        return gpd.GeoDataFrame({"value": [], "count": []}, geometry=[], crs=points.crs)
    metric = in_metres(points)
    keys, origins, size = _cell_keys(point_coords(metric.geometry), size, max_cells)
    frame = pd.DataFrame(
        {"kx": keys[:, 0], "ky": keys[:, 1], "v": values, "ox": origins[:, 0], "oy": origins[:, 1]}
    )
    g = (
        frame.groupby(["kx", "ky"], sort=True)
        .agg(value=("v", agg), count=("v", "size"), ox=("ox", "first"), oy=("oy", "first"))
        .reset_index()
    )
    return gpd.GeoDataFrame(
        g[["value", "count"]],
        geometry=cell_polygons(g[["ox", "oy"]].to_numpy(), size),
        crs=metric.crs,
    )


def overlap_cells(
    points: gpd.GeoDataFrame,
    weights: np.ndarray,
    n_covering: np.ndarray,
    size: float,
    max_cells: int = MAX_CELLS,
) -> gpd.GeoDataFrame:
    """Overlap demand on square cells, with how many outlets cover it.

    Parameters
    ----------
    points : GeoDataFrame
        Demand points covered twice or more (one level).
    weights, n_covering : ndarray
        Demand weight and number of covering outlets of each point (``n_covering >= 2``).
    size : float
        Cell side in metres (grown as in :func:`demand_cells` beyond ``max_cells`` cells).

    Returns
    -------
    GeoDataFrame
        One row per cell: ``value`` (overlap weight), ``count`` (points), ``w2``, ``w3``,
        ``w4`` (weight covered by exactly 2, 3, and 4 or more outlets), ``max_covering`` and
        ``cls`` (0, 1, 2 for 2, 3, 4+: the count class holding the weighted median).
    """
    cols = ["value", "count", "w2", "w3", "w4", "max_covering", "cls"]
    if points.empty:
        return gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs=points.crs)
    metric = in_metres(points)
    keys, origins, size = _cell_keys(point_coords(metric.geometry), size, max_cells)
    n = np.asarray(n_covering, dtype=np.int64)
    w = np.asarray(weights, dtype=float)
    frame = pd.DataFrame(
        {
            "kx": keys[:, 0],
            "ky": keys[:, 1],
            "v": w,
            "w2": np.where(n == 2, w, 0.0),
            "w3": np.where(n == 3, w, 0.0),
            "w4": np.where(n >= 4, w, 0.0),
            "n": n,
            "ox": origins[:, 0],
            "oy": origins[:, 1],
        }
    )
    g = (
        frame.groupby(["kx", "ky"], sort=True)
        .agg(
            value=("v", "sum"),
            count=("v", "size"),
            w2=("w2", "sum"),
            w3=("w3", "sum"),
            w4=("w4", "sum"),
            max_covering=("n", "max"),
            ox=("ox", "first"),
            oy=("oy", "first"),
        )
        .reset_index()
    )
    # weighted median class: the first class whose cumulative weight reaches half the cell's
    cum = np.cumsum(g[["w2", "w3", "w4"]].to_numpy(), axis=1)
    g["cls"] = np.argmax(cum >= 0.5 * g["value"].to_numpy()[:, None] - 1e-9, axis=1)
    return gpd.GeoDataFrame(
        g[cols], geometry=cell_polygons(g[["ox", "oy"]].to_numpy(), size), crs=metric.crs
    )


def _classes(values: np.ndarray, n: int, scale: tuple[float, float] | None = None) -> np.ndarray:
    """Class (0..n-1) of each value on a logarithmic scale between the smallest and largest value
    (or ``scale``: (smallest, largest), shared by layers compared side by side).

    Logarithmic, because demand per cell spans orders of magnitude between a city and the
    countryside: quantile classes would paint a single rural customer as dark as a suburb.
    """
    values = np.asarray(values, dtype=float)
    if len(values) == 0:
        return np.zeros(0, dtype=int)
    low, high = (values.min(), values.max()) if scale is None else scale
    lo, hi = np.log10(max(low, 1e-9)), np.log10(max(high, 1e-9))
    if hi - lo < 1e-12:
        return np.full(len(values), n - 1)
    pos = (np.log10(np.maximum(values, 1e-9)) - lo) / (hi - lo)
    return np.minimum((pos * n).astype(int), n - 1)


def gap_tip(label: str, locale: str = "en") -> Callable[[str, int], str]:
    """The tooltip of a gap cell of one level, for :func:`add_cells`.

    Parameters
    ----------
    label : str
        The level's name, as plain text (the template escapes it).
    locale : str
        ``"en"`` or ``"zh-CN"``.

    Returns
    -------
    callable
        ``tip(value_text, points)`` → the tooltip's HTML.
    """
    macro = tips().gap_tip
    _ = translator(locale)
    return lambda value, points: str(macro(label, value, points, _))


def add_cells(
    group: folium.FeatureGroup,
    cells: gpd.GeoDataFrame,
    colours: list[str],
    tip: Callable[[str, int], str],
    centre: float = 0.0,
    scale: tuple[float, float] | None = None,
) -> None:
    """Cells coloured by class of value, each with a tooltip.

    Parameters
    ----------
    group : folium.FeatureGroup
        The layer to draw into.
    cells : GeoDataFrame
        From :func:`demand_cells`.
    colours : list of str
        The colour ramp, lightest (least demand) first.
    tip : callable
        ``tip(value_text, points)`` gives each tooltip's HTML (a function, not a format
        string: a name holding ``{`` must not be read as a field), e.g. :func:`gap_tip`.
    centre : float
        Longitude to unwrap around.
    scale : (float, float), optional
        Smallest and largest value of the colour ramp (default: this layer's own), so that
        layers shown one after the other (a roadmap's phases) colour alike.
    """
    if cells.empty:
        return
    cls = _classes(cells["value"].to_numpy(), len(colours), scale)
    props = [
        {
            "_tip": tip(money(v), int(c)),
            "_style": {
                "fillColor": colours[int(k)],
                "color": colours[int(k)],
                "weight": 0.5,
                "fillOpacity": round(0.3 + 0.45 * int(k) / max(len(colours) - 1, 1), 2),
            },
        }
        for v, c, k in zip(cells["value"], cells["count"], cls, strict=True)
    ]
    add_shapes(group, cells.geometry, props, centre=centre)


def add_overlap_cells(
    group: folium.FeatureGroup,
    cells: gpd.GeoDataFrame,
    label: str,
    centre: float = 0.0,
    locale: str = "en",
) -> None:
    """Overlap cells coloured by the number of covering outlets (2, 3, 4+); darker = more demand.

    Parameters
    ----------
    group : folium.FeatureGroup
        The layer to draw into.
    cells : GeoDataFrame
        From :func:`overlap_cells`.
    label : str
        The level's name, as plain text (the tooltip template escapes it).
    centre : float
        Longitude to unwrap around.
    locale : str
        ``"en"`` or ``"zh-CN"``.
    """
    if cells.empty:
        return
    _ = translator(locale)
    strength = _classes(cells["value"].to_numpy(), 4)
    macro = tips().overlap_tip
    props = []
    for r, k in zip(cells.itertuples(), strength, strict=True):
        colour = OVERLAP_COUNT_COLOURS[int(r.cls)]
        parts = [
            (lab, money(v))
            for lab, v in zip(OVERLAP_COUNT_LABELS, (r.w2, r.w3, r.w4), strict=True)
            if v > 0
        ]
        props.append(
            {
                "_tip": str(macro(label, money(r.value), int(r.count), parts, int(r.max_covering), _)),
                "_style": {
                    "fillColor": colour,
                    "color": colour,
                    "weight": 0.5,
                    "fillOpacity": round(0.3 + 0.15 * int(k), 2),
                },
            }
        )
    add_shapes(group, cells.geometry, props, centre=centre)
