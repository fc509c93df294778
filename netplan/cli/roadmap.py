"""``netplan run`` on a scenario with ``phases``: plan the roadmap, write its files, print its summary."""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape
from rich.table import Table

from netplan.cli.console import out


def run_roadmap_command(scenario, out_dir: Path, overwrite: bool) -> str:
    """Plan, validate and write the roadmap of ``scenario``; print the phases and the
    coverage-years of the exact roadmap, ``final_first`` and greedy. Returns the status."""
    from netplan.cli.progress import Steps, step_progress
    from netplan.roadmap_pipeline import run_roadmap, write_roadmap

    with step_progress() as progress:
        steps = Steps(progress, scenario.locale)
        run = run_roadmap(scenario, progress=steps)
        steps("write", "start")
        write_roadmap(run, out_dir, overwrite=overwrite)
        steps("write", "done")
    plan = run.plan
    table = Table(
        title=escape(f"{scenario.name}: roadmap ({plan.objective})"), title_justify="left"
    )
    phases = plan.phase_table()
    keys = scenario.tier_keys
    for col in ["phase", "years", "capex", "capex budget", "opex / year"] + [
        f"covered % {k}" for k in keys
    ]:
        table.add_column(escape(col), justify="left" if col == "phase" else "right")
    for r in phases.to_dict("records"):
        money = lambda v: "" if v is None or v != v else f"{v:,.0f}"  # noqa: E731
        table.add_row(
            escape(str(r["phase"])), f"{r['years']:g}", money(r["capex"]), money(r["capex_budget"]),
            money(r["opex_per_year"]), *(f"{r[f'covered_pct_{k}']:.1f}" for k in keys),
        )  # fmt: skip
    out.print(table)
    cy = plan.coverage_years()
    other = plan.other.status if plan.other is not None else "not run"

    def fig(v):
        return "n/a" if v is None else f"{v:,.1f}"

    out.print(
        f"coverage-years: exact {fig(cy['exact'])}, final_first "
        f"{fig(cy['final_first']) if cy['final_first'] is not None else other}, greedy {fig(cy['greedy'])}; "
        f"the exact roadmap gains {fig(cy['gain_over_final_first'])} over final_first and {fig(cy['gain_over_greedy'])} over greedy",
        markup=False,
    )
    actions = plan.actions()
    out.print(
        f"actions: {len(actions)} ({', '.join(f'{n} {a}' for a, n in actions['action'].value_counts().items())})",
        markup=False,
    )
    for problem in plan.greedy.problems:
        out.print(f"greedy: {problem}", markup=False)
    out.print(
        f"status: {plan.status}; outputs in {out_dir}: roadmap.csv, phases.csv, kpis.csv, plan.gpkg, run.json, report.html, map.html",
        markup=False,
    )
    return plan.status
