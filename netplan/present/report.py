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
import re

import numpy as np
import pandas as pd
from markupsafe import Markup

from netplan.evaluation.columns import distance_column
from netplan.evaluation.summary import summarize
from netplan.present.formats import format_money
from netplan.present.i18n import catalogue, t
from netplan.present.markup import mpl_text
from netplan.present.plan_image import plan_image
from netplan.present.siting_diagnosis import break_lines
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


# In zh-CN no text goes into an image (no CJK font on a bare machine): tick labels become
# numbers, and the legend and axis titles become the chart's key in the page (HTML around it).
Key = list[tuple[str, str, str]]  # (symbol, colour, text) shown beside a chart


def _categories(ax, positions, labels: list[str], locale: str, axis: str = "x") -> Key:
    """Tick labels: the names themselves (en) or 1, 2, … explained in the key (zh-CN)."""
    setter = ax.set_xticks if axis == "x" else ax.set_yticks
    if locale == "en":
        setter(positions, [mpl_text(v) for v in labels])
        return []
    setter(positions, [str(i + 1) for i in range(len(labels))])
    return [(f"{i + 1} =", "#222", label) for i, label in enumerate(labels)]


def _axis_label(ax, which: str, text: str, locale: str) -> Key:
    if locale == "en":
        (ax.set_xlabel if which == "x" else ax.set_ylabel)(text)
        return []
    return [("↔" if which == "x" else "↕", "#222", text)]


def _legend(ax, entries: Key, locale: str, **kwargs) -> Key:
    if locale == "en":
        ax.legend(frameon=False, **kwargs)
        return []
    return entries


def coverage_chart(kpis: pd.DataFrame, locale: str = "en") -> tuple[str, Key]:
    """Covered % per level, baseline and plan side by side; the chart's key (zh-CN)."""
    rows = kpis[kpis["region"] == "all"]
    fig, ax = _figure()
    x = np.arange(len(rows))
    today, plan = t("word.today", locale), t("word.plan", locale)
    ax.bar(x - 0.2, rows["covered_pct_baseline"], 0.4, label=today, color=BASE_COLOUR)
    ax.bar(x + 0.2, rows["covered_pct_plan"], 0.4, label=plan, color=PLAN_COLOUR)
    for xi, value in zip(x, rows["covered_pct_plan"], strict=True):
        ax.text(xi + 0.2, value + 1, f"{value:.1f}", ha="center", fontsize=8)
    key = _categories(ax, x, list(rows["level_name"]), locale)
    ax.set_ylim(0, 118)
    ax.set_yticks(range(0, 101, 20))
    key += _axis_label(ax, "y", t("chart.covered_axis", locale), locale)
    key += _legend(ax, [("■", BASE_COLOUR, today), ("■", PLAN_COLOUR, plan)], locale,
                   loc="upper right", ncol=2)  # fmt: skip
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig), key


def distance_chart(result, locale: str = "en") -> tuple[str, Key]:
    """Weighted cumulative share of demand by distance to the nearest serving outlet, per level."""
    scenario = result.scenario
    fig, ax = _figure(6.0, 3.4)
    scale, unit = (1000.0, "km") if scenario.unit == "m" else (1.0, "min")
    colours = ["#1f6fb2", "#4c8c4a", "#d08a1b", "#7a4fa0", "#b23a3a"]
    key: Key = []
    for level, (k, label) in enumerate(zip(scenario.tier_keys, scenario.tier_labels, strict=True)):
        key.append(("━", colours[level % 5], label))
        for ev, style, name in ((result.baseline, ":", "today"), (result.evaluation, "-", "plan")):
            dist = ev.demand[f"dist_{k}"].to_numpy() / scale
            w = ev.demand[f"weight_{k}"].to_numpy()
            ok = np.isfinite(dist) & (w > 0)
            if not ok.any():
                continue
            order = np.argsort(dist[ok])
            cum = np.cumsum(w[ok][order]) / w[w > 0].sum() * 100
            ax.plot(dist[ok][order], cum, style, color=colours[level % 5], lw=1.4,
                    label=mpl_text(f"{label} ({t('word.' + name, locale)})"))  # fmt: skip
    what = t("word.drive_time" if unit == "min" else "word.distance", locale)
    key.append(("┅", "#222", t("chart.dotted_today", locale)))
    out = _axis_label(ax, "x", t("chart.distance_axis", locale, what=what, unit=t(f"unit.{unit}", locale)), locale)
    out += _axis_label(ax, "y", t("chart.share_axis", locale), locale)
    ax.set_ylim(0, 101)
    ax.set_xlim(left=0)
    out += _legend(ax, key, locale, fontsize=7, ncol=2)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig), out


