"""``netplan demo`` and ``netplan run``: plan a scenario, write its outputs, print a summary."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from netplan._errors import NetplanError
from netplan.cli.console import err, out
from netplan.cli.errors import fail
from netplan.cli.options import (
    FormatOption,
    OutOption,
    OverwriteOption,
    RequireOptimalOption,
    TimeLimitOption,
    check_backend,
    check_formats,
    check_time_limit,
    releasing_locks,
    reserve,
    with_solver,
)
from netplan.cli.progress import Steps, step_progress
from netplan.evaluation.columns import distance_column

OUTPUT_FILES = (  # the order the outputs line lists them in; others follow by name
    "plan.gpkg",
    "kpis.csv",
    "outlets.csv",
    "plan.xlsx",
    "run.json",
    "map.html",
    "report.html",
)


def written_files(folder: Path) -> list[str]:
    """The files a run wrote into ``folder`` (its hidden marker aside): those of
    :data:`OUTPUT_FILES` first in that order, then the others (GeoParquet files) by name.

    Parameters
    ----------
    folder : Path
        A run folder written by :func:`netplan.pipeline.write_run`.

    Returns
    -------
    list of str
    """
    names = [p.name for p in Path(folder).iterdir() if p.is_file() and not p.name.startswith(".")]
    rank = {name: i for i, name in enumerate(OUTPUT_FILES)}
    return sorted(names, key=lambda n: (rank.get(n, len(rank)), n))


def _executive(result) -> None:
    """The decision in three sentences and where the plan is worse than today (as in report.html)."""
    from netplan.evaluation.summary import summarize
    from netplan.present import summary_text
    from netplan.present.i18n import t

    loc = result.plan.scenario.locale
    facts = summarize(result.plan, result.evaluation, result.baseline)
    for sentence in summary_text.decision(facts, loc):
        out.print(sentence, markup=False, highlight=False)
    lines = summary_text.worse_lines(facts, loc)
    if facts.worse:
        out.print(t("report.worse_intro", loc), style="bold", highlight=False)
        for line in lines:
            out.print(f"  - {line}", markup=False, highlight=False)
    else:
        out.print(lines[0], markup=False, highlight=False)
    if facts.targets:
        for line in summary_text.target_lines(facts, loc):
            out.print(line, markup=False, highlight=False)
    out.print()


def _summary(result, out_dir: Path | None, written: list[str] | None = None) -> None:
    from netplan.present.formats import format_money, number
    from netplan.present.i18n import t
    from netplan.present.summary_text import shown_delta

    plan = result.plan
    loc = plan.scenario.locale
    currency = plan.scenario.costs.currency
    _executive(result)
    kpis = result.kpi_table()
    kpis = kpis[kpis["region"] == "all"]
    unit = plan.scenario.unit
    table = Table(title=escape(t("term.title", loc, name=plan.scenario.name)), title_justify="left")
    unit_word = t("unit.km" if unit == "m" else "unit.min", loc)
    for k, col in enumerate((
        t("col.level", loc),
        t("col.covered_today", loc),
        t("col.covered_plan", loc),
        t("term.delta", loc),
        t("col.overlap_plan", loc),
        t("col.mean_plan", loc, unit=unit_word),
    )):  # fmt: skip
        table.add_column(escape(col), justify="left" if k == 0 else "right")
    for r in kpis.itertuples():
        table.add_row(
            escape(r.level_name),
            number(r.covered_pct_baseline, 1, loc),
            number(r.covered_pct_plan, 1, loc),
            number(shown_delta(r.covered_pct_baseline, r.covered_pct_plan), 1, loc, signed=True),
            number(r.overlap_pct_plan, 1, loc),
            number(getattr(r, distance_column("mean", unit) + "_plan"), 2, loc),
        )
    out.print(table)
    cost = plan.cost()
    out.print(
        t("term.cost", loc, years=plan.scenario.costs.horizon_years,
          today=format_money(plan.budget["baseline_cost"], currency, locale=loc),
          plan=format_money(cost["total"], currency, locale=loc)),
        markup=False,
    )  # fmt: skip
    counts = plan.counts()
    out.print(
        t("term.outlets", loc)
        + t("sep.parts" if loc != "en" else "sep.list", loc).join(
            t("term.outlets_tier", loc, tier=k, keep=r["keep"], open=r["open"],
              retier=r["retier"], close=r["close"])
            for k, r in counts.iterrows()
        ),  # fmt: skip
        markup=False,
    )
    rec = plan.solver_record()
    gap = t("n_a", loc) if rec["gap"] is None else f"{rec['gap']:.3g}"
    where = t("term.stopped", loc, stage=rec["stopped_stage"]) if rec["stopped_stage"] else ""
    out.print(
        t("term.solver", loc, solver=escape(str(rec["solver"])), version=escape(str(rec["version"])),
          status=f"[bold]{escape(str(rec['status']))}[/]", where=escape(where),
          objective=rec["objective"], bound=rec["bound"], gap=gap, seconds=f"{rec['seconds']:.1f}")
    )  # fmt: skip
    if out_dir is not None:
        names = ", ".join(written if written is not None else written_files(out_dir))
        out.print(t("term.outputs", loc, folder=escape(str(out_dir)), names=names), soft_wrap=True)


@releasing_locks
def _run(
    scenario_path: Path | None,
    scenario,
    out_dir: Path,
    overwrite: bool,
    require_optimal: bool,
    formats: tuple[str, ...] = ("gpkg",),
) -> None:
    from netplan.pipeline import PartialOutputError, run_scenario, write_run
    from netplan.scenario import Scenario

    t0 = time.perf_counter()
    partial = None
    try:
        from netplan.outputs.folders import scenario_paths

        # refuse an unusable folder before spending time on the plan
        protect = scenario_paths(scenario) if scenario else [("the scenario file", scenario_path)]
        reserve(out_dir, overwrite, protect)
        if scenario is None:
            scenario = Scenario.from_yaml(scenario_path)
        if scenario.phases:  # a roadmap: its own model, files and summary
            from netplan.cli.roadmap import run_roadmap_command

            status = run_roadmap_command(scenario, out_dir, overwrite)
            if require_optimal and status != "optimal":
                err.print(f"[bold red]not optimal:[/] status {status}; --require-optimal asks for a proven optimum")
                raise typer.Exit(3)
            return
        with step_progress() as progress:
            steps = Steps(progress, scenario.locale)
            result = run_scenario(scenario, progress=steps)
            try:
                write_run(result, out_dir, overwrite=overwrite, progress=steps, formats=formats)
            except PartialOutputError as exc:  # the plan is on disk; say what is missing
                partial = exc
    except NetplanError as exc:
        fail(exc)
    except KeyboardInterrupt:
        err.print("[bold red]interrupted:[/] no output was written")
        raise typer.Exit(130) from None
    _summary(result, out_dir, written=partial.written if partial else None)
    from netplan.present.i18n import t

    out.print(t("term.done", result.plan.scenario.locale, seconds=f"{time.perf_counter() - t0:.1f}"))
    if partial is not None:
        fail(partial)
    if require_optimal and result.plan.status != "optimal":
        err.print(
            f"[bold red]not optimal:[/] status {result.plan.status}; --require-optimal asks for a proven optimum"
        )
        raise typer.Exit(3)


def demo(
    out_dir: OutOption = Path("out/demo"),
    overwrite: OverwriteOption = False,
    time_limit: TimeLimitOption = None,
    require_optimal: RequireOptimalOption = False,
    formats: FormatOption = "gpkg",
) -> None:
    """Plan the embedded demo region and write its plan, KPIs and map."""
    from netplan.demo import repo_scenario, write_demo
    from netplan.scenario import Scenario

    try:
        check_time_limit(time_limit)
        chosen = check_formats(formats)
        path = repo_scenario()
        if path is None:  # installed without the source tree: generate the region first
            path = write_demo(Path(tempfile.mkdtemp(prefix="netplan-demo-")))["scenario"]
        scenario = with_solver(Scenario.from_yaml(path), time_limit=time_limit)
    except NetplanError as exc:
        fail(exc)
    out.print(f"demo scenario: {escape(str(path))}", soft_wrap=True)
    _run(None, scenario, out_dir, overwrite, require_optimal, chosen)


def run(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    out_dir: OutOption = Path("out/run"),
    overwrite: OverwriteOption = False,
    time_limit: TimeLimitOption = None,
    backend: Annotated[
        str | None, typer.Option("--backend", help="Solver: highs or cbc (overrides the scenario).")
    ] = None,
    require_optimal: RequireOptimalOption = False,
    formats: FormatOption = "gpkg",
) -> None:
    """Plan the network of a scenario file: plan.gpkg, kpis.csv, run.json and map.html in --out."""
    from netplan.scenario import Scenario

    try:
        check_time_limit(time_limit)  # flags first: they are cheaper to fix than the file
        check_backend(backend)
        chosen = check_formats(formats)
        loaded = with_solver(Scenario.from_yaml(scenario), time_limit=time_limit, backend=backend)
    except NetplanError as exc:
        fail(exc)
    _run(scenario, loaded, out_dir, overwrite, require_optimal, chosen)
