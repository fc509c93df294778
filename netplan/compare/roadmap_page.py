"""What a comparison of roadmaps shows: its figures as text in the runs' locale, and its page.

The same cells reach ``compare.html`` (template ``compare_roadmap.html``, autoescaped) and the
terminal (:mod:`netplan.compare.roadmap_console`): coverage to 2 decimals (as phases.csv), money in whole units
of the runs' currency, each Δ the difference of the two figures printed beside it. There is no
map: each roadmap run's own ``map.html`` shows its phases.
"""

from __future__ import annotations

import math

from netplan.compare.roadmaps import MONEY, RoadmapComparison
from netplan.present.compare_map import note_text, run_name
from netplan.present.formats import format_money, number
from netplan.present.i18n import t
from netplan.present.summary_text import shown_delta
from netplan.present.templating import render


def roadmap_locale(c: RoadmapComparison) -> str:
    """The runs' ``locale`` (run.json), when both roadmaps name the same one; else ``"en"``."""
    a, b = ((r.record.get("scenario") or {}).get("locale", "en") for r in (c.a, c.b))
    return a if a == b and a in ("en", "zh-CN") else "en"


def phase_label(name: str, locale: str) -> str:
    """A phase's name as shown: ``today`` in the locale's word, the others as given."""
    return t("word.today", locale) if name == "today" else name


def coverage_cell(a: float, b: float, locale: str) -> str:
    """``"41.68 → 62.25 (+20.57)"``: covered % of A and B to 2 decimals as phases.csv holds
    them (rounding them again to 1 decimal could differ from kpis.csv), Δ of those figures."""
    delta = number(shown_delta(a, b, 2), 2, locale, signed=True)
    return f"{number(a, 2, locale)} → {number(b, 2, locale)} ({delta})"


def money_cell(a: float, b: float, currency: str | None, locale: str) -> str:
    """``"EUR 280 → EUR 600 (EUR +320)"`` in whole units; "" when neither run has the figure;
    no Δ when only one has it (a budget in one run only)."""
    have_a, have_b = math.isfinite(a), math.isfinite(b)
    if not have_a and not have_b:
        return ""
    text = f"{format_money(a, currency, locale)} → {format_money(b, currency, locale)}"
    if have_a and have_b:
        delta = float(round(b) - round(a))  # of the whole units printed
        text += f" ({format_money(delta, currency, locale, signed=True)})"
    return text


def figure_text(value: float | None, locale: str) -> str:
    """A coverage-years figure to 1 decimal (``n/a`` when the run has none)."""
    return t("n_a", locale) if value is None else number(value, 1, locale)


def coverage_table(c: RoadmapComparison, locale: str) -> dict:
    """Rows phase × levels of ``coverage_cell`` (the page's and the terminal's table)."""
    labels = c.a.tier_labels
    columns = [t("col.phase", locale)] + [t("cmp.level_col", locale, name=lab) for lab in labels]
    rows = []
    for name in ["today", *c.phase_names]:
        cells = [phase_label(name, locale)]
        for key in c.a.tier_keys:
            r = c.figure(name, "covered_pct", key)
            cells.append(coverage_cell(r["a"], r["b"], locale))
        rows.append(cells)
    return {"columns": columns, "rows": rows}


def money_table(c: RoadmapComparison, locale: str, figures: tuple[str, ...] = MONEY) -> dict:
    """Rows phase × money ``figures`` (those that either run has) of ``money_cell``."""
    present = [f for f in figures if (c.deltas["figure"] == f).any()]
    columns = [t("col.phase", locale)] + [t(f"cmprm.col.{f}", locale) for f in present]
    rows = []
    for name in c.phase_names:
        cells = [phase_label(name, locale)]
        for f in present:
            sel = c.deltas.loc[(c.deltas["phase"] == name) & (c.deltas["figure"] == f)]
            cells.append(
                ""
                if sel.empty
                else money_cell(sel["a"].iloc[0], sel["b"].iloc[0], c.currency, locale)
            )
        rows.append(cells)
    return {"columns": columns, "rows": rows}


