"""Independent validator: check a plan against every rule of its scenario.

It recomputes what it can from raw data (the evaluation of the plan's outlets, the cost
table, the policies) and compares with what the solver claimed. A failure raises
:class:`PlanValidationError`, loudly: a plan that breaks a rule must never be written as if
it were fine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._errors import PlanValidationError
from .evaluate import Evaluation
from .planner import Plan

COVERAGE_TOLERANCE = 1e-6


@dataclass
class Check:
    """One rule checked: its name, whether it holds, and the figures behind it."""

    rule: str
    ok: bool
    detail: str

    def to_dict(self) -> dict[str, object]:
        return {"rule": self.rule, "ok": self.ok, "detail": self.detail}


def check_plan(plan: Plan, evaluation: Evaluation) -> list[Check]:
    """Check a plan; returns every check (see :func:`validate_plan` to raise on failure).

    Rules: every open site operates a tier it may host (one tier per site by construction
    of the tier array); policies (keep, may_close, may_retier); budget (total, capex,
    opex); count rules; linkage (an open higher-tier outlet within the linkage reach of
    every supported outlet, recomputed from coordinates); coverage targets; and the
    covered demand per level recomputed from raw coordinates equals the model's claim.
    """
    inputs, scenario = plan.inputs, plan.scenario
    tiers = plan.tiers
    current = inputs.current_tier
    policy = inputs.policies
    ids = inputs.sites["site_id"].to_numpy()
    checks: list[Check] = []

    on = tiers >= 0
    bad_tier = on & ~inputs.allowed[np.arange(len(tiers)), np.maximum(tiers, 0)]
    checks.append(
        Check(
            "tier allowed at site",
            not bad_tier.any(),
            _ids(ids, bad_tier) or "every open site hosts an allowed tier",
        )
    )

    broken = (
        ((policy == "keep") & (tiers != current))
        | ((policy == "may_close") & on & (tiers != current))
        | ((policy == "may_retier") & ~on)
    )
    checks.append(
        Check(
            "policies",
            not broken.any(),
            _ids(ids, broken) or "keep / may_close / may_retier respected",
        )
    )

    cost = plan.cost()
    budget = plan.budget
    for key, value, label in (
        ("total", cost["total"], "budget.total"),
        ("capex", cost["capex"], "budget.capex"),
        ("opex_per_year", cost["opex_per_year"], "budget.opex"),
    ):
        limit = budget.get(key)
        if limit is None:
            continue
        ok = value <= limit + 1e-6 * max(1.0, abs(limit))
        checks.append(
            Check(
                label,
                ok,
                f"{value:,.2f} <= {limit:,.2f}" if ok else f"{value:,.2f} exceeds {limit:,.2f}",
            )
        )

    site_region = inputs.sites["region"].to_numpy()
    for rule in scenario.counts:
        sel = on.copy()
        if str(rule.tier) != "any":
            sel &= tiers == scenario.tier_index(rule.tier)
        if rule.region is not None:
            sel &= site_region == rule.region
        n = int(sel.sum())
        ok = (rule.min is None or n >= rule.min) and (rule.max is None or n <= rule.max)
        label = f"count {rule.tier}" + (f" in {rule.region}" if rule.region else "")
        checks.append(
            Check(
                label,
                ok,
                f"{n} within [{rule.min}, {rule.max}]"
                if ok
                else f"{n} outside [{rule.min}, {rule.max}]",
            )
        )

    unsupported = evaluation.broken_links()
    checks.append(
        Check(
            "linkage",
            len(unsupported) == 0,
            "every supported tier has a higher-tier outlet in reach"
            if len(unsupported) == 0
            else "unsupported: " + ", ".join(unsupported["site_id"].astype(str)[:10]),
        )
    )

    covered = evaluation.covered_weight()
    for level, key in enumerate(scenario.tier_keys):
        if level not in plan.levels:
            continue
        claim = float(plan.model_covered[level])
        ok = abs(covered[level] - claim) <= COVERAGE_TOLERANCE * max(1.0, claim)
        checks.append(
            Check(f"coverage {key}", ok, f"recomputed {covered[level]:,.3f} vs model {claim:,.3f}")
        )

    if scenario.objective.type == "min_cost":
        coverable = plan.prepared.uncoverable()
        targets = scenario.coverage_targets()
        for level, key in enumerate(scenario.tier_keys):
            if not np.isfinite(targets[level]):
                continue
            total = float(evaluation.level_kpis()["demand"].iloc[level])
            reachable = total - float(coverable["weight"].iloc[level])
            need = targets[level] * reachable
            ok = covered[level] >= need - 1e-6 * max(1.0, need)
            checks.append(
                Check(f"target {key}", ok, f"covered {covered[level]:,.1f} of {need:,.1f} needed")
            )
    return checks


def validate_plan(plan: Plan, evaluation: Evaluation) -> list[Check]:
    """Run :func:`check_plan` and raise :class:`PlanValidationError` if any rule fails."""
    checks = check_plan(plan, evaluation)
    failed = [c for c in checks if not c.ok]
    if failed:
        raise PlanValidationError(
            "the plan breaks its own rules (a solver or netplan bug; please report it): "
            + "; ".join(f"{c.rule}: {c.detail}" for c in failed)
        )
    return checks


def _ids(ids: np.ndarray, mask: np.ndarray) -> str:
    bad = ids[mask]
    return (
        ""
        if not len(bad)
        else "sites " + ", ".join(map(str, bad[:10])) + (" ..." if len(bad) > 10 else "")
    )
