"""Demand points: weights per level, zones spread onto points, competitors' discount.

Normalised columns: ``demand_id``, ``region``, ``weight_<level key>`` per level, point geometry.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from netplan._errors import InputDataError, ScenarioError
from netplan.inputs.columns import (
    check_weight_families,
    file_row,
    id_column,
    layer_name,
    numeric_column,
)
from netplan.inputs.locations import layer_points, region_of
from netplan.inputs.raster import (
    dropped_note,
    pixel_size,
    raster_info,
    read_raster_demand,
)
from netplan.inputs.readers import require_column
from netplan.inputs.zones import small_zone_hint, spread_zones
from netplan.scenario import LayerSpec, Scenario
from netplan.scenario.conditioning import Member, ratio_problem
from netplan.scenario.phases import phase_column_keys, phase_columns
from netplan.travel.coverage import pairs_within
from netplan.travel.geometry import metric_coords, point_coords
from netplan.travel.units import parse_quantity

# demand columns of a roadmap's phases (``phases[i].weight`` / ``weights``), by source column
PHASE_PREFIX = "phase_weight:"

def load_demand(
    frame: gpd.GeoDataFrame,
    scenario: Scenario,
    crs: CRS,
    regions: gpd.GeoDataFrame | None,
    notes: list[str],
    spec: LayerSpec | None = None,
) -> gpd.GeoDataFrame:
    """Demand points with their id, region and weight per service level.

    Parameters
    ----------
    frame : GeoDataFrame
        The demand layer as read (or the points zones were spread onto).
    scenario : Scenario
        Its tiers are the service levels; its ``demand`` entry names the columns.
    crs : pyproj.CRS
        The working CRS the points are moved to.
    regions : GeoDataFrame, optional
        Region polygons, for rows without a region column.
    notes : list of str
        Warnings are appended here (dropped zero-weight rows, the ratio rule, ...).
    spec : LayerSpec, optional
        The entry to read the columns with (after spreading zones), default ``scenario.demand``.

    Returns
    -------
    GeoDataFrame
        ``demand_id``, ``region``, ``weight_<level key>`` per level, point geometry; rows of
        weight 0 at every level left out.

    Raises
    ------
    InputDataError
        A geometry, id or weight breaks a rule, a weight family breaks the ratio rule, or
        every weight is 0.
    """
    spec = spec if spec is not None else scenario.demand
    geoms = layer_points(frame, spec, "demand", notes)
    keys = scenario.tier_keys
    out = pd.DataFrame({"demand_id": id_column(frame, spec, "demand", "D")})
    out["region"] = region_of(frame, geoms, spec, "demand", regions).to_numpy()
    base = (
        numeric_column(frame, spec.weight, spec, "demand", "weight")
        if spec.weight
        else np.ones(len(frame))
    )
    weights = np.tile(base[:, None], (1, len(keys)))
    for level, column in (spec.weights or {}).items():
        weights[:, scenario.tier_index(level)] = numeric_column(
            frame, column, spec, "demand", f"weights.{level}"
        )
    for i, key in enumerate(keys):
        out[f"weight_{key}"] = weights[:, i]
    phased = np.zeros(len(frame))  # a row with demand in some phase only is kept
    for column, (section, key) in phase_column_keys(scenario).items():
        values = numeric_column(frame, column, spec, section, key)
        out[f"{PHASE_PREFIX}{column}"] = values
        phased += values
    spread = scenario.demand.spread is not None  # rows are the points zones were spread onto
    n_notes = len(notes)
    try:
        check_weight_families(
            weights, spec, scenario, notes, out["demand_id"].tolist() if spread else None
        )
    except InputDataError as err:  # a small zone's fractional share: say so and how to avoid it
        hint = small_zone_hint(frame["zone"].to_numpy(), base) if spread else ""
        if not hint:
            raise
        raise InputDataError(f"{err}{hint}") from None
    if spread and len(notes) > n_notes:
        hint = small_zone_hint(frame["zone"].to_numpy(), base)
        notes[n_notes:] = [n + hint for n in notes[n_notes:]]
    zero = (weights.sum(axis=1) == 0) & (phased == 0)
    if zero.all():
        raise InputDataError(
            f"{layer_name(spec)}: every demand weight is 0; there is nothing to cover. Check the weight column '{spec.weight}'"
        )
    out = gpd.GeoDataFrame(out, geometry=geoms.to_crs(crs).to_numpy(), crs=crs)
    if zero.any():
        notes.append(
            f"{layer_name(spec)}: {int(zero.sum())} demand rows with weight 0 at every level dropped (rule: zero-weight demand is ignored)"
        )
        out = out.loc[~zero].reset_index(drop=True)
    return out


def raster_sample(path: Path) -> gpd.GeoSeries:
    """Pixel centres (corners and middle) of a raster, in its CRS: what picks the UTM zone.

    Raises
    ------
    InputDataError
        The file is no raster, or has no CRS.
    """
    info = raster_info(path)
    x, y = info.footprint()
    return gpd.GeoSeries(gpd.points_from_xy(x, y), crs=info.crs)


def raster_demand(
    scenario: Scenario,
    crs: CRS,
    regions: gpd.GeoDataFrame | None,
    notes: list[str],
) -> tuple[gpd.GeoDataFrame, LayerSpec]:
    """A population raster (``demand.raster``) as demand points: one per cell, or per pixel.

    The grid of ``demand.cell`` lies in the working CRS, or in the raster's UTM zone when the
    working CRS is geographic (``travel.mode: haversine``); its points are then moved to the
    working CRS. ``clip: regions`` keeps the pixels whose centre lies in a polygon of the
    ``regions`` layer.

    Parameters
    ----------
    scenario : Scenario
        Its ``demand`` entry: ``raster``, ``band`` / ``weights`` (bands), ``cell``, ``clip``.
    crs : pyproj.CRS
        The working CRS.
    regions : GeoDataFrame, optional
        Region polygons (:func:`netplan.inputs.locations.load_regions`), for ``clip``.
    notes : list of str
        The one note on dropped pixel values (nodata, not finite, negative) and the clip's
        note are appended here.

    Returns
    -------
    points : GeoDataFrame
        Columns ``id`` and ``band_<b>`` per band read, points in the working CRS.
    spec : LayerSpec
        The demand entry that reads them (:func:`load_demand`).

    Raises
    ------
    InputDataError
        Not a raster, no CRS, a missing band, a cell smaller than a pixel, too many pixels
        without a cell, or no pixel above 0.
    """
    spec = scenario.demand
    path = Path(spec.raster)
    bands = spec.raster_bands(scenario.tier_keys)
    info = raster_info(path)
    cell = parse_quantity(spec.cell, "demand.cell").value if spec.cell else None
    grid_crs = crs
    if cell is not None and not crs.is_projected:  # haversine: cells in the raster's UTM zone
        grid_crs = raster_sample(path).estimate_utm_crs()
    if cell is not None:
        width, height = pixel_size(info, grid_crs)
        if cell < max(width, height) * (1 - 1e-9):
            raise InputDataError(
                f"{path}: demand.cell: {spec.cell} is smaller than a pixel of the raster (up to "
                f"{width:,.1f} x {height:,.1f} m in {grid_crs.to_string()}); give a cell of at least "
                f"{np.ceil(max(width, height)):,.0f} m, or leave out 'cell' for one point per pixel"
            )
    clip = None
    if spec.clip == "regions" and regions is not None:
        import shapely

        clip = shapely.union_all(regions.to_crs(grid_crs).geometry.to_numpy())
    used = sorted(set(bands.values()))
    found = read_raster_demand(path, used, grid_crs, cell=cell, clip=clip)
    note = dropped_note(path, found.dropped)
    if note:
        notes.append(note)
    if found.clipped:
        notes.append(
            f"{path}: demand.clip: {found.clipped:,} non-zero pixels (value {found.clipped_weight:,.6g}) "
            "lie outside the regions layer and are left out"
        )
    if not len(found.xy):
        raise InputDataError(
            f"{path}: no pixel of band{'s' if len(used) > 1 else ''} {', '.join(map(str, used))} holds a value above 0"
            f"{' inside the regions (demand.clip)' if clip is not None else ''}; check the band and the raster's nodata value"
        )
    frame = pd.DataFrame({"id": found.ids()})
    for i, b in enumerate(used):
        frame[f"band_{b}"] = found.weights[:, i]
    points = gpd.GeoSeries(gpd.points_from_xy(found.xy[:, 0], found.xy[:, 1]), crs=grid_crs)
    out = gpd.GeoDataFrame(frame, geometry=points.to_crs(crs).to_numpy(), crs=crs)
    levels = {level: f"band_{b}" for level, b in bands.items()}
    new_spec = spec.model_copy(
        update={
            "path": path,
            "raster": None,
            "id": "id",
            "weight": None,
            "weights": levels,
            "band": None,
            "cell": None,
            "clip": None,
        }
    )
    return out, new_spec


def spread_demand(
    zones: gpd.GeoDataFrame,
    scenario: Scenario,
    crs: CRS,
    points: gpd.GeoDataFrame | None,
    notes: list[str],
) -> tuple[gpd.GeoDataFrame, LayerSpec]:
    """Zones → demand points (netplan.inputs.zones); returns the points and the spec to read them with.

    Parameters
    ----------
    zones : GeoDataFrame
        The demand layer as read: zone polygons with one weight column (the zone's total).
    scenario : Scenario
        Its ``demand.spread`` entry says how to spread.
    crs : pyproj.CRS
        The working CRS (grid spacing is in its metres).
    points : GeoDataFrame, optional
        The points to spread onto (``demand.spread.points``).
    notes : list of str
        The spreading's notes are appended here, each naming the zones' file.

    Returns
    -------
    points : GeoDataFrame
        One row per point with columns ``id``, ``weight``, ``zone`` (and the region column).
    spec : LayerSpec
        The demand entry that reads these points (``id``, ``weight``, no spread).

    Raises
    ------
    ScenarioError
        No single ``weight`` column, or per-level ``weights`` given.
    InputDataError
        A geometry that is no polygon, or a weight, id or point weight that breaks a rule.
    """
    spec = scenario.demand
    spread = spec.spread
    if spec.weight is None or spec.weights:
        raise ScenarioError(
            f"{layer_name(spec)}: demand.spread needs one 'weight' column (the zone total) and no per-level 'weights'"
        )
    require_column(zones, spec.weight, Path(spec.path), "demand", "weight")
    kinds = zones.geometry.geom_type
    if not kinds.isin(["Polygon", "MultiPolygon"]).all():
        row = int(np.flatnonzero(~kinds.isin(["Polygon", "MultiPolygon"]).to_numpy())[0])
        raise InputDataError(
            f"{layer_name(spec)}: row {file_row(spec, row)}: demand.spread needs zone polygons, got {kinds.iloc[row]}"
        )
    numeric_column(zones, spec.weight, spec, "demand", "weight")
    if spec.id is not None:
        id_column(zones, spec, "demand", "Z")
    if points is not None and spread.points is not None and spread.points.weight:
        # a blank point weight counts 0 (netplan.inputs.zones); NaN text, inf or a negative is an error
        numeric_column(points, spread.points.weight, spread.points, "demand.spread.points", "weight", allow_nan=True)
    out, spread_notes = spread_zones(
        zones,
        spec.weight,
        spread.method,
        crs,
        spacing=parse_quantity(spread.spacing, "demand.spread.spacing").value,
        resolution=spread.resolution,
        points=points,
        point_weight=spread.points.weight if spread.points is not None else None,
        id_column=spec.id,
        carry=[spec.region] if spec.region else None,
        small_zones=spread.small_zones,
        extra=phase_columns(scenario),
    )
    notes += [f"{layer_name(spec)}: {n}" for n in spread_notes]
    new_spec = spec.model_copy(
        update={"id": "id", "weight": "weight", "x": None, "y": None, "spread": None}
    )
    return out, new_spec


def discount_competitors(
    demand: gpd.GeoDataFrame,
    competitors: gpd.GeoDataFrame,
    scenario: Scenario,
    crs: CRS,
    travel: Any,
    notes: list[str],
) -> None:
    """Scale demand weights down where a competitor is within reach (threshold share or decay).

    Parameters
    ----------
    demand : GeoDataFrame
        Demand points (:func:`load_demand`); their ``weight_<level>`` columns are scaled in place.
    competitors : GeoDataFrame
        The competitors layer as read.
    scenario : Scenario
        Its ``competitors`` entry: reach, share, optional decay.
    crs : pyproj.CRS
        The working CRS.
    travel : NetworkTravel or None
        Drive times for ``travel.mode: network``, else None (straight-line distance).
    notes : list of str
        A note on how much demand was discounted is appended here.
    """
    spec = scenario.competitors
    geoms = layer_points(competitors, spec, "competitors", notes).to_crs(crs)
    reach = parse_quantity(spec.reach, "competitors.reach").value
    comp_xy = metric_coords(point_coords(geoms), scenario.travel.mode)
    d_xy = metric_coords(point_coords(demand.geometry), scenario.travel.mode)
    pairs = pairs_within(
        d_xy, comp_xy, reach, travel if travel is not None else scenario.travel.mode
    )
    nearest = np.full(len(demand), np.inf)
    np.minimum.at(nearest, pairs.demand, pairs.dist)
    within = np.isfinite(nearest)
    lost = np.zeros(len(demand))
    if spec.decay is None:
        lost[within] = spec.share
    else:
        scale = parse_quantity(spec.decay, "competitors.decay").value
        lost[within] = spec.share * np.exp(-nearest[within] / scale)
    for key in scenario.tier_keys:
        demand[f"weight_{key}"] = demand[f"weight_{key}"].to_numpy() * (1.0 - lost)
    notes.append(
        f"{layer_name(spec)}: {int(within.sum())} demand points within a competitor's reach ({spec.reach}); "
        f"{float(np.mean(lost[within])) if within.any() else 0:.1%} of their weight discounted on average"
    )


def check_discounted_weights(demand: gpd.GeoDataFrame, scenario: Scenario) -> None:
    """The ratio rule again after the discount: a share of 1 with a decay can leave 1e-12 of a weight.

    Parameters
    ----------
    demand : GeoDataFrame
        Demand points after :func:`discount_competitors`.
    scenario : Scenario

    Raises
    ------
    InputDataError
        The discounted weights of a level span more than the ratio rule allows.
    """
    spec = scenario.competitors
    for key in scenario.tier_keys:
        member = Member(
            f"weight_{key} after the discount", demand[f"weight_{key}"].to_numpy(),
            demand["demand_id"].tolist(), "demand point",
        )  # fmt: skip
        found = ratio_problem(
            f"demand weights of level {key} after the competitors' discount",
            [member],
            f"the discount (competitors.share {spec.share:g}) leaves almost nothing of the demand "
            "nearest to a competitor; give a share below 1, e.g. 0.99",
        )
        if found is not None and found[0] == "error":
            raise InputDataError(found[1])
