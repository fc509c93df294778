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
from netplan.present.symbols import tier_style
from netplan.travel.geometry import point_coords, reach_areas


def base_map(minx: float, miny: float, maxx: float, maxy: float) -> folium.Map:
    """An empty map centred on the bounds: inlined Leaflet, a plain background, optional tiles.

    The plain background is the default base layer, so the page needs no network; the
    OpenStreetMap tiles are a second base layer for when one is available. Longitudes may
    pass ±180 (see :func:`netplan.present.map_coords.data_view`).

    Parameters
    ----------
    minx, miny, maxx, maxy : float
        The data's bounds in degrees.

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
    m.netplan_base = [folium.FeatureGroup(name="Plain background", overlay=False, show=True)]
    m.netplan_base[0].add_to(m)
    tiles = folium.TileLayer(
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        name="OpenStreetMap tiles (online)",
        attr="&copy; OpenStreetMap contributors",
        overlay=False,
        show=False,
        max_zoom=19,
    )
    tiles.add_to(m)
    m.netplan_base.append(tiles)  # the layer control lists them as base layers
    return m


def _region_layer(m: folium.Map, regions, centre: float, groups: dict) -> None:
    if regions is None or not len(regions):
        return
    group = layer_group(m, "Regions", show=True)
    groups.setdefault("Regions", []).append(group)
    macro = tips().region_tip
    props = [{"_tip": str(macro(r))} for r in regions["region"]]
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
    reach = scenario.reach_matrix
    for level, (key, label) in enumerate(
        zip(scenario.tier_keys, scenario.tier_labels, strict=True)
    ):
        size = cell_size(reach[level, level], scenario.unit)
        for who, evaluation, default in (
            ("Plan", ev, level == scenario.n_tiers - 1),
            ("Today", base, False),
        ):
            gaps = evaluation.gaps()
            gaps = gaps[gaps["level"] == key]
            group = layer_group(
                m, f"{who} · gaps: {label} ({money(gaps['weight'].sum())} uncovered)", default
            )
            groups.setdefault(level_group(label), []).append(group)
            cells = demand_cells(gaps, gaps["weight"].to_numpy(), size)
            add_cells(group, cells, GAP_COLOURS, gap_tip(label), centre)
        for who, evaluation in (("Plan", ev), ("Today", base)):
            over = evaluation.overlaps()
            over = over[over["level"] == key]
            group = layer_group(
                m, f"{who} · overlaps: {label} ({money(over['weight'].sum())} by 2+ outlets)", False
            )
            groups.setdefault(level_group(label), []).append(group)
            cells = overlap_cells(
                over, over["weight"].to_numpy(), over["n_covering"].to_numpy(), size
            )
            add_overlap_cells(group, cells, label, centre)


def _reach_layers(m: folium.Map, result, centre: float, groups: dict) -> None:
    """Reach areas of the plan's outlets, one layer per tier."""
    scenario, plan = result.scenario, result.plan
    reach, unit = scenario.reach_matrix, scenario.unit
    open_out = result.evaluation.open_outlets
    tiers_of = open_out["tier"].map({k: i for i, k in enumerate(scenario.tier_keys)}).to_numpy()
    macro = tips().reach_tip
    for k, label in enumerate(scenario.tier_labels):
        sel = open_out[tiers_of == k]
        group = layer_group(m, f"Plan · reach: {label} ({distance(reach[k, k], unit)})", False)
        groups.setdefault(level_group(label), []).append(group)
        if len(sel):
            areas = reach_areas(
                point_coords(sel.geometry),
                np.full(len(sel), reach[k, k]),
                plan.inputs.travel or scenario.travel.mode,  # roads: drive-time service areas
                sel.crs,
            )
            colour = tier_style(k)[0]
            props = [{"_tip": str(macro(n, label))} for n in sel["name"]]
            style = {"fillColor": colour, "color": colour, "weight": 1, "fillOpacity": 0.08}
            add_shapes(group, areas, props, style, centre)


def _link_layers(m: folium.Map, result, centre: float, groups: dict) -> None:
    """Lines from each outlet to its supporting outlet, plan and today."""
    unit = result.scenario.unit
    macro = tips().link_tip
    for who, evaluation, show in (
        ("Plan", result.evaluation, True),
        ("Today", result.baseline, False),
    ):
        links = evaluation.links()
        group = layer_group(m, f"{who} · linkage to supporting outlet ({len(links)})", show)
        groups.setdefault(who, []).append(group)
        if len(links):
            props = [
                {"_tip": str(macro(a, b, distance(d, unit)))}
                for a, b, d in zip(
                    links["site_id"], links["supporting_outlet"], links["distance"], strict=True
                )
            ]
            style = {"color": "#444444", "weight": 1.5, "dashArray": "5,4", "opacity": 0.8}
            add_shapes(group, links.geometry, props, style, centre)


def _outlet_layers(m: folium.Map, result, centre: float, groups: dict) -> None:
    """Today's network (grey) and the plan's outlets by tier; closed outlets apart."""
    scenario = result.scenario
    unit, horizon = scenario.unit, scenario.costs.horizon_years
    today = result.baseline.outlets
    group = layer_group(m, f"Today · outlets ({len(today)})", False)
    groups.setdefault("Today", []).insert(0, group)
    for k in range(scenario.n_tiers):
        sel = today[today["tier"] == scenario.tier_keys[k]]
        add_outlets(group, sel, k, "keep", unit, horizon, grey=True, centre=centre)
    outlets = result.evaluation.outlets
    plan_groups = []
    for k, (key, label) in enumerate(zip(scenario.tier_keys, scenario.tier_labels, strict=True)):
        sel = outlets[outlets["tier"] == key]
        group = layer_group(m, f"Plan · {label} ({len(sel)})", True)
        plan_groups.append(group)
        for action in ("keep", "retier", "open"):
            part = sel[sel["action"] == action]
            add_outlets(group, part, k, action, unit, horizon, centre=centre)
    closed = outlets[outlets["action"] == "close"]
    group = layer_group(m, f"Plan · closed outlets ({len(closed)})", True)
    plan_groups.append(group)
    groups["Plan"] = plan_groups + groups.get("Plan", [])
    for k, key in enumerate(scenario.tier_keys):
        part = closed[closed["current_tier"] == key]
        add_outlets(group, part, k, "close", unit, horizon, centre=centre)


def level_group(label: str) -> str:
    """The layer control's group of one level's gaps, overlaps and reach areas."""
    return f"{label}: plan and today"


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
    centre, bounds = data_view(result.evaluation.demand.geometry)
    m = base_map(*bounds)
    # the layer control's groups, in the order shown: plan, today, per level, regions
    groups: dict[str, list] = {"Plan": [], "Today": []}
    groups.update({level_group(label): [] for label in scenario.tier_labels})
    _region_layer(m, result.plan.inputs.regions, centre, groups)
    _cell_layers(m, result, centre, groups)
    _reach_layers(m, result, centre, groups)
    _link_layers(m, result, centre, groups)
    _outlet_layers(m, result, centre, groups)
    add_controls(m, m.netplan_base, groups, bounds)
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
