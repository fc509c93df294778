"""Independent validator: check a plan against every rule of its scenario.

It recomputes what it can from raw data (the evaluation of the plan's outlets, the cost
table, the policies) and compares with what the solver claimed. A failure raises
:class:`PlanValidationError`, loudly: a plan that breaks a rule must never be written as if
it were fine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from netplan._errors import PlanValidationError
from netplan.evaluation.kpis import Evaluation, _Space
from netplan.evaluation.siting_checks import siting_checks
from netplan.planner import Plan
from netplan.travel.coverage import REACH_TOLERANCE
from netplan.travel.geometry import point_coords

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

    checks += _capacity_checks(plan, evaluation)
    checks += _span_checks(plan, evaluation)
    checks += [Check(*c) for c in siting_checks(plan, evaluation)]

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


def _capacity_checks(plan: Plan, evaluation: Evaluation) -> list[Check]:
    """Assignments within reach of an open outlet whose tier serves the level (distances
    recomputed from coordinates); load within capacity; minimum utilisation; single source."""
    scenario = plan.scenario
    if scenario.capacity is None or plan.assignment is None:
        return []
    a = plan.assignment
    keys = scenario.tier_keys
    out = evaluation.outlets
    dem = evaluation.demand
    opos = pd.Index(out["site_id"].astype(str)).get_indexer(a["site_id"].astype(str))
    dpos = pd.Index(dem["demand_id"]).get_indexer(a["demand_id"])
    level = np.array([keys.index(k) for k in a["level"]], dtype=np.int64)
    tier_of = np.array([keys.index(t) if t else -1 for t in out["tier"]], dtype=np.int64)
    tier = np.where(opos >= 0, tier_of[np.maximum(opos, 0)], -1)
    space = _Space(scenario.travel.mode)
    dxyz = space.embed(point_coords(dem.geometry))
    oxyz = space.embed(point_coords(out.geometry))
    if scenario.travel.mode == "network":  # drive time customer -> outlet on the road graph
        from netplan.roads.network import scenario_travel

        travel = scenario_travel(scenario, dem.crs)
        dist = travel.times(dxyz[dpos], oxyz[np.maximum(opos, 0)])
    else:
        dist = space.from_tree_distance(
            np.linalg.norm(dxyz[dpos] - oxyz[np.maximum(opos, 0)], axis=1)
        )
    reach = scenario.reach_matrix
    limit = np.where(tier >= 0, reach[np.maximum(tier, 0), level], np.nan)
    bad = (opos < 0) | (dpos < 0) | (tier < 0) | (tier > level) | ~(dist <= limit + REACH_TOLERANCE)
    checks = [
        Check(
            "capacity assignments within reach",
            not bad.any(),
            f"{len(a)} assignments, farthest {np.nanmax(dist) if len(a) else 0:,.1f} {scenario.unit}"
            if not bad.any()
            else f"{int(bad.sum())} assignments to a closed, lower-tier or out-of-reach outlet, e.g. "
            f"{a['demand_id'].iloc[int(np.flatnonzero(bad)[0])]} -> {a['site_id'].iloc[int(np.flatnonzero(bad)[0])]}",
        )
    ]
    w = np.zeros(len(a))
    for lv, key in enumerate(keys):
        sel = level == lv
        w[sel] = dem[f"weight_{key}"].to_numpy()[dpos[sel]]
    load = np.zeros(len(out))
    np.add.at(load, opos[opos >= 0], (a["share"].to_numpy() * w)[opos >= 0])
    cap = (
        plan.outlets.set_index("site_id")["capacity"].reindex(out["site_id"]).to_numpy(dtype=float)
    )
    on = tier_of >= 0
    over = on & (load > cap * (1 + 1e-6) + 1e-6)
    checks.append(
        Check(
            "capacity",
            not over.any(),
            f"largest utilisation {np.nanmax(np.where(on & np.isfinite(cap), load / cap, np.nan)) if (on & np.isfinite(cap)).any() else 0:.3f}"
            if not over.any()
            else "over capacity: " + ", ".join(out["site_id"].astype(str)[over][:10]),
        )
    )
    minimum = scenario.capacity.min_utilisation
    if minimum > 0:
        under = on & np.isfinite(cap) & (load < minimum * cap * (1 - 1e-6) - 1e-6)
        checks.append(
            Check(
                "minimum utilisation",
                not under.any(),
                f"every capacitated outlet carries >= {minimum:.0%} of its capacity"
                if not under.any()
                else "under-used: " + ", ".join(out["site_id"].astype(str)[under][:10]),
            )
        )
    shares = a.groupby(["level", "demand_id"])["share"].agg(["sum", "count", "max"])
    split = shares["count"] > 1 if scenario.capacity.single_source else shares["sum"] > 1 + 1e-6
    checks.append(
        Check(
            "single source" if scenario.capacity.single_source else "assigned at most once",
            not split.any(),
            f"{len(shares)} demand points assigned"
            if not split.any()
            else f"{int(split.sum())} demand points split or over-assigned",
        )
    )
    return checks


def _span_checks(plan: Plan, evaluation: Evaluation) -> list[Check]:
    """Each supported outlet has one assigned parent (linkage checks it is open, higher and in
    reach); no parent supports more outlets than its tier's span of control."""
    span = plan.scenario.span_limits
    if span is None or plan.parents is None:
        return []
    keys = plan.scenario.tier_keys
    out = evaluation.open_outlets
    children = plan.parents.groupby("parent_id").size()
    tier_of = out.set_index(out["site_id"].astype(str))["tier"]
    over = [
        f"{pid} ({n} > {span[keys.index(tier_of[pid])]:g})"
        for pid, n in children.items()
        if str(pid) in tier_of.index and n > span[keys.index(tier_of[str(pid)])]
    ]
    twice = plan.parents["site_id"].duplicated().any()
    return [
        Check(
            "span of control",
            not over and not twice,
            f"most children of one parent: {int(children.max()) if len(children) else 0}"
            if not over and not twice
            else ("over span: " + ", ".join(over[:10]))
            if over
            else "an outlet has two parents",
        )
    ]


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
