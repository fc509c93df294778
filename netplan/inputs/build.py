"""Assemble a scenario's inputs into normalised GeoDataFrames in the working CRS.

This is the boundary where input data are validated once (scikit-learn's ``check_array``
idea): after :func:`load_inputs` the rest of netplan trusts its data. The builder is the only
part that knows both the scenario and the readers, and calls them in one direction: it asks
the scenario which layers to read and with which columns, has :mod:`netplan.inputs.readers`
read them, and loads demand (:mod:`~netplan.inputs.demand`) and sites
(:mod:`~netplan.inputs.sites`) from them. Normalised columns:

- demand: ``demand_id``, ``region``, ``weight_<level key>`` per level, point geometry.
- sites: ``site_id``, ``name``, ``source`` (``outlet`` / ``candidate``), ``current_tier``
  (tier key or empty), ``policy`` (``keep``, ``may_close``, ``may_retier``,
  ``may_retier_or_close``; ``new`` for candidates), ``ownership``, ``region``, ``tiers``
  (the tiers the site may take, ``;``-separated), point geometry.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from netplan._errors import InputDataError, NetplanWarning, ScenarioError
from netplan.inputs.columns import apply_ratio_rule, duplicate_columns_note, layer_name
from netplan.inputs.costs import SiteCosts
from netplan.inputs.demand import (
    check_discounted_weights,
    discount_competitors,
    load_demand,
    raster_demand,
    raster_sample,
    spread_demand,
)
from netplan.inputs.extent import check_layers_together
from netplan.inputs.locations import load_regions
from netplan.inputs.readers import file_sha256, read_layer
from netplan.inputs.sites import load_sites, stack_costs
from netplan.inputs.siting import ExclusionZone, apply_exclusions
from netplan.scenario import Scenario
from netplan.travel.geometry import metric_coords, point_coords, resolve_working_crs


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
    exclusions : list of ExclusionZone
        The buffered zones of ``siting.exclusions`` (already applied to ``allowed``).
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
    exclusions: list[ExclusionZone] = field(default_factory=list)

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

    def __repr__(self) -> str:
        existing = int((self.current_tier >= 0).sum())
        return (
            f"Inputs({self.scenario.name!r}, demand={len(self.demand)} points, "
            f"sites={len(self.sites)} ({existing} existing, {len(self.sites) - existing} candidates), "
            f"tiers={self.scenario.tier_keys}, mode={self.mode!r}, crs={self.crs.to_string()!r})"
        )

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
    raw = {
        key: read_layer(spec.path, key, layer=spec.layer, x=spec.x, y=spec.y, crs=spec.crs)
        for key, spec in scenario.layer_specs().items()
        if key != "demand.raster"  # read window by window in netplan.inputs.raster
    }
    hashes = {key: file_sha256(spec.path) for key, spec in scenario.layer_specs().items()}
    if scenario.travel.mode == "network" and scenario.travel.network is not None:
        hashes["travel.network"] = file_sha256(scenario.travel.network)
    for i, rule in enumerate(scenario.siting.exclusions if scenario.siting else []):
        if rule.path is not None:
            hashes[f"siting.exclusions[{i}]"] = file_sha256(rule.path)
    return inputs_from_frames(
        scenario,
        demand=raw.get("demand"),
        outlets=raw.get("outlets"),
        candidates=raw.get("candidates"),
        regions=raw.get("regions"),
        file_hashes=hashes,
        spread_points=raw.get("demand.spread.points"),
        competitors=raw.get("competitors"),
    )


def inputs_from_frames(
    scenario: Scenario,
    demand: gpd.GeoDataFrame | None,
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
        Raw layers with a CRS. Not modified. With ``demand.spread``, ``demand`` holds zones;
        with ``demand.raster``, ``demand`` is None (the raster is read from its file).
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
            note = duplicate_columns_note(frame, spec, key, scenario)
            if note:
                notes.append(note)
    region_frame = (
        load_regions(regions, scenario.regions)
        if regions is not None and scenario.regions
        else None
    )
    if scenario.demand.raster is not None:
        sample = raster_sample(scenario.demand.raster)  # also refuses a non-raster or no CRS
    elif demand is None:
        raise InputDataError("give the demand layer (the scenario's 'demand')")
    elif demand.crs is None:
        raise InputDataError(
            f"{layer_name(scenario.demand)}: the demand layer has no CRS; set it in the file or give 'demand.crs'"
        )
    else:
        sample = demand.geometry
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
    if scenario.demand.raster is not None:
        demand, demand_spec = raster_demand(scenario, crs, region_frame, notes)
    elif demand_spec.spread is not None:
        demand, demand_spec = spread_demand(demand, scenario, crs, spread_points, notes)
    demand_frame = load_demand(demand, scenario, crs, region_frame, notes, spec=demand_spec)
    if competitors is not None and scenario.competitors is not None:
        discount_competitors(demand_frame, competitors, scenario, crs, travel, notes)
        check_discounted_weights(demand_frame, scenario)
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
            load_sites(outlets, scenario.outlets, "outlets", scenario, crs, region_frame, notes)
        )
    if candidates is not None:
        if scenario.candidates is None:
            raise ScenarioError("candidates given but the scenario has no 'candidates' key")
        site_frames.append(
            load_sites(
                candidates, scenario.candidates, "candidates", scenario, crs, region_frame, notes
            )
        )
    check_layers_together(
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
            load_sites(generated, spec, "candidates", scenario, crs, region_frame, notes)
        )
    sites = pd.concat([f[0] for f in site_frames], ignore_index=True)
    sites = gpd.GeoDataFrame(sites, geometry="geometry", crs=crs)
    allowed = np.vstack([f[1] for f in site_frames])
    costs = stack_costs([f[2] for f in site_frames], scenario.costs.horizon_years)
    column_members = [m for f in site_frames for m in f[2]["members"]]
    if column_members:  # the scenario's cost tables with the sites' cost columns
        apply_ratio_rule("costs", scenario.cost_members() + column_members, notes)
    notes += scenario.family_checks(costs=not column_members)[1]  # its errors stopped validation
    dup = sites["site_id"].duplicated(keep=False)
    if dup.any():
        first = sites.loc[dup, "site_id"].iloc[0]
        where = sites.loc[sites["site_id"] == first, "source"].tolist()
        raise InputDataError(
            f"site id '{first}' appears {len(where)} times (in {', '.join(sorted(set(where)))}); ids of outlets and candidates must be unique"
        )
    # no new outlet inside an exclusion zone: before coverage is built from ``allowed``
    exclusions = apply_exclusions(scenario, sites, allowed, costs.current_tier)
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
        exclusions=exclusions,
    )
