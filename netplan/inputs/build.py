"""Load and check a scenario's inputs into normalised GeoDataFrames in the working CRS.

This is the boundary where input data are validated once (scikit-learn's ``check_array``
idea): after :func:`load_inputs` the rest of netplan trusts its data. Normalised columns:

- demand: ``demand_id``, ``region``, ``weight_<level key>`` per level, point geometry.
- sites: ``site_id``, ``name``, ``source`` (``outlet`` / ``candidate``), ``current_tier``
  (tier key or empty), ``policy`` (``keep``, ``may_close``, ``may_retier``,
  ``may_retier_or_close``; ``new`` for candidates), ``ownership``, ``region``, ``tiers``
  (the tiers the site may take, ``;``-separated), point geometry.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from netplan._errors import InputDataError, NetplanWarning, ScenarioError, did_you_mean
from netplan.inputs.columns import RowIds as _RowIds
from netplan.inputs.columns import apply_ratio_rule as _apply_ratio_rule
from netplan.inputs.columns import check_weight_families as _check_weight_families
from netplan.inputs.columns import duplicate_columns_note as _duplicate_columns
from netplan.inputs.columns import file_row as _row
from netplan.inputs.columns import layer_name as _name
from netplan.inputs.columns import numeric_column as _numeric
from netplan.inputs.columns import rows_text as _rows
from netplan.scenario.conditioning import Member, ratio_problem
from netplan.inputs.costs import SiteCosts
from netplan.travel.geometry import metric_coords, point_coords, resolve_working_crs
from netplan.inputs.readers import file_sha256, read_layer, require_column
from netplan.scenario import OWNERSHIPS, POLICIES, LayerSpec, Scenario
from netplan.inputs.zones import small_zone_hint


@dataclass
class Inputs:
    """The validated inputs of a scenario, in the working CRS.

    Attributes
    ----------
    scenario : Scenario
    crs : pyproj.CRS
        Working CRS: projected metres for ``planar``, EPSG:4326 for ``haversine``.
    demand : GeoDataFrame
        One row per demand point (see module docstring for columns).
    sites : GeoDataFrame
        Existing outlets first (file order), then candidate sites.
    allowed : ndarray (m, K) of bool
        Whether site j may operate as tier k in a plan.
    costs : SiteCosts
    regions : GeoDataFrame or None
        Region polygons with column ``region``.
    capacity : ndarray (m, K) or None
        Capacity (demand weight) of site j as tier k (inf = unlimited); None without capacities.
    warnings : list of str
        Recoverable problems found while loading (also issued as :class:`NetplanWarning`).
    file_hashes : dict
        SHA-256 of each input file by scenario key.
    travel : NetworkTravel or None
        Drive times over the road network (``travel.mode: network``), else None.
    """

    scenario: Scenario
    crs: CRS
    demand: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    allowed: np.ndarray
    costs: SiteCosts
    regions: gpd.GeoDataFrame | None = None
    capacity: np.ndarray | None = None
    warnings: list[str] = field(default_factory=list)
    file_hashes: dict[str, str] = field(default_factory=dict)
    travel: Any = None  # NetworkTravel for travel.mode 'network' (drive times), else None

    @property
    def mode(self) -> str:
        return self.scenario.travel.mode

    @property
    def weights(self) -> np.ndarray:
        """Demand weight ``(n, K)`` per service level."""
        return self.demand[[f"weight_{k}" for k in self.scenario.tier_keys]].to_numpy(dtype=float)

    @property
    def demand_xy(self) -> np.ndarray:
        return point_coords(self.demand.geometry)

    @property
    def site_xy(self) -> np.ndarray:
        return point_coords(self.sites.geometry)

    @property
    def demand_metric(self) -> np.ndarray:
        return metric_coords(self.demand_xy, self.mode)

    @property
    def site_metric(self) -> np.ndarray:
        return metric_coords(self.site_xy, self.mode)

    @property
    def current_tier(self) -> np.ndarray:
        """Today's tier index of each site, -1 for candidates."""
        return self.costs.current_tier

    @property
    def policies(self) -> np.ndarray:
        return self.sites["policy"].to_numpy(dtype=object)

    def summary(self) -> dict[str, object]:
        """Rows per layer, CRS, totals: what ``netplan validate`` prints."""
        existing = self.current_tier >= 0
        keys = self.scenario.tier_keys
        return {
            "crs": self.crs.to_string(),
            "demand_points": len(self.demand),
            "demand_weight": {k: float(self.weights[:, i].sum()) for i, k in enumerate(keys)},
            "existing_outlets": int(existing.sum()),
            "existing_by_tier": {
                k: int((self.current_tier == i).sum()) for i, k in enumerate(keys)
            },
            "candidate_sites": int((~existing).sum()),
            "sites_able_to_host": {k: int(self.allowed[:, i].sum()) for i, k in enumerate(keys)},
            "regions": sorted(set(self.demand["region"]) | set(self.sites["region"]) - {""}),
        }


