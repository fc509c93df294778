"""The executive summary in words: the decision in three sentences, what gets worse, the targets.

Plain text from the facts of :func:`netplan.evaluation.summary.summarize`, shared by report.html
(which escapes it) and the terminal summary of ``netplan run`` / ``netplan demo``. Money goes
through :func:`netplan.present.formats.format_money` alone.
"""

from __future__ import annotations

import math

from netplan.evaluation.summary import ALL, Summary, Target, Worsening
from netplan.present.formats import format_money


def _n(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _per_tier(parts: list[tuple[int, str]]) -> str:
    shown = [f"{n} {label}" for n, label in parts if n]
    return f" ({', '.join(shown)})" if shown else ""


def _list(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def decision_sentence(s: Summary) -> str:
    """What opens, closes and changes tier, per tier; outlets today → plan."""
    if not (s.opened or s.closed or s.retiered):
        return f"The plan keeps today's {_n(s.outlets_today, 'outlet')} as they are."
    acts = []
    if s.opened:
        acts.append(
            f"opens {_n(s.opened, 'new outlet')}{_per_tier([(t.opened, t.label) for t in s.tiers])}"
        )
    if s.closed:
        acts.append(
            f"closes {s.closed} of today's{_per_tier([(t.closed, t.label) for t in s.tiers])}"
        )
    if s.retiered:
        moves = [(n, f"{a} → {b}") for a, b, n in s.moves]
        acts.append(f"changes the tier of {s.retiered}{_per_tier(moves)}")
    return (
        f"The plan {_list(acts)}: {s.outlets_today} outlets today, {s.outlets_plan} in the plan."
    )


def cost_sentence(s: Summary) -> str:
    """The plan's cost against today's network and the budget."""
    cur = s.currency
    years = f"{s.horizon_years:g} year" + ("" if s.horizon_years == 1 else "s")
    text = f"It costs {format_money(s.cost_plan, cur)} over {years}"
    if math.isfinite(s.cost_today):
        diff = s.cost_plan - s.cost_today
        if abs(diff) < 0.5:
            text += f", the same as today's network ({format_money(s.cost_today, cur)})"
        else:
            more = "more" if diff > 0 else "less"
            text += f", {format_money(abs(diff), cur)} {more} than today's network ({format_money(s.cost_today, cur)})"
    if s.budget is None:
        text += "; no budget limit was set."
    else:
        left = s.budget - s.cost_plan
        text += f"; the budget is {format_money(s.budget, cur)}" + (
            f", {format_money(left, cur)} of it unspent." if left >= 0.5 else ", all of it spent."
        )
    return text


def coverage_sentence(s: Summary) -> str:
    """Coverage per level, today → plan, with the change in points."""
    parts = [
        f"{lv.label} {lv.covered_pct_today:.1f} % → {lv.covered_pct_plan:.1f} % "
        f"({lv.delta_points:+.1f} points)"
        for lv in s.levels
    ]
    return "Coverage of all demand: " + "; ".join(parts) + "."


def decision(s: Summary) -> list[str]:
    """The decision in three sentences: what changes, what it costs, what coverage it gives."""
    return [decision_sentence(s), cost_sentence(s), coverage_sentence(s)]


def where(w: Worsening) -> str:
    """The place of a worsening: ``"North-East, city station"``."""
    return f"{'whole area' if w.region == ALL else w.region}, {w.label}"


def worse_line(w: Worsening) -> str:
    """One region × level that gets worse, with its figures before → after."""
    figures = [f"covered {w.covered_pct_today:.1f} % → {w.covered_pct_plan:.1f} % ({w.delta_points:+.1f} points)"]
    if math.isfinite(w.dist_mean_today) and math.isfinite(w.dist_mean_plan):
        what = "mean drive time" if w.unit == "min" else "mean distance"
        figures.append(
            f"{what} {w.dist_mean_today:.1f} → {w.dist_mean_plan:.1f} {w.unit} ({w.delta_dist:+.1f})"
        )
    return f"{where(w)}: {', '.join(figures)}; demand {w.demand:,.0f}"


def worse_lines(s: Summary) -> list[str]:
    """Every worsening as a line, or one sentence saying nothing gets worse."""
    if not s.worse:
        return [
            "Nothing gets worse: no region loses 0.5 coverage points or more at any level, and "
            f"no mean {'drive time' if s.unit == 'min' else 'distance'} rises by 0.5 {s.unit} or more."
        ]
    return [worse_line(w) for w in s.worse]


def target_line(t: Target) -> str:
    """A target, what the plan covers, and whether it is met."""
    verdict = "met" if t.met else "NOT met"
    return (
        f"{t.label}: target {100 * t.share:.1f} % of coverable demand, covered "
        f"{100 * t.covered_share_of_coverable:.1f} % of coverable ({100 * t.covered_share_of_all:.1f} % of all): {verdict}"
    )


def unreachable_line(s: Summary) -> str:
    """How much demand no allowed site can reach, per level (absolute and % of all)."""
    parts = []
    for lv in s.levels:
        lost, total = s.unreachable.get(lv.level, (math.nan, math.nan))
        if not math.isfinite(lost):
            continue
        share = 100 * lost / total if total > 0 else 0.0
        parts.append(f"{lv.label} {lost:,.0f} of {total:,.0f} ({share:.1f} %)")
    if not parts:
        return ""
    return "Demand that no allowed site can reach: " + "; ".join(parts) + "."


def target_lines(s: Summary) -> list[str]:
    """The targets section: a note on what targets count, each target, the unreachable demand."""
    lines = []
    if s.targets:
        lines.append(
            "Targets are shares of coverable demand: demand that some allowed site could reach; "
            "demand no site can reach counts in neither the target nor the coverage asked for."
        )
        lines += [target_line(t) for t in s.targets]
    elif s.objective == "min_cost":
        lines.append("No coverage targets were set.")
    else:
        lines.append("No coverage targets: the plan covers as much demand as the budget allows.")
    unreachable = unreachable_line(s)
    if unreachable:
        lines.append(unreachable)
    return lines
