"""Write a run's outputs: plan.gpkg, kpis.csv, run.json and map.html, atomically.

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

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from netplan.evaluation.columns import display_unit, rounded, to_display
from netplan.outputs.folders import (  # noqa: F401 (also importable from here, as before)
    atomic_directory,
    check_output_dir,
    scenario_paths,
)
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
]


def _clean(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Types GeoPackage stores well: bools as 0/1 integers, objects as strings."""
    out = frame.copy()
    for col in out.columns:
        if col == out.geometry.name:
            continue
        if out[col].dtype == bool:
            out[col] = out[col].astype("int32")
        elif out[col].dtype == object:
            out[col] = out[col].astype(str)
    return out


def _write_layer(frame: gpd.GeoDataFrame, path: Path, layer: str, geometry_type: str) -> None:
    pyogrio.write_dataframe(
        _clean(frame),
        path,
        layer=layer,
        driver="GPKG",
        geometry_type=geometry_type,
        promote_to_multi=False,
    )


def with_units(frame: gpd.GeoDataFrame, unit: str, levels: list[str]) -> gpd.GeoDataFrame:
    """A layer's distance attributes converted to km (or minutes) and named with their unit.

    ``dist_<level>`` (``levels``: the tier keys) → ``dist_<level>_km`` (``time_<level>_min`` on
    a road network), ``distance`` → ``dist_km``, ``support_distance`` → ``support_dist_km``;
    metres stay internal to :class:`~netplan.evaluation.kpis.Evaluation`.
    """
    shown = display_unit(unit)
    word = "dist" if shown == "km" else "time"
    names = {}
    for col in frame.columns:
        if col == "distance":
            names[col] = f"{word}_{shown}"
        elif col == "support_distance":
            names[col] = f"support_{word}_{shown}"
        elif col in {f"dist_{key}" for key in levels}:  # not an input column that starts so
            names[col] = f"{word}_{col.removeprefix('dist_')}_{shown}"
    if not names:
        return frame
    out = frame.copy()
    for col in names:
        out[col] = to_display(out[col].astype(float), unit)
    return out.rename(columns=names)


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
    result, folder: str | Path, started: float | None = None, html: bool = True
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

    Returns
    -------
    dict
        Paths written, by name.
    """
    from netplan.present.webmap import plan_map, save_map

    folder = Path(folder)
    evaluation, baseline = result.evaluation, result.baseline
    gpkg = folder / "plan.gpkg"
    unit, keys = result.plan.scenario.unit, result.plan.scenario.tier_keys
    for prefix, ev in (("", evaluation), ("baseline_", baseline)):
        layers = (
            (ev.outlets, "outlets", "Point"),
            (ev.demand, "demand", "Point"),
            (ev.gaps(), "gaps", "Point"),
            (ev.overlaps(), "overlaps", "Point"),
            (ev.links(), "links", "LineString"),
        )
        for frame, layer, geometry_type in layers:
            _write_layer(with_units(frame, unit, keys), gpkg, f"{prefix}{layer}", geometry_type)
    rounded(result.kpi_table()).to_csv(folder / "kpis.csv", index=False, lineterminator="\n")
    written = {"plan": gpkg, "kpis": folder / "kpis.csv", "run": folder / "run.json"}
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
