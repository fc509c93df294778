"""The executive summary in words: the decision in three sentences, what gets worse, the targets.

Plain text from the facts of :func:`netplan.evaluation.summary.summarize`, shared by report.html
(which escapes it) and the terminal summary of ``netplan run`` / ``netplan demo``. Money goes
through :func:`netplan.present.formats.format_money` alone; every word comes from the message
catalogue (:mod:`netplan.present.i18n`) of the scenario's ``locale``.
"""

from __future__ import annotations

import math

from netplan.evaluation.summary import ALL, Summary, Target, Worsening
from netplan.present.formats import format_money, number
from netplan.present.i18n import plural, t


def _per_tier(parts: list[tuple[int, str]], loc: str) -> str:
    shown = [t("sum.per_tier.part", loc, n=n, label=label) for n, label in parts if n]
    return t("sum.per_tier", loc, parts=t("sep.list", loc).join(shown)) if shown else ""


def _list(items: list[str], loc: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return t("sep.list", loc).join(items[:-1]) + t("sep.and", loc) + items[-1]


def _pct(value: float, loc: str, signed: bool = False) -> str:
    return number(value, 1, loc, signed=signed)


def shown_delta(before: float, after: float, digits: int = 1) -> float:
    """``after − before`` of the two figures as printed with ``digits`` decimals.

    A delta printed beside its two figures must add up as read: 84.26 → 82.14 prints as
    "84.3 → 82.1", so its delta is -2.2, not the exact -2.12 rounded to "-2.1" (nor -2.3 from
    84.34 → 82.05). Rounding as :func:`netplan.present.formats.number` does.

    Parameters
    ----------
    before, after : float
    digits : int
        Decimals printed.

    Returns
    -------
    float
    """
    return round(round(float(after), digits) - round(float(before), digits), digits)


def decision_sentence(s: Summary, locale: str = "en") -> str:
    """What opens, closes and changes tier, per tier; outlets today → plan."""
    loc = locale
    if not (s.opened or s.closed or s.retiered):
        return plural("sum.keeps", s.outlets_today, loc)
    acts = []
    if s.opened:
        tiers = _per_tier([(x.opened, x.label) for x in s.tiers], loc)
        acts.append(plural("sum.opens", s.opened, loc, tiers=tiers))
    if s.closed:
        tiers = _per_tier([(x.closed, x.label) for x in s.tiers], loc)
        acts.append(t("sum.closes", loc, n=s.closed, tiers=tiers))
    if s.retiered:
        moves = [(n, f"{a} → {b}") for a, b, n in s.moves]
        acts.append(t("sum.retiers", loc, n=s.retiered, tiers=_per_tier(moves, loc)))
    return t("sum.decision", loc, acts=_list(acts, loc), today=s.outlets_today, plan=s.outlets_plan)


def cost_sentence(s: Summary, locale: str = "en") -> str:
    """The plan's cost against today's network and the budget."""
    loc, cur = locale, s.currency

    def m(v: float) -> str:
        return format_money(v, cur, locale=loc)

    years = t(f"sum.years.{'one' if s.horizon_years == 1 else 'other'}", loc, n=s.horizon_years)
    text = t("sum.cost", loc, plan=m(s.cost_plan), years=years)
    if math.isfinite(s.cost_today):
        diff = float(round(s.cost_plan) - round(s.cost_today))  # money prints whole units
        if diff == 0:
            text += t("sum.cost.same", loc, today=m(s.cost_today))
        else:
            key = "sum.cost.more" if diff > 0 else "sum.cost.less"
            text += t(key, loc, diff=m(abs(diff)), today=m(s.cost_today))
    if s.budget is None:
        text += t("sum.no_budget", loc)
    else:
        left = float(round(s.budget) - round(s.cost_plan))
        text += t("sum.budget", loc, budget=m(s.budget)) + (
            t("sum.unspent", loc, left=m(left)) if left > 0 else t("sum.all_spent", loc)
        )
    return text


def coverage_sentence(s: Summary, locale: str = "en") -> str:
    """Coverage per level, today → plan, with the change in points."""
    loc = locale
    parts = [
        t("sum.coverage.part", loc, label=lv.label, today=_pct(lv.covered_pct_today, loc),
          plan=_pct(lv.covered_pct_plan, loc),
          delta=_pct(shown_delta(lv.covered_pct_today, lv.covered_pct_plan), loc, signed=True))
        for lv in s.levels
    ]  # fmt: skip
    return t("sum.coverage", loc, parts=t("sep.parts", loc).join(parts))


def decision(s: Summary, locale: str = "en") -> list[str]:
    """The decision in three sentences: what changes, what it costs, what coverage it gives.

    Parameters
    ----------
    s : Summary
        The facts (:func:`netplan.evaluation.summary.summarize`).
    locale : str
        ``"en"`` or ``"zh-CN"``.

    Returns
    -------
    list of str
    """
    return [decision_sentence(s, locale), cost_sentence(s, locale), coverage_sentence(s, locale)]


def where(w: Worsening, locale: str = "en") -> str:
    """The place of a worsening: ``"North-East, city station"``."""
    region = t("sum.where.all", locale) if w.region == ALL else w.region
    return t("sum.where", locale, region=region, label=w.label)


def worse_line(w: Worsening, locale: str = "en") -> str:
    """One region × level that gets worse, with its figures before → after."""
    loc = locale
    figures = [
        t("sum.worse.covered", loc, today=_pct(w.covered_pct_today, loc),
          plan=_pct(w.covered_pct_plan, loc),
          delta=_pct(shown_delta(w.covered_pct_today, w.covered_pct_plan), loc, signed=True))
    ]  # fmt: skip
    if math.isfinite(w.dist_mean_today) and math.isfinite(w.dist_mean_plan):
        what = t("sum.worse.mean_time" if w.unit == "min" else "sum.worse.mean_distance", loc)
        figures.append(
            t("sum.worse.dist", loc, what=what, today=_pct(w.dist_mean_today, loc),
              plan=_pct(w.dist_mean_plan, loc), unit=t(f"unit.{w.unit}", loc),
              delta=_pct(shown_delta(w.dist_mean_today, w.dist_mean_plan), loc, signed=True))
        )  # fmt: skip
    return t("sum.worse.line", loc, where=where(w, loc),
             figures=t("sep.clause", loc).join(figures), demand=number(w.demand, 0, loc))  # fmt: skip


def worse_lines(s: Summary, locale: str = "en") -> list[str]:
    """Every worsening as a line, or one sentence saying nothing gets worse."""
    if not s.worse:
        what = t("word.drive_time" if s.unit == "min" else "word.distance", locale)
        return [t("sum.worse.none", locale, what=what, unit=t(f"unit.{s.unit}", locale))]
    return [worse_line(w, locale) for w in s.worse]


def target_line(x: Target, locale: str = "en") -> str:
    """A target, what the plan covers, and whether it is met."""
    loc = locale
    verdict = t("sum.target.met" if x.met else "sum.target.not_met", loc)
    return t("sum.target", loc, label=x.label, target=_pct(100 * x.share, loc),
             covered=_pct(100 * x.covered_share_of_coverable, loc),
             all=_pct(100 * x.covered_share_of_all, loc), verdict=verdict)  # fmt: skip


def unreachable_line(s: Summary, locale: str = "en") -> str:
    """How much demand no allowed site can reach, per level (absolute and % of all)."""
    loc = locale
    parts = []
    for lv in s.levels:
        lost, total = s.unreachable.get(lv.level, (math.nan, math.nan))
        if not math.isfinite(lost):
            continue
        share = 100 * lost / total if total > 0 else 0.0
        parts.append(t("sum.unreachable.part", loc, label=lv.label, lost=number(lost, 0, loc),
                       total=number(total, 0, loc), share=_pct(share, loc)))  # fmt: skip
    if not parts:
        return ""
    return t("sum.unreachable", loc, parts=t("sep.parts", loc).join(parts))


def target_lines(s: Summary, locale: str = "en") -> list[str]:
    """The targets section: a note on what targets count, each target, the unreachable demand.

    Parameters
    ----------
    s : Summary
    locale : str
        ``"en"`` or ``"zh-CN"``.

    Returns
    -------
    list of str
    """
    lines = []
    if s.targets:
        lines.append(t("sum.targets.note", locale))
        lines += [target_line(x, locale) for x in s.targets]
    elif s.objective == "min_cost":
        lines.append(t("sum.targets.none_min_cost", locale))
    else:
        lines.append(t("sum.targets.none", locale))
    unreachable = unreachable_line(s, locale)
    if unreachable:
        lines.append(unreachable)
    return lines