# ---------------------------------------------------------------------------- API
def load_inputs(scenario: Scenario) -> Inputs:
    """Read and validate every input the scenario names.

    Parameters
    ----------
    scenario : Scenario

    Returns
    -------
    Inputs

    Raises
    ------
    InputFileNotFoundError
        An input file does not exist.
    InputDataError
        A layer breaks a rule; the message names file, row or column and the fix.
    """
    scenario.check_input_files()
    raw = {key: read_layer(spec, key) for key, spec in scenario.layer_specs().items()}
    hashes = {key: file_sha256(spec.path) for key, spec in scenario.layer_specs().items()}
    if scenario.travel.mode == "network" and scenario.travel.network is not None:
        hashes["travel.network"] = file_sha256(scenario.travel.network)
    return inputs_from_frames(
        scenario,
        demand=raw["demand"],
        outlets=raw.get("outlets"),
        candidates=raw.get("candidates"),
        regions=raw.get("regions"),
        file_hashes=hashes,
        spread_points=raw.get("demand.spread.points"),
        competitors=raw.get("competitors"),
    )


def inputs_from_frames(
    scenario: Scenario,
    demand: gpd.GeoDataFrame,
    outlets: gpd.GeoDataFrame | None = None,
    candidates: gpd.GeoDataFrame | None = None,
    regions: gpd.GeoDataFrame | None = None,
    file_hashes: dict[str, str] | None = None,
    spread_points: gpd.GeoDataFrame | None = None,
    competitors: gpd.GeoDataFrame | None = None,
) -> Inputs:
    """Validate GeoDataFrames given in memory (columns named as in the scenario's specs).

    Parameters
    ----------
    scenario : Scenario
        Column names come from its ``demand``, ``outlets``, ``candidates`` and ``regions`` keys.
    demand, outlets, candidates, regions : GeoDataFrame
        Raw layers with a CRS. Not modified. With ``demand.spread``, ``demand`` holds zones.
    spread_points, competitors : GeoDataFrame, optional
        The points zones are spread onto (``demand.spread.points``) and competitor outlets.

    Returns
    -------
    Inputs
    """
    notes: list[str] = []
    if outlets is None and candidates is None:
        raise InputDataError("give existing outlets or candidate sites (or both)")
    spread = scenario.demand.spread
    for key, frame, spec in (
        ("demand", demand, scenario.demand),
        ("outlets", outlets, scenario.outlets),
        ("candidates", candidates, scenario.candidates),
        ("regions", regions, scenario.regions),
        ("competitors", competitors, scenario.competitors),
        ("demand.spread.points", spread_points, spread.points if spread else None),
    ):
        if frame is not None and spec is not None:
            note = _duplicate_columns(frame, spec, key, scenario)
            if note:
                notes.append(note)
    region_frame = (
        _load_regions(regions, scenario.regions)
        if regions is not None and scenario.regions
        else None
    )
    sample = demand.geometry if demand.crs is not None else None
    if demand.crs is None:
        raise InputDataError(
            f"{_name(scenario.demand)}: the demand layer has no CRS; set it in the file or give 'demand.crs'"
        )
    crs = resolve_working_crs(scenario.travel.mode, scenario.travel.crs, sample)
    travel = None
    if scenario.travel.mode == "network":
        from netplan.roads.network import scenario_travel

        with warnings.catch_warnings():
            # reading the file warns once per process (the network is cached); its notes are
            # reported with this run's other notes instead, every run
            warnings.simplefilter("ignore", NetplanWarning)
            travel = scenario_travel(scenario, crs)
        notes.extend(travel.network.notes)
    demand_spec = scenario.demand
    if demand_spec.spread is not None:
        demand, demand_spec = _spread_demand(demand, scenario, crs, spread_points, notes)
    demand_frame = _load_demand(demand, scenario, crs, region_frame, notes, spec=demand_spec)
    if competitors is not None and scenario.competitors is not None:
        _discount_competitors(demand_frame, competitors, scenario, crs, travel, notes)
        _check_discounted_weights(demand_frame, scenario)
    if travel is not None:
        _, _, ok = travel.snap(point_coords(demand_frame.geometry))
        if not ok.all():
            notes.append(
                f"{int((~ok).sum())} demand points are farther than travel.max_access ({scenario.travel.max_access}) "
                "from the road network: unreachable, never covered"
            )
    site_frames = []
    if outlets is not None:
        if scenario.outlets is None:
            raise ScenarioError("outlets given but the scenario has no 'outlets' key")
        site_frames.append(
            _load_sites(outlets, scenario.outlets, "outlets", scenario, crs, region_frame, notes)
        )
    if candidates is not None:
        if scenario.candidates is None:
            raise ScenarioError("candidates given but the scenario has no 'candidates' key")
        site_frames.append(
            _load_sites(
                candidates, scenario.candidates, "candidates", scenario, crs, region_frame, notes
            )
        )
    _check_layers_together(
        {
            "demand": (demand, demand_spec),
            "outlets": (outlets, scenario.outlets),
            "candidates": (candidates, scenario.candidates),
        }
    )
    if scenario.candidates is not None and scenario.candidates.generate:
        from netplan.inputs.candidates import generate_candidates

        generated = generate_candidates(
            point_coords(demand_frame.geometry),
            demand_frame[[f"weight_{k}" for k in scenario.tier_keys]].to_numpy().sum(axis=1),
            crs,
            scenario.candidates.generate,
            scenario.tier_keys,
            network=travel.network if travel is not None else None,
        )
        spec = scenario.candidates.model_copy(
            update={
                "path": Path("generated candidates"),
                "id": "id",
                "tiers": "tiers",
                "name": None,
                "x": None,
                "y": None,
            }
        )
        site_frames.append(
            _load_sites(generated, spec, "candidates", scenario, crs, region_frame, notes)
        )
    sites = pd.concat([f[0] for f in site_frames], ignore_index=True)
    sites = gpd.GeoDataFrame(sites, geometry="geometry", crs=crs)
    allowed = np.vstack([f[1] for f in site_frames])
    costs = _stack_costs([f[2] for f in site_frames], scenario.costs.horizon_years)
    column_members = [m for f in site_frames for m in f[2]["members"]]
    if column_members:  # the scenario's cost tables with the sites' cost columns
        _apply_ratio_rule("costs", scenario.cost_members() + column_members, notes)
    notes += scenario.family_checks(costs=not column_members)[1]  # its errors stopped validation
    dup = sites["site_id"].duplicated(keep=False)
    if dup.any():
        first = sites.loc[dup, "site_id"].iloc[0]
        where = sites.loc[sites["site_id"] == first, "source"].tolist()
        raise InputDataError(
            f"site id '{first}' appears {len(where)} times (in {', '.join(sorted(set(where)))}); ids of outlets and candidates must be unique"
        )
    for note in notes:
        warnings.warn(note, NetplanWarning, stacklevel=2)
    return Inputs(
        scenario=scenario,
        crs=crs,
        demand=demand_frame,
        sites=sites,
        allowed=allowed,
        costs=costs,
        regions=region_frame.to_crs(crs) if region_frame is not None else None,
        capacity=np.vstack([f[2]["capacity"] for f in site_frames])
        if scenario.capacity is not None
        else None,
        warnings=notes,
        file_hashes=file_hashes or {},
        travel=travel,
    )


