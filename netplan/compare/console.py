"""The headline of a comparison on the console (rich): coverage, cost and sites that changed.

Every word comes from the message catalogue in the runs' locale
(:func:`netplan.present.compare_map.compare_locale`), as on compare.html; each delta is the
difference of the figures printed beside it, so a line adds up as read.
"""

from __future__ import annotations

from rich.console import Console

from netplan.compare.differences import Comparison
from netplan.compare.roadmaps import RoadmapComparison
from netplan.evaluation.columns import distance_column
from netplan.present.compare_map import compare_locale, note_text, run_name
from netplan.present.formats import format_money, number
from netplan.present.i18n import t
from netplan.present.summary_text import shown_delta


def print_summary(c: Comparison | RoadmapComparison, console: Console) -> None:
    """Print the headline of a comparison with rich: coverage, cost and sites that changed.

    Two roadmaps: per phase the coverage and the money, the coverage-years and the actions
    that differ (:func:`netplan.compare.roadmap_console.print_roadmaps`).

    Parameters
    ----------
    c : Comparison or RoadmapComparison
    console : rich.console.Console
    """
    from rich.markup import escape

    if isinstance(c, RoadmapComparison):
        from netplan.compare.roadmap_console import print_roadmaps

        print_roadmaps(c, console)
        return
    from rich.table import Table

    loc = compare_locale(c)
    title = t("cmpterm.title", loc, a=run_name(c.a), b=run_name(c.b))
    table = Table(title=escape(title), title_justify="left")
    unit = c.a.unit
    heads = ("col.level", "cmpterm.covered_a", "cmpterm.covered_b", "term.delta",
             "cmpterm.overlap_delta", "cmpterm.mean_delta")  # fmt: skip
    for k, key in enumerate(heads):
        table.add_column(escape(t(key, loc)), justify="left" if k == 0 else "right")
    mean = f"{distance_column('mean', unit)}_delta"
    unit_word = t(f"unit.{unit}", loc) if unit in ("km", "min") else unit
    for r in c.kpis.loc[c.kpis["region"] == "all"].itertuples():
        table.add_row(
            escape(r.level_name),
            number(r.covered_pct_a, 1, loc),
            number(r.covered_pct_b, 1, loc),
            number(shown_delta(r.covered_pct_a, r.covered_pct_b), 1, loc, signed=True),
            number(r.overlap_pct_delta, 1, loc, signed=True),
            f"{number(getattr(r, mean), 2, loc, signed=True)} {unit_word}",
        )
    console.print(table)
    cost = c.cost.loc["total"]

    def money(value: float, signed: bool = False) -> str:
        return format_money(value, c.currency, loc, signed=signed)

    delta = float(round(cost["b"]) - round(cost["a"]))  # of the whole units printed
    console.print(
        t("cmpterm.cost", loc, a=money(cost["a"]), b=money(cost["b"]), delta=money(delta, True)),
        markup=False,
        highlight=False,
    )
    counts = c.change_counts()
    console.print(t("cmpterm.sites", loc, **counts), markup=False, highlight=False)
    for r in c.outlets.itertuples():
        console.print(f"  {escape(r.tier_name)}: {r.a} → {r.b} ({r.delta:+d})", highlight=False)
    for note in c.notes:
        console.print(
            f"[yellow]{escape(t('cmpterm.note', loc))}[/] {escape(note_text(note, loc))}",
            soft_wrap=True,
        )
