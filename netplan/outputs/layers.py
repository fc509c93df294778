"""The geodata layers of a run: what plan.gpkg (and the GeoParquet files) hold.

Everything the map draws is here: today's and the plan's outlets and links, the demand with
its coverage today and in the plan, the gap and overlap cells of each level (the map's grid),
the reach areas of the plan's outlets (drive-time service areas on road runs) and the
regions. Demand points are written once, today's and the plan's coverage side by side
(``baseline_`` columns for today): the gap and overlap points of earlier releases were
copies of them (a gap of level L is a point with ``covered_L == 0``, an overlap one with
``n_covering_L >= 2``), and they made the demo's file 13.9 MB.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from netplan.evaluation.columns import display_unit, to_display
from netplan.present.map_cells import cell_size, demand_cells, overlap_cells
from netplan.travel.geometry import point_coords, reach_areas


@dataclass(frozen=True)
class Layer:
    """One layer of plan.gpkg.

    Attributes
    ----------
    name : str
        Layer (table) name.
    frame : GeoDataFrame
    geometry_type : str
        ``"Point"``, ``"LineString"``, ``"Polygon"`` or ``"MultiPolygon"``.
    kind : str
        What it shows, for its QGIS style: ``outlets``, ``baseline_outlets``, ``demand``,
        ``links``, ``gap_cells``, ``overlap_cells``, ``reach_areas``, ``regions``.
    level : int
        The level (tier position) of per-level layers and reach areas; -1 otherwise.
    """

    name: str
    frame: gpd.GeoDataFrame
    geometry_type: str
    kind: str
    level: int = -1


def with_units(
    frame: gpd.GeoDataFrame, unit: str, levels: list[str], metres: bool = False
) -> gpd.GeoDataFrame:
    """A layer's distance attributes converted to km (or minutes) and named with their unit.

    ``dist_<level>`` (``levels``: the tier keys; also ``baseline_dist_<level>``) →
    ``dist_<level>_km`` (``time_<level>_min`` on a road network), ``distance`` → ``dist_km``,
    ``support_distance`` → ``support_dist_km``; metres stay internal to
    :class:`~netplan.evaluation.kpis.Evaluation`. With ``metres`` (the demand layer of a
    planar or haversine run) distances stay in whole metres, named ``dist_<level>_m``: 21 012
    points × 6 distances as whole metres are stored by SQLite as small integers, as km with
    three decimals they would be 8-byte reals (the demo's plan.gpkg 3.6 MB instead of 2.8).
    """
    shown = "m" if metres and unit == "m" else display_unit(unit)
    word = "time" if shown == "min" else "dist"
    per_level = {f"dist_{key}" for key in levels}
    names = {}
    for col in frame.columns:
        bare = col.removeprefix("baseline_")
        prefix = col[: len(col) - len(bare)]
        if bare == "distance":
            names[col] = f"{prefix}{word}_{shown}"
        elif bare == "support_distance":
            names[col] = f"{prefix}support_{word}_{shown}"
        elif bare in per_level:  # not an input column that merely starts with dist_
            names[col] = f"{prefix}{word}_{bare.removeprefix('dist_')}_{shown}"
    if not names:
        return frame
    out = frame.copy()
    for col in names:
        values = out[col].astype(float)
        out[col] = values.round() if shown == "m" else to_display(values, unit)
    return out.rename(columns=names)


def demand_layer(result) -> gpd.GeoDataFrame:
    """The demand points once, with the plan's coverage columns and today's as ``baseline_*``.

    Parameters
    ----------
    result : netplan.pipeline.RunResult

    Returns
    -------
    GeoDataFrame
        ``demand_id``, ``region``, ``weight_<level>``, then per level the plan's
        ``covered_``, ``n_covering_`` and distance columns (and ``covered_share_`` under
        capacities), then the same of today (but ``n_covering_``) prefixed ``baseline_``.
    """
    plan, today = result.evaluation.demand, result.baseline.demand
    keys = result.scenario.tier_keys
    fixed = ["demand_id", "region"] + [f"weight_{k}" for k in keys]
    share = [f"covered_share_{k}" for k in keys]
    # without capacities covered_share is covered as 0/1: one column is enough
    drop = share if result.scenario.capacity is None else []
    per_point = [c for c in plan.columns if c not in fixed and c != plan.geometry.name]
    per_point = [c for c in per_point if c not in drop]
    out = plan[fixed + per_point].copy()
    # today's overlap counts per point are left out (today's overlap cells hold them): size
    for col in (c for c in per_point if not c.startswith("n_covering_")):
        out[f"baseline_{col}"] = today[col].to_numpy()
    return gpd.GeoDataFrame(out, geometry=plan.geometry.to_numpy(), crs=plan.crs)


def _cells(evaluation, key: str, size: float, kind: str) -> gpd.GeoDataFrame:
    if kind == "gap_cells":
        pts = evaluation.gaps()
        pts = pts[pts["level"] == key]
        cells = demand_cells(pts, pts["weight"].to_numpy(), size)
        cells = cells.rename(columns={"value": "uncovered", "count": "points"})
    else:
        pts = evaluation.overlaps()
        pts = pts[pts["level"] == key]
        cells = overlap_cells(pts, pts["weight"].to_numpy(), pts["n_covering"].to_numpy(), size)
        cells = cells.rename(columns={"value": "overlap", "count": "points"})
        cells["covering_class"] = np.array(["2", "3", "4+"])[cells.pop("cls").to_numpy(int)]
    cells.insert(0, "level", key)
    return (
        cells.to_crs(evaluation.demand.crs)
        if len(cells)
        else cells.set_crs(evaluation.demand.crs, allow_override=True)
    )


def reach_layer(result) -> gpd.GeoDataFrame:
    """Reach areas of the plan's open outlets, as the map draws them.

    Planar discs (geodesic circles for ``haversine``) or, on road runs, the drive-time
    service areas (:meth:`netplan.roads.NetworkTravel.service_areas`).

    Parameters
    ----------
    result : netplan.pipeline.RunResult

    Returns
    -------
    GeoDataFrame
        ``site_id``, ``name``, ``tier``, ``tier_name``, ``reach`` (in the scenario's unit:
        metres or minutes), polygons in the working CRS.
    """
    scenario = result.scenario
    keys, labels = scenario.tier_keys, scenario.tier_labels
    open_out = result.evaluation.open_outlets
    tier = open_out["tier"].map({k: i for i, k in enumerate(keys)}).to_numpy(dtype=int)
    reach = scenario.reach_matrix[tier, tier] if len(tier) else np.zeros(0)
    travel = result.plan.inputs.travel or scenario.travel.mode
    areas = (
        reach_areas(point_coords(open_out.geometry), reach, travel, open_out.crs)
        if len(open_out)
        else gpd.GeoSeries([], crs=open_out.crs)
    )
    frame = pd.DataFrame(
        {
            "site_id": open_out["site_id"].astype(str).to_numpy(),
            "name": open_out["name"].astype(str).to_numpy(),
            "tier": open_out["tier"].to_numpy(),
            "tier_name": [labels[t] for t in tier],
            "reach": reach,
        }
    )
    return gpd.GeoDataFrame(frame, geometry=areas.to_numpy(), crs=open_out.crs)


def run_layers(result) -> list[Layer]:
    """Every layer of a run's plan.gpkg, in the order written.

    Parameters
    ----------
    result : netplan.pipeline.RunResult

    Returns
    -------
    list of Layer
        ``outlets`` (the plan's, closed ones with an empty ``tier`` and their ``current_tier``),
        ``baseline_outlets``, ``demand``, ``links``, ``baseline_links``, per level
        ``gap_cells_<level>``, ``baseline_gap_cells_<level>``, ``overlap_cells_<level>``,
        ``baseline_overlap_cells_<level>``, then ``reach_areas`` (``service_areas`` on road
        runs) and ``regions`` where the scenario has them.
    """
    scenario, ev, base = result.scenario, result.evaluation, result.baseline
    unit, keys = scenario.unit, scenario.tier_keys

    def named(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        return with_units(frame, unit, keys)

    layers = [
        Layer("outlets", named(ev.outlets), "Point", "outlets"),
        Layer("baseline_outlets", named(base.outlets), "Point", "baseline_outlets"),
        Layer(
            "demand", with_units(demand_layer(result), unit, keys, metres=True), "Point", "demand"
        ),
        Layer("links", named(ev.links()), "LineString", "links"),
        Layer("baseline_links", named(base.links()), "LineString", "links"),
    ]
    reach = scenario.reach_matrix
    for level, key in enumerate(scenario.tier_keys):
        size = cell_size(reach[level, level], scenario.unit)
        for kind in ("gap_cells", "overlap_cells"):
            for prefix, evaluation in (("", ev), ("baseline_", base)):
                frame = _cells(evaluation, key, size, kind)
                layers.append(Layer(f"{prefix}{kind}_{key}", frame, "Polygon", kind, level))
    name = "service_areas" if scenario.travel.mode == "network" else "reach_areas"
    layers.append(Layer(name, reach_layer(result), "Unknown", "reach_areas"))
    regions = result.plan.inputs.regions
    if regions is not None and len(regions):
        frame = gpd.GeoDataFrame(
            regions[["region"]], geometry=regions.geometry.to_numpy(), crs=regions.crs
        )
        layers.append(Layer("regions", frame, "Unknown", "regions"))
    return layers