def cost_chart(costs: pd.DataFrame, labels: list[str], locale: str = "en") -> tuple[str, Key]:
    """Plan cost by tier, stacked by action (keep = operating a kept outlet)."""
    fig, ax = _figure()
    bottom = np.zeros(len(costs))
    y = np.arange(len(labels))  # positions, not categories: two tiers may share a name
    entries: Key = []
    for action, colour in ACTION_COLOURS.items():
        values = costs[action].to_numpy(dtype=float) if action in costs else np.zeros(len(costs))
        word = action if locale == "en" else t(f"action.{action}", locale)
        ax.barh(y, values, left=bottom, color=colour, label=word)
        entries.append(("■", colour, word))
        bottom += values
    key = _categories(ax, y, labels, locale, axis="y")
    from matplotlib.ticker import FuncFormatter

    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))  # no "1e6" offset
    ax.tick_params(axis="x", labelrotation=20)
    key += _axis_label(ax, "x", t("chart.cost_axis", locale), locale)
    key += _legend(ax, entries, locale, fontsize=8)
    ax.invert_yaxis()
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig), key


def outlets_chart(counts_today: pd.Series, counts_plan: pd.Series, labels: list[str],
                  locale: str = "en") -> tuple[str, Key]:  # fmt: skip
    """Open outlets per tier, today and plan side by side."""
    fig, ax = _figure()
    x = np.arange(len(labels))
    today, plan = t("word.today", locale), t("word.plan", locale)
    ax.bar(x - 0.2, counts_today.to_numpy(), 0.4, label=today, color=BASE_COLOUR)
    ax.bar(x + 0.2, counts_plan.to_numpy(), 0.4, label=plan, color=PLAN_COLOUR)
    key = _categories(ax, x, labels, locale)
    key += _axis_label(ax, "y", t("chart.outlets_axis", locale), locale)
    key += _legend(ax, [("■", BASE_COLOUR, today), ("■", PLAN_COLOUR, plan)], locale)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig), key


# --------------------------------------------------------------------- page
def _table(frame: pd.DataFrame) -> dict:
    """A frame as the template's table: column names and rows of values."""
    return {
        "columns": [str(c) for c in frame.columns],
        "rows": [list(row) for row in frame.itertuples(index=False)],
    }


def reach_text(reach: object, locale: str = "en") -> str:
    """A tier's reach as given (``"8 km"``), its unit in the locale's word (``"8 公里"``)."""
    text = str(reach)
    found = re.fullmatch(r"\s*([0-9.,]+)\s*(km|min)\s*", text)
    if locale == "en" or not found:
        return text
    return f"{found[1]} {t('unit.' + found[2], locale)}"


def _in_money(frame: pd.DataFrame, currency: str | None, locale: str = "en") -> pd.DataFrame:
    """Money columns (every numeric one but counts) named with the currency: ``cost (EUR)``.

    Other columns are named from the catalogue; in zh-CN the action columns too (``新开``).
    """
    names = {}
    for c in frame.columns:
        if c in ("keep", "open", "retier", "close"):
            name = c if locale == "en" else t(f"action.{c}", locale)
        else:
            name = t(f"col.{c}", locale)
        if currency and c in ("cost", "keep", "open", "retier", "close"):
            name = t("col.money", locale, column=name, currency=currency)
        names[c] = name
    frame = frame.rename(columns=names)
    action = t("col.action", locale)
    if action in frame and locale != "en":
        frame[action] = [t(f"action.{a}", locale) for a in frame[action]]
    return frame


