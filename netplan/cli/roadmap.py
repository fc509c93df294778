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
    print_roadmap_summary(run, out_dir)
    return run.plan.status


def print_roadmap_summary(run, out_dir: Path) -> None:
    """The phases table, the coverage-years in words, the actions and the outputs, in the
    scenario's locale (labels from the message catalogue; names from the data escaped)."""
    from netplan.present.i18n import t
    from netplan.present.roadmap_words import final_first_words, pct_gain, roadmap_verdict

    plan = run.plan
    scenario = plan.scenario
    loc = scenario.locale
    table = Table(title=escape(t("roadmap.title", loc, name=scenario.name)), title_justify="left")
    phases = plan.phase_table()
    keys, labels = scenario.tier_keys, scenario.tier_labels
    columns = [t("col.phase", loc), t("col.years", loc), t("roadmap.capex_spent", loc),
               t("roadmap.capex_budget", loc), t("roadmap.opex", loc)]  # fmt: skip
    columns += [t("roadmap.covered", loc, level=lab) for lab in labels]
    for i, col in enumerate(columns):
        table.add_column(escape(col), justify="left" if i == 0 else "right")

    def money(v) -> str:
        return "" if v is None or v != v else f"{v:,.0f}"

    for i, r in enumerate(phases.to_dict("records")):
        name = t("word.today", loc) if i == 0 else str(r["phase"])
        table.add_row(
            escape(name), "" if i == 0 else f"{r['years']:g}", money(r["capex"]),
            money(r["capex_budget"]), money(r["opex_per_year"]),
            *(f"{r[f'covered_pct_{k}']:.1f}" for k in keys),
        )  # fmt: skip
    out.print(table)
    cy = plan.coverage_years()

    def fig(v) -> str:
        return t("n_a", loc) if v is None else f"{v:,.1f}"

    lead = t("roadmap.lead", loc, years=f"{float(plan.problem.years.sum()):g}", exact=fig(cy["exact"]),
             greedy=fig(cy["greedy"]), gain=fig(cy["gain_over_greedy"]),
             pct=pct_gain(cy["exact"], cy["greedy"]))  # fmt: skip
    for line in (lead, final_first_words(plan, cy, loc), roadmap_verdict(plan, loc)):
        out.print(escape(line), soft_wrap=True)
    actions = plan.actions()
    counts = t("roadmap.list_sep", loc).join(
        f"{n} {t(f'roadmap.action.{a}', loc)}" for a, n in actions["action"].value_counts().items()
    )
    out.print(escape(t("roadmap.actions_line", loc, n=len(actions), counts=counts)), soft_wrap=True)
    for problem in plan.greedy.problems:
        out.print(escape(f"{t('roadmap.greedy_problem', loc)} {problem}"), soft_wrap=True)
    names = ", ".join(sorted(p.name for p in out_dir.iterdir() if not p.name.startswith(".")))
    out.print(
        t("term.outputs", loc, folder=escape(str(out_dir)), names=escape(names)), soft_wrap=True
    )
