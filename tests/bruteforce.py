"""Random small tiered instances and an independent brute-force solver for them.

The enumerator shares no code with netplan's model: it lists every tier assignment of every
site, checks every rule with plain numpy on raw coordinates, and ranks feasible plans
lexicographically.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from netplan.inputs.costs import SiteCosts
from netplan.optimize.problem import CountLimit, TieredProblem
from netplan.travel.coverage import build_coverage, linkage_pairs

K = 3


@dataclass
class Instance:
    demand_xy: np.ndarray
    weights: np.ndarray  # (n, K)
    site_xy: np.ndarray
    allowed: np.ndarray  # (m, K)
    policy: np.ndarray
    current: np.ndarray
    costs: SiteCosts
    reach: np.ndarray  # (K, K)
    linkage: np.ndarray  # (K,)
    budget: float | None
    capex: float | None
    counts: list[CountLimit]
    site_region: np.ndarray
    demand_region: np.ndarray
    objective: str
    level_weights: np.ndarray
    targets: np.ndarray
    region_targets: dict

    def problem(self) -> TieredProblem:
        cov = build_coverage(self.demand_xy, self.site_xy, self.allowed, self.reach, "planar")
        link = linkage_pairs(self.site_xy, self.allowed, self.linkage, "planar")
        return TieredProblem(
            weights=self.weights,
            coverage=cov,
            allowed=self.allowed,
            policy=self.policy,
            costs=self.costs,
            linkage=link,
            objective=self.objective,
            level_weights=self.level_weights,
            targets=self.targets,
            region_targets=self.region_targets,
            demand_region=self.demand_region,
            site_region=self.site_region,
            budget_total=self.budget,
            budget_capex=self.capex,
            counts=self.counts,
            site_rank=np.arange(len(self.site_xy)),
        )


def random_instance(seed: int, objective: str) -> Instance:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(12, 30))
    m = int(rng.integers(5, 9))
    demand_xy = rng.uniform(0, 10_000, size=(n, 2)).round(0)
    # a few collocated customers, as in real address data
    demand_xy[1] = demand_xy[0]
    site_xy = rng.uniform(0, 10_000, size=(m, 2)).round(0)
    # twins: a candidate a few metres from another, same tiers and costs, so that plans tie in
    # coverage and cost and only the distance and site-id stages can tell them apart
    n_twins = int(rng.integers(0, 3))
    weights = np.tile(rng.integers(1, 10, size=(n, 1)).astype(float), (1, K))
    if rng.random() < 0.4:
        weights[:, 2] = rng.integers(0, 6, size=n)
    reach = np.full((K, K), np.nan)
    base = np.array([7000.0, 3500.0, 1800.0]) * rng.uniform(0.8, 1.2)
    for level in range(K):
        reach[: level + 1, level] = base[level]
    if rng.random() < 0.5:
        reach[0, 2] = base[2] * 1.5  # a per-(tier, level) override
    linkage = np.array([np.nan, 6000.0, 3000.0]) * rng.uniform(0.7, 1.3)
    n_existing = int(rng.integers(1, 4))
    current = np.full(m, -1)
    current[:n_existing] = rng.integers(0, K, size=n_existing)
    policies = np.array(["new"] * m, dtype=object)
    policies[:n_existing] = rng.choice(
        ["keep", "may_close", "may_retier", "may_retier_or_close"], size=n_existing
    )
    allowed = rng.random((m, K)) < 0.6
    allowed[np.arange(m), rng.integers(0, K, size=m)] = True
    for j in range(n_existing):
        if policies[j] in ("keep", "may_close"):
            allowed[j] = False
        allowed[j, current[j]] = True
    for t in range(n_twins):
        src, dst = m - 1 - 2 * t, m - 2 - 2 * t
        if dst < n_existing or src < n_existing:
            break
        site_xy[dst] = site_xy[src] + rng.integers(5, 60, size=2)
        allowed[dst] = allowed[src]
    open_c = rng.integers(1, 10, size=(m, K)) * np.array([100.0, 40.0, 10.0])
    operate = rng.integers(1, 5, size=(m, K)) * np.array([20.0, 8.0, 2.0])
    convert = rng.integers(1, 5, size=(m, K)) * 10.0
    close = rng.integers(0, 30, size=m).astype(float)
    for t in range(n_twins):
        src, dst = m - 1 - 2 * t, m - 2 - 2 * t
        if dst < n_existing or src < n_existing:
            break
        open_c[dst], operate[dst] = open_c[src], operate[src]
    costs = SiteCosts(
        open_c, operate, convert, close, current, horizon_years=float(rng.integers(1, 4))
    )
    budget = float(rng.uniform(300, 1500)) if rng.random() < 0.8 else None
    capex = float(rng.uniform(200, 1200)) if rng.random() < 0.3 else None
    site_region = rng.integers(0, 2, size=m)
    demand_region = (demand_xy[:, 0] > 5000).astype(int)
    counts = []
    if rng.random() < 0.6:
        counts.append(CountLimit(0, None, 0, int(rng.integers(1, 3))))
    if rng.random() < 0.4:
        counts.append(CountLimit(None, None, int(rng.integers(1, 3)), np.inf))
    if rng.random() < 0.3:
        counts.append(CountLimit(2, int(rng.integers(0, 2)), 0, 1))
    level_weights = (
        np.array([1.0, 1.0, 1.0])
        if rng.random() < 0.5
        else rng.integers(0, 4, size=K).astype(float)
    )
    targets = np.full(K, np.nan)
    region_targets = {}
    if objective == "min_cost":
        budget = None if rng.random() < 0.7 else budget
        targets[2] = float(rng.choice([0.3, 0.5, 0.7]))
        if rng.random() < 0.5:
            targets[0] = float(rng.choice([0.5, 0.8, 1.0]))
        if rng.random() < 0.3:
            region_targets[(0, 1)] = 0.5
    return Instance(
        demand_xy,
        weights,
        site_xy,
        allowed,
        policies,
        current,
        costs,
        reach,
        linkage,
        budget,
        capex,
        counts,
        site_region,
        demand_region,
        objective,
        level_weights,
        targets,
        region_targets,
    )


def brute_force(inst: Instance, extra=None) -> tuple[float, float, float, float] | None:
    """Lexicographic optimum (coverage, cost, distance, site rank) by enumeration, None if infeasible.

    ``extra``: a further rule, called with the (N, m) tier assignments, returning the (N,)
    mask of the plans that keep it (e.g. spacing, tests/test_siting_spacing.py)."""
    m = len(inst.site_xy)
    options = []
    for j in range(m):
        tiers = list(np.flatnonzero(inst.allowed[j]))
        pol = inst.policy[j]
        if pol == "keep":
            opts = [int(inst.current[j])]
        elif pol == "may_retier":
            opts = tiers
        else:
            opts = tiers + [-1]
        options.append(opts)
    combos = np.array(list(itertools.product(*options)), dtype=np.int64)  # (N, m)
    N = len(combos)
    on = combos >= 0
    t = np.maximum(combos, 0)
    j_idx = np.arange(m)[None, :]
    c = inst.costs
    existing = c.current_tier >= 0
    same = combos == c.current_tier[None, :]
    capex = np.where(
        on,
        np.where(existing[None, :], np.where(same, 0.0, c.convert[j_idx, t]), c.open[j_idx, t]),
        0.0,
    )
    capex += np.where(~on & existing[None, :], c.close[None, :], 0.0)
    opex = np.where(on, c.operate[j_idx, t], 0.0)
    cost = capex.sum(1) + c.horizon_years * opex.sum(1)
    ok = np.ones(N, dtype=bool) if extra is None else np.asarray(extra(combos), dtype=bool)
    if inst.budget is not None:
        ok &= cost <= inst.budget + 1e-9
    if inst.capex is not None:
        ok &= capex.sum(1) <= inst.capex + 1e-9
    for rule in inst.counts:
        sel = on.copy()
        if rule.tier is not None:
            sel &= combos == rule.tier
        if rule.region is not None:
            sel &= (inst.site_region == rule.region)[None, :]
        cnt = sel.sum(1)
        ok &= (cnt >= rule.lo) & (cnt <= rule.hi)
    dss = np.hypot(*(inst.site_xy[:, None, :] - inst.site_xy[None, :, :]).transpose(2, 0, 1))
    for j in range(m):
        for k in range(1, K):
            if not np.isfinite(inst.linkage[k]):
                continue
            is_k = combos[:, j] == k
            near = (dss[j] <= inst.linkage[k] + 1e-6) & (np.arange(m) != j)
            supported = (on & (combos < k) & near[None, :]).any(1)
            ok &= ~is_k | supported
    dds = np.hypot(
        *(inst.demand_xy[:, None, :] - inst.site_xy[None, :, :]).transpose(2, 0, 1)
    )  # (n, m)
    coverage = np.zeros(N)
    distance = np.zeros(N)
    modelled = (inst.level_weights > 0) | (np.nan_to_num(inst.targets) > 0)
    for (_, lv), share in inst.region_targets.items():
        modelled[lv] |= share > 0
    for level in range(K):
        reach_site = np.where(on & (combos <= level), inst.reach[t, level], -1.0)  # (N, m)
        serves = dds[None, :, :] <= reach_site[:, None, :] + 1e-6  # (N, n, m)
        covered = serves.any(2)
        w = inst.weights[:, level]
        cov_w = covered @ w
        if modelled[level]:
            coverage += inst.level_weights[level] * cov_w
            dmin = np.where(serves, dds[None, :, :], np.inf).min(2)
            distance += np.where(covered, dmin, 0.0) @ w
        coverable = (
            dds
            <= np.nanmax(
                np.where(
                    inst.allowed[:, : level + 1].T, inst.reach[: level + 1, level][:, None], -1
                ),
                axis=0,
            )[None, :]
            + 1e-6
        ).any(1)
        if inst.objective == "min_cost":
            if np.isfinite(inst.targets[level]) and inst.targets[level] > 0:
                ok &= cov_w >= inst.targets[level] * w[coverable].sum() - 1e-6
            for (region, lv), share in inst.region_targets.items():
                if lv == level:
                    in_r = inst.demand_region == region
                    ok &= covered[:, in_r] @ w[in_r] >= share * w[coverable & in_r].sum() - 1e-6
    rank = np.where(on, np.arange(m)[None, :] * K + t + 1, 0).sum(1)
    if not ok.any():
        return None
    idx = np.flatnonzero(ok)
    keys = [(-coverage, cost), (cost, -coverage)][inst.objective == "min_cost"] + (
        distance,
        rank.astype(float),
    )
    for key in keys:
        vals = key[idx]
        best = vals.min()
        idx = idx[vals <= best + 1e-9 * max(1, abs(best)) + 1e-6]
    i = idx[0]
    return float(coverage[i]), float(cost[i]), float(distance[i]), float(rank[i])