def region_table(c: RoadmapComparison, locale: str) -> dict:
    """Rows region × phase of covered % per level, A → B (Δ) to 1 decimal as kpis.csv holds
    them; no rows without regions."""
    labels = c.a.tier_labels
    columns = [t("col.region", locale), t("col.phase", locale)]
    columns += [t("cmp.level_col", locale, name=lab) for lab in labels]
    rows = []
    for (region, phase), part in c.regions.groupby(["region", "phase"], sort=False):
        cells = dict(zip(part["level"], zip(part["a"], part["b"], strict=True), strict=True))
        row = [region, phase_label(phase, locale)]
        for key in c.a.tier_keys:
            a, b = cells.get(key, (math.nan, math.nan))
            delta = number(shown_delta(a, b, 1), 1, locale, signed=True)
            row.append(f"{number(a, 1, locale)} → {number(b, 1, locale)} ({delta})")
        rows.append(row)
    return {"columns": columns, "rows": rows}


def action_table(c: RoadmapComparison, locale: str) -> dict:
    """The differing actions: site, name, difference, phase / action / tier in A and in B."""
    labels = dict(zip(c.a.tier_keys, c.a.tier_labels, strict=True))

    def action(word: str) -> str:
        return t(f"roadmap.action.{word}", locale) if word else ""

    columns = [t(k, locale) for k in ("col.site_id", "col.name", "cmprm.col.difference", "cmprm.col.phase_a",
                                      "cmprm.col.action_a", "cmprm.col.tier_a", "cmprm.col.phase_b",
                                      "cmprm.col.action_b", "cmprm.col.tier_b")]  # fmt: skip
    rows = [
        [r.site_id, r.name, t(f"cmprm.diff.{r.difference}", locale),
         r.phase_a, action(r.action_a), labels.get(r.tier_a, r.tier_a),
         r.phase_b, action(r.action_b), labels.get(r.tier_b, r.tier_b)]
        for r in c.actions.itertuples()
    ]  # fmt: skip
    return {"columns": columns, "rows": rows}


def headline(c: RoadmapComparison, locale: str) -> list[str]:
    """The coverage-years of both roadmaps and of both greedy orders, and the actions counted."""
    lines = []
    cy = c.coverage_years()
    for key, message in (("roadmap", "cmprm.coverage_years"), ("greedy", "cmprm.greedy")):
        f = cy[key]
        delta = (
            t("n_a", locale) if f["delta"] is None else number(f["delta"], 1, locale, signed=True)
        )
        lines.append(
            t(
                message,
                locale,
                a=figure_text(f["a"], locale),
                b=figure_text(f["b"], locale),
                delta=delta,
            )
        )
    counts = [t(f"cmprm.count.{k}", locale, n=n) for k, n in c.difference_counts().items() if n]
    parts = t("cmprm.parts", locale, parts=t("cmprm.sep", locale).join(counts)) if counts else ""
    lines.append(
        t("cmprm.actions_count", locale, same=c.same_actions, differ=len(c.actions), parts=parts)
    )
    return lines


def roadmap_compare_html(c: RoadmapComparison) -> str:
    """``compare.html`` of two roadmaps: coverage and money per phase, the actions that differ.

    Parameters
    ----------
    c : RoadmapComparison

    Returns
    -------
    str
        A self-contained page (no scripts, nothing fetched), in the runs' locale.
    """
    loc = roadmap_locale(c)
    return (
        render(
            "compare_roadmap.html",
            locale=loc,
            label_a=run_name(c.a),
            label_b=run_name(c.b),
            headline=headline(c, loc),
            notes=[note_text(n, loc) for n in c.notes],
            coverage=coverage_table(c, loc),
            money=money_table(c, loc),
            regions=region_table(c, loc),
            actions=action_table(c, loc),
        )
        + "\n"
    )
