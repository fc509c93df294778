"""``report.html``: one self-contained page for a run — no script, no CDN, charts as inline SVG.

Sections: the executive summary (the decision in three sentences, where the plan is worse than
today, the targets, a static picture of the plan, a link to map.html); the scenario in plain words; KPIs per level and per region (baseline, plan, delta);
charts (coverage per level, distance to the nearest serving outlet, cost by tier and action,
outlets per tier); the sites opened, closed and re-tiered; the diagnosis of
today's network (gaps, overlaps, redundant outlets, unsupported outlets); the validator's
checks; an appendix with the solver record. The page's markup is the template ``report.html``, which escapes every text from the
inputs; the charts show them literally too (``$`` would start matplotlib's mathtext; see
:mod:`netplan.present.markup`).
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from markupsafe import Markup

from netplan.evaluation.columns import distance_column
from netplan.evaluation.summary import summarize
from netplan.present.formats import format_money
from netplan.present.markup import mpl_text
from netplan.present.plan_image import plan_image
from netplan.present.summary_text import decision, target_lines, worse_lines
from netplan.present.templating import render
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
    """Open outlets per tier, today and plan side by side."""
    fig, ax = _figure()
    x = np.arange(len(labels))
    ax.bar(x - 0.2, counts_today.to_numpy(), 0.4, label="today", color=BASE_COLOUR)
    ax.bar(x + 0.2, counts_plan.to_numpy(), 0.4, label="plan", color=PLAN_COLOUR)
    ax.set_xticks(x, [mpl_text(v) for v in labels])
    ax.set_ylabel("open outlets")
    ax.legend(frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


# --------------------------------------------------------------------- page
def _table(frame: pd.DataFrame) -> dict:
    """A frame as the template's table: column names and rows of values."""
    return {
        "columns": [str(c) for c in frame.columns],
        "rows": [list(row) for row in frame.itertuples(index=False)],
    }


def _in_money(frame: pd.DataFrame, currency: str | None) -> pd.DataFrame:
    """Money columns (every numeric one but counts) named with the currency: ``cost (EUR)``."""
    if not currency:
        return frame
    money_cols = {c: f"{c} ({currency})" for c in frame.columns
                  if c in ("cost", "keep", "open", "retier", "close")}  # fmt: skip
    return frame.rename(columns=money_cols)


def solver_words(record: dict) -> str:
    """The solver's verdict in plain words: "proven optimal", "stopped at the time limit, within 1.2 % …".

    Parameters
    ----------
    record : dict
        :meth:`netplan.planner.Plan.solver_record`.

    Returns
    -------
    str
    """
    status, gap = record["status"], record["gap"]
    within = (
        f", within {100 * gap:.2g} % of the best possible"
        if gap is not None and np.isfinite(gap) and gap > 0
        else ""
    )
    if status == "optimal":
        return "proven optimal"
    if status == "time_limit":
        return f"stopped at the time limit{within}"
    return f"{str(status).replace('_', ' ')}{within}"


def report_html(result) -> str:
    """The whole report page for a :class:`netplan.pipeline.RunResult`.

    Parameters
    ----------
    result : netplan.pipeline.RunResult

    Returns
    -------
    str
        A self-contained HTML page (no script; the charts are inline SVG).
    """
    scenario, plan = result.scenario, result.plan
    labels = scenario.tier_labels
    kpis = result.kpi_table()
    d = {s: distance_column(s, scenario.unit) for s in ("mean", "p90", "max")}  # already in km / min
    level_cols = ["level_name", "covered_pct_baseline", "covered_pct_plan", "covered_pct_delta",
                  "overlap_pct_plan", f"{d['mean']}_baseline", f"{d['mean']}_plan", f"{d['p90']}_plan", f"{d['max']}_plan"]  # fmt: skip
    per_level = kpis.loc[kpis["region"] == "all", level_cols].copy()
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
    checks = pd.DataFrame([c.to_dict() for c in result.checks])
    if len(checks):
        checks["ok"] = np.where(checks["ok"], "yes", "NO")
    charts = [
        ("Coverage per level", coverage_chart(kpis)),
        ("Distance to the nearest serving outlet", distance_chart(result)),
        ("Plan cost by tier and action", cost_chart(costs, labels) if len(costs) else ""),
        ("Open outlets per tier", outlets_chart(counts_today, counts_plan, labels)),
    ]
    objective = (
        "cover as much demand as possible at every level"
        if scenario.objective.type == "max_coverage"
        else "meet the coverage targets at the lowest cost"
    )
    facts = summarize(plan, result.evaluation, base)
    currency = scenario.costs.currency
    page = render(
        "report.html",
        decision=decision(facts),
        worse=worse_lines(facts) if facts.worse else [],
        nothing_worse="" if facts.worse else worse_lines(facts)[0],
        targets=target_lines(facts),
        plan_image=plan_image(result),
        verdict=solver_words(record),
        money=lambda v: format_money(v, currency),
        scenario=scenario,
        record=record,
        cost=plan.cost()["total"],
        baseline_cost=plan.budget.get("baseline_cost", float("nan")),
        budget=plan.budget.get("total"),
        objective=objective,
        unit=unit,
        attribution=OSM_ATTRIBUTION,
        per_level=_table(per_level),
        charts=[(title, Markup(svg)) for title, svg in charts],  # our own SVG: markup
        regions=_table(regions),
        costs=_table(_in_money(costs.reset_index().rename(columns={"_tier": "tier", "index": "tier"}), currency)),
        changed=_table(_in_money(changed, currency)),
        diagnosis=_table(diagnosis),
        redundant=[str(v) for v in base.redundant_outlets()["site_id"]],
        broken=[str(v) for v in base.broken_links()["site_id"]],
        stages=_table(stages),
        checks=_table(checks),
    )
    return page + "\n"
