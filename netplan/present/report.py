"""``report.html``: one self-contained page for a run — no script, no CDN, charts as inline SVG.

Sections: the scenario in plain words; KPIs per level and per region (baseline, plan, delta);
charts (coverage per level, distance to the nearest serving outlet, cost by tier and action,
outlets per tier); the solver record; the sites opened, closed and re-tiered; the diagnosis of
today's network (gaps, overlaps, redundant outlets, unsupported outlets); the validator's
checks. Every text from the inputs is HTML-escaped, and shown literally in the charts too
(``$`` would start matplotlib's mathtext; see :mod:`netplan.present.markup`).
"""

from __future__ import annotations

import io
import math
from html import escape

import numpy as np
import pandas as pd

from netplan.present.markup import mpl_text
from netplan.roads.network import OSM_ATTRIBUTION

PLAN_COLOUR, BASE_COLOUR = "#1f6fb2", "#b0b7bf"
ACTION_COLOURS = {"keep": "#4c8c4a", "open": "#1f6fb2", "retier": "#d08a1b", "close": "#b23a3a"}


def _svg(fig) -> str:
    """A matplotlib figure as inline SVG text (no external references)."""
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _figure(width: float = 6.0, height: float = 3.2):
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    plt.rcParams["svg.fonttype"] = "none"  # text stays text: selectable, small
    return plt.subplots(figsize=(width, height))