def _spread_demand(
    zones: gpd.GeoDataFrame,
    scenario: Scenario,
    crs: CRS,
    points: gpd.GeoDataFrame | None,
    notes: list[str],
) -> tuple[gpd.GeoDataFrame, LayerSpec]:
    """Zones → demand points (netplan.inputs.zones); returns the points and the spec to read them with."""
    from netplan.travel.units import parse_quantity
    from netplan.inputs.zones import spread_zones

    spec = scenario.demand
    spread = spec.spread
    if spec.weight is None or spec.weights:
        raise ScenarioError(
            f"{_name(spec)}: demand.spread needs one 'weight' column (the zone total) and no per-level 'weights'"
        )
    require_column(zones, spec.weight, Path(spec.path), "demand", "weight")
    kinds = zones.geometry.geom_type
    if not kinds.isin(["Polygon", "MultiPolygon"]).all():
        row = int(np.flatnonzero(~kinds.isin(["Polygon", "MultiPolygon"]).to_numpy())[0])
        raise InputDataError(
            f"{_name(spec)}: row {_row(spec, row)}: demand.spread needs zone polygons, got {kinds.iloc[row]}"
        )
    _numeric(zones, spec.weight, spec, "demand", "weight")
    if spec.id is not None:
        _ids(zones, spec, "demand", "Z")
    if points is not None and spread.points is not None and spread.points.weight:
        # a blank point weight counts 0 (netplan.inputs.zones); NaN text, inf or a negative is an error
        _numeric(points, spread.points.weight, spread.points, "demand.spread.points", "weight", allow_nan=True)
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
    )
    notes += [f"{_name(spec)}: {n}" for n in spread_notes]
    new_spec = spec.model_copy(
        update={"id": "id", "weight": "weight", "x": None, "y": None, "spread": None}
    )
    return out, new_spec