def solver_words(record: dict, locale: str = "en") -> str:
    """The solver's verdict in plain words: "proven optimal", "stopped at the time limit, within 1.2 % …".

    Parameters
    ----------
    record : dict
        :meth:`netplan.planner.Plan.solver_record`.
    locale : str
        ``"en"`` or ``"zh-CN"``.

    Returns
    -------
    str
    """
    status, gap = record["status"], record["gap"]
    within = (
        t("verdict.within", locale, gap=f"{100 * gap:.2g}")
        if gap is not None and np.isfinite(gap) and gap > 0
        else ""
    )
    if status == "optimal":
        return t("verdict.optimal", locale)
    if status == "time_limit":
        return t("verdict.time_limit", locale, within=within)
    return f"{str(status).replace('_', ' ')}{within}"


def check_words(check, locale: str = "en") -> tuple[str, str]:
    """A validator check's rule and detail in ``locale``, from the catalogue.

    A check with a message ``kind`` (see :class:`netplan.evaluation.validator.Check`) is phrased
    from ``check.<kind>.rule`` and ``check.<kind>.ok`` / ``.fail`` with its figures; a value
    named ``unit`` (``"m"``, ``"min"``) reads as the locale's unit word. A check without a known
    kind (text only) shows its English ``rule`` and ``detail``.

    Parameters
    ----------
    check : netplan.evaluation.validator.Check
    locale : str
        ``"en"`` or ``"zh-CN"``.

    Returns
    -------
    tuple of str
        ``(rule, detail)``, plain text (the template escapes it).
    """
    messages = catalogue(locale)
    kind = getattr(check, "kind", "")
    if not kind or f"check.{kind}.rule" not in messages:
        return check.rule, check.detail
    values = dict(check.values)
    if f"unit.{values.get('unit')}" in messages:
        values["unit"] = t(f"unit.{values['unit']}", locale)
    outcome = "ok" if check.ok else "fail"
    return t(f"check.{kind}.rule", locale, **values), t(f"check.{kind}.{outcome}", locale, **values)


