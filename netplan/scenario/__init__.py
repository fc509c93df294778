"""Scenario: what to plan, read from a YAML file and validated once, at the boundary.

A scenario names the inputs (demand, existing outlets, candidate sites, regions), the tiers
with their reach and linkage, costs, budget, count rules, the objective and solver options.
Paths are relative to the scenario file. Unknown keys are errors with a suggestion, so a
typo never silently falls back to a default.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from netplan._errors import InputFileNotFoundError, ScenarioError, did_you_mean
from netplan.scenario.text import MAX_HORIZON_YEARS, explain_validation_error, read_yaml_mapping
from netplan.scenario.conditioning import Member, ratio_problem
from netplan.travel.units import Quantity, parse_quantity

POLICIES = ("keep", "may_close", "may_retier", "may_retier_or_close")
OWNERSHIPS = ("direct", "partner")


class _Strict(BaseModel):
    # allow_inf_nan=False: NaN and infinity are errors in every number of a scenario (a NaN
    # level weight silently dropped its level, a NaN budget made every plan infeasible)
    model_config = ConfigDict(
        extra="forbid", validate_assignment=True, arbitrary_types_allowed=True, allow_inf_nan=False
    )

    def __setattr__(self, name: str, value: Any) -> None:
        # assignment is validated too; its errors are explained like those of a file
        try:
            super().__setattr__(name, value)
        except ValidationError as exc:
            raise ScenarioError("\n".join(_explain_validation_error(exc, "scenario"))) from None


class TierSpec(_Strict):
    """One tier of the network, highest first in the scenario's ``tiers`` list."""

    key: str = Field(description="short id used in files and other keys, e.g. 'regional'")
    name: str | None = Field(default=None, description="display name, e.g. 'regional centre'")
    reach: Any = Field(description="reach of the service level this tier introduces, e.g. '35 km'")
    linkage: Any = Field(
        default=None,
        description="a tier-k outlet (k >= 2) needs an outlet of a higher tier within this reach; "
        "'none' = no support needed",
    )

    @field_validator("key")
    @classmethod
    def _key_is_simple(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_\-]*", v):
            raise ValueError(
                f"tier key {v!r} must start with a letter and hold only letters, digits, '_' or '-'"
            )
        return v

    @property
    def label(self) -> str:
        return self.name or self.key


def linkage_given(tier: TierSpec) -> bool:
    """A linkage reach is set (``linkage: none`` states that the tier needs no support)."""
    return tier.linkage is not None and str(tier.linkage).strip().lower() != "none"


class ReachOverride(_Strict):
    """Reach of one tier for one service level, overriding the level's own reach."""

    tier: str | int
    level: str | int
    reach: Any


class LayerSpec(_Strict):
    """Where an input layer lives and which columns mean what."""

    path: Path
    layer: str | None = None
    x: str | None = Field(default=None, description="CSV: column of x / longitude")
    y: str | None = Field(default=None, description="CSV: column of y / latitude")
    crs: str | int | None = Field(
        default=None, description="CRS of a CSV's x/y (default EPSG:4326)"
    )
    id: str | None = None
    name: str | None = None
    region: str | None = None


class PointsSpec(LayerSpec):
    """Points that zone demand is spread onto (e.g. building centroids)."""

    weight: str | None = Field(
        default=None, description="column weighting each point (e.g. footprint_m2); default equal"
    )


class SpreadSpec(_Strict):
    """Spread zone polygons' weight onto points (netplan.inputs.zones); every zone total is preserved."""

    method: Literal["uniform", "h3", "points"] = "uniform"
    spacing: str = Field(default="250 m", description="uniform: grid spacing")
    resolution: int = Field(default=9, ge=0, le=15, description="h3: H3 resolution")
    points: PointsSpec | None = Field(
        default=None, description="points: the layer to spread onto (zones without any: uniform)"
    )
    small_zones: Literal["fractional", "fewer_points"] = Field(
        default="fractional",
        description="a zone with too few people for a whole person on each point: exact "
        "fractional weights (no point dropped) or whole people on fewer points",
    )


class DemandSpec(LayerSpec):
    weight: str | None = Field(
        default=None, description="column with the demand weight of every level"
    )
    weights: dict[str, str] | None = Field(
        default=None, description="per-level weight columns {level: column}"
    )
    spread: SpreadSpec | None = Field(
        default=None,
        description="the layer holds zones (polygons): spread their weight onto points",
    )


