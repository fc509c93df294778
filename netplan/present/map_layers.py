"""The map's GeoJSON layers: outlets with their popups, and shapes (regions, reach areas, links).

Popups and tooltips are HTML that Leaflet renders; their markup is in the template
``map_tips.html``, which escapes every name. Layer-control labels are plain text escaped by
:func:`layer_group`.
"""

from __future__ import annotations

import json

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from netplan.present.formats import distance, money
from netplan.present.i18n import t
from netplan.present.map_coords import unwrapped_wgs84
from netplan.present.markup import html_text
from netplan.present.symbols import symbol_svg, tier_style
from netplan.present.templating import macros

# binds each feature's "_popup" and "_tip" property (HTML) to its layer
BIND = folium.JsCode(
    """function(feature, layer) {
        if (feature.properties._popup) { layer.bindPopup(feature.properties._popup, {maxWidth: 340}); }
        if (feature.properties._tip) { layer.bindTooltip(feature.properties._tip, {sticky: true}); }
    }"""
)


def tips():
    """The popup and tooltip macros of the template ``map_tips.html``.

    Returns
    -------
    module
        One callable per macro (``outlet_popup``, ``outlet_tip``, ``region_tip``, ``reach_tip``,
        ``link_tip``, ``gap_tip``, ``overlap_tip``), each returning HTML with every name escaped.
    """
    return macros("map_tips.html")


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
    return folium.FeatureGroup(name=html_text(name), show=show).add_to(m)


def points_geojson(
    frame: gpd.GeoDataFrame, popups: list[str], tips: list[str], centre: float = 0.0
) -> dict:
    """Points as GeoJSON with their popup and tooltip HTML (already escaped by the caller).

    Parameters
    ----------
    frame : GeoDataFrame
        Point geometries in any CRS.
    popups, tips : list of str
        One HTML text per point (``""``: none).
    centre : float
        Longitude to unwrap around (see :func:`netplan.present.map_coords.unwrap_lon`).

    Returns
    -------
    dict
        A GeoJSON FeatureCollection, coordinates rounded to 6 decimals.
    """
    wgs = unwrapped_wgs84(frame.geometry, centre)
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
    wgs = shapely.set_precision(unwrapped_wgs84(geoms, centre), 1e-6)
    features = [
        {"type": "Feature", "geometry": json.loads(shapely.to_geojson(g)), "properties": p}
        for g, p in zip(wgs, props, strict=True)
        if g is not None and not g.is_empty
    ]
    return {"type": "FeatureCollection", "features": features}


def add_shapes(
    group: folium.FeatureGroup,
    geoms: gpd.GeoSeries,
    props: list[dict],
    style: dict | None = None,
    centre: float = 0.0,
) -> None:
    """Polygons or lines as one GeoJSON layer with popups/tooltips.

    Parameters
    ----------
    group : folium.FeatureGroup
        The layer to draw into.
    geoms : GeoSeries
        Polygons or lines in any CRS; empty ones are left out.
    props : list of dict
        Per shape: ``"_tip"`` / ``"_popup"`` HTML, and ``"_style"`` when ``style`` is None.
    style : dict, optional
        One Leaflet path style for every shape.
    centre : float
        Longitude to unwrap around.
    """
    if style is None:
        style_function = lambda f: f["properties"]["_style"]  # noqa: E731
    else:
        style_function = lambda f, fixed=style: fixed  # noqa: E731
    folium.GeoJson(
        _shapes_geojson(geoms, props, centre),
        style_function=style_function,
        on_each_feature=BIND,
        control=False,
    ).add_to(group)


def action_label(action: str, locale: str = "en") -> str:
    """An outlet's action as the map says it: ``"kept"``, ``"new"``, ``"re-tiered"``, ``"closed"``."""
    return t(f"map_action.{action}", locale) if action in ("keep", "open", "retier", "close") else action


def _outlet_popup(row: pd.Series, unit: str, horizon: float, loc: str = "en") -> str:
    facts = [
        (t("map.site", loc), row["site_id"]),
        (t("map.tier", loc), row.get("tier_name") or row.get("tier") or t("map.closed", loc)),
        (t("map.action", loc), action_label(row.get("action", ""), loc)),
        (t("map.today_tier", loc), row.get("current_tier") or t("map.new_site", loc)),
        (t("map.ownership", loc), row.get("ownership", "")),
        (t("map.region", loc), row.get("region", "")),
        (
            t("map.cost", loc, years=f"{horizon:g}"),
            money(row["cost"]) if "cost" in row and np.isfinite(row["cost"]) else "",
        ),
        (
            t("map.demand_in_reach", loc),
            money(row["demand_in_reach"])
            if "demand_in_reach" in row and np.isfinite(row["demand_in_reach"])
            else "",
        ),
        (t("map.supported_by", loc), row.get("supporting_outlet", "") or ("—" if row.get("tier") else "")),
        (
            t("map.support_distance", loc),
            distance(row["support_distance"], unit, loc)
            if np.isfinite(row.get("support_distance", np.nan))
            else "",
        ),
    ]
    shown = [(k, v) for k, v in facts if v not in ("", None)]
    return str(tips().outlet_popup(row["name"], shown))


def add_outlets(
    group: folium.FeatureGroup,
    frame: gpd.GeoDataFrame,
    k: int,
    action: str,
    unit: str,
    horizon: float,
    grey: bool = False,
    centre: float = 0.0,
    locale: str = "en",
) -> None:
    """Outlets of one tier and action as symbols, each with its popup of facts and a tooltip.

    Parameters
    ----------
    group : folium.FeatureGroup
        The layer to draw into.
    frame : GeoDataFrame
        Outlets (``site_id``, ``name`` and whichever facts the evaluation gives).
    k : int
        Position of the tier: its symbol's shape and colour.
    action : str
        ``"keep"``, ``"open"``, ``"retier"`` or ``"close"``: the symbol's mark.
    unit : str
        The scenario's unit (``"m"`` or ``"min"``), for the support distance.
    horizon : float
        Years of the cost horizon, for the cost's label.
    grey : bool
        Draw in grey (today's network under the plan).
    centre : float
        Longitude to unwrap around.
    locale : str
        ``"en"`` or ``"zh-CN"``: the popup's and tooltip's words.
    """
    if frame.empty:
        return
    colour, shape, size = tier_style(k)
    if grey:
        colour = "#8c8c8c"
    svg = symbol_svg(shape, colour, size, action)
    popups = [_outlet_popup(r, unit, horizon, locale) for _, r in frame.iterrows()]
    macro = tips().outlet_tip
    label = action_label(action, locale)
    tip_texts = [str(macro(name, label)) for name in frame["name"]]
    icon = folium.DivIcon(
        html=svg, icon_size=(size, size), icon_anchor=(size // 2, size // 2), class_name="np-icon"
    )
    folium.GeoJson(
        points_geojson(frame, popups, tip_texts, centre),
        marker=folium.Marker(icon=icon),
        on_each_feature=BIND,
        name=None,
        control=False,
    ).add_to(group)
