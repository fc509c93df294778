"""The facts of a plan's executive summary: the decision, its cost, what improves and what worsens.

Computed from the independent evaluations of today's network and of the plan (never from the
solver's matrices), as plain numbers: the sentences built on them live in the presentation
layer (:mod:`netplan.present.summary_text`), so that wording and locale change in one place.

"Worse" means, for a region and a level, a coverage drop of at least
:data:`WORSE_POINTS` points or a rise of the mean distance to the nearest serving outlet by at
least :data:`WORSE_KM` km (planar and great-circle travel) or :data:`WORSE_MIN` minutes
(drive time).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from netplan.evaluation.columns import distance_column
from netplan.evaluation.kpis import Evaluation

WORSE_POINTS = 0.5  # coverage points
WORSE_KM = 0.5  # km of mean distance (planar, haversine)
WORSE_MIN = 0.5  # minutes of mean drive time (network)
ALL = "all"  # the whole area's row in the KPI tables


@dataclass(frozen=True)
class TierChange:
    """What the plan does to one tier: outlets opened, closed, re-tiered into and out of it."""

    tier: str
    label: str
    today: int
    plan: int
    opened: int
    closed: int
    retier_in: int
    retier_out: int


@dataclass(frozen=True)
class LevelChange:
    """Coverage of one level, today and in the plan (% of all demand of the level)."""

    level: str
    label: str
    demand: float
    covered_pct_today: float
    covered_pct_plan: float

    @property
    def delta_points(self) -> float:
        """The exact change in points (the pages print the change of the rounded figures)."""
        return self.covered_pct_plan - self.covered_pct_today


@dataclass(frozen=True)
class Worsening:
    """One region and level that the plan serves worse than today's network.

    Distances are in km (planar, haversine) or minutes (network), see ``unit``.
    """

    region: str
    level: str
    label: str
    demand: float
    covered_pct_today: float
    covered_pct_plan: float
    dist_mean_today: float
    dist_mean_plan: float
    unit: str

    @property
    def delta_points(self) -> float:
        """The exact change in points (the pages print the change of the rounded figures)."""
        return self.covered_pct_plan - self.covered_pct_today

    @property
    def delta_dist(self) -> float:
        """The exact change of the mean distance (km) or drive time (min)."""
        return self.dist_mean_plan - self.dist_mean_today

    @property
    def coverage_worse(self) -> bool:
        return self.delta_points <= -WORSE_POINTS

    @property
    def distance_worse(self) -> bool:
        limit = WORSE_MIN if self.unit == "min" else WORSE_KM
        return math.isfinite(self.delta_dist) and self.delta_dist >= limit


@dataclass(frozen=True)
class Target:
    """A ``min_cost`` coverage target of one level and whether the plan meets it.

    ``share`` is of COVERABLE demand (demand some allowed site and tier could reach);
    ``unreachable`` is the demand no site can reach.
    """

    level: str
    label: str
    share: float
    demand: float
    unreachable: float
    covered: float

    @property
    def coverable(self) -> float:
        return self.demand - self.unreachable

    @property
    def covered_share_of_coverable(self) -> float:
        return self.covered / self.coverable if self.coverable > 0 else math.nan

    @property
    def covered_share_of_all(self) -> float:
        return self.covered / self.demand if self.demand > 0 else math.nan

    @property
    def met(self) -> bool:
        need = self.share * self.coverable
        return self.covered >= need - 1e-6 * max(1.0, need)  # the validator's tolerance


@dataclass(frozen=True)
class Summary:
    """The facts of a plan's executive summary.

    Attributes
    ----------
    scenario_name : str
    objective : str
        ``"max_coverage"`` or ``"min_cost"``.
    currency : str or None
        ISO 4217 code of the costs (``costs.currency``), None for plain numbers.
    horizon_years : float
    tiers : list of TierChange
    levels : list of LevelChange
        Whole-area coverage per level.
    cost_today, cost_plan : float
        Cost over the horizon of today's network and of the plan.
    budget : float or None
        The budget limit on the total cost (None: no limit).
    worse : list of Worsening
        Region × level rows that get worse, largest affected demand first (the whole area's
        row, region ``"all"``, included when it gets worse).
    targets : list of Target
        ``min_cost`` targets per level (empty for ``max_coverage``).
    unreachable : dict
        Per level key: demand weight no allowed site can reach, and the level's total demand.
    unit : str
        ``"km"`` or ``"min"``: the unit of distances in ``worse``.
    moves : list of (str, str, int)
        Tier changes as (label today, label in the plan, outlets), highest tiers first.
    """

    scenario_name: str
    objective: str
    currency: str | None
    horizon_years: float
    tiers: list[TierChange]
    levels: list[LevelChange]
    cost_today: float
    cost_plan: float
    budget: float | None
    worse: list[Worsening] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    unreachable: dict[str, tuple[float, float]] = field(default_factory=dict)
    unit: str = "km"
    moves: list[tuple[str, str, int]] = field(default_factory=list)

    @property
    def opened(self) -> int:
        return sum(t.opened for t in self.tiers)

    @property
    def closed(self) -> int:
        return sum(t.closed for t in self.tiers)

    @property
    def retiered(self) -> int:
        return sum(t.retier_in for t in self.tiers)

    @property
    def outlets_today(self) -> int:
        return sum(t.today for t in self.tiers)

    @property
    def outlets_plan(self) -> int:
        return sum(t.plan for t in self.tiers)


def _tier_changes(plan) -> list[TierChange]:
    scenario = plan.scenario
    out = plan.outlets
    current = plan.inputs.current_tier
    rows = []
    for k, (key, label) in enumerate(zip(scenario.tier_keys, scenario.tier_labels, strict=True)):
        retier = out["action"] == "retier"
        rows.append(
            TierChange(
                tier=key,
                label=label,
                today=int((current == k).sum()),
                plan=int((plan.tiers == k).sum()),
                opened=int(((out["action"] == "open") & (out["tier"] == key)).sum()),
                closed=int(((out["action"] == "close") & (out["current_tier"] == key)).sum()),
                retier_in=int((retier & (out["tier"] == key)).sum()),
                retier_out=int((retier & (out["current_tier"] == key)).sum()),
            )
        )
    return rows


def _moves(plan) -> list[tuple[str, str, int]]:
    keys, labels = plan.scenario.tier_keys, plan.scenario.tier_labels
    out = plan.outlets
    moved = out.loc[out["action"] == "retier", ["current_tier", "tier"]]
    pairs = moved.value_counts().to_dict()
    order = sorted(pairs, key=lambda p: (keys.index(p[0]), keys.index(p[1])))
    return [(labels[keys.index(a)], labels[keys.index(b)], int(pairs[(a, b)])) for a, b in order]


def _worse(
    baseline: pd.DataFrame, planned: pd.DataFrame, unit: str, levels: list[str]
) -> list[Worsening]:
    keys = ["region", "level", "level_name"]
    dist = distance_column("mean", unit)  # dist_mean_km or time_mean_min, already in km / min
    cols = ["demand", "covered_pct", dist]
    both = baseline[keys + cols].merge(planned[keys + cols], on=keys, suffixes=("_t", "_p"))
    both = both.rename(columns={f"{dist}_t": "dist_mean_t", f"{dist}_p": "dist_mean_p"})
    rows = [
        Worsening(
            region=str(r.region),
            level=str(r.level),
            label=str(r.level_name),
            demand=float(r.demand_p),
            covered_pct_today=float(r.covered_pct_t),
            covered_pct_plan=float(r.covered_pct_p),
            dist_mean_today=float(r.dist_mean_t),
            dist_mean_plan=float(r.dist_mean_p),
            unit=unit,
        )
        for r in both.itertuples()
        if r.demand_p > 0
    ]
    worse = [w for w in rows if w.coverage_worse or w.distance_worse]
    # largest affected demand first; on a tie a region before the whole area, then by name,
    # then the higher level first
    return sorted(
        worse, key=lambda w: (-w.demand, w.region == ALL, w.region, levels.index(w.level))
    )


def summarize(plan, evaluation: Evaluation, baseline: Evaluation) -> Summary:
    """The facts of the executive summary of ``plan``.

    Parameters
    ----------
    plan : netplan.planner.Plan
    evaluation : Evaluation
        The plan evaluated independently.
    baseline : Evaluation
        Today's network evaluated the same way.

    Returns
    -------
    Summary
    """
    scenario = plan.scenario
    unit = "min" if scenario.unit == "min" else "km"
    today_lv, plan_lv = baseline.level_kpis(), evaluation.level_kpis()
    levels = [
        LevelChange(
            level=str(t.level),
            label=str(t.level_name),
            demand=float(p.demand),
            covered_pct_today=float(t.covered_pct),
            covered_pct_plan=float(p.covered_pct),
        )
        for t, p in zip(today_lv.itertuples(), plan_lv.itertuples(), strict=True)
    ]
    never = plan.prepared.uncoverable() if getattr(plan, "prepared", None) is not None else None
    unreachable = {}
    for level, key in enumerate(scenario.tier_keys):
        total = float(plan_lv["demand"].iloc[level])
        lost = float(never["weight"].iloc[level]) if never is not None else math.nan
        unreachable[key] = (lost, total)
    targets = []
    if scenario.objective.type == "min_cost":
        shares = scenario.coverage_targets()
        covered = evaluation.covered_weight()
        for level, (key, label) in enumerate(
            zip(scenario.tier_keys, scenario.tier_labels, strict=True)
        ):
            if np.isfinite(shares[level]):
                lost, total = unreachable[key]
                targets.append(
                    Target(key, label, float(shares[level]), total, lost, float(covered[level]))
                )
    budget = plan.budget.get("total")
    return Summary(
        scenario_name=scenario.name,
        objective=scenario.objective.type,
        currency=scenario.costs.currency,
        horizon_years=float(scenario.costs.horizon_years),
        tiers=_tier_changes(plan),
        levels=levels,
        cost_today=float(plan.budget.get("baseline_cost", math.nan)),
        cost_plan=float(plan.cost()["total"]),
        budget=None if budget is None or not math.isfinite(budget) else float(budget),
        worse=_worse(baseline.kpis, evaluation.kpis, unit, list(scenario.tier_keys)),
        targets=targets,
        unreachable=unreachable,
        unit=unit,
        moves=_moves(plan),
    )
