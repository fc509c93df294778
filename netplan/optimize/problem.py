"""The data of one tiered covering problem, as arrays: demand, coverage, sites, costs, rules."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from netplan.inputs.costs import SiteCosts
from netplan.optimize.spacing import SpacingData
from netplan.travel.coverage import Coverage, Pairs


@dataclass
class CountLimit:
    """``lo <= number of open outlets of tier (None = any) in region (None = all) <= hi``."""

    tier: int | None
    region: int | None
    lo: float
    hi: float
    label: str = ""


@dataclass
class OverlapCap:
    """At level ``level``, demand within reach of 2+ open outlets of ``tiers`` is at most
    ``max_share`` of the level's covered demand (``siting.overlap``)."""

    level: int
    max_share: float
    tiers: tuple[int, ...]


@dataclass
class TieredProblem:
    """The data of one tiered covering problem, as arrays (no GeoDataFrames).

    Attributes
    ----------
    weights : ndarray (n, K)
        Demand weight per point and service level.
    coverage : Coverage
        In-reach pairs per tier (from :func:`netplan.travel.coverage.build_coverage`).
    allowed : ndarray (m, K) of bool
        Tiers each site may take.
    policy : ndarray (m,) of str
        ``keep``, ``may_close``, ``may_retier``, ``may_retier_or_close`` or ``new``.
    costs : SiteCosts
    linkage : list of Pairs or None
        Per tier, (supported site, supporting site) pairs within its linkage reach.
    objective : {"max_coverage", "min_cost"}
    level_weights : ndarray (K,)
    targets : ndarray (K,)
        Share of coverable demand per level to reach (``min_cost``), NaN = none.
    region_targets : dict
        ``{(region code, level): share}``.
    demand_region, site_region : ndarray of int
        Region code of each demand point / site (-1 = none).
    budget_total, budget_capex, budget_opex : float or None
    counts : list of CountLimit
    site_rank : ndarray (m,)
        Order of site ids, for the final tie-break (lower rank preferred).
    capacity : ndarray (m, K) or None
        Capacity (demand weight) of site j as tier k, inf = unlimited; None = no capacities.
    capacity_levels : ndarray (K,) of bool or None
        Levels whose demand loads the outlet it is assigned to.
    single_source : bool
        Each loading demand point is assigned whole to one outlet (else it may be split).
    min_utilisation : float
        An open capacitated outlet carries at least this share of its capacity.
    span : ndarray (K,) or None
        Most outlets a tier-k parent may support (inf = no limit); None = no span of control
        (plain linkage rows only).
    overlap_caps : list of OverlapCap
        Caps on overlapped demand per level (:mod:`netplan.optimize.overlap`); empty = none.
    spacing : list of SpacingData
        Spacing rules: conflicting site pairs and the cliques of their rows
        (:mod:`netplan.optimize.spacing`); empty = no spacing rule.
    """

    weights: np.ndarray
    coverage: Coverage
    allowed: np.ndarray
    policy: np.ndarray
    costs: SiteCosts
    linkage: list[Pairs | None]
    objective: str = "max_coverage"
    level_weights: np.ndarray | None = None
    targets: np.ndarray | None = None
    region_targets: dict[tuple[int, int], float] = field(default_factory=dict)
    demand_region: np.ndarray | None = None
    site_region: np.ndarray | None = None
    budget_total: float | None = None
    budget_capex: float | None = None
    budget_opex: float | None = None
    counts: list[CountLimit] = field(default_factory=list)
    site_rank: np.ndarray | None = None
    capacity: np.ndarray | None = None
    capacity_levels: np.ndarray | None = None
    single_source: bool = False
    min_utilisation: float = 0.0
    span: np.ndarray | None = None
    overlap_caps: list[OverlapCap] = field(default_factory=list)
    spacing: list[SpacingData] = field(default_factory=list)

    def __repr__(self) -> str:
        return (
            f"TieredProblem({self.objective}, demand={self.n_demand}, sites={self.n_sites}, "
            f"tiers={self.n_tiers}, counts={len(self.counts)}, "
            f"capacitated={self.capacity is not None}, budget={self.budget_total})"
        )

    @property
    def loading_levels(self) -> np.ndarray:
        """Bool (K,): levels under capacities (assignment variables, covered = assigned)."""
        if self.capacity is None:
            return np.zeros(self.n_tiers, dtype=bool)
        if self.capacity_levels is None:
            return np.ones(self.n_tiers, dtype=bool)
        return np.asarray(self.capacity_levels, dtype=bool)

    @property
    def n_demand(self) -> int:
        return self.weights.shape[0]

    @property
    def n_sites(self) -> int:
        return self.allowed.shape[0]

    @property
    def n_tiers(self) -> int:
        return self.allowed.shape[1]

    def lw(self) -> np.ndarray:
        return (
            np.ones(self.n_tiers)
            if self.level_weights is None
            else np.asarray(self.level_weights, dtype=float)
        )

    def modelled_levels(self) -> np.ndarray:
        """Levels that matter to the optimisation: positive weight or a target."""
        tg = np.full(self.n_tiers, np.nan) if self.targets is None else self.targets
        has_region_target = np.zeros(self.n_tiers, dtype=bool)
        for (_, level), share in self.region_targets.items():
            has_region_target[level] |= share > 0
        for cap in self.active_overlap_caps():  # a capped level's covered demand is its base
            has_region_target[cap.level] |= self.weights[:, cap.level].sum() > 0
        return (self.lw() > 0) | (np.nan_to_num(tg) > 0) | has_region_target

    def active_overlap_caps(self) -> list[OverlapCap]:
        """Caps that can bind: overlapped demand is covered demand, so ``max_share >= 1`` is a no-op."""
        return [cap for cap in self.overlap_caps if cap.max_share < 1.0]

    def forced_tier(self) -> np.ndarray:
        """Tier fixed by policy ``keep`` (else -1)."""
        return np.where(self.policy == "keep", self.costs.current_tier, -1)

    def must_open(self) -> np.ndarray:
        """Sites that must operate at some tier (``keep`` and ``may_retier``)."""
        return np.isin(self.policy, ["keep", "may_retier"])
