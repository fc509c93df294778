"""The exported map: a run's layers in one folium map, saved as a page that opens offline.

The map is built from the layers of :mod:`netplan.present.map_layers` (outlets, regions, reach
areas, links) and :mod:`netplan.present.map_cells` (gaps and overlaps), with the panels of
:mod:`netplan.present.map_panels`; :mod:`netplan.present.offline` inlines Leaflet. Map tiles
are an optional base layer; the default background is plain, so the data layers draw with
the network off.

Every text that comes from the user (tier, site, region and scenario names, …) is HTML-escaped
before it reaches the page, also where Leaflet renders it as HTML: layer-control labels,
tooltips, popups, the KPI box and the legend (see :mod:`netplan.present.markup`).
"""

from __future__ import annotations

from pathlib import Path

import folium
import numpy as np
from branca.element import Element

from netplan.present.formats import distance, money
from netplan.present.i18n import t, translator
from netplan.present.map_cells import (
    GAP_COLOURS,
    add_cells,
    add_overlap_cells,
    cell_size,
    demand_cells,
    gap_tip,
    overlap_cells,
)
from netplan.present.map_control import add_controls
from netplan.present.map_coords import data_view
from netplan.present.map_layers import add_outlets, add_shapes, layer_group, tips
from netplan.present.map_panels import (
    MAP_STYLE,
    kpi_panel,
    legend_panel,
    page_title,
    road_data_note,
)
from netplan.present.offline import render_offline, use_inlined_leaflet
from netplan.present.siting_diagnosis import add_siting_layers
from netplan.present.symbols import tier_style
from netplan.travel.geometry import point_coords, reach_areas


def base_map(
    minx: float, miny: float, maxx: float, maxy: float, locale: str = "en"
) -> folium.Map:
    """An empty map centred on the bounds: inlined Leaflet, a plain background, optional tiles.

    The plain background is the default base layer, so the page needs no network; the
    OpenStreetMap tiles are a second base layer for when one is available. Longitudes may
    pass ±180 (see :func:`netplan.present.map_coords.data_view`).

    Parameters
    ----------
    minx, miny, maxx, maxy : float
        The data's bounds in degrees.
    locale : str
        ``"en"`` or ``"zh-CN"``: the base layers' names.

    Returns
    -------
    folium.Map
    """
    m = folium.Map(
        location=[(miny + maxy) / 2, (minx + maxx) / 2],
        zoom_start=9,
        tiles=None,
        control_scale=True,
        zoom_snap=0.25,
        zoom_delta=0.5,
    )
    use_inlined_leaflet(m)
    m.netplan_base = [folium.FeatureGroup(name=t("map.base_plain", locale), overlay=False, show=True)]
    m.netplan_base[0].add_to(m)
    tiles = folium.TileLayer(
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        name=t("map.base_osm", locale),
        attr="&copy; OpenStreetMap contributors",
        overlay=False,
        show=False,
        max_zoom=19,
    )
    tiles.add_to(m)
    m.netplan_base.append(tiles)  # the layer control lists them as base layers
    return m


def region_layer(m: folium.Map, regions, centre: float, groups: dict, loc: str = "en") -> None:
    """The regions' outlines (dashed, a tooltip each), shown by default, in ``groups``."""
    if regions is None or not len(regions):
        return
    name = t("map.regions", loc)
    group = layer_group(m, name, show=True)
    groups.setdefault(name, []).append(group)
    macro, _ = tips().region_tip, translator(loc)
    props = [{"_tip": str(macro(r, _))} for r in regions["region"]]
    style = {
        "fillColor": "#ffffff",
        "fillOpacity": 0.35,
        "color": "#555555",
        "weight": 1.5,
        "dashArray": "6,4",
    }
    add_shapes(group, regions.geometry, props, style, centre)


def _cell_layers(m: folium.Map, result, centre: float, groups: dict) -> None:
    """Gaps and overlaps per level (plan and today), as coloured cells."""
    scenario, ev, base = result.scenario, result.evaluation, result.baseline
    loc = scenario.locale
    plan_word, today_word = t("map.plan", loc), t("map.today", loc)
    reach = scenario.reach_matrix
    for level, (key, label) in enumerate(
        zip(scenario.tier_keys, scenario.tier_labels, strict=True)
    ):
        size = cell_size(reach[level, level], scenario.unit)
        for who, evaluation, default in (
            (plan_word, ev, level == scenario.n_tiers - 1),
            (today_word, base, False),
        ):
            gaps = evaluation.gaps()
            gaps = gaps[gaps["level"] == key]
            group = layer_group(
                m, t("map.gaps", loc, who=who, label=label, value=money(gaps["weight"].sum(), loc)), default
            )
            groups.setdefault(level_group(label, loc), []).append(group)
            cells = demand_cells(gaps, gaps["weight"].to_numpy(), size)
            add_cells(group, cells, GAP_COLOURS, gap_tip(label, loc), centre)
        for who, evaluation in ((plan_word, ev), (today_word, base)):
            over = evaluation.overlaps()
            over = over[over["level"] == key]
            group = layer_group(
                m, t("map.overlaps", loc, who=who, label=label, value=money(over["weight"].sum(), loc)), False
            )
            groups.setdefault(level_group(label, loc), []).append(group)
            cells = overlap_cells(
                over, over["weight"].to_numpy(), over["n_covering"].to_numpy(), size
            )
            add_overlap_cells(group, cells, label, centre, loc)