class OutletSpec(LayerSpec):
    tier: str = "tier"
    policy: str | None = "policy"
    default_policy: Literal["keep", "may_close", "may_retier", "may_retier_or_close"] = "may_close"
    ownership: str | None = "ownership"
    default_ownership: Literal["direct", "partner"] = "direct"
    tiers: str | None = Field(
        default=None, description="column listing the tiers a may_retier outlet may take"
    )
    types: dict[str, str] | None = Field(
        default=None,
        description="map values of the 'tier' column (e.g. outlet_type) to tier keys; rows of other values are left out",
    )


class GenerateSpec(_Strict):
    """Generated candidate sites (netplan.inputs.candidates)."""

    method: Literal["kmeans", "h3"]
    n: int = Field(default=20, ge=1, description="kmeans: number of demand-weighted centres")
    resolution: int = Field(default=8, ge=0, le=15, description="h3: H3 resolution")
    tiers: list[str] | str = Field(description="tiers the generated sites may host")
    seed: int = Field(default=0, ge=0, le=2**32 - 1, description="kmeans: random seed")


class CandidateSpec(LayerSpec):
    path: Path | None = None  # type: ignore[assignment]
    tiers: str | None = Field(
        default="tiers", description="column listing the tiers a site may host ('a;b')"
    )
    ownership: str | None = "ownership"
    default_ownership: Literal["direct", "partner"] = "direct"
    generate: list[GenerateSpec] | None = Field(
        default=None, description="generate sites (k-means, H3) in addition to or instead of a file"
    )


class CompetitorSpec(LayerSpec):
    """Competitor outlets: demand within their reach is discounted where demand weights are formed."""

    reach: str = Field(
        description="a competitor takes demand within this reach (same unit as the tiers)"
    )
    share: float = Field(
        default=0.5, ge=0, le=1, description="share of demand within reach lost to the competitor"
    )
    decay: str | None = Field(
        default=None,
        description="optional distance-decay scale: the share lost is share * exp(-t / decay) within reach",
    )


class RegionSpec(LayerSpec):
    pass


class TierCost(_Strict):
    """Costs of operating one tier at one site (money units of the scenario)."""

    open: float = Field(
        default=0.0, ge=0, description="one-off cost of opening a new outlet of this tier"
    )
    operate: float = Field(default=0.0, ge=0, description="yearly operating cost")
    convert: float = Field(
        default=0.0, ge=0, description="one-off cost of re-tiering an outlet into this tier"
    )
    close: float = Field(
        default=0.0, ge=0, description="one-off cost of closing an outlet of this tier"
    )


class CostSpec(_Strict):
    horizon_years: float = Field(
        default=1.0,
        gt=0,
        le=MAX_HORIZON_YEARS,
        description=f"years of operating cost counted in the plan's cost (at most {MAX_HORIZON_YEARS})",
    )
    direct: dict[str, TierCost] = Field(default_factory=dict)
    partner: dict[str, TierCost] = Field(default_factory=dict)


class BudgetSpec(_Strict):
    total: float | str | None = Field(
        default=None,
        description="limit on one-off + operating x horizon cost; a number, 'baseline' or '1.1 x baseline'",
    )
    capex: float | None = Field(
        default=None, ge=0, description="limit on one-off cost (open + convert + close)"
    )
    opex: float | None = Field(default=None, ge=0, description="limit on the yearly operating cost")

    @field_validator("total", mode="before")
    @classmethod
    def _total_is_finite(cls, v: Any) -> Any:
        # checked before the float | str union so that NaN gets one clear message, not two
        if isinstance(v, float) and not math.isfinite(v):
            raise ValueError(
                f"NaN and infinity are not allowed, got {v!r}; give a number, 'baseline' or "
                "'1.1 x baseline', or leave budget.total out for no limit"
            )
        return v


class CountRule(_Strict):
    """Minimum / maximum number of open outlets of a tier (or ``any``), optionally in one region."""

    tier: str | int = "any"
    region: str | None = None
    min: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _has_bound(self) -> CountRule:
        if self.min is None and self.max is None:
            raise ValueError("a count rule needs 'min' or 'max'")
        return self


class ObjectiveSpec(_Strict):
    type: Literal["max_coverage", "min_cost"] = "max_coverage"
    level_weights: dict[str, float] | None = None
    targets: dict[str, float] | None = Field(
        default=None, description="min_cost: share of coverable demand per level"
    )
    region_targets: dict[str, dict[str, float]] | None = None


