"""Inline display in Jupyter: compact HTML for plans, runs and evaluations, and offline maps.

``Plan``, ``RunResult`` and ``Evaluation`` call these from their ``_repr_html_`` so a cell
that ends with one shows a KPI table and the solver status instead of a bare repr.
``explore()`` returns the folium map of :func:`netplan.present.webmap.plan_map`, made to render
inline without any CDN (Leaflet is inlined, as in map.html). The markup is the template
``display.html``.
"""

from __future__ import annotations

import pandas as pd

from netplan._display_hooks import register
from netplan.evaluation.columns import distance_column
from netplan.present.templating import macros


def _display():
    return macros("display.html")


def _table(frame: pd.DataFrame) -> dict:
    """A frame as the template's table: column names and rows of values."""
    return {
        "columns": [str(c) for c in frame.columns],
        "rows": [list(row) for row in frame.itertuples(index=False)],
    }


def _cost(plan) -> dict:
    """Cost over the horizon today and in the plan, and the budget (None: no budget)."""
    return {
        "horizon": plan.scenario.costs.horizon_years,
        "today": plan.budget["baseline_cost"],
        "plan": plan.cost()["total"],
        "budget": plan.budget.get("total"),
    }


def plan_html(plan) -> str:
    """A plan: solver status, cost, outlets per tier and action, covered demand per level.

    Parameters
    ----------
    plan : netplan.planner.Plan

    Returns
    -------
    str
        HTML for Jupyter.
    """
    counts = plan.counts().reset_index().rename(columns={"index": "tier"})
    counts.columns = ["tier", *counts.columns[1:]]
    scenario = plan.scenario
    weights = plan.inputs.weights.sum(axis=0)
    covered = pd.DataFrame(
        {
            "level": scenario.tier_keys,
            "covered % (model)": [
                100.0 * c / w if w > 0 else float("nan")
                for c, w in zip(plan.model_covered, weights, strict=True)
            ],
        }
    )
    return str(
        _display().plan_html(
            scenario.name,
            scenario.objective.type,
            plan.solver_record(),
            _cost(plan),
            _table(counts),
            _table(covered),
        )
    )


def evaluation_html(ev) -> str:
    """An evaluation: KPIs per level (covered, gap, overlap, distance) and outlets.

    Parameters
    ----------
    ev : netplan.evaluation.Evaluation

    Returns
    -------
    str
        HTML for Jupyter.
    """
    lv = ev.level_kpis()
    unit = "km" if ev.scenario.unit == "m" else "min"
    frame = pd.DataFrame(
        {
            "level": lv["level"],
            "demand": lv["demand"].astype(float),
            "covered %": lv["covered_pct"].astype(float),
            "gap %": lv["gap_pct"].astype(float),
            "overlap %": lv["overlap_pct"].astype(float),
            f"mean dist ({unit})": lv[distance_column("mean", unit)].astype(float),
            f"p90 dist ({unit})": lv[distance_column("p90", unit)].astype(float),
        }
    )
    return str(
        _display().evaluation_html(
            ev.scenario.name,
            len(ev.open_outlets),
            len(ev.broken_links()),
            len(ev.redundant_outlets()),
            _table(frame),
        )
    )


def run_html(result) -> str:
    """A run: today → plan per level, cost, solver status and the validator's verdict.

    Parameters
    ----------
    result : netplan.pipeline.RunResult

    Returns
    -------
    str
        HTML for Jupyter.
    """
    kpis = result.kpi_table()
    kpis = kpis[kpis["region"] == "all"]
    frame = pd.DataFrame(
        {
            "level": kpis["level"].to_numpy(),
            "covered % today": kpis["covered_pct_baseline"].to_numpy(dtype=float),
            "covered % plan": kpis["covered_pct_plan"].to_numpy(dtype=float),
            "Δ": kpis["covered_pct_delta"].to_numpy(dtype=float),
            "overlap % plan": kpis["overlap_pct_plan"].to_numpy(dtype=float),
        }
    )
    plan = result.plan
    passed = sum(1 for c in result.checks if c.ok)
    counts = plan.counts().reset_index()
    counts.columns = ["tier", *counts.columns[1:]]
    return str(
        _display().run_html(
            result.scenario.name,
            plan.solver_record(),
            passed,
            len(result.checks),
            _cost(plan),
            _table(frame),
            _table(counts),
        )
    )