def _discount_competitors(
    demand: gpd.GeoDataFrame,
    competitors: gpd.GeoDataFrame,
    scenario: Scenario,
    crs: CRS,
    travel: Any,
    notes: list[str],
) -> None:
    """Scale demand weights down where a competitor is within reach (threshold share or decay)."""
    from netplan.travel.coverage import pairs_within
    from netplan.travel.units import parse_quantity

    spec = scenario.competitors
    geoms = _points(competitors, spec, "competitors", notes).to_crs(crs)
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
        f"{_name(spec)}: {int(within.sum())} demand points within a competitor's reach ({spec.reach}); "
        f"{float(np.mean(lost[within])) if within.any() else 0:.1%} of their weight discounted on average"
    )


def _check_discounted_weights(demand: gpd.GeoDataFrame, scenario: Scenario) -> None:
    """The ratio rule again after the discount: a share of 1 with a decay can leave 1e-12 of a weight."""
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


# ---------------------------------------------------------------------- helpers
def _points(frame: gpd.GeoDataFrame, spec: LayerSpec, key: str, notes: list[str]) -> gpd.GeoSeries:
    """Point geometries of a layer; polygons become their representative point (stated)."""
    path = _name(spec)
    geoms = frame.geometry
    missing = geoms.isna() | geoms.is_empty
    if missing.any():
        row = int(np.flatnonzero(missing.to_numpy())[0])
        raise InputDataError(
            f"{path}: row {_row(spec, row)}: empty or missing geometry {_rows(spec, missing.to_numpy())}; fix or remove them"
        )
    kinds = geoms.geom_type
    polygonal = kinds.isin(["Polygon", "MultiPolygon"]).to_numpy()
    other = ~kinds.isin(["Point", "Polygon", "MultiPolygon"]).to_numpy()
    if other.any():
        row = int(np.flatnonzero(other)[0])
        raise InputDataError(
            f"{path}: row {_row(spec, row)}: {kinds.iloc[row]} geometry where points are required; give points or polygons"
        )
    # a NaN point is merely "invalid" to shapely: name the real problem first
    coords, owner = shapely.get_coordinates(geoms.to_numpy(), return_index=True)
    if not np.isfinite(coords).all():
        bad = np.zeros(len(geoms), dtype=bool)
        bad[owner[~np.isfinite(coords).all(axis=1)]] = True
        row = int(np.flatnonzero(bad)[0])
        raise InputDataError(
            f"{path}: row {_row(spec, row)}: coordinates are NaN or infinite {_rows(spec, bad)}; fix or remove the rows"
        )
    invalid = ~geoms.is_valid.to_numpy()
    if invalid.any():
        row = int(np.flatnonzero(invalid)[0])
        raise InputDataError(
            f"{path}: row {_row(spec, row)}: invalid geometry {_rows(spec, invalid)}; repair it (e.g. shapely.make_valid)"
        )
    if polygonal.any():
        geoms = geoms.copy()
        geoms[polygonal] = geoms[polygonal].representative_point()
        notes.append(
            f"{path}: {int(polygonal.sum())} {key} polygons replaced by their representative point"
        )
    if frame.crs is not None and CRS.from_user_input(frame.crs).is_geographic:
        x, y = geoms.x.to_numpy(), geoms.y.to_numpy()
        bad = np.flatnonzero((np.abs(x) > 180) | (np.abs(y) > 90))
        if len(bad):
            row = int(bad[0])
            swapped = abs(y[row]) <= 180 and abs(x[row]) <= 90
            hint = (
                "longitude and latitude look swapped; exchange the x and y columns"
                if swapped
                else "the CRS may be wrong; give the layer's real CRS"
            )
            raise InputDataError(
                f"{path}: row {_row(spec, row)}: coordinates ({x[row]:g}, {y[row]:g}) are outside longitude/latitude range; {hint}"
            )
    return geoms


