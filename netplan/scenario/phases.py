"""Phases of a roadmap: the plan in time order, each phase with its years, budget and demand.

```yaml
phases:                      # in time order
  - {name: "2027 pilot",   years: 1, budget: {capex: 1500000}}
  - {name: "2028 rollout", years: 1, budget: {capex: 2500000, opex: 3000000}, weight: customers_2028}
  - {name: "2029-2031",    years: 3, budget: {capex: 2000000}, growth: {North-East: 1.4, all: 1.05}}
roadmap:
  objective: coverage_years  # or final_first
  carry_over: false          # unspent capex moves to the next phase when true
```

A phase's ``capex`` bounds the one-off costs paid in it, ``opex`` the yearly operating cost of
its network, ``total`` its capex + years × opex; ``baseline`` (or ``1.1 x baseline``) in
``opex`` or ``total`` means today's network's cost over that phase's years. With phases the
cost horizon is the sum of the phases' years; an explicit ``costs.horizon_years`` that
disagrees is an error. Demand per phase: ``weight`` / ``weights`` name other columns of the
demand layer, ``growth`` multiplies today's weights by region (``all`` for the rest).
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator

from netplan._errors import ScenarioError, did_you_mean
from netplan.scenario.base import StrictModel
from netplan.scenario.text import MAX_HORIZON_YEARS

if TYPE_CHECKING:
    from netplan.scenario.spec import Scenario

_BASELINE = re.compile(r"\s*(?:([0-9]*\.?[0-9]+)\s*(?:x|\*|×)\s*)?baseline\s*")


class PhaseBudget(StrictModel):
    """Money limits of one phase (each optional)."""

    capex: float | None = Field(
        default=None, ge=0, description="one-off costs (open, convert, close) paid in the phase"
    )
    opex: float | str | None = Field(
        default=None, description="yearly operating cost of the phase's network; a number or 'k x baseline'"
    )
    total: float | str | None = Field(
        default=None, description="capex + years x opex of the phase; a number or 'k x baseline'"
    )

    @field_validator("capex", "opex", "total", mode="before")
    @classmethod
    def _finite(cls, v: Any) -> Any:
        if isinstance(v, float) and not math.isfinite(v):
            raise ValueError(f"NaN and infinity are not allowed, got {v!r}; give a number or leave it out")
        return v

    @property
    def empty(self) -> bool:
        return self.capex is None and self.opex is None and self.total is None


class PhaseSpec(StrictModel):
    """One phase of a roadmap."""

    name: str = Field(min_length=1, description="shown in every table and on the map")
    years: float = Field(description="length of the phase in years (> 0)")
    budget: PhaseBudget = Field(default_factory=PhaseBudget)
    weight: str | None = Field(
        default=None, description="demand column with this phase's weight of every level"
    )
    weights: dict[str, str] | None = Field(
        default=None, description="per-level demand columns of this phase {level: column}"
    )
    growth: dict[str, float] | None = Field(
        default=None, description="today's weights times a factor per region ('all' for the rest)"
    )
    targets: dict[str, float] | None = Field(
        default=None, description="min_cost: share of coverable demand per level in this phase"
    )


class RoadmapSpec(StrictModel):
    """How the phases are planned."""

    objective: Literal["coverage_years", "final_first"] = Field(
        default="coverage_years",
        description="coverage_years: most years x covered demand; final_first: the best end "
        "state first, then the order of its actions",
    )
    carry_over: bool = Field(
        default=False, description="unspent capex of a phase moves to the next phase"
    )


def baseline_factor(value: float | str | None, key: str) -> float | None:
    """The factor of ``'1.1 x baseline'`` (1.0 for ``'baseline'``), None for a number or None.

    Raises
    ------
    ScenarioError
        A text that is neither (naming ``key``).
    """
    if not isinstance(value, str):
        return None
    m = _BASELINE.fullmatch(value)
    if not m:
        raise ScenarioError(
            f"{key}: cannot read {value!r}; give a number, 'baseline' or a multiple such as '1.1 x baseline'"
        )
    return float(m.group(1)) if m.group(1) else 1.0


def phase_years(scenario: Scenario) -> float:
    """Sum of the phases' years (the roadmap's horizon); 0 without phases."""
    return float(sum(p.years for p in scenario.phases or []))


def phase_columns(scenario: Scenario) -> list[str]:
    """Demand columns the phases name (``weight`` and ``weights`` values), each once, in order."""
    return list(phase_column_keys(scenario))


def phase_column_keys(scenario: Scenario) -> dict[str, tuple[str, str]]:
    """Each demand column the phases name, with the first key naming it, as (section, key):
    ``("phases[1]", "weight")`` or ``("phases[2]", "weights.city")``; in order, each once."""
    out: dict[str, tuple[str, str]] = {}
    for i, phase in enumerate(scenario.phases or []):
        named = [("weight", phase.weight)]
        named += [(f"weights.{level}", column) for level, column in (phase.weights or {}).items()]
        for key, column in named:
            if column is not None and column not in out:
                out[column] = (f"phases[{i}]", key)
    return out


def phases_problems(scenario: Scenario, where: str) -> list[str]:
    """Every broken phase rule of a validated scenario, one message line each.

    Rules that need only the scenario: names unique; ``years > 0``; ``weight`` and
    ``weights`` exclusive, with known levels; growth factors finite and > 0; budgets
    readable and non-negative; targets only for ``min_cost``, known levels, in [0, 1];
    ``carry_over`` needs some phase with a ``capex`` budget; ``roadmap`` needs ``phases``;
    an explicit ``costs.horizon_years`` equals the sum of the phases' years. Region names in
    ``growth`` and demand columns are checked against the data when the inputs load
    (:func:`growth_problems`).
    """
    phases = scenario.phases
    if not phases:
        if phases is not None:
            return [f"{where}: phases: give at least one phase, e.g. - {{name: pilot, years: 1, budget: {{capex: 100000}}}}"]
        if scenario.roadmap is not None:
            return [f"{where}: roadmap: needs 'phases' (a list of phases in time order)"]
        return []
    keys = [t.key for t in scenario.tiers]
    problems: list[str] = []
    names = [p.name for p in phases]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"{where}: phases: the name {name!r} is used twice; give every phase its own name")
    for i, phase in enumerate(phases):
        key = f"phases[{i}]"
        if not (math.isfinite(phase.years) and phase.years > 0):
            problems.append(f"{where}: {key}.years: a phase lasts more than 0 years, got {phase.years:g}")
        if getattr(scenario.demand, "raster", None) is not None and (phase.weight or phase.weights):
            problems.append(
                f"{where}: {key}: a raster demand has no other weight columns; give the phase a 'growth' instead"
            )
        if phase.weight is not None and phase.weights is not None:
            problems.append(f"{where}: {key}: give 'weight' (one column) or 'weights' (per level), not both")
        for level in phase.weights or {}:
            if level not in keys:
                problems.append(f"{where}: {key}.weights.{level}: unknown level '{level}'{did_you_mean(level, keys)}")
        for region, factor in (phase.growth or {}).items():
            if not (math.isfinite(factor) and factor > 0):
                problems.append(f"{where}: {key}.growth.{region}: a growth factor is a number > 0, got {factor!r}")
        for part in ("opex", "total"):
            value = getattr(phase.budget, part)
            try:
                baseline_factor(value, f"{key}.budget.{part}")
            except ScenarioError as exc:
                problems.append(f"{where}: {exc}")
                continue
            if isinstance(value, (int, float)) and value < 0:
                problems.append(f"{where}: {key}.budget.{part}: must be >= 0, got {value:g}")
        for level, share in (phase.targets or {}).items():
            if scenario.objective.type != "min_cost":
                problems.append(f"{where}: {key}.targets: targets belong to objective type 'min_cost'")
                break
            if level not in keys:
                problems.append(f"{where}: {key}.targets.{level}: unknown level '{level}'{did_you_mean(level, keys)}")
            elif not 0 <= share <= 1:
                problems.append(f"{where}: {key}.targets.{level}: a target is a share between 0 and 1, got {share}")
    roadmap = scenario.roadmap or RoadmapSpec()
    if roadmap.carry_over and all(p.budget.capex is None for p in phases):
        problems.append(
            f"{where}: roadmap.carry_over: carries unspent capex, but no phase has a 'capex' budget; give phases a budget.capex or drop carry_over"
        )
    total_years = phase_years(scenario)
    if total_years > MAX_HORIZON_YEARS:
        problems.append(f"{where}: phases: {total_years:g} years in all; a roadmap spans at most {MAX_HORIZON_YEARS} years")
    if "horizon_years" in scenario.costs.model_fields_set and not math.isclose(
        scenario.costs.horizon_years, total_years, rel_tol=1e-9
    ):
        problems.append(
            f"{where}: costs.horizon_years: {scenario.costs.horizon_years:g} disagrees with the phases' {total_years:g} years; "
            "drop costs.horizon_years (with phases the horizon is their sum) or fix it"
        )
    return problems


def growth_problems(scenario: Scenario, regions: list[str], where: str) -> list[str]:
    """Regions named in a phase's ``growth`` that the demand does not have (``all`` aside)."""
    problems = []
    for i, phase in enumerate(scenario.phases or []):
        for region in phase.growth or {}:
            if region != "all" and region not in regions:
                problems.append(
                    f"{where}: phases[{i}].growth.{region}: unknown region '{region}'{did_you_mean(region, regions)}; "
                    "regions are those of the demand's region column ('all' for the rest)"
                )
    return problems
