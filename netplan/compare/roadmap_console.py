"""The headline of a comparison of two roadmaps on the console (rich), in the runs' locale.

The cells are those of ``compare.html`` (:mod:`netplan.compare.roadmap_page`): coverage per
phase and level, money per phase, each Δ the difference of the figures printed beside it.
"""

from __future__ import annotations

from rich.console import Console

from netplan.compare.roadmap_page import coverage_table, headline, money_table, roadmap_locale
from netplan.compare.roadmaps import RoadmapComparison
from netplan.present.compare_map import note_text, run_name
from netplan.present.i18n import t

TERMINAL_MONEY = ("capex", "opex_per_year", "total")  # the budgets on the page only: 80 columns


def print_roadmaps(c: RoadmapComparison, console: Console) -> None:
    """Print two roadmaps side by side: coverage and money per phase, coverage-years, actions.

    Parameters
    ----------
    c : RoadmapComparison
    console : rich.console.Console
    """
    from rich.markup import escape
    from rich.table import Table

    loc = roadmap_locale(c)
    console.print(escape(t("cmprm.title", loc, a=run_name(c.a), b=run_name(c.b))), highlight=False)
    for title, part in (
        ("cmprmterm.coverage", coverage_table(c, loc)),
        ("cmprmterm.money", money_table(c, loc, TERMINAL_MONEY)),
    ):
        table = Table(title=escape(t(title, loc)), title_justify="left")
        for k, column in enumerate(part["columns"]):
            table.add_column(escape(column), justify="left" if k == 0 else "right")
        for row in part["rows"]:
            table.add_row(*(escape(str(v)) for v in row))
        console.print(table)
    for line in headline(c, loc):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    for note in c.notes:
        console.print(
            f"[yellow]{escape(t('cmpterm.note', loc))}[/] {escape(note_text(note, loc))}",
            soft_wrap=True,
        )