def coverage_chart(kpis: pd.DataFrame) -> str:
    """Covered % per level, baseline and plan side by side."""
    rows = kpis[kpis["region"] == "all"]
    fig, ax = _figure()
    x = np.arange(len(rows))
    ax.bar(x - 0.2, rows["covered_pct_baseline"], 0.4, label="today", color=BASE_COLOUR)
    ax.bar(x + 0.2, rows["covered_pct_plan"], 0.4, label="plan", color=PLAN_COLOUR)
    for xi, value in zip(x, rows["covered_pct_plan"], strict=True):
        ax.text(xi + 0.2, value + 1, f"{value:.1f}", ha="center", fontsize=8)
    ax.set_xticks(x, [mpl_text(v) for v in rows["level_name"]])
    ax.set_ylim(0, 118)
    ax.set_yticks(range(0, 101, 20))
    ax.set_ylabel("covered demand, %")
    ax.legend(frameon=False, loc="upper right", ncol=2)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def distance_chart(result) -> str:
    """Weighted cumulative share of demand by distance to the nearest serving outlet, per level."""
    scenario = result.scenario
    fig, ax = _figure(6.0, 3.4)
    scale, unit = (1000.0, "km") if scenario.unit == "m" else (1.0, "min")
    colours = ["#1f6fb2", "#4c8c4a", "#d08a1b", "#7a4fa0", "#b23a3a"]
    for level, (key, label) in enumerate(
        zip(scenario.tier_keys, scenario.tier_labels, strict=True)
    ):
        for ev, style, name in ((result.baseline, ":", "today"), (result.evaluation, "-", "plan")):
            dist = ev.demand[f"dist_{key}"].to_numpy() / scale
            w = ev.demand[f"weight_{key}"].to_numpy()
            ok = np.isfinite(dist) & (w > 0)
            if not ok.any():
                continue
            order = np.argsort(dist[ok])
            cum = np.cumsum(w[ok][order]) / w[w > 0].sum() * 100
            ax.plot(
                dist[ok][order],
                cum,
                style,
                color=colours[level % 5],
                lw=1.4,
                label=mpl_text(f"{label} ({name})"),
            )
    what = "drive time" if unit == "min" else "distance"
    ax.set_xlabel(f"{what} to the nearest outlet serving the level, {unit}")
    ax.set_ylabel("share of demand within, %")
    ax.set_ylim(0, 101)
    ax.set_xlim(left=0)
    ax.legend(frameon=False, fontsize=7, ncol=2)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def cost_chart(costs: pd.DataFrame, labels: list[str]) -> str:
    """Plan cost by tier, stacked by action (keep = operating a kept outlet)."""
    fig, ax = _figure()
    bottom = np.zeros(len(costs))
    y = np.arange(len(labels))  # positions, not categories: two tiers may share a name
    for action, colour in ACTION_COLOURS.items():
        values = costs[action].to_numpy(dtype=float) if action in costs else np.zeros(len(costs))
        ax.barh(y, values, left=bottom, color=colour, label=action)
        bottom += values
    ax.set_yticks(y, [mpl_text(v) for v in labels])
    from matplotlib.ticker import FuncFormatter

    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))  # no "1e6" offset
    ax.tick_params(axis="x", labelrotation=20)
    ax.set_xlabel("cost over the horizon")
    ax.legend(frameon=False, fontsize=8)
    ax.invert_yaxis()
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def outlets_chart(counts_today: pd.Series, counts_plan: pd.Series, labels: list[str]) -> str:
    fig, ax = _figure()
    x = np.arange(len(labels))
    ax.bar(x - 0.2, counts_today.to_numpy(), 0.4, label="today", color=BASE_COLOUR)
    ax.bar(x + 0.2, counts_plan.to_numpy(), 0.4, label="plan", color=PLAN_COLOUR)
    ax.set_xticks(x, [mpl_text(v) for v in labels])
    ax.set_ylabel("open outlets")
    ax.legend(frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


# -------------------------------------------------------------------- tables
def _fmt(value, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        return f"{value:,.{digits}f}"
    return escape(str(value))


def _table(frame: pd.DataFrame, digits: int = 1) -> str:
    head = "".join(f"<th>{escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_fmt(v, digits)}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _scenario_words(result) -> str:
    s = result.scenario
    plan = result.plan
    unit = "km" if s.unit == "m" else "min"
    tiers = "; ".join(
        f"<b>{escape(t.label)}</b> serves its level within {escape(str(t.reach))}"
        + (
            f" and needs a higher-tier outlet within {escape(str(t.linkage))}"
            if k and t.linkage
            else ""
        )
        for k, t in enumerate(s.tiers)
    )
    budget = plan.budget.get("total")
    objective = (
        "cover as much demand as possible at every level"
        if s.objective.type == "max_coverage"
        else "meet the coverage targets at the lowest cost"
    )
    parts = [
        f"<p>{escape(s.description or '')}</p>" if s.description else "",
        f"<p>Objective: {objective}. Travel: {escape(s.travel.mode)} distance ({unit}). Tiers: {tiers}.</p>"
        if s.travel.mode != "network"
        else f"<p>Objective: {objective}. Travel: drive time on the road network, customer to outlet ({unit}). "
        f"Tiers: {tiers}. Roads and data: {escape(OSM_ATTRIBUTION)}.</p>",
        f"<p>Budget over {s.costs.horizon_years:g} years: "
        + (f"{budget:,.0f}" if budget is not None else "none")
        + f"; today's network costs {plan.budget.get('baseline_cost', float('nan')):,.0f} over the same horizon.</p>",
    ]
    if s.counts:
        rules = ", ".join(
            f"{escape(str(r.tier))}{' in ' + escape(r.region) if r.region else ''}: "
            f"{'' if r.min is None else f'at least {r.min}'}{' and ' if r.min is not None and r.max is not None else ''}"
            f"{'' if r.max is None else f'at most {r.max}'}"
            for r in s.counts
        )
        parts.append(f"<p>Count rules: {rules}.</p>")
    return "\n".join(parts)


def report_html(result) -> str:
    """The whole report page for a :class:`netplan.pipeline.RunResult`."""
    scenario, plan = result.scenario, result.plan
    labels = scenario.tier_labels
    kpis = result.kpi_table()
    level_cols = ["level_name", "covered_pct_baseline", "covered_pct_plan", "covered_pct_delta",
                  "overlap_pct_plan", "dist_mean_baseline", "dist_mean_plan", "dist_p90_plan", "dist_max_plan"]  # fmt: skip
    per_level = kpis.loc[kpis["region"] == "all", level_cols].copy()
    scale = 1000.0 if scenario.unit == "m" else 1.0
    for col in level_cols[5:]:
        per_level[col] = per_level[col] / scale
    unit = "km" if scenario.unit == "m" else "min"
    per_level.columns = ["level", "covered % today", "covered % plan", "Δ points", "overlap % plan",
                         f"mean dist today ({unit})", f"mean dist plan ({unit})", f"p90 plan ({unit})", f"max plan ({unit})"]  # fmt: skip
    regions = kpis.loc[kpis["region"] != "all", ["region", "level_name", "demand_plan",
                                                 "covered_pct_baseline", "covered_pct_plan", "covered_pct_delta"]]  # fmt: skip
    regions.columns = ["region", "level", "demand", "covered % today", "covered % plan", "Δ points"]
    record = plan.solver_record()
    stages = pd.DataFrame(
        [
            {"stage": r["stage"], "status": r["status"], "objective": r["objective"],
             "bound": r["bound"], "gap": r["gap"], "seconds": r["seconds"]}
            for r in record["stages"]
        ]
    )  # fmt: skip
    outlets = plan.outlets
    changed = outlets.loc[outlets["action"].isin(["open", "close", "retier"]), [
        "site_id", "name", "action", "current_tier", "tier", "region", "cost"]].sort_values(["action", "site_id"])  # fmt: skip
    costs = result.evaluation.costs()
    counts_today = result.baseline.counts()["keep"]
    counts_plan = plan.counts()[["keep", "open", "retier"]].sum(axis=1)
    base = result.baseline
    diagnosis = base.level_kpis()[["level_name", "gap", "gap_pct", "overlap", "overlap_pct"]].copy()
    diagnosis.columns = [
        "level",
        "uncovered demand",
        "uncovered %",
        "demand covered twice or more",
        "overlap %",
    ]
    redundant = base.redundant_outlets()
    broken = base.broken_links()
    checks = pd.DataFrame([c.to_dict() for c in result.checks])
    if len(checks):
        checks["ok"] = np.where(checks["ok"], "yes", "NO")
    status = escape(str(record["status"]))
    gap = record["gap"]
    charts = {
        "Coverage per level": coverage_chart(kpis),
        "Distance to the nearest serving outlet": distance_chart(result),
        "Plan cost by tier and action": cost_chart(costs, labels) if len(costs) else "",
        "Open outlets per tier": outlets_chart(counts_today, counts_plan, labels),
    }
    cost = plan.cost()
    sections = [
        f"<h1>{escape(scenario.name)}: network plan</h1>",
        f"<p class='status'>Solver {escape(str(record['solver']))} {escape(str(record['version']))}: "
        f"<b>{status}</b>, objective {_fmt(record['objective'])}, bound {_fmt(record['bound'])}, "
        f"gap {'–' if gap is None else f'{gap:.2e}'}, {record['seconds']:.1f} s. "
        f"Cost {cost['total']:,.0f} (today {plan.budget.get('baseline_cost', float('nan')):,.0f}).</p>",
        "<h2>The scenario</h2>",
        _scenario_words(result),
        "<h2>Coverage and distance per level</h2>",
        _table(per_level),
        "<div class='charts'>"
        + "".join(
            f"<figure><figcaption>{escape(title)}</figcaption>{svg}</figure>"
            for title, svg in charts.items()
            if svg
        )
        + "</div>",  # fmt: skip
        "<h2>Per region</h2>" + (_table(regions) if len(regions) else "<p>No regions.</p>"),
        "<h2>Cost by tier and action</h2>",
        _table(costs.reset_index().rename(columns={"_tier": "tier", "index": "tier"}), 0)
        if len(costs)
        else "",
        "<h2>Sites opened, closed and re-tiered</h2>",
        _table(changed, 0) if len(changed) else "<p>No changes.</p>",
        "<h2>Today's network: diagnosis</h2>",
        _table(diagnosis),
        "<p>Redundant outlets (removing one alone loses no covered demand): "
        + (escape(", ".join(map(str, redundant["site_id"]))) if len(redundant) else "none")
        + ".</p><p>Outlets without a supporting outlet in reach: "
        + (escape(", ".join(map(str, broken["site_id"]))) if len(broken) else "none")
        + ".</p>",
        "<h2>Solver record</h2>",
        _table(stages, 3),
        "<h2>Checks by the independent validator</h2>",
        _table(checks),
    ]
    style = (
        "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}"
        "table{border-collapse:collapse;margin:.5em 0 1.2em;font-size:13px}"
        "th,td{border-bottom:1px solid #ddd;padding:3px 8px;text-align:right}th{background:#f4f6f8}"
        "td:first-child,th:first-child{text-align:left}.charts{display:flex;flex-wrap:wrap;gap:1em}"
        "figure{margin:0;flex:1 1 480px}figcaption{font-weight:600;margin-bottom:.3em}svg{max-width:100%;height:auto}"
        ".status{background:#f4f6f8;padding:.6em;border-left:4px solid #1f6fb2}"
    )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(scenario.name)} – netplan report</title><style>{style}</style></head><body>"
        + "\n".join(sections)
        + "</body></html>\n"
    )
