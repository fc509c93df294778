"""A roadmap's figures in plain words, shared by its report page and the terminal: what the
solver proved, the gain over greedy, and the best-end-state-first roadmap or why there is none."""

from __future__ import annotations

import numpy as np

from netplan.present.i18n import catalogue, t


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
    proven = [stage_label(s, locale) for s in result.values]
    stopped = result.stopped_stage or ""
    record = next((r for r in reversed(result.records) if r.stage == stopped), None)
    gap = None if record is None else record.gap
    within = (
        t("verdict.within", locale, gap=gap_text(gap))
        if gap is not None and np.isfinite(gap) and gap > 0
        else ""
    )
    how = t("roadmap.verdict.time_limit" if plan.status == "time_limit" else "roadmap.verdict.other",
            locale, stage=stage_label(stopped, locale), within=within,
            status=str(plan.status).replace("_", " "))  # fmt: skip
    if not proven:
        return t("roadmap.verdict.none", locale, how=how)
    return t(
        "roadmap.verdict.partial",
        locale,
        proven=t("roadmap.list_sep", locale).join(proven),
        how=how,
    )


def gap_text(gap: float) -> str:
    """A relative gap in % as people write it: 0.61, 9.1, 100 (not 1e+02)."""
    pct = 100 * gap
    return f"{pct:.0f}" if pct >= 10 else f"{pct:.2g}"


def stage_label(stage: str, locale: str) -> str:
    """A stage's name in ``locale`` (final_first's end-state stages keep their prefix)."""
    prefix, _, name = stage.rpartition(":")
    label = t(f"stage.{name}", locale) if f"stage.{name}" in catalogue(locale) else name
    return f"{t('roadmap.end_state', locale)}: {label}" if prefix else label


def pct_gain(exact: float | None, base: float | None) -> str:
    """The gain of ``exact`` over ``base`` in %, signed, one decimal ("" without a base)."""
    if exact is None or base is None or base <= 0:
        return ""
    return f"{100 * (exact - base) / base:+.1f}"


def final_first_words(plan, figures: dict, locale: str) -> str:
    """The best-end-state-first roadmap in a sentence: its figure, or why there is none."""
    other = plan.other if plan.objective == "coverage_years" else plan.result
    status = other.status if other is not None else "not_run"
    if figures["final_first"] is not None:
        values = {"value": f"{figures['final_first']:,.1f}",
                  "gain": f"{figures['gain_over_final_first']:,.1f}",
                  "pct": pct_gain(figures["exact"], figures["final_first"])}  # fmt: skip
        best = getattr(other, "unreachable_end_coverage", None)
        if best is not None:  # the single-plan end state was out of reach: the best reachable one
            reached = other.values.get("end_coverage")
            text = t("roadmap.ff.fallback", locale, best=f"{best:,.1f}",
                     reached="?" if reached is None else f"{reached:,.1f}", **values)  # fmt: skip
        else:
            text = t("roadmap.ff.value", locale, **values)
        if status != "optimal":  # a roadmap all the same, but not the best of its kind
            text += " " + t("roadmap.ff.not_proven", locale, status=str(status).replace("_", " "))
        return text
    if status in ("unreachable", "infeasible"):
        return t("roadmap.ff.unreachable", locale)
    return t("roadmap.ff.unproven", locale, status=str(status).replace("_", " "))
