"""The exported map: one self-contained HTML file that opens offline.

Built with folium, then made self-contained: Leaflet's JavaScript and CSS (from the npm
package ``leaflet``, BSD-2-Clause, kept in ``netplan/present/_assets``) are inlined, its images
become data URIs, and nothing else is loaded — no jQuery, Bootstrap or icon fonts. Outlet
symbols are inline SVG. Map tiles are an optional base layer; the default background is
plain, so the data layers draw with the network off.

Every text that comes from the user (tier, site, region and scenario names, …) is HTML-escaped
before it reaches the page, also where Leaflet renders it as HTML: layer-control labels,
tooltips, popups, the KPI box and the legend (see :mod:`netplan.present.markup`).

Longitudes are unwrapped around the data's centre (:func:`lon_centre`), so a network that
straddles the antimeridian (Fiji, Chukotka) draws as one piece: a cell or reach area crossing
±180° stays a small polygon instead of spanning the world, and the view fits the data.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from jinja2 import Template

from netplan.present.markup import html_text, script_json
from netplan.travel.geometry import cell_polygons, grid_cells, point_coords, reach_areas, to_wgs84
from netplan.roads.network import data_attribution_html

ASSETS = Path(__file__).resolve().parent / "_assets"
_LEAFLET_JS = "netplan-inline:leaflet.js"
_LEAFLET_CSS = "netplan-inline:leaflet.css"

TIER_COLOURS = ["#b2182b", "#2166ac", "#1b7837", "#762a83", "#e08214"]
TIER_SHAPES = ["square", "diamond", "circle", "triangle", "circle"]
TIER_SIZES = [22, 18, 14, 13, 12]
GAP_COLOURS = ["#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15"]
# overlap cells by how many outlets cover their demand: 2, 3, 4 or more
OVERLAP_COUNT_COLOURS = ["#9e9ac8", "#6a51a3", "#3f007d"]
OVERLAP_COUNT_LABELS = ["2", "3", "4+"]
# at most this many cells per gap or overlap layer: a coarser grid beyond it keeps the page
# small and fast whatever the number of customers (about 0.35 kB per cell)
MAX_CELLS = 3000
ACTION_LABELS = {"keep": "kept", "open": "new", "retier": "re-tiered", "close": "closed"}


# ----------------------------------------------------------------------- symbols
def symbol_svg(shape: str, colour: str, size: int, action: str = "keep") -> str:
    """Inline SVG of an outlet symbol: the shape and colour say the tier, the mark says the action.

    keep: plain; open (new): a white plus inside; retier: thick dashed outline; close: hollow,
    grey outline with a cross in the tier's colour.
    """
    s = size
    stroke, width, dash, fill = "#1a1a1a", 1.2, "", colour
    if action == "retier":
        width, dash = 2.2, ' stroke-dasharray="3,2"'
    elif action == "close":
        fill, stroke, width = "#ffffff", "#777777", 1.5
    pad = width / 2 + 0.5
    inner = s - 2 * pad
    if shape == "square":
        body = f'<rect x="{pad}" y="{pad}" width="{inner}" height="{inner}"'
    elif shape == "diamond":
        c = s / 2
        body = f'<polygon points="{c},{pad} {s - pad},{c} {c},{s - pad} {pad},{c}"'
    elif shape == "triangle":
        body = f'<polygon points="{s / 2},{pad} {s - pad},{s - pad} {pad},{s - pad}"'
    else:
        body = f'<circle cx="{s / 2}" cy="{s / 2}" r="{inner / 2}"'
    body += f' fill="{fill}" stroke="{stroke}" stroke-width="{width}"{dash}/>'
    mark = ""
    c, arm = s / 2, max(s * 0.26, 2.5)
    if action == "open":
        mark = f'<path d="M{c - arm},{c} H{c + arm} M{c},{c - arm} V{c + arm}" stroke="#ffffff" stroke-width="{max(s / 7, 1.8):.1f}"/>'
    elif action == "close":
        mark = f'<path d="M{c - arm},{c - arm} L{c + arm},{c + arm} M{c + arm},{c - arm} L{c - arm},{c + arm}" stroke="{colour}" stroke-width="2"/>'
    return f'<svg xmlns="http://www.w3.org/2000/svg" width="{s}" height="{s}" viewBox="0 0 {s} {s}">{body}{mark}</svg>'


def _tier_style(k: int) -> tuple[str, str, int]:
    return (
        TIER_COLOURS[k % len(TIER_COLOURS)],
        TIER_SHAPES[k % len(TIER_SHAPES)],
        TIER_SIZES[min(k, len(TIER_SIZES) - 1)],
    )


_esc = html_text  # every user-given text on the page goes through this


def _money(value: float) -> str:
    return f"{value:,.0f}"


def _dist(value: float, unit: str) -> str:
    if value is None or not np.isfinite(value):
        return "n/a"
    if unit == "m":
        return f"{value / 1000:.1f} km"
    return f"{value:.1f} min"


# ---------------------------------------------------------------- longitudes
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


def _wgs(geoms: gpd.GeoSeries, centre: float) -> np.ndarray:
    """Geometries in EPSG:4326 with longitudes unwrapped around ``centre``."""
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


# ------------------------------------------------------------------------ layers
_BIND = folium.JsCode(
    """function(feature, layer) {
        if (feature.properties._popup) { layer.bindPopup(feature.properties._popup, {maxWidth: 340}); }
        if (feature.properties._tip) { layer.bindTooltip(feature.properties._tip, {sticky: true}); }
    }"""
)


def _points_geojson(
    frame: gpd.GeoDataFrame, popups: list[str], tips: list[str], centre: float = 0.0
) -> dict:
    """Points as GeoJSON with their popup and tooltip HTML (already escaped by the caller)."""
    wgs = _wgs(frame.geometry, centre)
    xy = np.column_stack([shapely.get_x(wgs), shapely.get_y(wgs)])
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [round(float(x), 6), round(float(y), 6)]},
            "properties": {"_popup": p, "_tip": t},
        }
        for (x, y), p, t in zip(xy, popups, tips, strict=True)
    ]
    return {"type": "FeatureCollection", "features": features}


def _shapes_geojson(geoms: gpd.GeoSeries, props: list[dict], centre: float = 0.0) -> dict:
    wgs = shapely.set_precision(_wgs(geoms, centre), 1e-6)
    features = [
        {"type": "Feature", "geometry": json.loads(shapely.to_geojson(g)), "properties": p}
        for g, p in zip(wgs, props, strict=True)
        if g is not None and not g.is_empty
    ]
    return {"type": "FeatureCollection", "features": features}


def _add_shapes(
    group: folium.FeatureGroup,
    geoms: gpd.GeoSeries,
    props: list[dict],
    style: dict | None = None,
    centre: float = 0.0,
) -> None:
    """Polygons or lines as one GeoJSON layer with popups/tooltips; the style is shared, or per
    feature from each ``props[i]["_style"]`` when ``style`` is None; longitudes unwrapped
    around ``centre``."""
    if style is None:
        style_function = lambda f: f["properties"]["_style"]  # noqa: E731
    else:
        style_function = lambda f, fixed=style: fixed  # noqa: E731
    folium.GeoJson(
        _shapes_geojson(geoms, props, centre),
        style_function=style_function,
        on_each_feature=_BIND,
        control=False,
    ).add_to(group)


def _outlet_popup(row: pd.Series, unit: str, horizon: float) -> str:
    facts = [
        ("Site", row["site_id"]),
        ("Tier", row.get("tier_name") or row.get("tier") or "closed"),
        ("Action", ACTION_LABELS.get(row.get("action", ""), row.get("action", ""))),
        ("Today", row.get("current_tier") or "new site"),
        ("Ownership", row.get("ownership", "")),
        ("Region", row.get("region", "")),
        (
            f"Cost ({horizon:g} y)",
            _money(row["cost"]) if "cost" in row and np.isfinite(row["cost"]) else "",
        ),
        (
            "Demand in reach",
            _money(row["demand_in_reach"])
            if "demand_in_reach" in row and np.isfinite(row["demand_in_reach"])
            else "",
        ),
        ("Supported by", row.get("supporting_outlet", "") or ("—" if row.get("tier") else "")),
        (
            "Support distance",
            _dist(row["support_distance"], unit)
            if np.isfinite(row.get("support_distance", np.nan))
            else "",
        ),
    ]
    rows = "".join(
        f"<tr><th>{_esc(k)}</th><td>{_esc(v)}</td></tr>" for k, v in facts if v not in ("", None)
    )
    return f'<div class="np-popup"><b>{_esc(row["name"])}</b><table>{rows}</table></div>'


def _add_outlets(
    group: folium.FeatureGroup,
    frame: gpd.GeoDataFrame,
    k: int,
    action: str,
    unit: str,
    horizon: float,
    grey: bool = False,
    centre: float = 0.0,
) -> None:
    if frame.empty:
        return
    colour, shape, size = _tier_style(k)
    if grey:
        colour = "#8c8c8c"
    svg = symbol_svg(shape, colour, size, action)
    popups = [_outlet_popup(r, unit, horizon) for _, r in frame.iterrows()]
    tips = [
        f"{_esc(r['name'])} · {_esc(ACTION_LABELS.get(action, action))}"
        for _, r in frame.iterrows()
    ]
    icon = folium.DivIcon(
        html=svg, icon_size=(size, size), icon_anchor=(size // 2, size // 2), class_name="np-icon"
    )
    folium.GeoJson(
        _points_geojson(frame, popups, tips, centre),
        marker=folium.Marker(icon=icon),
        on_each_feature=_BIND,
        name=None,
        control=False,
    ).add_to(group)


def _cell_keys(xy: np.ndarray, size: float, max_cells: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Grid cell of each point; the cell side doubles until at most ``max_cells`` cells are used."""
    while True:
        keys, origins = grid_cells(xy, size)
        if len(keys) == 0 or len(np.unique(keys, axis=0)) <= max_cells:
            return keys, origins, size
        size *= 2.0


