"""``netplan validate``: check a scenario and every input it names without solving; print a summary."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from netplan._errors import NetplanError
from netplan.cli.console import SHOWN_WARNINGS, err, out
from netplan.cli.errors import fail


def validate(scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")]) -> None:
    """Check a scenario and every input it names, without solving; print a summary."""
    from netplan.preparation import prepare
    from netplan.scenario import Scenario

    try:
        loaded = Scenario.from_yaml(scenario)
        prep = prepare(loaded)
        if loaded.phases:  # growth regions, phase columns and phase budgets, as a run checks them
            from netplan.phasing import roadmap_problem

            roadmap_problem(prep, loaded)
    except NetplanError as exc:
        fail(exc)
    inputs = prep.inputs
    summary = inputs.summary()
    out.print(f"[bold]{escape(loaded.name)}[/]: {escape(str(scenario))}", soft_wrap=True)
    out.print(f"travel: {loaded.travel.mode}, working CRS {summary['crs']}", markup=False)
    layers = Table(title="inputs", title_justify="left")
    for col in ("layer", "rows", "file"):
        layers.add_column(col)
    rows = {
        "demand": summary["demand_points"],
        "demand.raster": summary["demand_points"],
        "outlets": summary["existing_outlets"],
        "candidates": summary["candidate_sites"],
    }
    for key, spec in loaded.layer_specs().items():
        n = rows.get(
            key, len(inputs.regions) if key == "regions" and inputs.regions is not None else ""
        )
        layers.add_row(key, str(n), escape(str(spec.path)))
    out.print(layers)
    tiers = Table(title="tiers (highest first)", title_justify="left")
    for col in ("tier", "name", "reach", "linkage", "today", "sites able to host"):
        tiers.add_column(col)
    for t in loaded.tiers:
        tiers.add_row(
            escape(t.key),
            escape(t.label),
            escape(str(t.reach)),
            escape(str(t.linkage or "-")),
            str(summary["existing_by_tier"][t.key]),
            str(summary["sites_able_to_host"][t.key]),
        )
    out.print(tiers)
    for ov in loaded.reach_overrides:
        out.print(
            f"reach override: tier {ov.tier} serves level {ov.level} within {ov.reach}",
            markup=False,
        )
    never = prep.uncoverable()
    table = Table(title="demand no allowed site can ever reach", title_justify="left")
    for col in ("level", "points", "weight", "share %"):
        table.add_column(col, justify="right" if col != "level" else "left")
    for r in never.itertuples():
        table.add_row(
            escape(str(r.level)), str(r.points), f"{r.weight:,.0f}", f"{100 * r.share:.2f}"
        )
    out.print(table)
    factor = loaded.budget_factor_of_baseline()
    total = prep.baseline_cost * factor if factor is not None else loaded.budget.total
    out.print(
        f"today's cost over {loaded.costs.horizon_years:g} years: {prep.baseline_cost:,.0f}; budget.total: {'none' if total is None else f'{total:,.0f}'}"
    )
    out.print(f"regions: {escape(', '.join(summary['regions'])) or 'none'}")
    if loaded.phases:
        _print_phases(loaded, prep)
    for note in inputs.warnings:
        if note not in SHOWN_WARNINGS:  # printed already as it was raised (see main)
            err.print(f"[yellow]warning:[/] {escape(note)}", soft_wrap=True)
    out.print("[green]valid[/]")


def _print_phases(loaded, prep) -> None:
    """The roadmap's phases: years, money limits and each level's demand weight."""
    from netplan.phasing import roadmap_problem

    problem = roadmap_problem(prep, loaded)
    table = Table(title="phases (a roadmap)", title_justify="left")
    for col in ("phase", "years", "capex", "opex / year", "total"):
        table.add_column(col, justify="left" if col == "phase" else "right")
    for t in loaded.tiers:
        table.add_column(f"demand {escape(t.key)}", justify="right")

    def money(value: float | None) -> str:
        return "-" if value is None else f"{value:,.0f}"

    for lim, phase in zip(problem.limits, problem.phases, strict=True):
        weights = phase.weights.sum(axis=0)
        table.add_row(
            escape(lim.name), f"{lim.years:g}", money(lim.capex), money(lim.opex), money(lim.total),
            *(f"{w:,.0f}" for w in weights),
        )  # fmt: skip
    out.print(table)
    carry = bool(loaded.roadmap and loaded.roadmap.carry_over)
    out.print(
        f"roadmap: objective {loaded.roadmap.objective if loaded.roadmap else 'coverage_years'}, "
        f"carry_over {'yes' if carry else 'no'}; horizon {loaded.costs.horizon_years:g} years",
        markup=False,
    )
