"""Command line: ``netplan demo``, ``netplan validate``, ``netplan run``, ``netplan compare``, ``netplan sweep``.

A thin shell over the library: each command parses its options, calls
:mod:`netplan.pipeline` with a progress display, and prints a summary. Bad input is one
clear line per problem on stderr and exit code 2; a run stopped by its time limit exits 0
(or 3 with ``--require-optimal``); Ctrl-C exits 130 and leaves no partial output. Anything
unexpected is caught by a last-resort handler: one ``internal error: ..., please report``
line, exit code 70, and the traceback saved to a file in the system temp folder (never
printed). User-given text (scenario, tier and region names, paths) is printed literally,
never read as rich markup.
"""

from __future__ import annotations

import functools
import math
import os
import signal
import sys
import tempfile
import time
import traceback
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import click
import numpy as np
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from typer.core import TyperGroup
from typer.exceptions import TyperException

from netplan._errors import NetplanError, ScenarioError
from netplan.inputs.build import NetplanWarning

# exit codes: 2 bad input (one `error:` line), 3 not optimal under --require-optimal,
# 70 internal error (EX_SOFTWARE), 130 interrupted (128 + SIGINT)
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130
BACKENDS = ("highs", "cbc")


# click's own exits and usage errors (typer >= 0.2x vendors click: its BadParameter and friends
# are TyperException; the installed click's are listed too for older typer)
_CLICK_EXCEPTIONS = (click.exceptions.Exit, click.exceptions.Abort, click.ClickException)


def _is_usage_error(exc: BaseException) -> bool:
    # typer >= 0.2x vendors click (typer._click, private): recognise its UsageError by name
    return any(cls.__name__ == "UsageError" for cls in type(exc).__mro__)


class _GuardedGroup(TyperGroup):
    """The command group with netplan's last-resort handler around every command.

    It sits inside the click command (not in :func:`main`), so ``typer.testing.CliRunner``
    exercises it too: a :class:`NetplanError` that escaped a command is one ``error:`` line
    and exit 2, Ctrl-C exit 130, anything else :func:`_internal_error` (exit 70).
    """

    def main(self, *args, standalone_mode: bool = True, **kwargs):
        """Click's standalone handling, with a usage error as one ``error:`` line (click and
        typer print a usage block and a boxed message), naming the command's ``--help``."""
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except (TyperException, click.ClickException) as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":  # `netplan` alone: the help text
                exc.show()
                sys.exit(exc.exit_code)
            message = " ".join(exc.format_message().split())  # one line
            ctx = getattr(exc, "ctx", None)
            if ctx is not None and _is_usage_error(exc):
                stop = "" if message.endswith((".", "?", "!")) else "."
                message += f"{stop} See '{ctx.command_path} --help'."
            err.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
            sys.exit(exc.exit_code)
        except (typer.Abort, click.exceptions.Abort):
            err.print("[bold red]interrupted[/]")
            sys.exit(1)
        # non-standalone click returns a command's exit code (an Exit it raised), else its value
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, TyperException, *_CLICK_EXCEPTIONS):
            raise  # typer.Exit from the commands, usage errors: typer/click report them
        except KeyboardInterrupt:
            err.print("[bold red]interrupted:[/] no output was written")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except NetplanError as exc:
            _fail(exc)
        except Exception as exc:  # MemoryError, OSError, pydantic's ValidationError, bugs
            _internal_error(exc)


