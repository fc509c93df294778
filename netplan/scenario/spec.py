"""The Scenario model: its sections, reading it from YAML, and the values derived from it."""

from __future__ import annotations

import hashlib
import json
import re
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, ValidationError

import netplan.scenario.checks as checks
from netplan._errors import InputFileNotFoundError, ScenarioError, did_you_mean
from netplan.scenario.base import StrictModel
from netplan.scenario.conditioning import Member
from netplan.scenario.layers import (
    CandidateSpec,
    CompetitorSpec,
    DemandSpec,
    LayerSpec,
    OutletSpec,
    RegionSpec,
)
from netplan.scenario.phases import PhaseSpec, RoadmapSpec, phase_years
from netplan.scenario.rules import (
    BudgetSpec,
    CapacitySpec,
    CostSpec,
    CountRule,
    ObjectiveSpec,
    SolverSpec,
)
from netplan.scenario.siting import SitingSpec
from netplan.scenario.text import explain_validation_error, read_yaml_mapping
from netplan.scenario.tiers import ReachOverride, TierSpec, TravelSpec, linkage_given
from netplan.travel.units import parse_quantity


class Scenario(StrictModel):
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
    siting: SitingSpec | None = Field(
        default=None, description="spacing between outlets, excluded land, overlap caps"
    )
    phases: list[PhaseSpec] | None = Field(
        default=None, description="a roadmap: phases in time order, each with years, budget and demand"
    )
    roadmap: RoadmapSpec | None = Field(
        default=None, description="how the phases are planned (objective, carry_over)"
    )
    objective: ObjectiveSpec = Field(default_factory=ObjectiveSpec)
    solver: SolverSpec = Field(default_factory=SolverSpec)
    locale: Literal["en", "zh-CN"] = Field(
        default="en",
        description="language of the pages and the terminal summary: 'en' or 'zh-CN'",
    )
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
        for rule in scenario.siting.exclusions if scenario.siting else []:
            if rule.path is not None and not rule.path.is_absolute():
                rule.path = (base / rule.path).resolve()
        if scenario.demand.raster is not None and not scenario.demand.raster.is_absolute():
            scenario.demand.raster = (base / scenario.demand.raster).resolve()
        if scenario.travel.network is not None and not scenario.travel.network.is_absolute():
            scenario.travel.network = (base / scenario.travel.network).resolve()
        scenario._check_semantics(where)
        if scenario.phases and "horizon_years" not in scenario.costs.model_fields_set:
            # with phases the horizon is their sum (an explicit one that disagrees is refused)
            scenario.costs.horizon_years = phase_years(scenario)
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
        for i, rule in enumerate(self.siting.exclusions if self.siting else []):
            if rule.path is not None and not rule.path.exists():
                missing.append(
                    f"{self._where()}: siting.exclusions[{i}].path: file not found: {rule.path}; fix the path (relative paths start at the scenario's folder)"
                )
        if missing:
            raise InputFileNotFoundError("\n".join(missing))

    def layer_specs(self) -> dict[str, LayerSpec]:
        """The input layers the scenario names, by key."""
        specs = {
            "demand": self.demand,
            "demand.spread.points": self.demand.spread.points if self.demand.spread else None,
            # a population raster is no vector layer: listed (file checks, hashes, run.json),
            # read by netplan.inputs.raster instead of the layer reader
            "demand.raster": LayerSpec(path=self.demand.raster) if self.demand.raster else None,
            "outlets": self.outlets,
            "candidates": self.candidates,
            "regions": self.regions,
            "competitors": self.competitors,
        }
        return {k: v for k, v in specs.items() if v is not None and v.path is not None}

    def _where(self) -> str:
        return str(self.source) if self.source else "scenario"

    # ------------------------------------------- rules across sections (checks.py)
    def _check_semantics(self, where: str) -> None:
        """Raise one :class:`ScenarioError` naming every broken rule across sections."""
        checks.check_semantics(self, where)

    def cost_members(self) -> list[Member]:
        """The scenario's cost values, as members of the cost family (netplan.scenario.conditioning)."""
        return checks.cost_members(self)

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
        return checks.family_checks(self, costs)

    # ----------------------------------------------------------- derived values
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


StrictModel.key_root = Scenario  # key paths in assignment errors start at the scenario


def _explain_validation_error(exc: ValidationError, where: str) -> list[str]:
    """pydantic's errors as one line each, key paths from the root :class:`Scenario`."""
    return explain_validation_error(exc, where, Scenario)
