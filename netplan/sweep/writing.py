"""Writing a sweep folder: sweep.csv, sweep.png and one plan folder per point, atomically."""

from __future__ import annotations

from pathlib import Path

from netplan.sweep.points import PointResult
from netplan.sweep.results import SweepResult


def write_sweep(result: SweepResult, out: str | Path, overwrite: bool = False) -> Path:
    """Write sweep.csv, sweep.png and one folder per point (``points/p000`` ...) atomically.

    The points' files are those kept in memory (``run_sweep(..., files=True)``);
    ``run_sweep(..., out=...)`` writes the same outputs while the points finish.

    Raises
    ------
    OutputError
        ``out`` exists and is not empty (without ``overwrite``), holds the scenario or an
        input, was not written by netplan, or cannot be written.
    """
    from netplan.outputs.folders import atomic_directory, scenario_paths

    protect = scenario_paths(result.scenario)
    with atomic_directory(out, overwrite=overwrite, protect=protect, kind="sweep") as tmp:
        for p in result.points:
            _write_point(tmp, p)
        _write_summary(tmp, result)
    return Path(out)


def _write_point(folder: Path, point: PointResult) -> None:
    if point.files:
        target = folder / "points" / f"p{point.index:03d}"
        target.mkdir(parents=True)
        for name, data in point.files.items():
            (target / name).write_bytes(data)


def _write_summary(folder: Path, result: SweepResult) -> None:
    result.table.to_csv(
        folder / "sweep.csv", index=False, float_format="%.10g", lineterminator="\n"
    )
    fig = result.figure()
    fig.savefig(folder / "sweep.png")  # a pyplot-free figure: nothing to close
