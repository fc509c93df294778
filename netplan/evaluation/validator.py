"""Independent validator: check a plan against every rule of its scenario.

It recomputes what it can from raw data (the evaluation of the plan's outlets, the cost
table, the policies) and compares with what the solver claimed. A failure raises
:class:`PlanValidationError`, loudly: a plan that breaks a rule must never be written as if
it were fine.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from netplan._errors import PlanValidationError
from netplan.evaluation.check_messages import check_text
from netplan.evaluation.kpis import Evaluation, _Space
from netplan.evaluation.overlap_checks import overlap_checks
from netplan.evaluation.siting_checks import siting_checks
from netplan.planner import Plan
from netplan.travel.coverage import REACH_TOLERANCE
from netplan.travel.geometry import point_coords

COVERAGE_TOLERANCE = 1e-6


@dataclass
class Check:
    """One rule checked: its name, whether it holds, and the figures behind it.

    Attributes
    ----------
    rule, detail : str
        In English (run.json, :class:`PlanValidationError`).
    ok : bool
    kind : str
        The message kind (``"budget"``, ``"count"``, ...): the pages phrase the check from the
        catalogue keys ``check.<kind>.rule`` / ``.ok`` / ``.fail`` in their locale. Empty for a
        check built from text alone (shown as ``rule`` and ``detail``).
    values : dict
        The figures and ids the messages name.
    """

    rule: str
    ok: bool
    detail: str
    kind: str = ""
    values: dict[str, object] = field(default_factory=dict)

    @classmethod
    def of(cls, kind: str, ok: bool, **values: object) -> Check:
        """A check of ``kind`` whose English rule and detail come from its message templates
        (:mod:`netplan.evaluation.check_messages`)."""
        rule, detail = check_text(kind, ok, values)
        return cls(rule, ok, detail, kind, values)

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
    checks.append(Check.of("tier_allowed", not bad_tier.any(), sites=_ids(ids, bad_tier)))

    broken = (
        ((policy == "keep") & (tiers != current))
        | ((policy == "may_close") & on & (tiers != current))
        | ((policy == "may_retier") & ~on)
    )
    checks.append(Check.of("policies", not broken.any(), sites=_ids(ids, broken)))

    cost = plan.cost()
    budget = plan.budget
    for key, value, label in (
        ("total", cost["total"], "total"),
        ("capex", cost["capex"], "capex"),
        ("opex_per_year", cost["opex_per_year"], "opex"),
    ):
        limit = budget.get(key)
        if limit is None:
            continue
        ok = value <= limit + 1e-6 * max(1.0, abs(limit))
        checks.append(Check.of("budget", ok, key=label, value=float(value), limit=float(limit)))

    site_region = inputs.sites["region"].to_numpy()
    for rule in scenario.counts:
        sel = on.copy()
        if str(rule.tier) != "any":
            sel &= tiers == scenario.tier_index(rule.tier)
        if rule.region is not None:
            sel &= site_region == rule.region
        n = int(sel.sum())
        ok = (rule.min is None or n >= rule.min) and (rule.max is None or n <= rule.max)
        where = {"region": str(rule.region)} if rule.region else {}
        checks.append(
            Check.of("count_region" if rule.region else "count", ok, tier=str(rule.tier),
                     n=n, min=rule.min, max=rule.max, **where)
        )  # fmt: skip

    unsupported = evaluation.broken_links()
    checks.append(
        Check.of("linkage", len(unsupported) == 0,
                 sites=", ".join(unsupported["site_id"].astype(str)[:10]))
    )  # fmt: skip

    checks += capacity_checks(plan, evaluation)
    checks += _span_checks(plan, evaluation)
    checks += overlap_checks(plan, evaluation, Check.of)
    checks += [Check.of(kind, ok, **values) for kind, ok, values in siting_checks(plan, evaluation)]

    covered = evaluation.covered_weight()
    for level, key in enumerate(scenario.tier_keys):
        if level not in plan.levels:
            continue
        claim = float(plan.model_covered[level])
        ok = abs(covered[level] - claim) <= COVERAGE_TOLERANCE * max(1.0, claim)
        checks.append(
            Check.of("coverage", ok, level=key, covered=float(covered[level]), claim=claim)
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
                Check.of("target", ok, level=key, covered=float(covered[level]), need=float(need))
            )
    return checks


def capacity_checks(plan: Plan, evaluation: Evaluation) -> list[Check]:
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
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        reach_check = Check.of("assignment_reach", False, n=int(bad.sum()),
                               demand_id=str(a["demand_id"].iloc[first]),
                               site_id=str(a["site_id"].iloc[first]))  # fmt: skip
    else:
        farthest = float(np.nanmax(dist)) if len(a) else 0.0
        reach_check = Check.of("assignment_reach", True, n=len(a), farthest=farthest,
                               unit=scenario.unit)  # fmt: skip
    checks = [reach_check]
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
    capped = on & np.isfinite(cap)
    with np.errstate(divide="ignore", invalid="ignore"):
        largest = float(np.nanmax(np.where(capped, load / cap, np.nan))) if capped.any() else 0.0
    checks.append(
        Check.of("capacity", not over.any(), utilisation=largest,
                 sites=", ".join(out["site_id"].astype(str)[over][:10]))
    )  # fmt: skip
    minimum = scenario.capacity.min_utilisation
    if minimum > 0:
        under = on & np.isfinite(cap) & (load < minimum * cap * (1 - 1e-6) - 1e-6)
        checks.append(
            Check.of("min_utilisation", not under.any(), minimum=float(minimum),
                     sites=", ".join(out["site_id"].astype(str)[under][:10]))
        )  # fmt: skip
    shares = a.groupby(["level", "demand_id"])["share"].agg(["sum", "count", "max"])
    split = shares["count"] > 1 if scenario.capacity.single_source else shares["sum"] > 1 + 1e-6
    kind = "single_source" if scenario.capacity.single_source else "assigned_once"
    checks.append(
        Check.of(kind, not split.any(), n=int(split.sum()) if split.any() else len(shares))
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
    twice = bool(plan.parents["site_id"].duplicated().any())
    most = int(children.max()) if len(children) else 0
    ok = not over and not twice
    kind = "span" if over or ok else "span_parents"
    return [Check.of(kind, ok, n=most, over=", ".join(over[:10]))]


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
    """The first ten ids where ``mask`` holds, comma-separated ("" when none)."""
    bad = ids[mask]
    return ", ".join(map(str, bad[:10])) + (" ..." if len(bad) > 10 else "")
