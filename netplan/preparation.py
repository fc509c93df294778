"""From a scenario and its inputs to the model's problem: coverage, linkage pairs, regions, rules as arrays.

``prepare`` loads the inputs, builds the in-reach pairs and checks what can be checked without
solving; ``build_problem`` translates the scenario's rules (budget, counts, targets, capacities,
span of control) into the arrays of a :class:`~netplan.optimize.model.TieredProblem`.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from netplan._errors import ScenarioError, did_you_mean
from netplan.inputs.build import Inputs, load_inputs
from netplan.optimize.prechecks import check_prepared
from netplan.optimize.problem import CountLimit, OverlapCap, TieredProblem
from netplan.optimize.spacing import SpacingData, build_spacing
from netplan.scenario import Scenario
from netplan.scenario.siting import overlap_tiers, spacing_quantity
from netplan.travel.coverage import Coverage, Pairs, build_coverage, linkage_pairs

Progress = Callable[[str, str], None]


def tell(progress: Progress | None, step: str, state: str) -> None:
    """Report ``state`` (``start`` / ``done``) of a pipeline ``step`` to ``progress``, if any."""
    if progress is not None:
        progress(step, state)


def natural_rank(ids: pd.Series) -> np.ndarray:
    """Rank of each id in natural order ("C2" before "C10"); used by the final tie-break."""

    def key(text: str) -> tuple:
        return tuple(
            (0, int(part), "") if part.isdigit() else (1, 0, part)
            for part in re.split(r"(\d+)", str(text))
            if part
        )

    order = sorted(range(len(ids)), key=lambda i: key(ids.iloc[i]))
    rank = np.empty(len(ids), dtype=np.int64)
    rank[order] = np.arange(len(ids))
    return rank


@dataclass
class Prepared:
    """Inputs with their coverage and linkage pairs: everything the model needs."""

    inputs: Inputs
    coverage: Coverage
    linkage: list[Pairs | None]
    region_names: list[str]
    demand_region: np.ndarray
    site_region: np.ndarray
    baseline_cost: float
    timings: dict[str, float] = field(default_factory=dict)
    spacing: list[SpacingData] = field(default_factory=list)

    @property
    def scenario(self) -> Scenario:
        return self.inputs.scenario

    def __repr__(self) -> str:
        return (
            f"Prepared(inputs={self.inputs!r}, regions={len(self.region_names)}, "
            f"baseline_cost={self.baseline_cost:.6g})"
        )

    def region_code(self, name: str, key: str) -> int:
        if name not in self.region_names:
            raise ScenarioError(
                f"{key}: unknown region '{name}'{did_you_mean(name, self.region_names)}; regions are {self.region_names}"
            )
        return self.region_names.index(name)

    def uncoverable(self) -> pd.DataFrame:
        """Demand no allowed site and tier can ever reach, per level: points and weight."""
        keys = self.scenario.tier_keys
        weights = self.inputs.weights
        rows = []
        for level, key in enumerate(keys):
            never = ~self.coverage.coverable(level)
            rows.append(
                {
                    "level": key,
                    "points": int(never.sum()),
                    "weight": float(weights[never, level].sum()),
                    "share": float(
                        weights[never, level].sum() / max(weights[:, level].sum(), 1e-12)
                    ),
                }
            )
        return pd.DataFrame(rows)


def prepare(
    scenario: Scenario,
    inputs: Inputs | None = None,
    progress: Progress | None = None,
    check: bool = True,
) -> Prepared:
    """Load inputs (unless given), build coverage and linkage pairs, and check what can be checked without solving.

    Raises
    ------
    InfeasiblePlanError
        A ``keep`` outlet can never be supported, or the budget is below the cost of the
        outlets that must stay open (see :mod:`netplan.optimize.prechecks`).
    """
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    tell(progress, "load", "start")
    if inputs is None:
        inputs = load_inputs(scenario)
    timings["load"] = time.perf_counter() - t0
    tell(progress, "load", "done")
    t0 = time.perf_counter()
    tell(progress, "coverage", "start")
    reach = scenario.reach_matrix
    mode = inputs.travel if inputs.travel is not None else inputs.mode  # roads: drive times
    coverage = build_coverage(inputs.demand_metric, inputs.site_metric, inputs.allowed, reach, mode)
    linkage = linkage_pairs(inputs.site_metric, inputs.allowed, scenario.linkage_reach, mode)
    spacing = spacing_data(scenario, inputs)
    timings["coverage"] = time.perf_counter() - t0
    tell(progress, "coverage", "done")
    names = sorted((set(inputs.demand["region"]) | set(inputs.sites["region"])) - {""})
    code = {n: i for i, n in enumerate(names)}
    demand_region = inputs.demand["region"].map(code).fillna(-1).to_numpy(dtype=np.int64)
    site_region = inputs.sites["region"].map(code).fillna(-1).to_numpy(dtype=np.int64)
    baseline_cost = inputs.costs.plan_cost(
        np.where(inputs.current_tier >= 0, inputs.current_tier, -1)
    )["total"]
    prep = Prepared(
        inputs, coverage, linkage, names, demand_region, site_region, baseline_cost, timings,
        spacing=spacing,
    )
    if check:
        check_prepared(prep)
    return prep


def spacing_data(scenario: Scenario, inputs: Inputs) -> list[SpacingData]:
    """The scenario's spacing rules as conflicting site pairs and clique rows
    (:func:`netplan.optimize.spacing.build_spacing`), in its travel metric."""
    rules = []
    for i, rule in enumerate(_spacing(scenario)):
        tiers = [scenario.tier_index(t, f"siting.spacing[{i}].tiers") for t in rule.tiers]
        q = spacing_quantity(rule, i)
        enforce = rule.between_existing == "enforce"
        rules.append((f"siting.spacing[{i}]", tiers, q.value, q.text, enforce))
    if not rules:
        return []
    mode = inputs.travel if inputs.travel is not None else inputs.mode
    return build_spacing(inputs.site_metric, mode, inputs.allowed, inputs.current_tier, rules)


def _spacing(scenario: Scenario) -> list:
    return list(scenario.siting.spacing) if scenario.siting else []


def _exclusions(scenario: Scenario) -> list:
    return list(scenario.siting.exclusions) if scenario.siting else []


def build_problem(
    prep: Prepared, scenario: Scenario | None = None
) -> tuple[TieredProblem, dict[str, float | None]]:
    """Translate the scenario's rules into a :class:`TieredProblem` (arrays only).

    ``scenario`` may differ from the prepared one only in rules that need neither new
    inputs nor new coverage: budget, counts, span of control, objective and solver. Tiers, reach, inputs and
    costs are those the inputs were prepared with.
    """
    scenario = scenario or prep.scenario
    inputs = prep.inputs
    same = (
        "tiers",
        "reach_overrides",
        "travel",
        "demand",
        "outlets",
        "candidates",
        "regions",
        "costs",
        "capacity",  # site capacities are read with the inputs
    )
    changed = [key for key in same if getattr(scenario, key) != getattr(prep.scenario, key)]
    if _exclusions(scenario) != _exclusions(prep.scenario):
        changed.append("siting.exclusions")  # they decide which sites may host which tiers
    if changed:
        raise ScenarioError(
            f"the prepared inputs were built with other {', '.join(changed)}; call prepare() with this scenario"
        )
    budget = scenario.budget
    factor = scenario.budget_factor_of_baseline()
    total = prep.baseline_cost * factor if factor is not None else budget.total
    counts = []
    for i, rule in enumerate(scenario.counts):
        tier = (
            None if str(rule.tier) == "any" else scenario.tier_index(rule.tier, f"counts[{i}].tier")
        )
        region = (
            None if rule.region is None else prep.region_code(rule.region, f"counts[{i}].region")
        )
        label = f"counts[{i}]: {rule.tier} outlets" + (f" in {rule.region}" if rule.region else "")
        counts.append(
            CountLimit(
                tier,
                region,
                float(rule.min or 0),
                float(rule.max) if rule.max is not None else math.inf,
                label,
            )
        )
    region_targets = {}
    for region, mapping in (scenario.objective.region_targets or {}).items():
        code = prep.region_code(region, f"objective.region_targets.{region}")
        for level, share in mapping.items():
            region_targets[(code, scenario.tier_index(level))] = float(share)
    problem = TieredProblem(
        weights=inputs.weights,
        coverage=prep.coverage,
        allowed=inputs.allowed,
        policy=inputs.policies,
        costs=inputs.costs,
        linkage=prep.linkage,
        objective=scenario.objective.type,
        level_weights=scenario.level_weights(),
        targets=scenario.coverage_targets(),
        region_targets=region_targets,
        demand_region=prep.demand_region,
        site_region=prep.site_region,
        budget_total=None if total is None else float(total),
        budget_capex=budget.capex,
        budget_opex=budget.opex,
        counts=counts,
        site_rank=natural_rank(inputs.sites["site_id"]),
        capacity=inputs.capacity,
        capacity_levels=scenario.capacity_levels if scenario.capacity is not None else None,
        single_source=bool(scenario.capacity and scenario.capacity.single_source),
        min_utilisation=float(scenario.capacity.min_utilisation) if scenario.capacity else 0.0,
        span=scenario.span_limits,
        overlap_caps=overlap_caps(scenario),
        spacing=prep.spacing
        if _spacing(scenario) == _spacing(prep.scenario)
        else spacing_data(scenario, inputs),
    )
    return problem, {
        "total": problem.budget_total,
        "capex": budget.capex,
        "opex_per_year": budget.opex,
        "baseline_cost": prep.baseline_cost,
    }


def overlap_caps(scenario: Scenario) -> list[OverlapCap]:
    """The scenario's ``siting.overlap`` caps as (level index, max_share, counted tiers)."""
    if scenario.siting is None:
        return []
    return [
        OverlapCap(
            scenario.tier_index(level), float(rule.max_share), tuple(overlap_tiers(scenario, level))
        )
        for level, rule in scenario.siting.overlap.items()
    ]