def _check_layers_together(
    layers: dict[str, tuple[gpd.GeoDataFrame | None, LayerSpec | None]],
) -> None:
    """Refuse points that lie far outside the extent of the other point layers.

    Swapped longitude/latitude inside the valid range (e.g. (47.1, 9.5) for a place at
    9.5 E, 47.1 N) passes every per-layer check but moves a point thousands of kilometres away.
    A point is *far outside* when it lies beyond the extent of the other layers (their 0.5-99.5 %
    quantile box, so one bad point elsewhere does not widen it) by more than the larger of that
    box's diagonal and 1 degree (about 111 km).
    """
    wgs: dict[str, np.ndarray] = {}
    for key, (frame, spec) in layers.items():
        if frame is None or spec is None or frame.crs is None or not len(frame):
            continue
        geoms = frame.geometry
        if not geoms.geom_type.eq("Point").all():
            geoms = geoms.representative_point()
        wgs[key] = point_coords(geoms.to_crs(4326))
    for key, xy in wgs.items():
        others = [v for k, v in wgs.items() if k != key]
        if not others:
            continue
        ref = np.vstack(others)
        ref = ref[np.isfinite(ref).all(axis=1)]
        if not len(ref):
            continue
        lo, hi = np.quantile(ref, 0.005, axis=0), np.quantile(ref, 0.995, axis=0)
        pad = max(float(np.hypot(*(hi - lo))), 1.0)
        lo, hi = lo - pad, hi + pad
        far = np.flatnonzero(((xy < lo) | (xy > hi)).any(axis=1))
        if not len(far):
            continue
        row = int(far[0])
        x, y = xy[row]
        cx, cy = np.clip(x, lo[0] + pad, hi[0] - pad), np.clip(y, lo[1] + pad, hi[1] - pad)
        km = _great_circle_km(x, y, cx, cy)
        spec = layers[key][1]
        swapped = lo[0] <= y <= hi[0] and lo[1] <= x <= hi[1]
        hint = (
            "longitude and latitude look swapped; exchange the x and y columns"
            if swapped
            else "check its coordinates and the layer's CRS"
        )
        names = ", ".join(k for k in wgs if k != key)
        raise InputDataError(
            f"{_name(spec)}: row {_row(spec, row)}: point ({x:.6g}, {y:.6g}) lies {km:,.0f} km outside the extent of the "
            f"other layers ({names}) ({len(far)} such rows); {hint}"
        )


def _great_circle_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    lon1, lat1, lon2, lat2 = np.radians([lon1, lat1, lon2, lat2])
    h = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    return float(2 * 6371.0088 * np.arcsin(np.sqrt(min(h, 1.0))))


def _ids(frame: pd.DataFrame, spec: LayerSpec, key: str, prefix: str) -> pd.Series:
    column = spec.id
    if column is None:
        column = "id" if "id" in frame.columns else None
    if column is None:
        return pd.Series([f"{prefix}{i + 1}" for i in range(len(frame))], dtype=object)
    raw = require_column(frame, column, Path(spec.path), key, "id")
    ids = raw.astype(str).str.strip()
    blank = raw.isna().to_numpy() | (ids == "").to_numpy()
    if blank.any():
        row = int(np.flatnonzero(blank)[0])
        raise InputDataError(
            f"{_name(spec)}: row {_row(spec, row)}: empty id in column '{column}'; give every row an id"
        )
    dup = ids.duplicated(keep="first").to_numpy()
    if dup.any():
        row = int(np.flatnonzero(dup)[0])
        raise InputDataError(
            f"{_name(spec)}: row {_row(spec, row)}: duplicate id '{ids.iloc[row]}' in column '{column}' ({int(dup.sum())} duplicates); ids must be unique"
        )
    return ids.reset_index(drop=True).astype(object)


def _texts(
    frame: pd.DataFrame,
    column: str | None,
    spec: LayerSpec,
    key: str,
    setting: str,
    default: str = "",
) -> pd.Series:
    if column is None:
        return pd.Series([default] * len(frame), dtype=object)
    if column not in frame.columns:
        if setting in {"policy", "ownership", "name", "tiers"} and column == setting:
            return pd.Series(
                [default] * len(frame), dtype=object
            )  # optional column under its default name
        require_column(frame, column, Path(spec.path), key, setting)
    return (
        frame[column]
        .astype(object)
        .where(frame[column].notna(), default)
        .astype(str)
        .str.strip()
        .reset_index(drop=True)
    )


