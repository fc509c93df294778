"""The panels of map.html: the KPI box, the legend, the road-data note, the title and the style.

Their markup is the template ``map_panels.html`` (the style: ``map_style.html``); every name
in it is escaped, braces too (folium's branca renders each of these fragments as a jinja2
template once more).
"""

from __future__ import annotations

import numpy as np

from netplan.evaluation.overlap_kpis import cap_rows
from netplan.present.formats import format_money
from netplan.present.i18n import translator
from netplan.present.map_cells import GAP_COLOURS, OVERLAP_COUNT_COLOURS, OVERLAP_COUNT_LABELS
from netplan.present.map_layers import action_label
from netplan.present.symbols import symbol_svg, tier_style
from netplan.present.templating import macros, render
from netplan.roads.network import OSM_ATTRIBUTION

#: The ``<style>`` of the map pages (map.html, the Jupyter maps, compare.html): panels, legend,
#: popups and the layer control.
MAP_STYLE = render("map_style.html")


def _panels():
    return macros("map_panels.html")


def kpi_panel(result) -> str:
    """HTML of the KPI box: coverage per level today → plan, cost, outlets per tier, solver record.

    Parameters
    ----------
    result : netplan.pipeline.RunResult

    Returns
    -------
    str
        ``<div id="np-kpi" …>``.
    """
    scenario, plan = result.scenario, result.plan
    loc = scenario.locale
    kpis = result.kpi_table()
    outlets = outlet_flows(plan.inputs.current_tier, plan.tiers, scenario.tier_labels)
    return str(
        _panels().kpi_panel(
            scenario.name,
            list(kpis[kpis["region"] == "all"].itertuples()),
            scenario.costs.horizon_years,
            format_money(plan.budget.get("baseline_cost"), scenario.costs.currency, loc),
            format_money(plan.cost()["total"], scenario.costs.currency, loc),
            outlets,
            plan.solver_record(),
            translator(loc),
            caps=cap_rows(scenario, result.baseline.kpis, result.evaluation.kpis),
        )
    )


def outlet_flows(current, planned, labels: list[str]) -> list[dict]:
    """Outlets per tier from today to the plan, so that today − closed − re-tiered out + opened
    + re-tiered in = plan for every tier.

    Parameters
    ----------
    current, planned : array of int
        Tier index per site today and in the plan (-1: none).
    labels : list of str
        The tiers' names, top tier first.

    Returns
    -------
    list of dict
        One per tier: ``label``, ``today``, ``kept``, ``open``, ``close``, ``retier_in``,
        ``retier_out``, ``plan``.
    """
    current, planned = np.asarray(current), np.asarray(planned)
    rows = []
    for k, label in enumerate(labels):
        was, now = current == k, planned == k
        rows.append(
            {
                "label": label,
                "today": int(was.sum()),
                "kept": int((was & now).sum()),
                "open": int((now & (current < 0)).sum()),
                "close": int((was & (planned < 0)).sum()),
                "retier_in": int((now & (current >= 0) & ~was).sum()),
                "retier_out": int((was & (planned >= 0) & ~now).sum()),
                "plan": int(now.sum()),
            }
        )
    return rows


def legend_panel(scenario) -> str:
    """HTML of the legend: the symbol of each tier and action, the cell colours, the link line.

    Parameters
    ----------
    scenario : netplan.scenario.Scenario

    Returns
    -------
    str
        ``<div id="np-legend" …>``.
    """
    tiers = []
    for k, label in enumerate(scenario.tier_labels):
        colour, shape, size = tier_style(k)
        tiers.append((symbol_svg(shape, colour, size), label))
    actions = [
        (symbol_svg("circle", "#7f7f7f", 14, action), action_label(action, scenario.locale))
        for action in ("keep", "open", "retier", "close")
    ]
    overlap = list(zip(OVERLAP_COUNT_COLOURS, OVERLAP_COUNT_LABELS, strict=True))
    return str(_panels().legend(tiers, actions, GAP_COLOURS, overlap, translator(scenario.locale)))


def road_data_note(scenario) -> str:
    """A fixed note with the OpenStreetMap attribution for road-network runs.

    Parameters
    ----------
    scenario : netplan.scenario.Scenario

    Returns
    -------
    str
        ``<div class="netplan-attribution" …>`` when ``travel.mode`` is ``network``, else "".
    """
    if scenario.travel.mode != "network":
        return ""
    return str(_panels().road_data(OSM_ATTRIBUTION, translator(scenario.locale)))


def page_title(name: str) -> str:
    """The map page's ``<title>``: ``netplan · <name>``.

    Parameters
    ----------
    name : str
        The scenario's name, as plain text (escaped here).

    Returns
    -------
    str
    """
    return str(_panels().title(name))
