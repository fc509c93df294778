"""Writing a comparison folder: its tables, ``compare.json`` and the offline map, atomically."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from netplan.compare.differences import Comparison
from netplan.compare.roadmaps import RoadmapComparison
from netplan.evaluation.columns import rounded

ROADMAP_NAMES = (
    "phase_deltas.csv",
    "region_deltas.csv",
    "actions.csv",
    "compare.json",
    "compare.html",
)


def write_comparison(
    comparison: Comparison | RoadmapComparison, out: str | Path, overwrite: bool = False
) -> dict[str, Path]:
    """Write a comparison's tables and map into ``out``, atomically.

    Files: ``sites.csv`` (sites added, removed, re-tiered), ``kpi_deltas.csv`` (per region
    and level), ``cost.csv``, ``outlets.csv`` (per tier), ``compare.json`` (headline figures
    and notes) and ``compare.html`` (the offline map of the differences). Two roadmaps
    (a :class:`~netplan.compare.roadmaps.RoadmapComparison`): ``phase_deltas.csv`` (per phase,
    figure and level: A, B, delta), ``region_deltas.csv`` (covered % per region, phase and
    level), ``actions.csv`` (the actions that differ), ``compare.json``
    (``kind: roadmap``, per-phase figures) and ``compare.html`` (tables, no map).

    Returns
    -------
    dict
        Paths written, by name: sites, kpi_deltas, cost, outlets, summary, map (two
        roadmaps: phase_deltas, region_deltas, actions, summary, page).

    Raises
    ------
    OutputError
        ``out`` exists and is not empty (without ``overwrite``), is or holds run A or B, was
        not written by netplan, or cannot be written.
    """
    from netplan.outputs.folders import atomic_directory
    from netplan.outputs.writer import _jsonable
    from netplan.present.compare_map import compare_map
    from netplan.present.webmap import save_map

    if isinstance(comparison, RoadmapComparison):
        return _write_roadmaps(comparison, Path(out), overwrite)
    out = Path(out)
    names = ["sites.csv", "kpi_deltas.csv", "cost.csv", "outlets.csv", "compare.json"]
    runs = [("run A", comparison.a.path), ("run B", comparison.b.path)]  # never replaced
    with atomic_directory(out, overwrite=overwrite, protect=runs, kind="compare") as tmp:
        changed = comparison.changed
        xy = changed.geometry
        table = pd.DataFrame(changed.drop(columns="geometry"))
        table["lon"], table["lat"] = xy.x.round(6), xy.y.round(6)
        csv = {"index": False, "float_format": "%.10g", "lineterminator": "\n"}
        money = ["cost_a", "cost_b", "cost_delta"]
        table[money] = table[money].astype(float).round().astype("Int64")
        table.to_csv(tmp / names[0], **csv)
        rounded(comparison.kpis).to_csv(tmp / names[1], index=False, lineterminator="\n")
        cost = comparison.cost.astype(float).round().astype("Int64").reset_index()
        cost.to_csv(tmp / names[2], **csv)
        comparison.outlets.to_csv(tmp / names[3], **csv)
        (tmp / names[4]).write_text(
            json.dumps(_jsonable(comparison.summary()), indent=2) + "\n", encoding="utf-8"
        )
        save_map(compare_map(comparison), tmp / "compare.html")
    keys = ["sites", "kpi_deltas", "cost", "outlets", "summary"]
    return {**{k: out / n for k, n in zip(keys, names, strict=True)}, "map": out / "compare.html"}


def _write_roadmaps(c: RoadmapComparison, out: Path, overwrite: bool) -> dict[str, Path]:
    from netplan.compare.roadmap_page import roadmap_compare_html
    from netplan.outputs.folders import atomic_directory
    from netplan.outputs.writer import _jsonable

    runs = [("run A", c.a.path), ("run B", c.b.path)]  # never replaced
    csv = {"index": False, "float_format": "%.10g", "lineterminator": "\n"}
    paths = dict(
        zip(
            ["phase_deltas", "region_deltas", "actions", "summary", "page"],
            ROADMAP_NAMES,
            strict=True,
        )
    )
    with atomic_directory(out, overwrite=overwrite, protect=runs, kind="compare") as tmp:
        c.deltas.to_csv(tmp / paths["phase_deltas"], **csv)
        c.regions.to_csv(tmp / paths["region_deltas"], **csv)
        c.actions.to_csv(tmp / paths["actions"], **csv)
        (tmp / paths["summary"]).write_text(
            json.dumps(_jsonable(c.summary()), indent=2, ensure_ascii=False) + "\n",
            encoding="utf-8",
        )
        (tmp / paths["page"]).write_text(roadmap_compare_html(c), encoding="utf-8")
    return {k: out / n for k, n in paths.items()}