app = typer.Typer(
    cls=_GuardedGroup,
    name="netplan",
    help="Plan tiered service networks: where to keep, open, re-tier or close outlets, solved exactly.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# emoji=False: a name such as "Nord :x:" must print as written, not as an emoji
out = Console(emoji=False)
err = Console(stderr=True, emoji=False)

STEP_LABELS = {
    "load": "load inputs",
    "coverage": "coverage (in-reach pairs)",
    "model": "build model",
    "solve:coverage": "solve: coverage",
    "solve:cost": "solve: cost",
    "solve:distance": "solve: distance tie-break",
    "solve:site_id": "solve: site-id tie-break",
    "evaluate": "evaluate plan and today's network",
    "write": "write outputs",
}


OUTPUT_FILES = ("plan.gpkg", "kpis.csv", "run.json", "map.html", "report.html")


class _Steps:
    """Rich progress lines, one per pipeline step."""

    def __init__(self, progress: Progress):
        self.progress = progress
        self.tasks: dict[str, int] = {}

    def __call__(self, step: str, state: str) -> None:
        label = STEP_LABELS.get(step, step)
        if state == "start":
            self.tasks[step] = self.progress.add_task(label, total=1)
        elif step in self.tasks:
            self.progress.update(self.tasks[step], completed=1, description=f"[green]✓[/] {label}")


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(finished_text=" "),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    )