def offline_map(result):
    """The folium map of a run, whose inline display works offline (Leaflet inlined).

    Parameters
    ----------
    result : netplan.pipeline.RunResult

    Returns
    -------
    folium.Map
        ``save_map(m, path)`` writes it; in Jupyter it renders inline in an iframe.
    """
    from netplan.present.webmap import plan_map

    return _offline(plan_map(result))


def roadmap_offline_map(run):
    """The map of a roadmap run (a layer per phase), whose inline display works offline.

    Parameters
    ----------
    run : netplan.roadmap_pipeline.RoadmapRun

    Returns
    -------
    folium.Map
    """
    from netplan.present.roadmap_map import roadmap_map

    return _offline(roadmap_map(run))


def evaluation_map(ev):
    """Any evaluated set of outlets (e.g. today's network) on an offline folium map.

    Layers: the outlets by tier, and per level the gaps (uncovered demand) and overlaps
    (demand covered twice or more) as cells, as in map.html.

    Parameters
    ----------
    ev : netplan.evaluation.Evaluation

    Returns
    -------
    folium.Map
    """
    import folium
    from branca.element import Element

    from netplan.present.formats import money
    from netplan.present.map_cells import (
        GAP_COLOURS,
        add_cells,
        add_overlap_cells,
        cell_size,
        demand_cells,
        gap_tip,
        overlap_cells,
    )
    from netplan.present.map_control import FitPanels
    from netplan.present.map_coords import data_view
    from netplan.present.map_layers import add_outlets, layer_group
    from netplan.present.map_panels import MAP_STYLE
    from netplan.present.offline import use_inlined_leaflet

    scenario = ev.scenario
    unit = scenario.unit
    centre, bounds = data_view(ev.demand.geometry)
    minx, miny, maxx, maxy = bounds
    m = folium.Map(
        location=[(miny + maxy) / 2, (minx + maxx) / 2],
        zoom_start=9,
        tiles=None,
        control_scale=True,
    )
    use_inlined_leaflet(m)
    reach = scenario.reach_matrix
    last = scenario.n_tiers - 1
    for level, (key, label) in enumerate(
        zip(scenario.tier_keys, scenario.tier_labels, strict=True)
    ):
        size = cell_size(reach[level, level], unit)
        gaps = ev.gaps()
        gaps = gaps[gaps["level"] == key]
        group = layer_group(
            m, f"gaps: {label} ({money(gaps['weight'].sum())} uncovered)", level == last
        )
        cells = demand_cells(gaps, gaps["weight"].to_numpy(), size)
        add_cells(group, cells, GAP_COLOURS, gap_tip(label), centre)
        over = ev.overlaps()
        over = over[over["level"] == key]
        group = layer_group(
            m, f"overlaps: {label} ({money(over['weight'].sum())} by 2+ outlets)", False
        )
        cells = overlap_cells(over, over["weight"].to_numpy(), over["n_covering"].to_numpy(), size)
        add_overlap_cells(group, cells, label, centre)
    outlets = ev.open_outlets
    horizon = scenario.costs.horizon_years
    for k, (key, label) in enumerate(zip(scenario.tier_keys, scenario.tier_labels, strict=True)):
        sel = outlets[outlets["tier"] == key]
        group = layer_group(m, f"{label} ({len(sel)})", True)
        add_outlets(group, sel, k, "keep", unit, horizon, centre=centre)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    FitPanels(bounds).add_to(m)
    m.get_root().header.add_child(Element(MAP_STYLE))
    return _offline(m)


def _offline(m):
    from netplan.present.offline import render_offline

    def _inline(**_: object) -> str:
        return str(_display().iframe(render_offline(m)))

    m._repr_html_ = _inline  # folium's own repr would point at the inlined-asset placeholder
    return m


register("plan.html", plan_html)
register("evaluation.html", evaluation_html)
register("evaluation.explore", evaluation_map)
register("run.html", run_html)
register("run.explore", offline_map)