class SolverSpec(_Strict):
    backend: Literal["highs", "cbc"] = "highs"
    time_limit: float | None = Field(
        default=None, gt=0, description="seconds for all stages together (finite, > 0)"
    )
    mip_rel_gap: float = Field(
        default=0.0, ge=0, lt=1, description="relative gap in [0, 1) at which a solve may stop"
    )
    threads: int = Field(default=1, ge=1, le=256)
    seed: int = Field(
        default=0, ge=0, le=2**31 - 2, description="random seed of the solver (HiGHS takes 0..2^31-1)"
    )
    tie_break: bool = Field(
        default=True, description="run the distance and site-id tie-break stages"
    )
    aggregation: Literal["auto", "lp_guided", "on", "off"] = Field(
        default="auto",
        description="very large max coverage: lp_guided = PDLP bound + restricted exact MIPs "
        "(netplan.optimize.lpguided); on = iterative grid aggregation (netplan.optimize.aggregation, planar or "
        "haversine travel); off = the plain MILP; auto = lp_guided when the merged model has "
        "more than 100 000 demand rows",
    )


class CapacitySpec(_Strict):
    """Outlet capacities: an outlet serves at most its capacity of demand weight.

    Under capacities a customer counts as covered at a loading level only when assigned to
    an open outlet within reach that has room for it (covered = assigned).
    """

    per_tier: dict[str, float] = Field(
        description="capacity in demand weight per tier key; a site column capacity_<tier> overrides it; "
        "a tier without an entry is unlimited"
    )
    levels: list[str] | None = Field(
        default=None,
        description="service levels whose demand loads the outlet serving it (default: every level)",
    )
    single_source: bool = Field(
        default=False,
        description="each demand point is served whole by one outlet (else it may be split)",
    )
    min_utilisation: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="an open outlet must be loaded to at least this share of its capacity",
    )


class TravelSpec(_Strict):
    mode: Literal["planar", "haversine", "network"] = "planar"
    crs: str | int = Field(
        default="auto",
        description="planar / network: metric CRS (EPSG code) or 'auto' (local UTM)",
    )
    network: Path | None = Field(
        default=None,
        description="network: road file (.osm, .osm.bz2, .graphml, .osm.pbf), relative to the scenario file",
    )
    speeds: dict[str, float] | None = Field(
        default=None,
        description="network: km/h per OSM highway type for ways without maxspeed (overrides the defaults)",
    )
    default_speed: float = Field(
        default=30.0, gt=0, description="network: km/h of a highway type in no speed table"
    )
    access_speed: float = Field(
        default=15.0,
        gt=0,
        description="network: km/h of the straight leg between a point and its road point",
    )
    max_access: str = Field(
        default="1 km",
        description="network: a point farther than this from the road network is unreachable",
    )

    @property
    def max_access_metres(self) -> float:
        return parse_quantity(self.max_access, "travel.max_access").value