def _reach_layers(m: folium.Map, result, centre: float, groups: dict) -> None:
    """Reach areas of the plan's outlets, one layer per tier."""
    scenario, plan = result.scenario, result.plan
    loc = scenario.locale
    reach, unit = scenario.reach_matrix, scenario.unit
    open_out = result.evaluation.open_outlets
    tiers_of = open_out["tier"].map({k: i for i, k in enumerate(scenario.tier_keys)}).to_numpy()
    macro, _ = tips().reach_tip, translator(loc)
    for k, label in enumerate(scenario.tier_labels):
        sel = open_out[tiers_of == k]
        name = t("map.reach", loc, who=t("map.plan", loc), label=label, reach=distance(reach[k, k], unit, loc))
        group = layer_group(m, name, False)
        groups.setdefault(level_group(label, loc), []).append(group)
        if len(sel):
            areas = reach_areas(
                point_coords(sel.geometry),
                np.full(len(sel), reach[k, k]),
                plan.inputs.travel or scenario.travel.mode,  # roads: drive-time service areas
                sel.crs,
            )
            colour = tier_style(k)[0]
            props = [{"_tip": str(macro(n, label, _))} for n in sel["name"]]
            style = {"fillColor": colour, "color": colour, "weight": 1, "fillOpacity": 0.08}
            add_shapes(group, areas, props, style, centre)


def _link_layers(m: folium.Map, result, centre: float, groups: dict) -> None:
    """Lines from each outlet to its supporting outlet, plan and today."""
    unit, loc = result.scenario.unit, result.scenario.locale
    macro = tips().link_tip
    for who, evaluation, show in (
        (t("map.plan", loc), result.evaluation, True),
        (t("map.today", loc), result.baseline, False),
    ):
        links = evaluation.links()
        group = layer_group(m, t("map.links", loc, who=who, n=len(links)), show)
        groups.setdefault(who, []).append(group)
        if len(links):
            props = [
                {"_tip": str(macro(a, b, distance(d, unit, loc)))}
                for a, b, d in zip(
                    links["site_id"], links["supporting_outlet"], links["distance"], strict=True
                )
            ]
            style = {"color": "#444444", "weight": 1.5, "dashArray": "5,4", "opacity": 0.8}
            add_shapes(group, links.geometry, props, style, centre)


def _outlet_layers(m: folium.Map, result, centre: float, groups: dict) -> None:
    """Today's network (grey) and the plan's outlets by tier; closed outlets apart."""
    scenario = result.scenario
    unit, horizon, loc = scenario.unit, scenario.costs.horizon_years, scenario.locale
    plan_word, today_word = t("map.plan", loc), t("map.today", loc)
    today = result.baseline.outlets
    group = layer_group(m, t("map.outlets", loc, who=today_word, n=len(today)), False)
    groups.setdefault(today_word, []).insert(0, group)
    for k in range(scenario.n_tiers):
        sel = today[today["tier"] == scenario.tier_keys[k]]
        add_outlets(group, sel, k, "keep", unit, horizon, grey=True, centre=centre, locale=loc)
    outlets = result.evaluation.outlets
    plan_groups = []
    for k, (key, label) in enumerate(zip(scenario.tier_keys, scenario.tier_labels, strict=True)):
        sel = outlets[outlets["tier"] == key]
        group = layer_group(m, t("map.tier_layer", loc, who=plan_word, label=label, n=len(sel)), True)
        plan_groups.append(group)
        for action in ("keep", "retier", "open"):
            part = sel[sel["action"] == action]
            add_outlets(group, part, k, action, unit, horizon, centre=centre, locale=loc)
    closed = outlets[outlets["action"] == "close"]
    group = layer_group(m, t("map.closed_layer", loc, who=plan_word, n=len(closed)), True)
    plan_groups.append(group)
    groups[plan_word] = plan_groups + groups.get(plan_word, [])
    for k, key in enumerate(scenario.tier_keys):
        part = closed[closed["current_tier"] == key]
        add_outlets(group, part, k, "close", unit, horizon, centre=centre, locale=loc)


def level_group(label: str, locale: str = "en") -> str:
    """The layer control's group of one level's gaps, overlaps and reach areas."""
    return t("map.level_group", locale, label=label)


def plan_map(result) -> folium.Map:
    """The folium map of a run: today's network and the plan, with every layer of DESIGN.md.

    Parameters
    ----------
    result : netplan.pipeline.RunResult

    Returns
    -------
    folium.Map
        Render it with :func:`netplan.present.offline.render_offline` (or :func:`save_map`)
        to get a self-contained page.
    """
    scenario = result.scenario
    loc = scenario.locale
    centre, bounds = data_view(result.evaluation.demand.geometry)
    m = base_map(*bounds, locale=loc)
    # the layer control's groups, in the order shown: plan, today, per level, regions
    groups: dict[str, list] = {t("map.plan", loc): [], t("map.today", loc): []}
    groups.update({level_group(label, loc): [] for label in scenario.tier_labels})
    region_layer(m, result.plan.inputs.regions, centre, groups, loc)
    _cell_layers(m, result, centre, groups)
    _reach_layers(m, result, centre, groups)
    _link_layers(m, result, centre, groups)
    _outlet_layers(m, result, centre, groups)
    add_siting_layers(m, result, centre, groups)
    add_controls(m, m.netplan_base, groups, bounds, locale=loc)
    root = m.get_root()
    root.header.add_child(Element(MAP_STYLE))
    root.html.add_child(Element(kpi_panel(result)))
    root.html.add_child(Element(legend_panel(scenario)))
    root.html.add_child(Element(road_data_note(scenario)))
    root.header.add_child(Element(page_title(scenario.name)))
    return m


def save_map(m: folium.Map, path: str | Path) -> Path:
    """Write the self-contained map page to ``path``.

    Parameters
    ----------
    m : folium.Map
        From :func:`plan_map` (or any map made with :func:`base_map`).
    path : str or Path

    Returns
    -------
    Path
    """
    path = Path(path)
    path.write_text(render_offline(m), encoding="utf-8")
    return path