def _region_of(
    frame: pd.DataFrame,
    geoms: gpd.GeoSeries,
    spec: LayerSpec,
    key: str,
    regions: gpd.GeoDataFrame | None,
) -> pd.Series:
    if spec.region is not None:
        return _texts(frame, spec.region, spec, key, "region")
    if regions is None:
        return pd.Series([""] * len(frame), dtype=object)
    points = gpd.GeoDataFrame(geometry=geoms.to_crs(regions.crs).reset_index(drop=True))
    joined = gpd.sjoin(points, regions[["region", "geometry"]], how="left", predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")]
    return joined["region"].fillna("").astype(str).reset_index(drop=True)


def _load_regions(frame: gpd.GeoDataFrame, spec: LayerSpec) -> gpd.GeoDataFrame:
    if frame.crs is None:
        raise InputDataError(
            f"{_name(spec)}: the regions layer has no CRS; set it in the file or give 'regions.crs'"
        )
    column = spec.id or "region"
    ids = require_column(frame, column, Path(spec.path), "regions", "id").astype(str)
    kinds = frame.geometry.geom_type
    if not kinds.isin(["Polygon", "MultiPolygon"]).all():
        row = int(np.flatnonzero(~kinds.isin(["Polygon", "MultiPolygon"]).to_numpy())[0])
        raise InputDataError(
            f"{_name(spec)}: row {_row(spec, row)}: regions must be polygons, got {kinds.iloc[row]}"
        )
    return gpd.GeoDataFrame(
        {"region": ids.to_numpy()}, geometry=frame.geometry.to_numpy(), crs=frame.crs
    )


def _load_demand(
    frame: gpd.GeoDataFrame,
    scenario: Scenario,
    crs: CRS,
    regions: gpd.GeoDataFrame | None,
    notes: list[str],
    spec: LayerSpec | None = None,
) -> gpd.GeoDataFrame:
    spec = spec if spec is not None else scenario.demand
    geoms = _points(frame, spec, "demand", notes)
    keys = scenario.tier_keys
    out = pd.DataFrame({"demand_id": _ids(frame, spec, "demand", "D")})
    out["region"] = _region_of(frame, geoms, spec, "demand", regions).to_numpy()
    base = (
        _numeric(frame, spec.weight, spec, "demand", "weight")
        if spec.weight
        else np.ones(len(frame))
    )
    weights = np.tile(base[:, None], (1, len(keys)))
    for level, column in (spec.weights or {}).items():
        weights[:, scenario.tier_index(level)] = _numeric(
            frame, column, spec, "demand", f"weights.{level}"
        )
    for i, key in enumerate(keys):
        out[f"weight_{key}"] = weights[:, i]
    spread = scenario.demand.spread is not None  # rows are the points zones were spread onto
    n_notes = len(notes)
    try:
        _check_weight_families(
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
    zero = weights.sum(axis=1) == 0
    if zero.all():
        raise InputDataError(
            f"{_name(spec)}: every demand weight is 0; there is nothing to cover. Check the weight column '{spec.weight}'"
        )
    out = gpd.GeoDataFrame(out, geometry=geoms.to_crs(crs).to_numpy(), crs=crs)
    if zero.any():
        notes.append(
            f"{_name(spec)}: {int(zero.sum())} demand rows with weight 0 at every level dropped (rule: zero-weight demand is ignored)"
        )
        out = out.loc[~zero].reset_index(drop=True)
    return out


_SPLIT = re.compile(r"[;,|]")


def _parse_tier_list(text: str, scenario: Scenario, where: str) -> np.ndarray:
    mask = np.zeros(scenario.n_tiers, dtype=bool)
    parts = [p.strip() for p in _SPLIT.split(text) if p.strip()]
    if not parts:
        raise InputDataError(
            f"{where}: empty tier list; give the tiers the site may host, e.g. '{';'.join(scenario.tier_keys)}'"
        )
    for part in parts:
        if part.lower() in {"all", "any", "*"}:
            mask[:] = True
            continue
        try:
            mask[scenario.tier_index(part)] = True
        except ScenarioError:
            raise InputDataError(
                f"{where}: unknown tier '{part}'{did_you_mean(part, scenario.tier_keys)}; use {scenario.tier_keys}"
            ) from None
    return mask


def _load_sites(
    frame: gpd.GeoDataFrame,
    spec: LayerSpec,
    key: str,
    scenario: Scenario,
    crs: CRS,
    regions: gpd.GeoDataFrame | None,
    notes: list[str],
) -> tuple[pd.DataFrame, np.ndarray, dict[str, np.ndarray]]:
    path = _name(spec)
    if key == "outlets" and getattr(spec, "types", None):
        frame = _map_types(frame, spec, notes)
    n, n_tiers = len(frame), scenario.n_tiers
    geoms = _points(frame, spec, key, notes)
    ids = _ids(frame, spec, key, "O" if key == "outlets" else "C")
    names = _texts(
        frame, spec.name or ("name" if "name" in frame.columns else None), spec, key, "name"
    )
    names = names.where(names != "", ids)
    ownership = _texts(
        frame, getattr(spec, "ownership", None), spec, key, "ownership", spec.default_ownership
    )  # type: ignore[union-attr]
    ownership = ownership.str.lower().where(ownership != "", spec.default_ownership)  # type: ignore[union-attr]
    bad = ~ownership.isin(OWNERSHIPS)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputDataError(
            f"{path}: row {_row(spec, row)}: ownership '{ownership.iloc[row]}' is not one of {list(OWNERSHIPS)}"
        )
    current = np.full(n, -1, dtype=np.int64)
    allowed = np.zeros((n, n_tiers), dtype=bool)
    if key == "outlets":
        tier_col = require_column(frame, spec.tier, Path(spec.path), key, "tier")  # type: ignore[attr-defined]
        for row, value in enumerate(tier_col.astype(str).str.strip()):
            try:
                current[row] = scenario.tier_index(value)
            except ScenarioError:
                raise InputDataError(
                    f"{path}: row {_row(spec, row)}: unknown tier '{value}' in column '{spec.tier}'"  # type: ignore[attr-defined]
                    f"{did_you_mean(value, scenario.tier_keys)}; use one of {scenario.tier_keys}"
                ) from None
        policy = _texts(frame, spec.policy, spec, key, "policy", spec.default_policy).str.lower()  # type: ignore[attr-defined]
        policy = policy.where(policy != "", spec.default_policy)  # type: ignore[attr-defined]
        bad = ~policy.isin(POLICIES)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputDataError(
                f"{path}: row {_row(spec, row)}: policy '{policy.iloc[row]}'{did_you_mean(policy.iloc[row], POLICIES)} is not one of {list(POLICIES)}"
            )
        retier_tiers = _texts(frame, spec.tiers, spec, key, "tiers") if spec.tiers else None  # type: ignore[attr-defined]
        for row in range(n):
            p = policy.iloc[row]
            if p in ("keep", "may_close"):
                allowed[row, current[row]] = True
            elif retier_tiers is not None and retier_tiers.iloc[row]:
                allowed[row] = _parse_tier_list(
                    retier_tiers.iloc[row], scenario, f"{path}: row {_row(spec, row)}"
                )
                allowed[row, current[row]] = True
            else:
                allowed[row] = True
        source = "outlet"
    else:
        policy = pd.Series(["new"] * n, dtype=object)
        tiers_col = getattr(spec, "tiers", None)
        if tiers_col and tiers_col in frame.columns:
            texts = _texts(frame, tiers_col, spec, key, "tiers")
            cache: dict[str, np.ndarray] = {}
            for row, text in enumerate(texts):
                if text not in cache:
                    cache[text] = _parse_tier_list(text, scenario, f"{path}: row {_row(spec, row)}")
                allowed[row] = cache[text]
        elif tiers_col and tiers_col != "tiers":
            require_column(frame, tiers_col, Path(spec.path), key, "tiers")
        else:
            allowed[:] = True
        source = "candidate"
    table = pd.DataFrame(
        {
            "site_id": ids.to_numpy(),
            "name": names.to_numpy(),
            "source": source,
            "current_tier": [scenario.tier_keys[t] if t >= 0 else "" for t in current],
            "policy": policy.to_numpy(),
            "ownership": ownership.to_numpy(),
            "region": _region_of(frame, geoms, spec, key, regions).to_numpy(),
            "tiers": [
                ";".join(k for k, a in zip(scenario.tier_keys, row, strict=True) if a)
                for row in allowed
            ],
        }
    )
    table = gpd.GeoDataFrame(table, geometry=geoms.to_crs(crs).to_numpy(), crs=crs)
    costs = _site_costs(frame, spec, key, scenario, ownership.to_numpy(), current)
    return table, allowed, costs


def _map_types(frame: gpd.GeoDataFrame, spec: LayerSpec, notes: list[str]) -> gpd.GeoDataFrame:
    """Outlets whose type (the ``tier`` column) is in ``outlets.types``, with the type mapped to its tier."""
    column = spec.tier  # type: ignore[attr-defined]
    values = (
        require_column(frame, column, Path(spec.path), "outlets", "tier").astype(str).str.strip()
    )
    keep = values.isin(list(spec.types)).to_numpy()  # type: ignore[attr-defined]
    if not keep.any():
        raise InputDataError(
            f"{_name(spec)}: no outlet has a '{column}' listed in outlets.types {sorted(spec.types)}; "  # type: ignore[attr-defined]
            f"values are {sorted(set(values))[:10]}"
        )
    if not keep.all():
        notes.append(
            f"{_name(spec)}: {int((~keep).sum())} outlets of types not in outlets.types left out"
        )
    out = frame.loc[keep].copy()
    out[column] = values[keep].map(spec.types).to_numpy()  # type: ignore[attr-defined]
    return out.reset_index(drop=True)


def _site_costs(
    frame: pd.DataFrame,
    spec: LayerSpec,
    key: str,
    scenario: Scenario,
    ownership: np.ndarray,
    current: np.ndarray,
) -> dict[str, np.ndarray]:
    n, keys = len(frame), scenario.tier_keys
    out = {name: np.zeros((n, len(keys))) for name in ("open", "operate", "convert")}
    close_default = np.zeros((n, len(keys)))
    for owner in OWNERSHIPS:
        rows = ownership == owner
        table = getattr(scenario.costs, owner)
        for t, tier in enumerate(keys):
            cost = table.get(tier) or scenario.costs.direct.get(tier)
            if cost is None:
                continue
            out["open"][rows, t] = cost.open
            out["operate"][rows, t] = cost.operate
            out["convert"][rows, t] = cost.convert
            close_default[rows, t] = cost.close
    members = []  # the site columns' part of the cost family (netplan.scenario.conditioning)
    for name in ("open", "operate", "convert"):
        for t, tier in enumerate(keys):
            column = f"{name}_cost_{tier}"
            if column in frame.columns:
                values = _numeric(frame, column, spec, key, column, allow_nan=True)
                out[name][:, t] = np.where(np.isnan(values), out[name][:, t], values)
                members.append(Member(f"{_name(spec)} column '{column}'", values, _RowIds(spec, n)))
    close = np.where(current >= 0, close_default[np.arange(n), np.maximum(current, 0)], 0.0)
    if "close_cost" in frame.columns:
        values = _numeric(frame, "close_cost", spec, key, "close_cost", allow_nan=True)
        close = np.where(np.isnan(values), close, values)
        members.append(Member(f"{_name(spec)} column 'close_cost'", values, _RowIds(spec, n)))
    return {
        **out,
        "members": members,
        "close": close,
        "current": current,
        "capacity": _site_capacity(frame, spec, key, scenario),
    }


def _site_capacity(
    frame: pd.DataFrame, spec: LayerSpec, key: str, scenario: Scenario
) -> np.ndarray:
    """Capacity (demand weight) per site and tier: the scenario's ``capacity.per_tier``,
    overridden by a site column ``capacity_<tier>``; inf = unlimited."""
    n, keys = len(frame), scenario.tier_keys
    out = np.full((n, len(keys)), np.inf)
    if scenario.capacity is None:
        return out
    for t, tier in enumerate(keys):
        if tier in scenario.capacity.per_tier:
            out[:, t] = scenario.capacity.per_tier[tier]
        column = f"capacity_{tier}"
        if column in frame.columns:
            values = _numeric(frame, column, spec, key, column, allow_nan=True)
            if (values[~np.isnan(values)] <= 0).any():
                row = int(np.flatnonzero(values <= 0)[0])
                raise InputDataError(
                    f"{_name(spec)}: row {_row(spec, row)}: {column} must be > 0 (leave it blank for the tier's default)"
                )
            out[:, t] = np.where(np.isnan(values), out[:, t], values)
    return out


def _stack_costs(parts: list[dict[str, np.ndarray]], horizon: float) -> SiteCosts:
    return SiteCosts(
        open=np.vstack([p["open"] for p in parts]),
        operate=np.vstack([p["operate"] for p in parts]),
        convert=np.vstack([p["convert"] for p in parts]),
        close=np.concatenate([p["close"] for p in parts]),
        current_tier=np.concatenate([p["current"] for p in parts]),
        horizon_years=horizon,
    )
