"""The validator of a roadmap: every phase on its own, the money of every phase, the transitions.

Independent of the roadmap model: coverage comes from each phase's
:class:`~netplan.evaluation.kpis.Evaluation` (distances recomputed from coordinates), money
from the action table and the cost arrays, transitions from the tier sequences with plain
loops. A phase's network is also held to the single plan's site rules (allowed tier,
policies, counts, linkage).
"""

from __future__ import annotations

import dataclasses
import math
from types import SimpleNamespace

import numpy as np

from netplan.evaluation.kpis import Evaluation
from netplan.evaluation.validator import Check, capacity_checks
from netplan.roadmap import RoadmapPlan

TOLERANCE = 1e-6


def check_roadmap(plan: RoadmapPlan, evaluations: list[Evaluation]) -> list[Check]:
    """Every check of a roadmap.

    Parameters
    ----------
    plan : RoadmapPlan
    evaluations : list of Evaluation
        One per phase (not today's), with that phase's demand weights.

    Returns
    -------
    list of Check
    """
    checks = [_transitions(plan)]
    checks += _money(plan)
    keys = plan.scenario.tier_keys
    inputs = plan.prepared.inputs
    for p, (name, evaluation) in enumerate(zip(plan.phase_names, evaluations, strict=True)):
        t = plan.tiers[p]
        on = t >= 0
        bad = on & ~inputs.allowed[np.arange(len(t)), np.maximum(t, 0)]
        checks.append(
            Check(
                f"{name}: tier allowed at site",
                not bad.any(),
                _ids(inputs, bad) or "every open site hosts an allowed tier",
            )
        )
        current, policy = inputs.current_tier, inputs.policies
        broken = (
            ((policy == "keep") & (t != current))
            | ((policy == "may_close") & on & (t != current))
            | ((policy == "may_retier") & ~on)
        )
        checks.append(
            Check(
                f"{name}: policies",
                not broken.any(),
                _ids(inputs, broken) or "keep / may_close / may_retier respected",
            )
        )
        unsupported = evaluation.broken_links()
        checks.append(Check(
            f"{name}: linkage", len(unsupported) == 0,
            "every supported tier has a higher-tier outlet in reach" if len(unsupported) == 0
            else "unsupported: " + ", ".join(unsupported["site_id"].astype(str)[:10]),
        ))  # fmt: skip
        checks += _capacity(plan, p, name, evaluation)
        region = inputs.sites["region"].to_numpy()
        for rule in plan.scenario.counts:
            sel = on.copy()
            if str(rule.tier) != "any":
                sel &= t == keys.index(str(rule.tier))
            if rule.region is not None:
                sel &= region == rule.region
            n = int(sel.sum())
            ok = (rule.min is None or n >= rule.min) and (rule.max is None or n <= rule.max)
            where = f" in {rule.region}" if rule.region else ""
            checks.append(
                Check(
                    f"{name}: count {rule.tier}{where}",
                    ok,
                    f"{n} within [{rule.min}, {rule.max}]"
                    if ok
                    else f"{n} outside [{rule.min}, {rule.max}]",
                )
            )
    # coverage-years recomputed from coordinates equals the solver's stage value
    lw = plan.scenario.level_weights()
    recomputed = sum(
        years * float(np.sum(lw * ev.covered_weight()))
        for years, ev in zip(plan.problem.years, evaluations, strict=True)
    )
    claim = plan.result.values.get("coverage_years")
    if claim is not None and plan.capacitated:
        # the assignments of the last stage: later stages may trade the solver's feasibility
        # slack on continuous assignments (1e-6 each) for distance, as in a single plan
        claim = plan.coverage_years_of(plan.result)
    if claim is not None:
        ok = abs(recomputed - claim) <= TOLERANCE * max(1.0, abs(claim))
        checks.append(
            Check("coverage-years", ok, f"recomputed {recomputed:,.3f} vs model {claim:,.3f}")
        )
    return checks