def _fail(exc: BaseException, code: int = 2) -> None:
    for line in str(exc).splitlines() or [type(exc).__name__]:
        err.print(f"[bold red]error:[/] {escape(line)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def traceback_path() -> Path:
    """Where :func:`_internal_error` saves a traceback: the system temp folder, unique per run."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return Path(tempfile.gettempdir()) / f"netplan-traceback-{stamp}-{os.getpid()}.txt"


def _internal_error(exc: BaseException) -> None:
    """One ``internal error`` line naming the saved traceback; exit code 70."""
    path: Path | str = traceback_path()
    try:
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        Path(path).write_text(text, encoding="utf-8")
    except Exception as why:  # the disk may be the very problem: say so, still no traceback
        path = f"nowhere ({type(why).__name__}: could not write {path})"
    message = (str(exc).splitlines() or [""])[0].strip()
    if len(message) > 300:
        message = message[:300] + "..."
    what = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    err.print(
        f"internal error: {what}, please report; traceback saved to {path}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    raise typer.Exit(EXIT_INTERNAL)


def _check_time_limit(time_limit: float | None) -> None:
    """``--time-limit`` at the CLI boundary: a finite number of seconds > 0."""
    if time_limit is not None and not (math.isfinite(time_limit) and time_limit > 0):
        raise ScenarioError(
            f"--time-limit: must be a number of seconds > 0, got {time_limit:g}; e.g. --time-limit 60"
        )


def _check_backend(backend: str | None) -> None:
    if backend is not None and backend not in BACKENDS:
        raise ScenarioError(f"--backend: unknown solver {backend!r}; use one of {', '.join(BACKENDS)}")


def _with_solver(scenario, **changes):
    """The scenario with its solver section updated by CLI flags (checked before)."""
    changes = {k: v for k, v in changes.items() if v is not None}
    if not changes:
        return scenario
    return scenario.replace(solver={**scenario.solver.model_dump(), **changes})


def _reserve(out_dir: Path, overwrite: bool, protect) -> None:
    """Check --out before any work and lock it until written (see :mod:`netplan.outputs.folders`)."""
    from netplan.outputs.folders import check_output_dir

    check_output_dir(out_dir, overwrite, protect=protect, hold_lock=True)


def _releasing_locks(command):
    """Release the --out lock of :func:`_reserve` when a command ends without writing."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        from netplan.outputs.folders import release_held_locks

        try:
            return command(*args, **kwargs)
        finally:
            release_held_locks()

    return wrapper


def _summary(result, out_dir: Path | None, written: list[str] | None = None) -> None:
    plan = result.plan
    kpis = result.kpi_table()
    kpis = kpis[kpis["region"] == "all"]
    unit = plan.scenario.unit
    table = Table(title=f"{escape(plan.scenario.name)}: today → plan", title_justify="left")
    for col in (
        "level",
        "covered % today",
        "covered % plan",
        "Δ",
        "overlap % plan",
        f"mean dist plan ({'km' if unit == 'm' else 'min'})",
    ):
        table.add_column(col, justify="right" if col != "level" else "left")
    scale = 1000.0 if unit == "m" else 1.0
    for r in kpis.itertuples():
        table.add_row(
            escape(r.level_name),
            f"{r.covered_pct_baseline:.1f}",
            f"{r.covered_pct_plan:.1f}",
            f"{r.covered_pct_delta:+.1f}",
            f"{r.overlap_pct_plan:.1f}",
            f"{r.dist_mean_plan / scale:.2f}",
        )
    out.print(table)
    cost = plan.cost()
    out.print(
        f"cost over {plan.scenario.costs.horizon_years:g} years: today {plan.budget['baseline_cost']:,.0f} → plan {cost['total']:,.0f}"
    )
    counts = plan.counts()
    out.print(
        "outlets: "
        + ", ".join(
            f"{k}: keep {r['keep']}, open {r['open']}, re-tier {r['retier']}, close {r['close']}"
            for k, r in counts.iterrows()
        ),
        markup=False,
    )
    rec = plan.solver_record()
    gap = "n/a" if rec["gap"] is None else f"{rec['gap']:.3g}"
    where = f" (stopped in stage '{rec['stopped_stage']}')" if rec["stopped_stage"] else ""
    out.print(
        f"solver: {rec['solver']} {rec['version']}, status [bold]{rec['status']}[/]{escape(where)}, objective {rec['objective']}, bound {rec['bound']}, gap {gap}, {rec['seconds']:.1f} s"
    )
    if out_dir is not None:
        names = ", ".join(written or OUTPUT_FILES)
        out.print(f"outputs: {escape(str(out_dir))}/ ({names})", soft_wrap=True)


@_releasing_locks
def _run(
    scenario_path: Path | None, scenario, out_dir: Path, overwrite: bool, require_optimal: bool
) -> None:
    from netplan.pipeline import PartialOutputError, run_scenario, write_run
    from netplan.scenario import Scenario

    t0 = time.perf_counter()
    partial = None
    try:
        from netplan.outputs.folders import scenario_paths

        # refuse an unusable folder before spending time on the plan
        protect = scenario_paths(scenario) if scenario else [("the scenario file", scenario_path)]
        _reserve(out_dir, overwrite, protect)
        if scenario is None:
            scenario = Scenario.from_yaml(scenario_path)
        with _progress() as progress:
            steps = _Steps(progress)
            result = run_scenario(scenario, progress=steps)
            try:
                write_run(result, out_dir, overwrite=overwrite, progress=steps)
            except PartialOutputError as exc:  # the plan is on disk; say what is missing
                partial = exc
    except NetplanError as exc:
        _fail(exc)
    except KeyboardInterrupt:
        err.print("[bold red]interrupted:[/] no output was written")
        raise typer.Exit(130) from None
    _summary(result, out_dir, written=partial.written if partial else None)
    out.print(f"done in {time.perf_counter() - t0:.1f} s")
    if partial is not None:
        _fail(partial)
    if require_optimal and result.plan.status != "optimal":
        err.print(
            f"[bold red]not optimal:[/] status {result.plan.status}; --require-optimal asks for a proven optimum"
        )
        raise typer.Exit(3)


OutOption = Annotated[
    Path,
    typer.Option("--out", "-o", help="Output folder (must be new or empty unless --overwrite)."),
]
OverwriteOption = Annotated[
    bool, typer.Option("--overwrite", help="Replace an existing output folder.")
]
TimeLimitOption = Annotated[
    float | None,
    typer.Option(
        "--time-limit", help="Seconds for all solver stages together (overrides the scenario)."
    ),
]
RequireOptimalOption = Annotated[
    bool,
    typer.Option("--require-optimal", help="Exit with code 3 unless the plan is proven optimal."),
]


@app.command()
def demo(
    out_dir: OutOption = Path("out/demo"),
    overwrite: OverwriteOption = False,
    time_limit: TimeLimitOption = None,
    require_optimal: RequireOptimalOption = False,
) -> None:
    """Plan the embedded demo region and write its plan, KPIs and map."""
    from netplan.demo import repo_scenario, write_demo
    from netplan.scenario import Scenario

    try:
        _check_time_limit(time_limit)
        path = repo_scenario()
        if path is None:  # installed without the source tree: generate the region first
            path = write_demo(Path(tempfile.mkdtemp(prefix="netplan-demo-")))["scenario"]
        scenario = _with_solver(Scenario.from_yaml(path), time_limit=time_limit)
    except NetplanError as exc:
        _fail(exc)
    out.print(f"demo scenario: {escape(str(path))}", soft_wrap=True)
    _run(None, scenario, out_dir, overwrite, require_optimal)


@app.command()
def run(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    out_dir: OutOption = Path("out/run"),
    overwrite: OverwriteOption = False,
    time_limit: TimeLimitOption = None,
    backend: Annotated[
        str | None, typer.Option("--backend", help="Solver: highs or cbc (overrides the scenario).")
    ] = None,
    require_optimal: RequireOptimalOption = False,
) -> None:
    """Plan the network of a scenario file: plan.gpkg, kpis.csv, run.json and map.html in --out."""
    from netplan.scenario import Scenario

    try:
        _check_time_limit(time_limit)  # flags first: they are cheaper to fix than the file
        _check_backend(backend)
        loaded = _with_solver(Scenario.from_yaml(scenario), time_limit=time_limit, backend=backend)
    except NetplanError as exc:
        _fail(exc)
    _run(scenario, loaded, out_dir, overwrite, require_optimal)


@app.command()
def validate(scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")]) -> None:
    """Check a scenario and every input it names, without solving; print a summary."""
    from netplan.planner import prepare
    from netplan.scenario import Scenario

    try:
        loaded = Scenario.from_yaml(scenario)
        prep = prepare(loaded)
    except NetplanError as exc:
        _fail(exc)
    inputs = prep.inputs
    summary = inputs.summary()
    out.print(f"[bold]{escape(loaded.name)}[/]: {escape(str(scenario))}", soft_wrap=True)
    out.print(f"travel: {loaded.travel.mode}, working CRS {summary['crs']}", markup=False)
    layers = Table(title="inputs", title_justify="left")
    for col in ("layer", "rows", "file"):
        layers.add_column(col)
    rows = {
        "demand": summary["demand_points"],
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
            f"reach override: tier {ov.tier} serves level {ov.level} within {ov.reach}", markup=False
        )
    never = prep.uncoverable()
    table = Table(title="demand no allowed site can ever reach", title_justify="left")
    for col in ("level", "points", "weight", "share %"):
        table.add_column(col, justify="right" if col != "level" else "left")
    for r in never.itertuples():
        table.add_row(escape(str(r.level)), str(r.points), f"{r.weight:,.0f}", f"{100 * r.share:.2f}")
    out.print(table)
    factor = loaded.budget_factor_of_baseline()
    total = prep.baseline_cost * factor if factor is not None else loaded.budget.total
    out.print(
        f"today's cost over {loaded.costs.horizon_years:g} years: {prep.baseline_cost:,.0f}; budget.total: {'none' if total is None else f'{total:,.0f}'}"
    )
    out.print(f"regions: {escape(', '.join(summary['regions'])) or 'none'}")
    for note in inputs.warnings:
        if note not in _SHOWN_WARNINGS:  # printed already as it was raised (see main)
            err.print(f"[yellow]warning:[/] {escape(note)}", soft_wrap=True)
    out.print("[green]valid[/]")


@app.command()
@_releasing_locks
def sweep(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    budgets: Annotated[
        str | None,
        typer.Option(
            "--budgets",
            help="budget.total values: FROM:TO:N (linspace, both ends), a comma list, or multiples of today's cost (0.8x:1.4x:7); at most 1000 points.",
        ),
    ] = None,
    targets: Annotated[
        list[str] | None,
        typer.Option(
            "--targets",
            help="min_cost sweep of a level's coverage target, LEVEL=FROM:TO:N or LEVEL=v1,v2 (repeat for several levels; they move together).",
        ),
    ] = None,
    sets: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="Any scenario key, KEY=FROM:TO:N or KEY=v1,v2 (dotted: solver.mip_rel_gap, counts[0].max); repeatable, moves with the others.",
        ),
    ] = None,
    out_dir: OutOption = Path("out/sweep"),
    overwrite: OverwriteOption = False,
    workers: Annotated[
        int | None,
        typer.Option("--workers", help="Workers of the local Dask cluster (default: CPU cores)."),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="Use a running Dask scheduler, e.g. tcp://host:8786."),
    ] = None,
    sequential: Annotated[
        bool, typer.Option("--sequential", help="Solve the points one by one here, without Dask.")
    ] = False,
    retries: Annotated[
        int, typer.Option("--retries", help="Retries of a point whose worker died.")
    ] = 2,
    maps: Annotated[
        bool,
        typer.Option("--maps", help="Also write map.html and report.html per point (large)."),
    ] = False,
    knee_threshold: Annotated[
        float,
        typer.Option(
            "--knee-threshold",
            help="A knee is where the next step buys less than this share of the sweep's average coverage per unit cost.",
        ),
    ] = 0.25,
    time_limit: TimeLimitOption = None,
) -> None:
    """Solve one plan per budget, target or key value: sweep.csv, sweep.png and a plan folder per point in --out.

    A sweep has at most 1000 points at once (split a longer one); it exits 2 when every
    point failed.
    """
    from rich.progress import BarColumn, MofNCompleteColumn

    from netplan.outputs.folders import scenario_paths
    from netplan.scenario import Scenario
    from netplan.sweep import budget_axis, check_sweep_options, key_axis, run_sweep, target_axis

    t0 = time.perf_counter()
    try:
        _check_time_limit(time_limit)
        check_sweep_options(workers, retries, knee_threshold)
        loaded = _with_solver(Scenario.from_yaml(scenario), time_limit=time_limit)
        _reserve(out_dir, overwrite, scenario_paths(loaded))
        axes = []
        if budgets is not None:
            axes.append(budget_axis(budgets))
        axes += [target_axis(t, loaded) for t in targets or []]
        axes += [key_axis(s) for s in sets or []]
        progress = Progress(
            SpinnerColumn(finished_text=" "),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
        )
        with progress:
            task = progress.add_task("sweep: validating points", total=None)

            def started(n: int) -> None:
                progress.update(task, total=n, description="sweep: solving")

            def finished(point) -> None:
                row = point.row
                if point.ok:
                    what = f"cost {row['cost']:,.0f}, coverage {row['coverage_pct']:.2f} %, {row['status']}"
                    if row.get("error"):  # the plan stands; a page of it could not be written
                        what += f"; [yellow]{escape(row['error'])}[/]"
                else:
                    what = f"[red]failed[/]: {escape(point.error or '')}"
                progress.console.print(
                    f"point {point.index}: {what} ({row.get('seconds', 0):.1f} s)",
                    soft_wrap=True,
                )
                progress.advance(task)

            result = run_sweep(
                loaded,
                axes,
                scheduler=scheduler,
                workers=workers,
                sequential=sequential,
                retries=retries,
                html=maps,
                knee_threshold=knee_threshold,
                on_point=finished,
                on_start=started,
                out=out_dir,
                overwrite=overwrite,
            )
    except NetplanError as exc:
        _fail(exc)
    except KeyboardInterrupt:
        err.print("[bold red]interrupted:[/] no output was written")
        raise typer.Exit(130) from None
    t = result.table
    shown = {"point": "pt"}
    if result.x == "budget":
        shown["budget"] = "budget"
    else:
        shown.update({k: k.split(".")[-1] for k in result.keys})
    shown.update({f"covered_pct_{k}": f"{k} %" for k in loaded.tier_keys})
    shown.update({"coverage_pct": "cov %", "cost": "cost"})
    shown.update({f"outlets_{k}": f"#{k}" for k in loaded.tier_keys})
    shown.update({"status": "status", "gap": "gap", "seconds": "s", "knee": "knee"})
    table = Table(
        title=escape(f"{loaded.name}: sweep of {', '.join(result.keys)}"), title_justify="left"
    )
    for col, head in shown.items():
        table.add_column(escape(head), justify="left" if col == "status" else "right", no_wrap=True)
    for r in t[list(shown)].itertuples(index=False):
        table.add_row(*(_cell(v) for v in r))
    (out if out.is_terminal else Console(width=160, emoji=False)).print(table)
    b = result.baseline
    out.print(f"today: cost {b['cost']:,.0f}, coverage {b['coverage_pct']:.2f} %")
    failed = int((t["status"] == "failed").sum())
    out.print(
        f"{len(t)} points, {failed} failed, solved in {result.seconds:.1f} s on "
        f"{'no Dask (sequential)' if not result.workers else f'{result.workers} workers'}; "
        f"outputs: {escape(str(out_dir))}/ (sweep.csv, sweep.png, points/)",
        soft_wrap=True,
    )
    out.print(f"done in {time.perf_counter() - t0:.1f} s")


