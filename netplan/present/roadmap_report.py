"""``report.html`` of a roadmap: the coverage-years of the exact roadmap against ``final_first``
and greedy, coverage by phase (a line per level), the actions of every phase, and money per phase
against its budget. Self-contained (no script, charts as inline SVG); labels from the message
catalogue; in zh-CN no text in the charts (numbers, with their key beside them)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from markupsafe import Markup

from netplan.present.formats import format_money
from netplan.present.i18n import catalogue, t
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


def roadmap_verdict(plan, locale: str) -> str:
    """What the solver proved, in plain words: every stage, or which stages and where it stopped.

    Parameters
    ----------
    plan : RoadmapPlan
    locale : str

    Returns
    -------
    str
    """
    result = plan.result
    if plan.status == "optimal":
        return t("roadmap.verdict.optimal", locale)
    proven = [_stage(s, locale) for s in result.values]
    stopped = result.stopped_stage or ""
    record = next((r for r in reversed(result.records) if r.stage == stopped), None)
    gap = None if record is None else record.gap
    within = (
        t("verdict.within", locale, gap=f"{100 * gap:.2g}")
        if gap is not None and np.isfinite(gap) and gap > 0
        else ""
    )
    how = t("roadmap.verdict.time_limit" if plan.status == "time_limit" else "roadmap.verdict.other",
            locale, stage=_stage(stopped, locale), within=within,
            status=str(plan.status).replace("_", " "))  # fmt: skip
    if not proven:
        return t("roadmap.verdict.none", locale, how=how)
    return t("roadmap.verdict.partial", locale, proven=t("roadmap.list_sep", locale).join(proven), how=how)


def _stage(stage: str, locale: str) -> str:
    """A stage's name in ``locale`` (final_first's end-state stages keep their prefix)."""
    prefix, _, name = stage.rpartition(":")
    label = t(f"stage.{name}", locale) if f"stage.{name}" in catalogue(locale) else name
    return f"{t('roadmap.end_state', locale)}: {label}" if prefix else label


def _pct_gain(exact: float | None, base: float | None) -> str:
    if exact is None or base is None or base <= 0:
        return ""
    return f"{100 * (exact - base) / base:+.1f}"


def _final_first_words(plan, figures: dict, locale: str) -> str:
    """The best-end-state-first roadmap in a sentence: its figure, or why there is none."""
    other = plan.other if plan.objective == "coverage_years" else plan.result
    status = other.status if other is not None else "not_run"
    if figures["final_first"] is not None:
        return t("roadmap.ff.value", locale, value=f"{figures['final_first']:,.1f}",
                 gain=f"{figures['gain_over_final_first']:,.1f}",
                 pct=_pct_gain(figures["exact"], figures["final_first"]))  # fmt: skip
    if status in ("unreachable", "infeasible"):
        return t("roadmap.ff.unreachable", locale)
    return t("roadmap.ff.unproven", locale, status=str(status).replace("_", " "))


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
    records = [dict(r.to_dict(), label=_stage(r.stage, loc)) for r in plan.result.records]
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
        greedy_pct=_pct_gain(figures["exact"], figures["greedy"]),
        ff_words=_final_first_words(plan, figures, loc),
        greedy_problems=plan.greedy.problems,
        phases=_table(table),
        actions=_table(shown),
        charts=[(title, Markup(svg), key) for title, svg, key in charts],  # our own SVG
        records=records,
        checks=[(c.rule, c.ok, c.detail) for c in run.checks],
    )
    return page + "\n"
