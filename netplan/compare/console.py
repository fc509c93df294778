"""The headline of a comparison on the console (rich): coverage, cost and sites that changed."""

from __future__ import annotations

from rich.console import Console

from netplan.compare.differences import Comparison
from netplan.evaluation.columns import distance_column
from netplan.present.formats import format_money


def print_summary(c: Comparison, console: Console) -> None:
    """Print the headline of a comparison with rich: coverage, cost and sites that changed."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"A: {escape(c.a.label)} → B: {escape(c.b.label)}", title_justify="left")
    for col in ("level", "covered % A", "covered % B", "Δ", "overlap % Δ", "mean dist Δ"):
        table.add_column(col, justify="left" if col == "level" else "right")
    unit, mean = c.a.unit, f"{distance_column('mean', c.a.unit)}_delta"
    for r in c.kpis.loc[c.kpis["region"] == "all"].itertuples():
        table.add_row(
            escape(r.level_name),
            f"{r.covered_pct_a:.1f}",
            f"{r.covered_pct_b:.1f}",
            f"{r.covered_pct_delta:+.1f}",
            f"{r.overlap_pct_delta:+.1f}",
            f"{getattr(r, mean):+.2f} {unit}",
        )
    console.print(table)
    cost = c.cost.loc["total"]
    a, b = format_money(cost["a"], c.currency), format_money(cost["b"], c.currency)
    delta = format_money(cost["delta"], c.currency, signed=True)
    console.print(f"cost: A {a} → B {b} (Δ {delta})")
    counts = c.change_counts()
    console.print(
        f"sites: {counts['added']} added, {counts['removed']} removed, {counts['retiered']} re-tiered"
    )
    for r in c.outlets.itertuples():
        console.print(f"  {escape(r.tier_name)}: {r.a} → {r.b} ({r.delta:+d})")
    for note in c.notes:
        console.print(f"[yellow]note:[/] {escape(note)}", soft_wrap=True)