def _cells(
    points: gpd.GeoDataFrame,
    values: np.ndarray,
    size: float,
    agg: str = "sum",
    max_cells: int = MAX_CELLS,
) -> gpd.GeoDataFrame:
    """Aggregate point values onto square cells of ``size`` metres (in a metric CRS).

    Cells are doubled in size until there are at most ``max_cells``, so a layer never grows
    with the number of customers (only with the area they spread over, up to the cap).
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
        Cell side in metres (grown as in :func:`_cells` beyond ``max_cells`` cells).

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


def _classes(values: np.ndarray, n: int) -> np.ndarray:
    """Class (0..n-1) of each value on a logarithmic scale between the smallest and largest value.

    Logarithmic, because demand per cell spans orders of magnitude between a city and the
    countryside: quantile classes would paint a single rural customer as dark as a suburb.
    """
    values = np.asarray(values, dtype=float)
    if len(values) == 0:
        return np.zeros(0, dtype=int)
    lo, hi = np.log10(max(values.min(), 1e-9)), np.log10(max(values.max(), 1e-9))
    if hi - lo < 1e-12:
        return np.full(len(values), n - 1)
    pos = (np.log10(np.maximum(values, 1e-9)) - lo) / (hi - lo)
    return np.minimum((pos * n).astype(int), n - 1)


def _add_cells(
    group: folium.FeatureGroup,
    cells: gpd.GeoDataFrame,
    colours: list[str],
    tip: Callable[[str, int], str],
    centre: float = 0.0,
) -> None:
    """Cells coloured by class of value; ``tip(value_text, points)`` gives each tooltip's HTML
    (a function, not a format string: a name holding ``{`` must not be read as a field)."""
    if cells.empty:
        return
    cls = _classes(cells["value"].to_numpy(), len(colours))
    props = [
        {
            "_tip": tip(_money(v), int(c)),
            "_style": {
                "fillColor": colours[int(k)],
                "color": colours[int(k)],
                "weight": 0.5,
                "fillOpacity": round(0.3 + 0.45 * int(k) / max(len(colours) - 1, 1), 2),
            },
        }
        for v, c, k in zip(cells["value"], cells["count"], cls, strict=True)
    ]
    _add_shapes(group, cells.geometry, props, centre=centre)


def _add_overlap_cells(
    group: folium.FeatureGroup, cells: gpd.GeoDataFrame, label: str, centre: float = 0.0
) -> None:
    """Overlap cells coloured by the number of covering outlets (2, 3, 4+); darker = more demand.

    ``label`` is HTML (escaped by the caller)."""
    if cells.empty:
        return
    strength = _classes(cells["value"].to_numpy(), 4)
    props = []
    for r, k in zip(cells.itertuples(), strength, strict=True):
        colour = OVERLAP_COUNT_COLOURS[int(r.cls)]
        parts = [
            f"by {lab} outlets: {_money(v)}"
            for lab, v in zip(OVERLAP_COUNT_LABELS, (r.w2, r.w3, r.w4), strict=True)
            if v > 0
        ]
        props.append(
            {
                "_tip": f"{label}: {_money(r.value)} demand covered 2+ times ({int(r.count)} points)"
                f"<br>{' · '.join(parts)} (at most {int(r.max_covering)} outlets)",
                "_style": {
                    "fillColor": colour,
                    "color": colour,
                    "weight": 0.5,
                    "fillOpacity": round(0.3 + 0.15 * int(k), 2),
                },
            }
        )
    _add_shapes(group, cells.geometry, props, centre=centre)


def _cell_size(reach: float, unit: str) -> float:
    metres = reach if unit == "m" else reach * 500.0  # minutes: about 30 km/h
    return float(np.clip(metres / 2.0, 500.0, 5000.0))


# ----------------------------------------------------------------------- panels
def kpi_panel(result) -> str:
    """HTML of the KPI box: coverage per level today → plan, cost, outlets per tier, solver record."""
    scenario, plan = result.scenario, result.plan
    kpis = result.kpi_table()
    kpis = kpis[kpis["region"] == "all"]
    rows = "".join(
        f'<tr><td>{_esc(r.level_name)}</td><td class="num">{r.covered_pct_baseline:.1f}</td><td class="num">{r.covered_pct_plan:.1f}</td>'
        f'<td class="num">{r.covered_pct_delta:+.1f}</td></tr>'
        for r in kpis.itertuples()
    )
    base_cost = plan.budget.get("baseline_cost")
    cost = plan.cost()["total"]
    counts = plan.counts()
    current = plan.inputs.current_tier
    outlet_rows = "".join(
        f'<tr><td>{_esc(label)}</td><td class="num">{int((current == k).sum())}</td><td class="num">{int((plan.tiers == k).sum())}</td>'
        f'<td class="num">{int(counts.loc[key, "open"])}</td><td class="num">{int(counts.loc[key, "close"])}</td><td class="num">{int(counts.loc[key, "retier"])}</td></tr>'
        for k, (key, label) in enumerate(zip(scenario.tier_keys, scenario.tier_labels, strict=True))
    )
    rec = plan.solver_record()
    gap = rec["gap"]
    status = f"{_esc(rec['status'])} · gap {gap:.2g}" if gap is not None else _esc(rec["status"])
    return f"""
<div id="np-kpi" class="np-panel">
  <div class="np-title">{_esc(scenario.name)}: today → plan</div>
  <table class="np-kpi-table">
    <tr><th>Coverage %</th><th>today</th><th>plan</th><th>Δ</th></tr>
    {rows}
  </table>
  <div class="np-cost">Cost ({scenario.costs.horizon_years:g} y): {_money(base_cost) if base_cost is not None else "n/a"} → <b>{_money(cost)}</b></div>
  <table class="np-kpi-table">
    <tr><th>Outlets</th><th>today</th><th>plan</th><th>new</th><th>closed</th><th>re-tiered in</th></tr>
    {outlet_rows}
  </table>
  <div class="np-solver">Solver: {_esc(rec["solver"])} {_esc(rec["version"])} · {status} · {rec["seconds"]:.1f} s</div>
</div>"""


def legend_panel(scenario) -> str:
    items = []
    for k, label in enumerate(scenario.tier_labels):
        colour, shape, size = _tier_style(k)
        items.append(f"<div>{symbol_svg(shape, colour, size)} {_esc(label)}</div>")
    for action in ("keep", "open", "retier", "close"):
        items.append(
            f"<div>{symbol_svg('circle', '#7f7f7f', 14, action)} {ACTION_LABELS[action]}</div>"
        )
    ramp = "".join(f'<span style="background:{c}"></span>' for c in GAP_COLOURS)
    ramp2 = " ".join(
        f'<span style="background:{c}"></span>{n}'
        for c, n in zip(OVERLAP_COUNT_COLOURS, OVERLAP_COUNT_LABELS, strict=True)
    )
    items.append(f'<div class="np-ramp">{ramp} uncovered demand per cell (gap), few → many</div>')
    items.append(
        f'<div class="np-ramp">{ramp2} outlets covering a cell (overlap; darker = more demand)</div>'
    )
    items.append('<div><span class="np-line"></span> outlet → supporting outlet</div>')
    return f'<div id="np-legend" class="np-panel">{"".join(items)}</div>'


_CSS = """
<style>
.leaflet-container { background: #eef0f2; font: 12px/1.35 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }
.np-icon { background: none; border: none; }
.np-panel { position: absolute; z-index: 1000; background: rgba(255,255,255,0.94); padding: 8px 10px;
  border-radius: 6px; box-shadow: 0 1px 5px rgba(0,0,0,0.35); font: 12px/1.35 system-ui, Arial, sans-serif; }
#np-kpi { left: 10px; top: 84px; max-width: 340px; }
#np-legend { right: 10px; bottom: 22px; }
#np-legend svg { vertical-align: middle; }
.np-title { font-weight: 600; margin-bottom: 4px; }
.np-kpi-table { border-collapse: collapse; margin: 2px 0 6px; }
.np-kpi-table th, .np-kpi-table td { padding: 1px 6px; text-align: left; }
.np-kpi-table td.num { text-align: right; font-variant-numeric: tabular-nums; }
.np-kpi-table td.small { color: #555; font-size: 11px; }
.np-solver, .np-cost { color: #333; margin: 2px 0; }
.np-ramp span { display: inline-block; width: 12px; height: 10px; }
.np-line { display: inline-block; width: 22px; border-top: 2px dashed #444; vertical-align: middle; }
.leaflet-control-layers-expanded { max-height: 62vh; overflow-y: auto; font-size: 11.5px; line-height: 1.25; }
.np-popup table { border-collapse: collapse; }
.np-popup th { text-align: left; padding-right: 8px; color: #555; font-weight: normal; }
</style>
"""


# -------------------------------------------------------------------------- map
class FitData(MacroElement):
    """Fit the map to the data, clear of the KPI panel (left) and the layer control and legend
    (right); the side margins shrink to 30 % of the width each on a narrow screen (fixed
    margins wider than the map make Leaflet's zoom NaN)."""

    _template = Template(
        """
{% macro script(this, kwargs) %}
(function () {
    var map = {{ this._parent.get_name() }};
    var width = map.getSize().x;
    var left = Math.min({{ this.left }}, Math.floor(0.3 * width));
    var right = Math.min({{ this.right }}, Math.floor(0.3 * width));
    map.fitBounds({{ this.bounds }},
                  {paddingTopLeft: [left, 10], paddingBottomRight: [right, 10]});
})();
{% endmacro %}
"""
    )

    def __init__(self, bounds: tuple[float, float, float, float], left: int = 260, right: int = 240):
        super().__init__()
        self._name = "FitData"
        minx, miny, maxx, maxy = (float(v) for v in bounds)
        self.bounds = script_json([[miny, minx], [maxy, maxx]])
        self.left, self.right = int(left), int(right)


def layer_group(m: folium.Map, name: str, show: bool) -> folium.FeatureGroup:
    """A layer of the map's layer control, added to ``m``.

    Parameters
    ----------
    m : folium.Map
    name : str
        The label, as plain text: Leaflet renders labels as HTML, so it is escaped here.
    show : bool
        Whether the layer is on when the page opens.

    Returns
    -------
    folium.FeatureGroup
    """
    return folium.FeatureGroup(name=_esc(name), show=show).add_to(m)


def base_map(minx: float, miny: float, maxx: float, maxy: float) -> folium.Map:
    """An empty map centred on the bounds: inlined Leaflet, a plain background, optional tiles.

    The plain background is the default base layer, so the page needs no network; the
    OpenStreetMap tiles are a second base layer for when one is available. Longitudes may
    pass ±180 (see :func:`data_view`).
    """
    m = folium.Map(
        location=[(miny + maxy) / 2, (minx + maxx) / 2],
        zoom_start=9,
        tiles=None,
        control_scale=True,
        zoom_snap=0.25,
        zoom_delta=0.5,
    )
    m.default_js = [("leaflet", _LEAFLET_JS)]
    m.default_css = [("leaflet_css", _LEAFLET_CSS)]
    folium.FeatureGroup(name="Plain background", overlay=False, show=True).add_to(m)
    folium.TileLayer(
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        name="OpenStreetMap tiles (online)",
        attr="&copy; OpenStreetMap contributors",
        overlay=False,
        show=False,
        max_zoom=19,
    ).add_to(m)
    return m


def plan_map(result) -> folium.Map:
    """The folium map of a run: today's network and the plan, with every layer of DESIGN.md.

    Parameters
    ----------
    result : netplan.pipeline.RunResult

    Returns
    -------
    folium.Map
        Render it with :func:`render_offline` (or :func:`save_map`) to get a self-contained page.
    """
    scenario, plan, ev, base = result.scenario, result.plan, result.evaluation, result.baseline
    unit = scenario.unit
    horizon = scenario.costs.horizon_years
    centre, bounds = data_view(ev.demand.geometry)
    m = base_map(*bounds)

    # regions
    regions = plan.inputs.regions
    if regions is not None and len(regions):
        group = layer_group(m, "Regions", show=True)
        props = [{"_tip": f"Region {_esc(r)}"} for r in regions["region"]]
        _add_shapes(
            group,
            regions.geometry,
            props,
            {
                "fillColor": "#ffffff",
                "fillOpacity": 0.35,
                "color": "#555555",
                "weight": 1.5,
                "dashArray": "6,4",
            },
            centre,
        )

    # gaps and overlaps per level (plan and today), as coloured cells
    reach = scenario.reach_matrix
    for level, (key, label) in enumerate(
        zip(scenario.tier_keys, scenario.tier_labels, strict=True)
    ):
        size = _cell_size(reach[level, level], unit)
        for who, evaluation, default in (
            ("Plan", ev, level == scenario.n_tiers - 1),
            ("Today", base, False),
        ):
            gaps = evaluation.gaps()
            gaps = gaps[gaps["level"] == key]
            group = layer_group(
                m, f"{who} · gaps: {label} ({_money(gaps['weight'].sum())} uncovered)", default
            )
            html_label = _esc(label)
            _add_cells(
                group,
                _cells(gaps, gaps["weight"].to_numpy(), size),
                GAP_COLOURS,
                lambda v, n, lab=html_label: f"{lab}: {v} uncovered demand ({n} points)",
                centre,
            )
        for who, evaluation in (("Plan", ev), ("Today", base)):
            over = evaluation.overlaps()
            over = over[over["level"] == key]
            group = layer_group(
                m, f"{who} · overlaps: {label} ({_money(over['weight'].sum())} by 2+ outlets)", False
            )
            _add_overlap_cells(
                group,
                overlap_cells(over, over["weight"].to_numpy(), over["n_covering"].to_numpy(), size),
                _esc(label),
                centre,
            )

    # reach areas of the plan's outlets, one layer per tier
    open_out = ev.open_outlets
    tiers_of = open_out["tier"].map({k: i for i, k in enumerate(scenario.tier_keys)}).to_numpy()
    for k, label in enumerate(scenario.tier_labels):
        sel = open_out[tiers_of == k]
        group = layer_group(m, f"Plan · reach: {label} ({_dist(reach[k, k], unit)})", False)
        if len(sel):
            areas = reach_areas(
                point_coords(sel.geometry),
                np.full(len(sel), reach[k, k]),
                plan.inputs.travel or scenario.travel.mode,  # roads: drive-time service areas
                sel.crs,
            )
            colour = _tier_style(k)[0]
            props = [{"_tip": f"{_esc(n)}: {_esc(label)} reach"} for n in sel["name"]]
            _add_shapes(
                group,
                areas,
                props,
                {"fillColor": colour, "color": colour, "weight": 1, "fillOpacity": 0.08},
                centre,
            )

    # linkage lines
    for who, evaluation, show in (("Plan", ev, True), ("Today", base, False)):
        links = evaluation.links()
        group = layer_group(m, f"{who} · linkage to supporting outlet ({len(links)})", show)
        if len(links):
            props = [
                {"_tip": f"{_esc(a)} → {_esc(b)} ({_dist(d, unit)})"}
                for a, b, d in zip(
                    links["site_id"], links["supporting_outlet"], links["distance"], strict=True
                )
            ]
            _add_shapes(
                group,
                links.geometry,
                props,
                {"color": "#444444", "weight": 1.5, "dashArray": "5,4", "opacity": 0.8},
                centre,
            )

    # today's network (grey) and the plan's outlets by tier; closed outlets apart
    today = base.outlets
    group = layer_group(m, f"Today · outlets ({len(today)})", False)
    for k in range(scenario.n_tiers):
        sel = today[today["tier"] == scenario.tier_keys[k]]
        _add_outlets(group, sel, k, "keep", unit, horizon, grey=True, centre=centre)
    outlets = ev.outlets
    for k, (key, label) in enumerate(zip(scenario.tier_keys, scenario.tier_labels, strict=True)):
        sel = outlets[outlets["tier"] == key]
        group = layer_group(m, f"Plan · {label} ({len(sel)})", True)
        for action in ("keep", "retier", "open"):
            part = sel[sel["action"] == action]
            _add_outlets(group, part, k, action, unit, horizon, centre=centre)
    closed = outlets[outlets["action"] == "close"]
    group = layer_group(m, f"Plan · closed outlets ({len(closed)})", True)
    for k, key in enumerate(scenario.tier_keys):
        part = closed[closed["current_tier"] == key]
        _add_outlets(group, part, k, "close", unit, horizon, centre=centre)

    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    FitData(bounds).add_to(m)
    root = m.get_root()
    root.header.add_child(Element(_CSS))
    root.html.add_child(Element(kpi_panel(result)))
    root.html.add_child(Element(legend_panel(scenario)))
    root.html.add_child(Element(data_attribution_html(scenario)))
    title = f"netplan · {_esc(scenario.name)}"
    root.header.add_child(Element(f"<title>{title}</title>"))
    return m


def _data_uri(path: Path, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"


def render_offline(m: folium.Map) -> str:
    """Render a folium map to one self-contained HTML string (Leaflet inlined, no CDN)."""
    page = m.get_root().render()
    js = (ASSETS / "leaflet.js").read_text(encoding="utf-8")
    js = re.sub(r"//# sourceMappingURL=\S+", "", js)
    css = (ASSETS / "leaflet.css").read_text(encoding="utf-8")
    for name in ("layers.png", "layers-2x.png", "marker-icon.png"):
        css = css.replace(f"url(images/{name})", f"url({_data_uri(ASSETS / name, 'image/png')})")
    page = page.replace(f'<script src="{_LEAFLET_JS}"></script>', f"<script>{js}</script>")
    page = page.replace(f'<link rel="stylesheet" href="{_LEAFLET_CSS}"/>', f"<style>{css}</style>")
    leftover = re.findall(r'<(?:script|link)[^>]+(?:src|href)="(?!data:)[^"]+"', page)
    if leftover:
        raise RuntimeError(f"map still references external assets: {leftover[:3]}")
    return page


def save_map(m: folium.Map, path: str | Path) -> Path:
    """Write the self-contained map page to ``path``."""
    path = Path(path)
    path.write_text(render_offline(m), encoding="utf-8")
    return path
