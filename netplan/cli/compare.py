"""``netplan compare``: the differences between two run folders, as tables and a map."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from netplan._errors import NetplanError
from netplan.cli.console import out
from netplan.cli.errors import fail
from netplan.cli.options import OutOption, OverwriteOption, releasing_locks, reserve


@releasing_locks
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
    (an offline map of the differences) into --out. Two roadmap runs (scenarios with phases)
    compare phase by phase: phase_deltas.csv, region_deltas.csv, actions.csv, compare.json and
    compare.html.
    """
    from netplan.compare import compare as compare_runs
    from netplan.compare import print_summary, write_comparison

    try:
        reserve(out_dir, overwrite, [("run A", run_a), ("run B", run_b)])
        result = compare_runs(run_a, run_b)
        write_comparison(result, out_dir, overwrite=overwrite)
    except NetplanError as exc:
        fail(exc)
    from netplan.compare.roadmap_page import roadmap_locale
    from netplan.compare.roadmaps import RoadmapComparison
    from netplan.compare.writing import ROADMAP_NAMES
    from netplan.present.compare_map import compare_locale
    from netplan.present.i18n import t

    print_summary(result, out)
    if isinstance(result, RoadmapComparison):
        names, loc = ", ".join(ROADMAP_NAMES), roadmap_locale(result)
    else:
        names = "sites.csv, kpi_deltas.csv, cost.csv, outlets.csv, compare.json, compare.html"
        loc = compare_locale(result)
    out.print(
        t("term.outputs", loc, folder=escape(str(out_dir)), names=names),
        soft_wrap=True,
    )