class Scenario(_Strict):
    """A validated planning scenario.

    Build it with :meth:`from_yaml` or :meth:`from_dict`. Paths inside are absolute once
    loaded. Derived arrays (reach matrix, linkage reach) are properties.
    """

    name: str = "scenario"
    description: str | None = None
    travel: TravelSpec = Field(default_factory=TravelSpec)
    tiers: list[TierSpec]
    reach_overrides: list[ReachOverride] = Field(default_factory=list)
    reach_order: Literal["decreasing", "any"] = Field(
        default="decreasing",
        description="'decreasing': each level's reach is at most the reach of the level above",
    )
    demand: DemandSpec
    outlets: OutletSpec | None = None
    candidates: CandidateSpec | None = None
    regions: RegionSpec | None = None
    competitors: CompetitorSpec | None = None
    costs: CostSpec = Field(default_factory=CostSpec)
    budget: BudgetSpec = Field(default_factory=BudgetSpec)
    counts: list[CountRule] = Field(default_factory=list)
    capacity: CapacitySpec | None = None
    span_of_control: dict[str, int] | None = Field(
        default=None,
        description="max outlets a parent of this tier may support; each supported outlet is assigned one parent",
    )
    objective: ObjectiveSpec = Field(default_factory=ObjectiveSpec)
    solver: SolverSpec = Field(default_factory=SolverSpec)
    source: Path | None = Field(
        default=None, exclude=True, description="the YAML file it came from"
    )

    # ------------------------------------------------------------------ loading
    @classmethod
    def from_yaml(cls, path: str | Path) -> Scenario:
        """Read and validate a scenario file.

        Parameters
        ----------
        path : str or Path
            The YAML file. Relative input paths inside it are taken relative to its folder.

        Returns
        -------
        Scenario

        Raises
        ------
        InputFileNotFoundError
            If the file does not exist.
        ScenarioError
            If the file is a folder, unreadable, binary or not UTF-8, the YAML cannot be
            parsed or is not a mapping, or a value breaks a rule (one line per problem).
        """
        path = Path(path)
        if path.is_dir():
            raise ScenarioError(
                f"{path}: is a folder, not a scenario file; give the path of the scenario's .yaml file"
            )
        if not path.is_file():
            raise InputFileNotFoundError(f"{path}: scenario file not found; check the path")
        raw = read_yaml_mapping(path)
        return cls.from_dict(raw, base_dir=path.parent, source=path)

    @classmethod
    def from_dict(
        cls, raw: dict[str, Any], base_dir: str | Path = ".", source: Path | None = None
    ) -> Scenario:
        """Validate a scenario given as a dictionary (the parsed YAML).

        Parameters
        ----------
        raw : dict
            Scenario keys as in the YAML file.
        base_dir : str or Path
            Folder that relative input paths are resolved against.
        source : Path, optional
            The file the dictionary came from, for messages.
        """
        where = str(source) if source else "scenario"
        if not isinstance(raw, dict):
            raise ScenarioError(
                f"{where}: a scenario must be a mapping of keys (name, tiers, demand, ...), got {type(raw).__name__}"
            )
        scenario = cls._validated(raw, where)
        scenario.source = Path(source) if source else None
        base = Path(base_dir)
        for spec in scenario.layer_specs().values():
            if not spec.path.is_absolute():
                spec.path = (base / spec.path).resolve()
        if scenario.travel.network is not None and not scenario.travel.network.is_absolute():
            scenario.travel.network = (base / scenario.travel.network).resolve()
        scenario._check_semantics(where)
        return scenario

    @classmethod
    def _validated(cls, raw: dict[str, Any], where: str) -> Scenario:
        """``model_validate`` with pydantic's errors explained as one ScenarioError line each."""
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            raise ScenarioError("\n".join(_explain_validation_error(exc, where))) from None

    def check_input_files(self) -> None:
        """Raise :class:`InputFileNotFoundError` naming every input file that does not exist."""
        missing = []
        network = self.travel.network
        if self.travel.mode == "network" and network is not None and not network.exists():
            missing.append(
                f"{self._where()}: travel.network: road network file not found: {network}; fix the path (relative paths start at the scenario's folder)"
            )
        for key, spec in self.layer_specs().items():
            if not spec.path.exists():
                missing.append(
                    f"{self._where()}: {key}.path: file not found: {spec.path}; fix the path (relative paths start at the scenario's folder)"
                )
        if missing:
            raise InputFileNotFoundError("\n".join(missing))

    def layer_specs(self) -> dict[str, LayerSpec]:
        """The input layers the scenario names, by key."""
        specs = {
            "demand": self.demand,
            "demand.spread.points": self.demand.spread.points if self.demand.spread else None,
            "outlets": self.outlets,
            "candidates": self.candidates,
            "regions": self.regions,
            "competitors": self.competitors,
        }
        return {k: v for k, v in specs.items() if v is not None and v.path is not None}

    def _where(self) -> str:
        return str(self.source) if self.source else "scenario"

    # --------------------------------------------------------------- semantics
    def _check_capacity_and_span(self, where: str, keys: list[str]) -> list[str]:
        problems = []
        cap = self.capacity
        if cap is not None:
            for key, value in cap.per_tier.items():
                if key not in keys:
                    problems.append(
                        f"{where}: capacity.per_tier.{key}: unknown tier{did_you_mean(key, keys)}"
                    )
                elif not value > 0:
                    problems.append(
                        f"{where}: capacity.per_tier.{key}: capacity must be > 0, got {value}"
                    )
            for key in cap.levels or []:
                if key not in keys:
                    problems.append(
                        f"{where}: capacity.levels: unknown level '{key}'{did_you_mean(key, keys)}"
                    )
        for key, value in (self.span_of_control or {}).items():
            if key not in keys:
                problems.append(
                    f"{where}: span_of_control.{key}: unknown tier{did_you_mean(key, keys)}"
                )
                continue
            if value < 1:
                problems.append(f"{where}: span_of_control.{key}: must be at least 1, got {value}")
            if keys.index(key) == len(keys) - 1:
                problems.append(
                    f"{where}: span_of_control.{key}: the lowest tier supports no outlets; remove it"
                )
        if self.span_of_control and not any(linkage_given(t) for t in self.tiers[1:]):
            problems.append(
                f"{where}: span_of_control needs linkage: give 'linkage' on the supported tiers"
            )
        return problems

    def _check_linkage_and_reach_order(self, where: str) -> list[str]:
        problems = []
        lower = list(enumerate(self.tiers))[1:]
        linked = [(i, t) for i, t in lower if linkage_given(t)]
        if linked:
            i0, t0 = linked[0]
            for i, tier in lower:
                if tier.linkage is None:
                    problems.append(
                        f"{where}: tiers[{i}].linkage: missing while tiers[{i0}] ('{t0.key}') has one; give a reach "
                        f"(e.g. '20 km') or 'none' if {tier.key} outlets need no supporting outlet"
                    )
        if self.reach_order == "decreasing":
            values = []
            for i, tier in enumerate(self.tiers):
                try:
                    values.append(parse_quantity(tier.reach, f"tiers[{i}].reach").value)
                except ScenarioError:
                    return problems  # reported by the reach check
            for i in range(1, len(values)):
                if values[i] > values[i - 1]:
                    problems.append(
                        f"{where}: tiers[{i}].reach: {self.tiers[i].reach} is longer than the reach of the level above "
                        f"('{self.tiers[i - 1].key}', {self.tiers[i - 1].reach}); lower levels normally reach less far - "
                        "fix it, or set reach_order: any if that is intended"
                    )
        return problems

    @property
    def capacity_levels(self) -> np.ndarray:
        """Bool (K,): levels whose demand loads the serving outlet (all False without capacities)."""
        out = np.zeros(self.n_tiers, dtype=bool)
        if self.capacity is not None:
            levels = self.capacity.levels
            out[:] = levels is None
            for key in levels or []:
                out[self.tier_keys.index(key)] = True
        return out

    @property
    def span_limits(self) -> np.ndarray | None:
        """``S[k]``: most outlets a tier-k parent supports (inf = no limit), or None without a span of control."""
        if not self.span_of_control:
            return None
        out = np.full(self.n_tiers, np.inf)
        for key, value in self.span_of_control.items():
            out[self.tier_keys.index(key)] = value
        return out

    def _check_semantics(self, where: str) -> None:
        problems: list[str] = []
        keys = [t.key for t in self.tiers]
        if not self.tiers:
            problems.append(f"{where}: tiers: at least one tier is needed")
        if len(set(keys)) != len(keys):
            problems.append(f"{where}: tiers: tier keys must be unique, got {keys}")
        if self.outlets is None and self.candidates is None:
            problems.append(
                f"{where}: give 'outlets' (existing network) or 'candidates' (new sites), or both"
            )
        cand = self.candidates
        if cand is not None and cand.path is None and not cand.generate:
            problems.append(
                f"{where}: candidates: give a 'path' to a site file or 'generate' entries (kmeans, h3)"
            )
        for i, gen in enumerate((cand.generate or []) if cand is not None else []):
            for tier in gen.tiers if isinstance(gen.tiers, list) else [gen.tiers]:
                if tier not in keys:
                    problems.append(
                        f"{where}: candidates.generate[{i}].tiers: unknown tier '{tier}'{did_you_mean(tier, keys)}"
                    )
        for value, tier in ((self.outlets.types or {}) if self.outlets else {}).items():
            if tier not in keys:
                problems.append(
                    f"{where}: outlets.types.{value}: unknown tier '{tier}'{did_you_mean(tier, keys)}"
                )
        spread = self.demand.spread
        if spread is not None:
            if spread.method == "points" and spread.points is None:
                problems.append(
                    f"{where}: demand.spread.points: method 'points' needs the points layer, e.g. points: {{path: buildings.gpkg}}"
                )
            try:
                if parse_quantity(spread.spacing, "demand.spread.spacing").dimension != "distance":
                    problems.append(
                        f"{where}: demand.spread.spacing: give a distance such as '250 m'"
                    )
            except ScenarioError as exc:
                problems.append(f"{where}: {exc}")
        for key in ("reach", "decay"):
            value = getattr(self.competitors, key, None) if self.competitors else None
            if value is None:
                continue
            try:
                q = parse_quantity(value, f"competitors.{key}")
                unit = "time" if self.travel.mode == "network" else "distance"
                if q.dimension != unit:
                    problems.append(
                        f"{where}: competitors.{key}: travel mode '{self.travel.mode}' needs a {unit} (like the tiers' reach)"
                    )
            except ScenarioError as exc:
                problems.append(f"{where}: {exc}")
        for i, tier in enumerate(self.tiers):
            try:
                parse_quantity(tier.reach, f"tiers[{i}].reach")
            except ScenarioError as exc:
                problems.append(f"{where}: {exc}")
            if i > 0 and linkage_given(tier):
                try:
                    parse_quantity(tier.linkage, f"tiers[{i}].linkage")
                except ScenarioError as exc:
                    problems.append(f"{where}: {exc}")
            if i == 0 and tier.linkage is not None:
                problems.append(
                    f"{where}: tiers[0].linkage: the highest tier has no higher tier to link to; remove its 'linkage'"
                )
        problems += self._check_linkage_and_reach_order(where)
        if problems:
            raise ScenarioError("\n".join(problems))
        dims = {q.dimension for q in self._all_quantities()}
        if self.travel.mode == "network":
            problems += self._check_network(where, dims)
        elif dims - {"distance"}:
            problems.append(
                f"{where}: travel.mode '{self.travel.mode}' measures distance; give reach and linkage in m or km, "
                "not minutes (or use travel.mode: network for drive times)"
            )
        elif self.travel.network is not None:
            problems.append(
                f"{where}: travel.network is only read with travel.mode: network; set the mode or remove the key"
            )
        for i, ov in enumerate(self.reach_overrides):
            try:
                k = self.tier_index(ov.tier, f"reach_overrides[{i}].tier")
                lvl = self.tier_index(ov.level, f"reach_overrides[{i}].level")
                parse_quantity(ov.reach, f"reach_overrides[{i}].reach")
                if k > lvl:
                    problems.append(
                        f"{where}: reach_overrides[{i}]: tier '{self.tiers[k].key}' is below level '{self.tiers[lvl].key}' and never serves it; "
                        "an override needs a tier at or above the level"
                    )
            except ScenarioError as exc:
                problems.append(f"{where}: {exc}")
        for owner in OWNERSHIPS:
            for key in getattr(self.costs, owner):
                if key not in keys:
                    problems.append(
                        f"{where}: costs.{owner}.{key}: unknown tier{did_you_mean(key, keys)}"
                    )
        problems += self._check_capacity_and_span(where, keys)
        for i, rule in enumerate(self.counts):
            try:
                if str(rule.tier) != "any":
                    self.tier_index(rule.tier, f"counts[{i}].tier")
            except ScenarioError as exc:
                problems.append(f"{where}: {exc}")
            if rule.min is not None and rule.max is not None and rule.min > rule.max:
                problems.append(
                    f"{where}: counts[{i}]: min {rule.min} is above max {rule.max}; swap or fix them"
                )
        obj = self.objective
        for label, mapping in (
            ("objective.level_weights", obj.level_weights),
            ("objective.targets", obj.targets),
        ):
            for key, value in (mapping or {}).items():
                try:
                    self.tier_index(key, f"{label}.{key}")
                except ScenarioError as exc:
                    problems.append(f"{where}: {exc}")
                if label.endswith("targets") and not 0 <= value <= 1:
                    problems.append(
                        f"{where}: {label}.{key}: a target is a share between 0 and 1, got {value}"
                    )
                if label.endswith("weights") and value < 0:
                    problems.append(
                        f"{where}: {label}.{key}: a level weight must be >= 0, got {value}"
                    )
        for region, mapping in (obj.region_targets or {}).items():
            for key, value in mapping.items():
                try:
                    self.tier_index(key, f"objective.region_targets.{region}.{key}")
                except ScenarioError as exc:
                    problems.append(f"{where}: {exc}")
                if not 0 <= value <= 1:
                    problems.append(
                        f"{where}: objective.region_targets.{region}.{key}: a target is a share between 0 and 1, got {value}"
                    )
        if obj.type == "min_cost" and not obj.targets and not obj.region_targets:
            problems.append(
                f"{where}: objective.targets: min_cost needs coverage targets, e.g. targets: {{{keys[-1]}: 0.95}}"
            )
        if self.budget.total is not None and isinstance(self.budget.total, str):
            try:
                self.budget_factor_of_baseline()
            except ScenarioError as exc:
                problems.append(f"{where}: {exc}")
        elif self.budget.total is not None and self.budget.total < 0:
            problems.append(f"{where}: budget.total: must be >= 0, got {self.budget.total}")
        for key in self.demand.weights or {}:
            try:
                self.tier_index(key, f"demand.weights.{key}")
            except ScenarioError as exc:
                problems.append(f"{where}: {exc}")
        if self.travel.mode in ("planar", "network") and str(self.travel.crs).lower() != "auto":
            from pyproj import CRS
            from pyproj.exceptions import CRSError

            try:
                crs = CRS.from_user_input(self.travel.crs)
            except CRSError:
                crs = None
                problems.append(
                    f"{where}: travel.crs: unknown CRS {self.travel.crs!r}; give an EPSG code such as 'EPSG:32632' or 'auto'"
                )
            if crs is not None and not crs.is_projected:
                problems.append(
                    f"{where}: travel.crs: {crs.to_string()} is geographic (degrees) and 'planar' travel needs metres; "
                    "use a projected CRS such as a UTM zone, 'auto', or travel.mode: haversine"
                )
        if not problems:
            problems += self._check_families(where)
        if problems:
            raise ScenarioError("\n".join(problems))

    def cost_members(self) -> list[Member]:
        """The scenario's cost values, as members of the cost family (netplan.scenario.conditioning)."""
        return [
            Member(f"costs.{owner}.{tier}.{name}", np.array([getattr(cost, name)]))
            for owner in OWNERSHIPS
            for tier, cost in getattr(self.costs, owner).items()
            for name in ("open", "operate", "convert", "close")
        ]

    def _check_families(self, where: str) -> list[str]:
        """Errors of the ratio rule on the scenario's own numbers, one line each."""
        problems = []
        if self.objective.type == "max_coverage" and not (self.level_weights() > 0).any():
            problems.append(
                f"{where}: objective.level_weights: every level weighs 0, so no plan covers anything of value; "
                "give at least one level a weight above 0"
            )
        errors, _ = self.family_checks()
        return problems + [f"{where}: {line}" for line in errors]

    def family_checks(self, costs: bool = True) -> tuple[list[str], list[str]]:
        """The ratio rule (netplan.scenario.conditioning) on the level weights, reaches and costs.

        Parameters
        ----------
        costs : bool
            Check the scenario's cost tables alone (False when netplan.inputs.build checks them
            together with the sites' cost columns).

        Returns
        -------
        errors, warnings : list of str
            One line per family above 1e9 (errors, raised by validation) and above 1e6
            (warnings, issued by :func:`netplan.load_inputs` and kept in run.json).
        """
        weights = self.level_weights()
        given = self.objective.level_weights or {}
        level_members = [
            Member(
                f"objective.level_weights.{key}" if key in given else f"level '{key}' (default)",
                np.array([weights[i]]),
            )
            for i, key in enumerate(self.tier_keys)
        ]
        reach_members = [
            Member(f"tiers[{i}].reach", np.array([q.value]))
            for i, q in enumerate(parse_quantity(t.reach, "reach") for t in self.tiers)
        ]
        reach_members += [
            Member(f"tiers[{i}].linkage", np.array([parse_quantity(t.linkage, "linkage").value]))
            for i, t in enumerate(self.tiers)
            if i > 0 and linkage_given(t)
        ]
        reach_members += [
            Member(f"reach_overrides[{i}].reach", np.array([parse_quantity(o.reach, "reach").value]))
            for i, o in enumerate(self.reach_overrides)
        ]
        families = [
            ("level weights", level_members, None),
            (f"reaches and linkages (in {self.unit})", reach_members, "fix them (a typo or a wrong unit?)"),
        ]
        if costs:
            families.append(("costs", self.cost_members(), None))
        errors, notes = [], []
        for family, members, fix in families:
            found = ratio_problem(family, members, *([fix] if fix else []))
            if found is not None:
                (errors if found[0] == "error" else notes).append(found[1])
        return errors, notes

    def _check_network(self, where: str, dims: set[str]) -> list[str]:
        problems = []
        spec = self.travel
        if spec.network is None:
            problems.append(
                f"{where}: travel.network: travel.mode 'network' needs a road file, e.g. network: roads.osm.bz2"
            )
        if dims - {"time"}:
            problems.append(
                f"{where}: travel.mode 'network' measures drive time; give reach and linkage in minutes (e.g. '15 min'), not m or km"
            )
        try:
            q = parse_quantity(spec.max_access, "travel.max_access")
            if q.dimension != "distance":
                problems.append(
                    f"{where}: travel.max_access: give a distance such as '1 km', got {spec.max_access!r}"
                )
        except ScenarioError as exc:
            problems.append(f"{where}: {exc}")
        for key, value in (spec.speeds or {}).items():
            if not value > 0:
                problems.append(
                    f"{where}: travel.speeds.{key}: a speed must be > 0 km/h, got {value}"
                )
        return problems

    def _all_quantities(self) -> list[Quantity]:
        out = [parse_quantity(t.reach, f"tiers[{i}].reach") for i, t in enumerate(self.tiers)]
        out += [
            parse_quantity(t.linkage, f"tiers[{i}].linkage")
            for i, t in enumerate(self.tiers)
            if linkage_given(t)
        ]
        out += [
            parse_quantity(o.reach, f"reach_overrides[{i}].reach")
            for i, o in enumerate(self.reach_overrides)
        ]
        return out

    # ----------------------------------------------------------- derived values
    @property
    def n_tiers(self) -> int:
        return len(self.tiers)

    @property
    def tier_keys(self) -> list[str]:
        return [t.key for t in self.tiers]

    @property
    def tier_labels(self) -> list[str]:
        return [t.label for t in self.tiers]

    def tier_index(self, ref: str | int, key: str = "tier") -> int:
        """Index (0 = highest) of a tier given by key, display name or 1-based number."""
        if isinstance(ref, bool):
            ref = str(ref)
        if isinstance(ref, int | np.integer):
            if 1 <= int(ref) <= self.n_tiers:
                return int(ref) - 1
            raise ScenarioError(f"{key}: tier number {ref} is out of range 1..{self.n_tiers}")
        text = str(ref).strip()
        for i, t in enumerate(self.tiers):
            if text == t.key or (t.name is not None and text.lower() == t.name.lower()):
                return i
        if text.isdigit() and 1 <= int(text) <= self.n_tiers:
            return int(text) - 1
        raise ScenarioError(
            f"{key}: unknown tier '{text}'{did_you_mean(text, self.tier_keys + [t.name for t in self.tiers if t.name])}; use one of {self.tier_keys}"
        )

    @cached_property
    def reach_matrix(self) -> np.ndarray:
        """``R[k, l]``: reach of a tier-k outlet for service level l (NaN where k > l), metres or minutes."""
        n = self.n_tiers
        reach = np.full((n, n), np.nan)
        for level, tier in enumerate(self.tiers):
            reach[: level + 1, level] = parse_quantity(tier.reach, f"tiers[{level}].reach").value
        for ov in self.reach_overrides:
            k, lvl = self.tier_index(ov.tier), self.tier_index(ov.level)
            reach[k, lvl] = parse_quantity(ov.reach, "reach_overrides").value
        return reach

    @cached_property
    def linkage_reach(self) -> np.ndarray:
        """``L[k]``: linkage reach of tier k (NaN where the tier needs no support)."""
        return np.array(
            [
                np.nan
                if not linkage_given(t) or i == 0
                else parse_quantity(t.linkage, f"tiers[{i}].linkage").value
                for i, t in enumerate(self.tiers)
            ]
        )

    @property
    def unit(self) -> str:
        """Unit of reach and distance results: ``"m"`` (planar, haversine) or ``"min"`` (network)."""
        return "min" if self.travel.mode == "network" else "m"

    def level_weights(self) -> np.ndarray:
        """Objective weight of each service level (default 1)."""
        w = np.ones(self.n_tiers)
        for key, value in (self.objective.level_weights or {}).items():
            w[self.tier_index(key)] = value
        return w

    def coverage_targets(self) -> np.ndarray:
        """Target share of coverable demand per level for ``min_cost`` (NaN = no target)."""
        t = np.full(self.n_tiers, np.nan)
        for key, value in (self.objective.targets or {}).items():
            t[self.tier_index(key)] = value
        return t

    def budget_factor_of_baseline(self) -> float | None:
        """The factor of ``budget.total: '1.1 x baseline'`` (1.0 for 'baseline'), or None for a number."""
        total = self.budget.total
        if not isinstance(total, str):
            return None
        m = re.fullmatch(r"\s*(?:([0-9]*\.?[0-9]+)\s*(?:x|\*|×)\s*)?baseline\s*", total)
        if not m:
            raise ScenarioError(
                f"budget.total: cannot read {total!r}; give a number, 'baseline' or a multiple such as '1.1 x baseline'"
            )
        return float(m.group(1)) if m.group(1) else 1.0

    def content_hash(self) -> str:
        """SHA-256 of the scenario's content (keys sorted), to tie outputs to their scenario."""
        payload = json.dumps(self.model_dump(mode="json"), sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()

    def replace(self, **changes: Any) -> Scenario:
        """A copy with top-level keys replaced, validated again (e.g. another budget)."""
        data = self.model_dump()
        data.update(changes)
        out = Scenario._validated(data, self._where())
        out.source = self.source
        out._check_semantics(self._where())
        return out


def _explain_validation_error(exc: ValidationError, where: str) -> list[str]:
    """pydantic's errors as one line each, key paths from the root :class:`Scenario`."""
    return explain_validation_error(exc, where, Scenario)
