"""``report.html`` of a roadmap: the coverage-years of the exact roadmap against ``final_first``
and greedy, coverage by phase (a line per level), the actions of every phase, and money per phase
against its budget. Self-contained (no script, charts as inline SVG); labels from the message
catalogue; in zh-CN no text in the charts (numbers, with their key beside them)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from markupsafe import Markup

from netplan.present.formats import format_money
from netplan.present.i18n import t
from netplan.present.report import (
    PLAN_COLOUR,
    Key,
    _axis_label,
    _categories,
    _figure,
    _legend,
    _svg,
    _table,
)
from netplan.present.roadmap_words import final_first_words, pct_gain, roadmap_verdict, stage_label
from netplan.present.templating import render

LEVEL_COLOURS = ("#1f6fb2", "#d08a1b", "#4c8c4a", "#8a4cb2", "#b23a3a")


def coverage_by_phase_chart(
    phases: pd.DataFrame, keys: list[str], labels: list[str], locale: str
) -> tuple[str, Key]:
    """Covered % of each phase's demand, a line per level, today first."""
    fig, ax = _figure(6.4, 3.2)
    x = np.arange(len(phases))
    key: Key = []
    for i, (k, label) in enumerate(zip(keys, labels, strict=True)):
        colour = LEVEL_COLOURS[i % len(LEVEL_COLOURS)]
        ax.plot(x, phases[f"covered_pct_{k}"], marker="o", color=colour, label=label)
        key.append(("━", colour, label))
    out = _categories(ax, x, list(phases["phase"]), locale)
    ax.set_ylim(0, 105)
    out += _axis_label(ax, "y", t("chart.covered_axis", locale), locale)
    out += _legend(ax, key, locale, loc="lower right", fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig), out


def money_chart(phases: pd.DataFrame, locale: str) -> tuple[str, Key]:
    """Capex spent per phase against its capex budget."""
    rows = phases.iloc[1:]
    fig, ax = _figure(6.4, 3.0)
    x = np.arange(len(rows))
    ax.bar(x, rows["capex"], 0.5, color=PLAN_COLOUR, label=t("roadmap.capex_spent", locale))
    budget = rows["capex_budget"].astype(float)
    ax.scatter(x[budget.notna().to_numpy()], budget.dropna(), marker="_", s=900, color="#222",
               label=t("roadmap.capex_budget", locale))  # fmt: skip
    from matplotlib.ticker import FuncFormatter

    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))  # no "1e6" offset
    key = _categories(ax, x, list(rows["phase"]), locale)
    key += _legend(ax, [("■", PLAN_COLOUR, t("roadmap.capex_spent", locale)),
                        ("—", "#222", t("roadmap.capex_budget", locale))], locale, loc="upper left")  # fmt: skip
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig), key


def roadmap_report_html(run) -> str:
    """The report page of a :class:`netplan.roadmap_pipeline.RoadmapRun`.

    Returns
    -------
    str
        A self-contained HTML page.
    """
    plan = run.plan
    scenario = plan.scenario
    loc = scenario.locale
    currency = scenario.costs.currency
    keys, labels = scenario.tier_keys, scenario.tier_labels
    phases = plan.phase_table()
    phases["phase"] = [t("word.today", loc) if p == "today" else p for p in phases["phase"]]
    figures = plan.coverage_years()

    def money(v) -> str:
        missing = v is None or (isinstance(v, float) and np.isnan(v))
        return "" if missing else format_money(v, currency, locale=loc)

    table = pd.DataFrame({
        t("col.phase", loc): phases["phase"],
        # today's row has no length; phases read 1, 2.5 (not 1.0)
        t("col.years", loc): ["" if i == 0 else f"{y:g}" for i, y in enumerate(phases["years"])],
        t("roadmap.capex_spent", loc): [money(v) for v in phases["capex"]],
        t("roadmap.capex_budget", loc): [money(v) for v in phases["capex_budget"]],
        t("roadmap.opex", loc): [money(v) for v in phases["opex_per_year"]],
        **{t("roadmap.covered", loc, level=lab): phases[f"covered_pct_{k}"] for k, lab in zip(keys, labels, strict=True)},
    })  # fmt: skip
    actions = plan.actions()
    label_of = dict(zip(keys, labels, strict=True))
    shown = pd.DataFrame({
        t("col.phase", loc): actions["phase"],
        t("col.site_id", loc): actions["site_id"],
        t("col.name", loc): actions["name"],
        t("roadmap.tier_before", loc): [label_of.get(k, "") for k in actions["tier_before"]],
        t("roadmap.tier_after", loc): [label_of.get(k, "") for k in actions["tier_after"]],
        t("col.action", loc): [t(f"roadmap.action.{a}", loc) for a in actions["action"]],
        t("roadmap.capex", loc): [money(v) for v in actions["capex"]],
    })  # fmt: skip
    records = [dict(r.to_dict(), label=stage_label(r.stage, loc)) for r in plan.result.records]
    charts = [
        (t("roadmap.chart_coverage", loc), *coverage_by_phase_chart(phases, keys, labels, loc)),
        (t("roadmap.chart_money", loc), *money_chart(phases, loc)),
    ]
    page = render(
        "roadmap_report.html",
        locale=loc,
        scenario=scenario,
        status=plan.status,
        verdict=roadmap_verdict(plan, loc),
        objective=plan.objective,
        figures=figures,
        years=f"{float(plan.problem.years.sum()):g}",
        greedy_pct=pct_gain(figures["exact"], figures["greedy"]),
        ff_words=final_first_words(plan, figures, loc),
        greedy_problems=plan.greedy.problems,
        phases=_table(table),
        actions=_table(shown),
        charts=[(title, Markup(svg), key) for title, svg, key in charts],  # our own SVG
        records=records,
        checks=[(c.rule, c.ok, c.detail) for c in run.checks],
    )
    return page + "\n"
