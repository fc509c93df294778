"""Options shared by the commands and their checks at the CLI boundary, before any work."""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import Annotated

import typer

from netplan._errors import ScenarioError

BACKENDS = ("highs", "cbc")

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
FormatOption = Annotated[
    str,
    typer.Option(
        "--format",
        help="Geodata formats, comma-separated: gpkg (always) and parquet (GeoParquet, one "
        "plan_<layer>.parquet per layer), e.g. --format gpkg,parquet.",
    ),
]
RequireOptimalOption = Annotated[
    bool,
    typer.Option("--require-optimal", help="Exit with code 3 unless the plan is proven optimal."),
]


def check_time_limit(time_limit: float | None) -> None:
    """``--time-limit`` at the CLI boundary: a finite number of seconds > 0.

    Raises
    ------
    ScenarioError
        Zero, negative, infinite or NaN seconds.
    """
    if time_limit is not None and not (math.isfinite(time_limit) and time_limit > 0):
        raise ScenarioError(
            f"--time-limit: must be a number of seconds > 0, got {time_limit:g}; e.g. --time-limit 60"
        )


def check_backend(backend: str | None) -> None:
    """``--backend`` at the CLI boundary: one of :data:`BACKENDS`.

    Raises
    ------
    ScenarioError
        An unknown solver name.
    """
    if backend is not None and backend not in BACKENDS:
        raise ScenarioError(
            f"--backend: unknown solver {backend!r}; use one of {', '.join(BACKENDS)}"
        )


def check_formats(value: str | None) -> tuple[str, ...]:
    """``--format`` at the CLI boundary: names of :data:`netplan.outputs.exports.FORMATS`.

    Returns
    -------
    tuple of str

    Raises
    ------
    ScenarioError
        An unknown or repeated format, or one without gpkg (one line naming the choices).
    """
    from netplan.outputs.exports import parse_formats

    try:
        return parse_formats(value)
    except ValueError as exc:
        raise ScenarioError(str(exc)) from None


def with_solver(scenario, **changes):
    """The scenario with its solver section updated by CLI flags (checked before)."""
    changes = {k: v for k, v in changes.items() if v is not None}
    if not changes:
        return scenario
    return scenario.replace(solver={**scenario.solver.model_dump(), **changes})


def reserve(out_dir: Path, overwrite: bool, protect) -> None:
    """Check --out before any work and lock it until written (see :mod:`netplan.outputs.folders`)."""
    from netplan.outputs.folders import check_output_dir

    check_output_dir(out_dir, overwrite, protect=protect, hold_lock=True)


def releasing_locks(command):
    """Release the --out lock of :func:`reserve` when a command ends without writing."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        from netplan.outputs.folders import release_held_locks

        try:
            return command(*args, **kwargs)
        finally:
            release_held_locks()

    return wrapper
