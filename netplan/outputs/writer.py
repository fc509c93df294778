"""Write a run's outputs: plan.gpkg, kpis.csv, outlets.csv, plan.xlsx, run.json, map.html, atomically.

Everything is written into a temporary folder beside the target and swapped into place at
the end (:mod:`netplan.outputs.folders`: which folders may be replaced, the lock, the marker file). A
failure or an interrupt (Ctrl-C) removes the temporary folder, so the target is either the
complete new output or untouched.
"""

from __future__ import annotations

import json
import math
import os
import platform
import sys
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from netplan.evaluation.columns import rounded
from netplan.evaluation.siting_checks import siting_record
from netplan.outputs.exports import write_gpkg, write_outlets_csv, write_parquet, write_xlsx
from netplan.outputs.folders import (  # noqa: F401 (also importable from here, as before)
    atomic_directory,
    check_output_dir,
    scenario_paths,
)
from netplan.outputs.layers import run_layers
from netplan.roads.network import OSM_ATTRIBUTION

PACKAGES = [
    "netplan",
    "numpy",
    "pandas",
    "geopandas",
    "shapely",
    "pyproj",
    "pyogrio",
    "scipy",
    "scikit-learn",
    "highspy",
    "pulp",
    "folium",
    "pydantic",
    "openpyxl",
    "pyarrow",
]


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_outputs(
    result,
    folder: str | Path,
    started: float | None = None,
    html: bool = True,
    formats: tuple[str, ...] = ("gpkg",),
    exports: bool = True,
) -> dict[str, Path]:
    """Write every output file of a :class:`netplan.pipeline.RunResult` into ``folder``.

    Parameters
    ----------
    result : netplan.pipeline.RunResult
    folder : str or Path
    started : float, optional
        ``time.perf_counter()`` when writing began (for the ``write`` timing in run.json).
    html : bool
        Write map.html and report.html too (sweeps skip them per point: several MB each).
    formats : tuple of str
        Geodata formats (:data:`netplan.outputs.exports.FORMATS`): plan.gpkg always, and with
        ``"parquet"`` one GeoParquet file per layer (``plan_<layer>.parquet``).
    exports : bool
        Write outlets.csv and plan.xlsx too (sweeps keep only plan.gpkg, kpis.csv and run.json
        per point).

    Returns
    -------
    dict
        Paths written, by name.
    """
    from netplan.present.webmap import plan_map, save_map

    folder = Path(folder)
    layers = run_layers(result)
    gpkg = write_gpkg(result, folder / "plan.gpkg", layers)
    rounded(result.kpi_table()).to_csv(folder / "kpis.csv", index=False, lineterminator="\n")
    written = {"plan": gpkg, "kpis": folder / "kpis.csv", "run": folder / "run.json"}
    if exports:
        written["outlets"] = write_outlets_csv(result, folder / "outlets.csv")
        written["xlsx"] = write_xlsx(result, folder / "plan.xlsx")
    if "parquet" in formats:
        for path in write_parquet(result, folder, layers):
            written[path.stem] = path
    if html:
        from netplan.present.report import report_html

        save_map(plan_map(result), folder / "map.html")
        (folder / "report.html").write_text(report_html(result), encoding="utf-8")
        written.update(map=folder / "map.html", report=folder / "report.html")
    if started is not None:
        result.timings["write"] = time.perf_counter() - started
    (folder / "run.json").write_text(
        json.dumps(_jsonable(run_record(result, folder)), indent=2) + "\n", encoding="utf-8"
    )
    return written


FORMAT_VERSION = 2
"""run.json's ``format_version``: 2 since netplan 0.2 (a record without it is format 1)."""


def relative_path(path: str | Path, start: str | Path) -> str:
    """``path`` relative to the folder ``start`` (``/`` separators); absolute if there is no such path.

    There is none between two Windows drives.
    """
    try:
        return Path(os.path.relpath(Path(path).resolve(), Path(start).resolve())).as_posix()
    except ValueError:
        return Path(path).resolve().as_posix()


def run_record(result, folder: str | Path | None = None) -> dict[str, object]:
    """The content of run.json: what ran, on what, how, and how it ended.

    Parameters
    ----------
    result : netplan.pipeline.RunResult
    folder : str or Path, optional
        The run folder (or the temporary folder beside it that becomes it): ``scenario.file``
        is stored relative to it. Input paths are stored relative to the scenario file's
        folder (as a scenario names them); without a scenario file, relative to ``folder``.
        Without ``folder``, the current directory.
    """
    plan = result.plan
    scenario = plan.scenario
    inputs = plan.inputs
    run_dir = Path(folder) if folder is not None else Path.cwd()
    base = scenario.source.resolve().parent if scenario.source else run_dir
    return {
        "netplan_run": 1,
        "format_version": FORMAT_VERSION,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "paths": {
            "scenario.file": "relative to this run folder",
            "inputs": "relative to the scenario file's folder"
            if scenario.source
            else "relative to this run folder",
        },
        "scenario": {
            "name": scenario.name,
            "file": relative_path(scenario.source, run_dir) if scenario.source else None,
            "sha256": scenario.content_hash(),
            "objective": scenario.objective.type,
            "travel": scenario.travel.mode,
            "crs": inputs.crs.to_string(),
            "currency": scenario.costs.currency,
            "locale": scenario.locale,
        },
        **(
            {"data_attribution": OSM_ATTRIBUTION, "road_network": repr(inputs.travel.network)}
            if inputs.travel is not None
            else {}
        ),
        "inputs": {
            key: {"path": relative_path(spec.path, base), "sha256": inputs.file_hashes.get(key)}
            for key, spec in scenario.layer_specs().items()
        },
        "warnings": list(inputs.warnings),
        "solver": plan.solver_record(),
        "timings_seconds": {k: round(v, 4) for k, v in result.timings.items()},
        "model": plan.reduction,
        "budget": plan.budget,
        "cost": {
            "baseline": inputs.costs.plan_cost(
                np.where(inputs.current_tier >= 0, inputs.current_tier, -1)
            ),
            "plan": plan.cost(),
        },
        "outlets": {
            "plan": plan.counts().to_dict(orient="index"),
            "baseline": {
                k: int((inputs.current_tier == i).sum()) for i, k in enumerate(scenario.tier_keys)
            },
        },
        "coverage_pct": {
            "baseline": dict(
                zip(
                    scenario.tier_keys,
                    result.baseline.level_kpis()["covered_pct"].round(4),
                    strict=True,
                )
            ),
            "plan": dict(
                zip(
                    scenario.tier_keys,
                    result.evaluation.level_kpis()["covered_pct"].round(4),
                    strict=True,
                )
            ),
        },
        "uncoverable": plan.prepared.uncoverable().to_dict(orient="records"),
        "diagnosis": {
            "redundant_outlets": result.baseline.redundant_outlets()["site_id"].tolist(),
            "broken_links": result.baseline.broken_links()["site_id"].tolist(),
        },
        # spacing pairs and rows, exclusion options removed, today's rule breaks (issue 24)
        **({"siting": siting_record(inputs, plan.prepared.spacing)} if scenario.siting else {}),
        "validator": [c.to_dict() for c in result.checks],
        "versions": package_versions(),
        "platform": {
            "system": platform.platform(),
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
        },
    }


def read_kpis(path: str | Path) -> pd.DataFrame:
    """Read a kpis.csv back (for comparisons and tests)."""
    return pd.read_csv(path)
