"""A scenario's phases turned into a :class:`~netplan.optimize.roadmap_model.RoadmapProblem`.

Each phase is the single plan's :class:`~netplan.optimize.problem.TieredProblem` with the
phase's demand weights and targets; money limits come from the phases (``baseline`` is
today's network's yearly operating cost, times the phase's years for ``total``) and the
top-level budget bounds the whole roadmap.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from netplan._errors import InfeasiblePlanError, ScenarioError
from netplan.inputs.demand import PHASE_PREFIX
from netplan.optimize.roadmap_model import PhaseLimits, RoadmapProblem
from netplan.preparation import Prepared, build_problem
from netplan.scenario import Scenario
from netplan.scenario.phases import baseline_factor, growth_problems


def phase_weights(prep: Prepared, scenario: Scenario) -> list[np.ndarray]:
    """Demand weight ``(n, K)`` of every phase: the phase's own weight columns (``weight``
    for every level, ``weights`` per level; others keep today's), times its ``growth`` per
    region (``all`` for the rest).

    Raises
    ------
    ScenarioError
        A ``growth`` region the demand does not have.
    """
    where = str(scenario.source or "scenario")
    problems = growth_problems(scenario, prep.region_names, where)
    if problems:
        raise ScenarioError("\n".join(problems))
    base = prep.inputs.weights
    demand = prep.inputs.demand
    keys = scenario.tier_keys
    out = []
    for phase in scenario.phases or []:
        weights = base.copy()
        if phase.weight is not None:
            weights[:] = demand[f"{PHASE_PREFIX}{phase.weight}"].to_numpy(dtype=float)[:, None]
        for level, column in (phase.weights or {}).items():
            weights[:, keys.index(level)] = demand[f"{PHASE_PREFIX}{column}"].to_numpy(dtype=float)
        growth = phase.growth or {}
        factor = np.full(len(base), float(growth.get("all", 1.0)))
        for region, value in growth.items():
            if region != "all":
                factor[prep.demand_region == prep.region_names.index(region)] = float(value)
        out.append(weights * factor[:, None])
    return out


def roadmap_problem(prep: Prepared, scenario: Scenario | None = None) -> RoadmapProblem:
    """The roadmap of ``scenario``'s phases on the prepared inputs.

    Parameters
    ----------
    prep : Prepared
    scenario : Scenario, optional
        Default: the prepared one. Must have ``phases``.

    Returns
    -------
    RoadmapProblem
    """
    scenario = scenario or prep.scenario
    if not scenario.phases:
        raise ScenarioError("a roadmap needs 'phases' in the scenario")
    single, budget = build_problem(prep, scenario)
    costs = prep.inputs.costs
    today = np.where(costs.current_tier >= 0, costs.current_tier, -1)
    opex_today = float(costs.plan_cost(today)["opex_per_year"])
    phases, limits = [], []
    targets_last = single.targets
    for i, (phase, weights) in enumerate(
        zip(scenario.phases, phase_weights(prep, scenario), strict=True)
    ):
        key = f"phases[{i}].budget"
        opex = _limit(phase.budget.opex, f"{key}.opex", opex_today)
        total = _limit(phase.budget.total, f"{key}.total", opex_today * phase.years)
        limits.append(PhaseLimits(phase.name, float(phase.years), phase.budget.capex, opex, total))
        targets = np.full(scenario.n_tiers, np.nan)
        if i == len(scenario.phases) - 1 and targets_last is not None:
            targets = targets_last.copy()  # the top-level targets bind the last phase
        for level, share in (phase.targets or {}).items():
            targets[scenario.tier_index(level)] = share
        phases.append(dataclasses.replace(single, weights=weights, targets=targets))
    factor = scenario.budget_factor_of_baseline()
    total = budget["total"]
    if factor is not None:  # 'baseline' of the whole roadmap: today's network over its years
        total = factor * opex_today * float(sum(lim.years for lim in limits))
    roadmap = scenario.roadmap
    check_phase_budgets(prep, limits, scenario)
    return RoadmapProblem(
        phases,
        limits,
        carry_over=bool(roadmap and roadmap.carry_over),
        budget_total=total,
        budget_capex=budget["capex"],
        budget_opex=budget["opex_per_year"],
    )


def check_phase_budgets(prep: Prepared, limits: list[PhaseLimits], scenario: Scenario) -> None:
    """Refuse, before any solve, a phase whose opex or total limit is below what the outlets
    that must stay open cost in it (``keep`` at their tier, ``may_retier`` at their cheapest
    allowed tier), one line per phase naming the key, the figures and the fix.

    Raises
    ------
    InfeasiblePlanError
    """
    inputs = prep.inputs
    operate = inputs.costs.operate
    keep = np.flatnonzero(inputs.policies == "keep")
    retier = np.flatnonzero(inputs.policies == "may_retier")
    must = float(operate[keep, inputs.current_tier[keep]].sum())
    if len(retier):
        must += float(np.where(inputs.allowed[retier], operate[retier], np.inf).min(axis=1).sum())
    where = str(scenario.source or "scenario")
    problems = []
    for i, lim in enumerate(limits):
        if lim.opex is not None and must > lim.opex + 1e-9:
            problems.append(
                f"{where}: phases[{i}].budget.opex: {lim.opex:,.0f} a year is below the {must:,.0f} a year "
                "that the outlets which must stay open cost; raise it or let some of them close (policy may_close)"
            )
        if lim.total is not None and must * lim.years > lim.total + 1e-9:
            problems.append(
                f"{where}: phases[{i}].budget.total: {lim.total:,.0f} is below the {must * lim.years:,.0f} that the "
                f"outlets which must stay open cost over its {lim.years:g} years; raise it or let some of them close"
            )
    if problems:
        raise InfeasiblePlanError("\n".join(problems))


def _limit(value: float | str | None, key: str, baseline: float) -> float | None:
    factor = baseline_factor(value, key)
    if factor is not None:
        return factor * baseline
    return None if value is None else float(value)
