"""``map.html`` of a roadmap: one layer group per phase (today, then each phase), the active
phase chosen with radio buttons in the layer control, and the KPI box following it.

Each phase's layer shows that phase's network, every outlet marked by what the phase did to
it (kept, new, re-tiered, closed; the symbols of the single plan's map), and where the lowest
level's demand is still uncovered in that phase (cells, as the single plan's gap layers); the
regions' outlines stay on. Offline like every
page: inlined Leaflet, a plain background, the grouped layer control from ``_assets``.
"""

from __future__ import annotations

import folium
import numpy as np
from branca.element import Element, MacroElement
from folium.template import Template

from netplan.present.formats import format_money
from netplan.present.i18n import t, translator
from netplan.present.map_cells import GAP_COLOURS, add_cells, cell_size, demand_cells, gap_tip
from netplan.present.map_control import add_controls
from netplan.present.map_coords import data_view
from netplan.present.map_layers import add_outlets, layer_group
from netplan.present.map_panels import MAP_STYLE, legend_panel, page_title
from netplan.present.templating import macros
from netplan.present.webmap import base_map, region_layer

ACTION_OF = {
    "keep": "keep",
    "open": "open",
    "upgrade": "retier",
    "downgrade": "retier",
    "close": "close",
}


class PhaseFollower(MacroElement):
    """Shows the KPI section of the phase whose layer was switched on (``overlayadd``)."""

    _template = Template(
        """
{% macro script(this, kwargs) %}
(function () {
    var layers = [{% for name in this.layer_names %}{{ name }}{% if not loop.last %}, {% endif %}{% endfor %}];
    {{ this._parent.get_name() }}.on("overlayadd", function (e) {
        var i = layers.indexOf(e.layer);
        if (i < 0) { return; }
        document.querySelectorAll("#np-kpi .np-phase").forEach(function (el) {
            el.hidden = el.getAttribute("data-phase") !== String(i);
        });
    });
})();
{% endmacro %}
"""
    )

    def __init__(self, layer_names: list[str]):
        super().__init__()
        self._name = "PhaseFollower"
        self.layer_names = layer_names


def roadmap_map(run) -> folium.Map:
    """The folium map of a :class:`netplan.roadmap_pipeline.RoadmapRun`.

    Returns
    -------
    folium.Map
        Save it with :func:`netplan.present.webmap.save_map`.
    """
    plan = run.plan
    scenario = plan.scenario
    loc = scenario.locale
    currency = scenario.costs.currency
    unit, horizon = scenario.unit, scenario.costs.horizon_years
    networks = [plan.phase_outlets(None)] + [
        plan.phase_outlets(p) for p in range(len(plan.phase_names))
    ]
    names = [t("word.today", loc)] + plan.phase_names
    centre, bounds = data_view(run.baseline.demand.geometry, *(n.geometry for n in networks))
    m = base_map(*bounds, locale=loc)
    phase_group = t("roadmap.phase_group", loc)
    others: dict = {}
    region_layer(m, plan.prepared.inputs.regions, centre, others, loc)
    # each phase shows where its lowest (finest-reach) level is still uncovered
    level = scenario.n_tiers - 1
    key, label = scenario.tier_keys[level], scenario.tier_labels[level]
    size = cell_size(scenario.reach_matrix[level, level], unit)
    evaluations = [run.baseline, *run.evaluations]
    phase_cells = []
    for ev in evaluations:
        gaps = ev.gaps()
        gaps = gaps[gaps["level"] == key]
        phase_cells.append(demand_cells(gaps, gaps["weight"].to_numpy(), size))
    # one colour ramp for every phase: a phase with little left uncovered looks light
    values = np.concatenate([c["value"].to_numpy(dtype=float) for c in phase_cells])
    scale = (float(values.min()), float(values.max())) if len(values) else None
    layers = []
    for i, (name, net) in enumerate(zip(names, networks, strict=True)):
        open_now = net[net["tier"] != ""]
        group = layer_group(
            m, t("roadmap.phase_layer", loc, name=name, n=len(open_now)), i == len(names) - 1
        )
        layers.append(group)
        add_cells(group, phase_cells[i], GAP_COLOURS, gap_tip(label, loc), centre, scale)
        for k, key in enumerate(scenario.tier_keys):
            mine = net[(net["tier"] == key) | ((net["tier"] == "") & (net["current_tier"] == key))]
            for action in ("keep", "open", "upgrade", "downgrade", "close"):
                part = mine[mine["action"] == action]
                add_outlets(
                    group, part, k, ACTION_OF[action], unit, horizon, centre=centre, locale=loc
                )
    add_controls(
        m, m.netplan_base, {phase_group: layers, **others}, bounds, locale=loc,
        exclusive=(phase_group,),
    )  # fmt: skip
    PhaseFollower([layer.get_name() for layer in layers]).add_to(m)
    table = plan.phase_table()
    actions = plan.actions()
    phases = []
    for i, row in enumerate(table.to_dict("records")):
        done = actions[actions["phase"] == row["phase"]]["action"].value_counts()
        row["name"] = names[i]
        row["capex_text"] = _money(row["capex"], currency, loc)
        row["capex_budget_text"] = _money(row["capex_budget"], currency, loc)
        row["opex_text"] = _money(row["opex_per_year"], currency, loc)
        row["actions"] = ", ".join(f"{n} {t(f'roadmap.action.{a}', loc)}" for a, n in done.items())
        phases.append(row)
    panel = macros("roadmap_panels.html").kpi_panel(
        t("roadmap.title", loc, name=scenario.name), phases,
        list(zip(scenario.tier_keys, scenario.tier_labels, strict=True)), _=translator(loc),
    )  # fmt: skip
    root = m.get_root()
    root.header.add_child(Element(MAP_STYLE))
    root.html.add_child(Element(str(panel)))
    root.html.add_child(Element(legend_panel(scenario)))
    root.header.add_child(Element(page_title(t("roadmap.title", loc, name=scenario.name))))
    return m


def _money(value, currency, loc) -> str:
    if value is None or value != value:  # None or NaN
        return ""
    return format_money(value, currency, locale=loc)