def _capacity(plan: RoadmapPlan, p: int, name: str, evaluation: Evaluation) -> list[Check]:
    """A phase's assignments held to the single plan's capacity checks (reach recomputed from
    coordinates, load within capacity, minimum utilisation, single source)."""
    if plan.scenario.capacity is None:
        return []
    phase = SimpleNamespace(
        scenario=plan.scenario, assignment=plan.phase_assignment(p), outlets=plan.phase_outlets(p)
    )
    return [
        dataclasses.replace(c, rule=f"{name}: {c.rule}")
        for c in capacity_checks(phase, evaluation)
    ]


def _transitions(plan: RoadmapPlan) -> Check:
    """New outlets open once, stay open and only move up; at most one change of tier; today's
    outlets never reopen and do not change tier before closing (plain loops per site)."""
    inputs = plan.prepared.inputs
    today, policy = inputs.current_tier, inputs.policies
    problems = []
    for j in range(len(today)):
        seq = [int(today[j])] + [int(t) for t in plan.tiers[:, j]]
        changes = 0
        for a, b in zip(seq, seq[1:], strict=False):
            if a >= 0 and b >= 0 and a != b:
                changes += 1
                if today[j] < 0 and b > a:
                    problems.append(f"{inputs.sites['site_id'].iloc[j]} moves down a tier")
                if today[j] >= 0 and policy[j] not in ("may_retier", "may_retier_or_close"):
                    problems.append(
                        f"{inputs.sites['site_id'].iloc[j]} changes tier under {policy[j]}"
                    )
            if a >= 0 and b < 0 and (today[j] < 0 or a != today[j]):
                problems.append(
                    f"{inputs.sites['site_id'].iloc[j]} closes after opening or re-tiering"
                )
            if a < 0 and b >= 0 and today[j] >= 0:
                problems.append(f"{inputs.sites['site_id'].iloc[j]} reopens")
        if changes > 1:
            problems.append(f"{inputs.sites['site_id'].iloc[j]} changes tier {changes} times")
    return Check(
        "transitions",
        not problems,
        "; ".join(problems[:10]) or "every site's phases follow the transition rules",
    )


def _money(plan: RoadmapPlan) -> list[Check]:
    """Capex per phase from the action table, opex from the phase networks, against every limit."""
    actions = plan.actions()
    costs = plan.prepared.inputs.costs
    checks = []
    spent = budget = 0.0
    whole = whole_capex = 0.0
    for p, lim in enumerate(plan.problem.limits):
        capex = float(actions.loc[actions["phase"] == lim.name, "capex"].sum())
        t = plan.tiers[p]
        on = np.flatnonzero(t >= 0)
        opex = float(costs.operate[on, t[on]].sum())
        total = capex + lim.years * opex
        whole += total
        whole_capex += capex
        if lim.capex is not None:
            spent, budget = spent + capex, budget + lim.capex
            value, limit = (spent, budget) if plan.problem.carry_over else (capex, lim.capex)
            carried = " with the earlier phases' (carry_over)" if plan.problem.carry_over else ""
            rule = f"{lim.name}: capex{carried}"
            checks.append(_limit(rule, value, limit))
        else:
            spent = budget = 0.0  # carry_over restarts after a phase without a capex limit
        for cap in (lim.opex, plan.problem.budget_opex):
            if cap is not None:
                checks.append(_limit(f"{lim.name}: opex", opex, cap))
        if lim.total is not None:
            checks.append(_limit(f"{lim.name}: total", total, lim.total))
    if plan.problem.budget_total is not None:
        checks.append(_limit("budget.total (roadmap)", whole, plan.problem.budget_total))
    if plan.problem.budget_capex is not None:
        checks.append(_limit("budget.capex (roadmap)", whole_capex, plan.problem.budget_capex))
    return checks


def _limit(rule: str, value: float, limit: float) -> Check:
    ok = value <= limit + TOLERANCE * max(1.0, abs(limit))
    if not math.isfinite(limit):
        ok = True
    return Check(
        rule, ok, f"{value:,.2f} <= {limit:,.2f}" if ok else f"{value:,.2f} exceeds {limit:,.2f}"
    )


def _ids(inputs, mask: np.ndarray) -> str:
    bad = inputs.sites["site_id"].to_numpy()[mask]
    return "" if not len(bad) else "sites " + ", ".join(map(str, bad[:10]))
