"""Inline display in Jupyter: compact HTML for plans, runs and evaluations, and offline maps.

``Plan``, ``RunResult`` and ``Evaluation`` call these from their ``_repr_html_`` so a cell
that ends with one shows a KPI table and the solver status instead of a bare repr.
``explore()`` returns the folium map of :func:`netplan.present.webmap.plan_map`, made to render
inline without any CDN (Leaflet is inlined, as in map.html).
"""

from __future__ import annotations

import html

import pandas as pd

from netplan._display_hooks import register

_STYLE = (
    "<style>.np-t{border-collapse:collapse;font-size:12px}"
    ".np-t td,.np-t th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:right}"
    ".np-t th:first-child,.np-t td:first-child{text-align:left}</style>"
)


def _table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for r in frame.itertuples(index=False):
        cells = []
        for v in r:
            if isinstance(v, float):
                text = f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.1f}"
            else:
                text = str(v)
            cells.append(f"<td>{html.escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f'<table class="np-t"><tr>{head}</tr>{"".join(rows)}</table>'


def _solver_line(plan) -> str:
    rec = plan.solver_record()
    gap = "n/a" if rec["gap"] is None else f"{rec['gap']:.3g}"
    colour = "#1b7837" if rec["status"] == "optimal" else "#b2182b"
    where = f" (stopped in stage {rec['stopped_stage']})" if rec["stopped_stage"] else ""
    return (
        f"solver {html.escape(str(rec['solver']))} {html.escape(str(rec['version']))}: "
        f'<b style="color:{colour}">{html.escape(rec["status"])}</b>{html.escape(where)}, '
        f"gap {gap}, {rec['seconds']:.1f} s"
    )


def _cost_line(plan) -> str:
    cost = plan.cost()
    return (
        f"cost over {plan.scenario.costs.horizon_years:g} years: "
        f"today {plan.budget['baseline_cost']:,.0f} → plan {cost['total']:,.0f}"
        + (f" (budget {plan.budget['total']:,.0f})" if plan.budget.get("total") is not None else "")
    )


def plan_html(plan) -> str:
    """A plan: solver status, cost, outlets per tier and action, covered demand per level."""
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
    return (
        _STYLE
        + f"<div><b>netplan plan</b> · {html.escape(scenario.name)} · {scenario.objective.type}<br>"
        + _solver_line(plan)
        + "<br>"
        + html.escape(_cost_line(plan))
        + f'<div style="display:flex;gap:24px">{_table(counts)}{_table(covered)}</div>'
        + "<small>explore() shows the map</small></div>"
    )


def evaluation_html(ev) -> str:
    """An evaluation: KPIs per level (covered, gap, overlap, distance) and outlets."""
    lv = ev.level_kpis()
    scale = 1000.0 if ev.scenario.unit == "m" else 1.0
    unit = "km" if ev.scenario.unit == "m" else "min"
    frame = pd.DataFrame(
        {
            "level": lv["level"],
            "demand": lv["demand"].astype(float),
            "covered %": lv["covered_pct"].astype(float),
            "gap %": lv["gap_pct"].astype(float),
            "overlap %": lv["overlap_pct"].astype(float),
            f"mean dist ({unit})": lv["dist_mean"].astype(float) / scale,
            f"p90 dist ({unit})": lv["dist_p90"].astype(float) / scale,
        }
    )
    return (
        _STYLE
        + f"<div><b>netplan evaluation</b> · {html.escape(ev.scenario.name)} · "
        + f"{len(ev.open_outlets)} open outlets, {len(ev.broken_links())} without support, "
        + f"{len(ev.redundant_outlets())} redundant<br>{_table(frame)}</div>"
    )


def run_html(result) -> str:
    """A run: today → plan per level, cost, solver status and the validator's verdict."""
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
    return (
        _STYLE
        + f"<div><b>netplan run</b> · {html.escape(result.scenario.name)}<br>"
        + _solver_line(plan)
        + f"; validator: {passed}/{len(result.checks)} checks passed<br>"
        + html.escape(_cost_line(plan))
        + f'<div style="display:flex;gap:24px">{_table(frame)}{_table(counts)}</div>'
        + "<small>explore() shows the map</small></div>"
    )


def offline_map(result):
    """The folium map of a run, whose inline display works offline (Leaflet inlined).

    Returns
    -------
    folium.Map
        ``save_map(m, path)`` writes it; in Jupyter it renders inline in an iframe.
    """
    from netplan.present.webmap import plan_map

    return _offline(plan_map(result))


def evaluation_map(ev):
    """Any evaluated set of outlets (e.g. today's network) on an offline folium map.

    Layers: the outlets by tier, and per level the gaps (uncovered demand) and overlaps
    (demand covered twice or more) as cells, as in map.html.

    Returns
    -------
    folium.Map
    """
    import folium
    from branca.element import Element

    from netplan.present import webmap as wm

    scenario = ev.scenario
    unit = scenario.unit
    centre, bounds = wm.data_view(ev.demand.geometry)
    minx, miny, maxx, maxy = bounds
    m = folium.Map(
        location=[(miny + maxy) / 2, (minx + maxx) / 2],
        zoom_start=9,
        tiles=None,
        control_scale=True,
    )
    m.default_js = [("leaflet", wm._LEAFLET_JS)]
    m.default_css = [("leaflet_css", wm._LEAFLET_CSS)]
    reach = scenario.reach_matrix
    last = scenario.n_tiers - 1
    for level, (key, label) in enumerate(
        zip(scenario.tier_keys, scenario.tier_labels, strict=True)
    ):
        size = wm._cell_size(reach[level, level], unit)
        gaps = ev.gaps()
        gaps = gaps[gaps["level"] == key]
        group = wm.layer_group(
            m, f"gaps: {label} ({wm._money(gaps['weight'].sum())} uncovered)", level == last
        )
        html_label = wm._esc(label)
        wm._add_cells(
            group,
            wm._cells(gaps, gaps["weight"].to_numpy(), size),
            wm.GAP_COLOURS,
            lambda v, n, lab=html_label: f"{lab}: {v} uncovered demand ({n} points)",
            centre,
        )
        over = ev.overlaps()
        over = over[over["level"] == key]
        group = wm.layer_group(
            m, f"overlaps: {label} ({wm._money(over['weight'].sum())} by 2+ outlets)", False
        )
        wm._add_overlap_cells(
            group,
            wm.overlap_cells(over, over["weight"].to_numpy(), over["n_covering"].to_numpy(), size),
            wm._esc(label),
            centre,
        )
    outlets = ev.open_outlets
    horizon = scenario.costs.horizon_years
    for k, (key, label) in enumerate(zip(scenario.tier_keys, scenario.tier_labels, strict=True)):
        sel = outlets[outlets["tier"] == key]
        group = wm.layer_group(m, f"{label} ({len(sel)})", True)
        wm._add_outlets(group, sel, k, "keep", unit, horizon, centre=centre)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    wm.FitData(bounds, left=10, right=10).add_to(m)
    m.get_root().header.add_child(Element(wm._CSS))
    return _offline(m)


def _offline(m):
    from netplan.present.webmap import render_offline

    def _inline(**_: object) -> str:
        page = html.escape(render_offline(m))
        return (
            f'<iframe srcdoc="{page}" style="width:100%;height:560px;border:none" '
            "allowfullscreen></iframe>"
        )

    m._repr_html_ = _inline  # folium's own repr would point at the inlined-asset placeholder
    return m


register("plan.html", plan_html)
register("evaluation.html", evaluation_html)
register("evaluation.explore", evaluation_map)
register("run.html", run_html)
register("run.explore", offline_map)