def _cell(value) -> str:
    if isinstance(value, bool | np.bool_):
        return "knee" if value else ""
    if isinstance(value, float | np.floating):
        if not np.isfinite(value):
            return ""
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"
    return escape(str(value))


@app.command()
@_releasing_locks
def compare(
    run_a: Annotated[Path, typer.Argument(help="Run folder A (written by `netplan run`).")],
    run_b: Annotated[
        Path, typer.Argument(help="Run folder B, compared against A (deltas are B − A).")
    ],
    out_dir: OutOption = Path("out/compare"),
    overwrite: OverwriteOption = False,
) -> None:
    """Compare two runs: sites added, removed, re-tiered, KPI and cost deltas, and a map.

    Writes sites.csv, kpi_deltas.csv, cost.csv, outlets.csv, compare.json and compare.html
    (an offline map of the differences) into --out.
    """
    from netplan.compare import compare as compare_runs
    from netplan.compare import print_summary, write_comparison

    try:
        _reserve(out_dir, overwrite, [("run A", run_a), ("run B", run_b)])
        result = compare_runs(run_a, run_b)
        write_comparison(result, out_dir, overwrite=overwrite)
    except NetplanError as exc:
        _fail(exc)
    print_summary(result, out)
    out.print(
        f"outputs: {escape(str(out_dir))}/ (sites.csv, kpi_deltas.csv, cost.csv, outlets.csv, "
        "compare.json, compare.html)",
        soft_wrap=True,
    )


_SHOWN_WARNINGS: set[str] = set()


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings as one ``warning:`` line on stderr; netplan's own without a source location."""
    _SHOWN_WARNINGS.add(str(message))
    if issubclass(category, NetplanWarning):
        err.print(f"[yellow]warning:[/] {escape(str(message))}", soft_wrap=True)
    else:
        err.print(
            f"[yellow]warning:[/] {escape(str(message))} ({category.__name__}, {escape(str(filename))}:{lineno})",
            soft_wrap=True,
        )


def _terminate(signum, frame) -> None:
    raise KeyboardInterrupt


def main() -> None:
    """Entry point of the ``netplan`` command."""
    warnings.showwarning = _show_warning
    signal.signal(signal.SIGTERM, _terminate)  # clean up like Ctrl-C: no half-written output
    try:
        app()
    except KeyboardInterrupt:
        err.print("[bold red]interrupted[/]")
        sys.exit(EXIT_INTERRUPTED)
    except Exception as exc:  # outside the commands (start-up): the same last resort
        try:
            _internal_error(exc)
        except typer.Exit as done:
            sys.exit(done.exit_code)


if __name__ == "__main__":
    main()