def check_table(checks: list, locale: str = "en") -> pd.DataFrame:
    """The report's table of the validator's checks (rule, ok, detail) in ``locale``.

    Parameters
    ----------
    checks : list of netplan.evaluation.validator.Check
    locale : str
        ``"en"`` or ``"zh-CN"``.

    Returns
    -------
    DataFrame
        Columns headed in the locale (``col.rule``, ``col.ok``, ``col.detail``).
    """
    rows = [(*check_words(c, locale), c.ok) for c in checks]
    table = pd.DataFrame(
        {
            t("col.rule", locale): [r[0] for r in rows],
            t("col.ok", locale): [t("word.yes" if r[2] else "word.no", locale) for r in rows],
            t("col.detail", locale): [r[1] for r in rows],
        }
    )
    return table if rows else pd.DataFrame()


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
    loc = scenario.locale
    labels = scenario.tier_labels
    kpis = result.kpi_table()
    d = {s: distance_column(s, scenario.unit) for s in ("mean", "p90", "max")}  # already in km / min
    level_cols = ["level_name", "covered_pct_baseline", "covered_pct_plan", "covered_pct_delta",
                  "overlap_pct_plan", f"{d['mean']}_baseline", f"{d['mean']}_plan", f"{d['p90']}_plan", f"{d['max']}_plan"]  # fmt: skip
    per_level = kpis.loc[kpis["region"] == "all", level_cols].copy()
    unit = t("unit.km" if scenario.unit == "m" else "unit.min", loc)
    per_level.columns = [t(f"col.{c}", loc, unit=unit) for c in (
        "level", "covered_today", "covered_plan", "delta_points", "overlap_plan",
        "mean_today", "mean_plan", "p90_plan", "max_plan")]  # fmt: skip
    if "overlap_capped_pct_plan" in kpis:  # siting.overlap: capped share today, plan, the cap
        rows, caps = kpis.loc[kpis["region"] == "all"], scenario.siting.overlap
        for key, col in (("today", "baseline"), ("plan", "plan")):
            per_level[t(f"col.overlap_capped_{key}", loc)] = rows[f"overlap_capped_pct_{col}"].values
        per_level[t("col.overlap_cap", loc)] = [
            100 * caps[k].max_share if k in caps else np.nan for k in rows["level"]
        ]
    regions = kpis.loc[kpis["region"] != "all", ["region", "level_name", "demand_plan",
                                                 "covered_pct_baseline", "covered_pct_plan", "covered_pct_delta"]]  # fmt: skip
    regions.columns = [t(f"col.{c}", loc) for c in (
        "region", "level", "demand", "covered_today", "covered_plan", "delta_points")]  # fmt: skip
    record = plan.solver_record()
    stages = pd.DataFrame(
        [
            {"stage": r["stage"], "status": r["status"], "objective": r["objective"],
             "bound": r["bound"], "gap": r["gap"], "seconds": r["seconds"]}
            for r in record["stages"]
        ]
    )  # fmt: skip
    if len(stages) and loc != "en":  # the stage names of the solve, in words
        stages["stage"] = [t(f"stage.{x}", loc) if f"stage.{x}" in catalogue(loc) else x
                           for x in stages["stage"]]  # fmt: skip
    stages = stages.rename(columns={c: t(f"col.{c}", loc) for c in stages.columns})
    outlets = plan.outlets
    changed = outlets.loc[outlets["action"].isin(["open", "close", "retier"]), [
        "site_id", "name", "action", "current_tier", "tier", "region", "cost"]].sort_values(["action", "site_id"])  # fmt: skip
    costs = result.evaluation.costs()
    counts_today = result.baseline.counts()["keep"]
    counts_plan = plan.counts()[["keep", "open", "retier"]].sum(axis=1)
    base = result.baseline
    diagnosis = base.level_kpis()[["level_name", "gap", "gap_pct", "overlap", "overlap_pct"]].copy()
    diagnosis.columns = [t(f"col.{c}", loc) for c in (
        "level", "uncovered", "uncovered_pct", "overlap", "overlap_pct")]  # fmt: skip
    checks = check_table(result.checks, loc)
    charts = [
        (t("chart.coverage", loc), *coverage_chart(kpis, loc)),
        (t("chart.distance", loc), *distance_chart(result, loc)),
        (t("chart.cost", loc), *(cost_chart(costs, labels, loc) if len(costs) else ("", []))),
        (t("chart.outlets", loc), *outlets_chart(counts_today, counts_plan, labels, loc)),
    ]
    objective = t(f"objective.{scenario.objective.type}", loc)
    facts = summarize(plan, result.evaluation, base)
    currency = scenario.costs.currency
    image, image_key = plan_image(result, locale=loc)
    page = render(
        "report.html",
        locale=loc,
        decision=decision(facts, loc),
        worse=worse_lines(facts, loc) if facts.worse else [],
        nothing_worse="" if facts.worse else worse_lines(facts, loc)[0],
        targets=target_lines(facts, loc),
        plan_image=image,
        image_key=image_key,
        verdict=solver_words(record, loc),
        money=lambda v: format_money(v, currency, locale=loc),
        scenario=scenario,
        reach=lambda v: reach_text(v, loc),
        record=record,
        cost=plan.cost()["total"],
        baseline_cost=plan.budget.get("baseline_cost", float("nan")),
        budget=plan.budget.get("total"),
        objective=objective,
        unit=unit,
        attribution=OSM_ATTRIBUTION,
        per_level=_table(per_level),
        charts=[(title, Markup(svg), key) for title, svg, key in charts],  # our own SVG: markup
        regions=_table(regions),
        costs=_table(_in_money(costs.reset_index().rename(columns={"_tier": "tier", "index": "tier"}), currency, loc)),
        changed=_table(_in_money(changed, currency, loc)),
        diagnosis=_table(diagnosis),
        redundant=[str(v) for v in base.redundant_outlets()["site_id"]],
        broken=[str(v) for v in base.broken_links()["site_id"]],
        siting_breaks=break_lines(plan.inputs, loc),
        stages=_table(stages),
        checks=_table(checks),
    )
    return page + "\n"
