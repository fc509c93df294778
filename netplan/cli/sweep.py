"""``netplan sweep``: one plan per budget, target or key value, solved on Dask; a table of the curve."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from netplan._errors import NetplanError
from netplan.cli.console import err, out
from netplan.cli.errors import fail
from netplan.cli.options import (
    OutOption,
    OverwriteOption,
    TimeLimitOption,
    check_time_limit,
    releasing_locks,
    reserve,
    with_solver,
)
from netplan.cli.progress import step_label, sweep_progress


@releasing_locks
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
    from netplan.outputs.folders import scenario_paths
    from netplan.scenario import Scenario
    from netplan.sweep import budget_axis, check_sweep_options, key_axis, run_sweep, target_axis

    t0 = time.perf_counter()
    try:
        check_time_limit(time_limit)
        check_sweep_options(workers, retries, knee_threshold)
        loaded = with_solver(Scenario.from_yaml(scenario), time_limit=time_limit)
        reserve(out_dir, overwrite, scenario_paths(loaded))
        axes = []
        if budgets is not None:
            axes.append(budget_axis(budgets))
        axes += [target_axis(t, loaded) for t in targets or []]
        axes += [key_axis(s) for s in sets or []]
        progress = sweep_progress()
        with progress:
            task = progress.add_task(step_label("sweep_validating", loaded.locale), total=None)

            def started(n: int) -> None:
                progress.update(task, total=n, description=step_label("sweep_solving", loaded.locale))

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
        fail(exc)
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
