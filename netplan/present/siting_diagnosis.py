"""Today's outlets that break a siting rule, in words and on the map.

The facts come from :func:`netplan.evaluation.siting_checks.siting_breaks` (distances from
coordinates; drive times on roads); here they become the report's sentences ("E2 too close to
E1 (6.9 km) …", "E2 inside exclusion 0 (protected.gpkg …)") and the map's layer of rule
breaks today: a line between two outlets too close, a ring around an outlet inside a zone,
and the zones themselves. Every text is the catalogue's (``diag.*``) and is escaped where
it reaches the page.
"""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import shapely

from netplan.evaluation.siting_checks import siting_breaks
from netplan.present.formats import distance
from netplan.present.i18n import t
from netplan.present.map_coords import unwrapped_wgs84
from netplan.present.map_layers import add_shapes, layer_group
from netplan.present.markup import html_text

BREAK_COLOUR = "#c0392b"
ZONE_STYLE = {"fillColor": "#7f8c8d", "color": "#7f8c8d", "weight": 1, "fillOpacity": 0.15}


def break_lines(inputs, locale: str = "en") -> list[str] | None:
    """One sentence per today's outlet and broken rule (None without siting rules).

    Parameters
    ----------
    inputs : netplan.inputs.build.Inputs
    locale : str

    Returns
    -------
    list of str or None
        Plain text (templates escape it).
    """
    scenario = inputs.scenario
    if scenario.siting is None or scenario.siting.empty:
        return None
    rules = scenario.siting.spacing
    lines = []
    for r in siting_breaks(inputs).itertuples(index=False):
        if r.kind == "spacing":
            index = int(r.rule.split("[")[1].rstrip("]"))
            text = t(
                "diag.too_close",
                locale,
                site=r.site_id,
                other=r.other_id,
                distance=distance(float(r.distance), r.unit, locale),
                rule=r.rule,
                min=str(rules[index].min),
            )
            if r.exempt:
                text += t("diag.exempt", locale)
        else:
            index = r.rule.split("[")[1].rstrip("]")
            key = "diag.inside_near" if r.other_id else "diag.inside_zone"
            text = t(
                key,
                locale,
                site=r.site_id,
                index=index,
                source=r.source,
                other=r.other_id,
                distance=distance(float(r.distance), "m", locale),
            )
        lines.append(text)
    return lines


def add_siting_layers(m: folium.Map, result, centre: float, groups: dict) -> None:
    """The map's layer of today's rule breaks and, with exclusions, the zones as buffered."""
    inputs = result.plan.inputs
    scenario = result.scenario
    if scenario.siting is None or scenario.siting.empty:
        return
    loc = scenario.locale
    today = t("map.today", loc)
    breaks = siting_breaks(inputs)
    lines = break_lines(inputs, loc) or []
    sites = inputs.sites.set_index(inputs.sites["site_id"].astype(str)).geometry
    group = layer_group(m, t("map.siting_breaks", loc, who=today, n=len(breaks)), True)
    groups.setdefault(today, []).append(group)
    lines_geo, line_props, ring_at, ring_tips = [], [], [], []
    for r, text in zip(breaks.itertuples(index=False), lines, strict=True):
        here = sites[str(r.site_id)]
        if r.kind == "spacing":
            lines_geo.append(shapely.LineString([here, sites[str(r.other_id)]]))
            line_props.append({"_tip": html_text(text)})
        else:
            ring_at.append(here)
            ring_tips.append(html_text(text))
    if lines_geo:  # a dashed line between two outlets too close
        style = {"color": BREAK_COLOUR, "weight": 3, "dashArray": "2,4", "opacity": 0.9}
        add_shapes(group, gpd.GeoSeries(lines_geo, crs=inputs.crs), line_props, style, centre)
    if ring_at:  # a dashed ring of fixed size on screen around an outlet inside a zone
        wgs = unwrapped_wgs84(gpd.GeoSeries(ring_at, crs=inputs.crs), centre)
        for point, tip in zip(wgs, ring_tips, strict=True):
            folium.CircleMarker(
                [point.y, point.x], radius=13, color=BREAK_COLOUR, weight=3, dash_array="2,4",
                fill=False, tooltip=tip,
            ).add_to(group)  # fmt: skip
    zones = [z for z in inputs.exclusions if len(z.zones)]
    if zones:
        n = int(sum(len(z.zones) for z in zones))
        group = layer_group(m, t("map.exclusion_zones", loc, who=today, n=n), False)
        groups.setdefault(today, []).append(group)
        for zone in zones:
            index = zone.label.split("[")[1].rstrip("]")
            tip = html_text(t("map.exclusion_tip", loc, index=index, source=zone.source))
            frame = gpd.GeoSeries(np.asarray(zone.zones), crs=zone.crs)
            add_shapes(group, frame, [{"_tip": tip}] * len(frame), ZONE_STYLE, centre)
