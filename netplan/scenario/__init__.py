"""Scenario: what to plan, read from a YAML file and validated once, at the boundary.

A scenario names the inputs (demand, existing outlets, candidate sites, regions), the tiers
with their reach and linkage, costs, budget, count rules, the objective and solver options.
Paths are relative to the scenario file. Unknown keys are errors with a suggestion, so a
typo never silently falls back to a default.

- :mod:`~netplan.scenario.spec` holds :class:`Scenario`: loading, derived values;
- :mod:`~netplan.scenario.layers` the input layers' sections (demand, outlets, candidates, ...);
- :mod:`~netplan.scenario.tiers` the tiers, reach overrides and travel;
- :mod:`~netplan.scenario.rules` costs, budget, counts, objective, solver and capacities;
- :mod:`~netplan.scenario.checks` the rules across sections;
- :mod:`~netplan.scenario.text` reading the file and explaining errors, and
  :mod:`~netplan.scenario.conditioning` the ratio rule on families of numbers;
- :mod:`~netplan.scenario.base` the strict base model of every section.

The scenario describes; it reads no input layer (that is :mod:`netplan.inputs`).
"""

from netplan.scenario.layers import (
    OWNERSHIPS,
    POLICIES,
    CandidateSpec,
    CompetitorSpec,
    DemandSpec,
    GenerateSpec,
    LayerSpec,
    OutletSpec,
    PointsSpec,
    RegionSpec,
    SpreadSpec,
)
from netplan.scenario.rules import (
    BudgetSpec,
    CapacitySpec,
    CostSpec,
    CountRule,
    ObjectiveSpec,
    SolverSpec,
    TierCost,
)
from netplan.scenario.spec import Scenario
from netplan.scenario.tiers import ReachOverride, TierSpec, TravelSpec, linkage_given

__all__ = [
    "OWNERSHIPS",
    "POLICIES",
    "BudgetSpec",
    "CandidateSpec",
    "CapacitySpec",
    "CompetitorSpec",
    "CostSpec",
    "CountRule",
    "DemandSpec",
    "GenerateSpec",
    "LayerSpec",
    "ObjectiveSpec",
    "OutletSpec",
    "PointsSpec",
    "ReachOverride",
    "RegionSpec",
    "Scenario",
    "SolverSpec",
    "SpreadSpec",
    "TierCost",
    "TierSpec",
    "TravelSpec",
    "linkage_given",
]
