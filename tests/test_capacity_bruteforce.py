"""Capacities, minimum utilisation and span of control in the tiered model, against enumeration.

The enumerator lists every tier assignment of every site (as in bruteforce.py) and, for each
one, computes with its own code:

- the best capacitated coverage by a transportation LP (scipy's linprog, multi-source) or by
  enumerating every assignment of every customer (single-source), then the least assigned
  distance at that coverage;
- the span of control by enumerating every choice of parent for every supported outlet.

Plans are then ranked lexicographically (coverage, cost, assigned distance, site rank,
support distance) exactly as the staged MILP does.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
from scipy.optimize import linprog

from netplan.optimize.lexicographic import solve_lexicographic
from netplan.optimize.model import TieredModel
from netplan.optimize.records import SolverOptions

from bruteforce import K, brute_force, random_instance

TOL = 1e-6


def _tier_options(inst):
    options = []
    for j in range(len(inst.site_xy)):
        tiers = list(np.flatnonzero(inst.allowed[j]))
        pol = inst.policy[j]
        if pol == "keep":
            options.append([int(inst.current[j])])
        elif pol == "may_retier":
            options.append(tiers)
        else:
            options.append(tiers + [-1])
    return options


def _cost(inst, combo):
    c = inst.costs
    total = capex = 0.0
    for j, t in enumerate(combo):
        existing = c.current_tier[j] >= 0
        if t >= 0:
            one_off = (
                (0.0 if t == c.current_tier[j] else c.convert[j, t]) if existing else c.open[j, t]
            )
            capex += one_off
            total += one_off + c.horizon_years * c.operate[j, t]
        elif existing:
            capex += c.close[j]
            total += c.close[j]
    return total, capex


def _rules_ok(inst, combo, total, capex):
    combo = np.asarray(combo)
    on = combo >= 0
    if inst.budget is not None and total > inst.budget + 1e-9:
        return False
    if inst.capex is not None and capex > inst.capex + 1e-9:
        return False
    for rule in inst.counts:
        sel = on.copy()
        if rule.tier is not None:
            sel &= combo == rule.tier
        if rule.region is not None:
            sel &= inst.site_region == rule.region
        if not rule.lo <= sel.sum() <= rule.hi:
            return False
    return True


def _pairs(inst, combo):
    """Feasible (demand, level, site) assignments and their distance for one tier assignment."""
    dds = np.hypot(*(inst.demand_xy[:, None, :] - inst.site_xy[None, :, :]).transpose(2, 0, 1))
    out = []
    for level in range(K):
        if (
            inst.level_weights[level] <= 0
        ):  # a level nobody optimises is not modelled, so it loads nothing
            continue
        for j, t in enumerate(combo):
            if t < 0 or t > level:
                continue
            for i in range(len(inst.demand_xy)):
                if inst.weights[i, level] > 0 and dds[i, j] <= inst.reach[t, level] + 1e-6:
                    out.append((i, level, j, dds[i, j]))
    return out


def _capacitated(inst, combo, capacity, min_util, lw):
    """(coverage, least assigned distance at that coverage) by two LPs; None if min utilisation fails."""
    pairs = _pairs(inst, combo)
    open_sites = [j for j, t in enumerate(combo) if t >= 0]
    if not pairs:
        if min_util > 0 and any(np.isfinite(capacity[j, combo[j]]) for j in open_sites):
            return None
        return 0.0, 0.0
    n_var = len(pairs)
    w = np.array([inst.weights[i, lv] for i, lv, _, _ in pairs])
    gain = np.array([lw[lv] * inst.weights[i, lv] for i, lv, _, _ in pairs])
    dist = np.array([d * inst.weights[i, lv] for i, lv, _, d in pairs])
    rows, rhs = [], []
    for key in {(i, lv) for i, lv, _, _ in pairs}:  # each demand and level at most once
        rows.append([1.0 if (p[0], p[1]) == key else 0.0 for p in pairs])
        rhs.append(1.0)
    for j in open_sites:
        cap = capacity[j, combo[j]]
        load = [w[v] if pairs[v][2] == j else 0.0 for v in range(n_var)]
        if np.isfinite(cap):
            rows.append(load)
            rhs.append(cap)
            if min_util > 0:
                rows.append([-x for x in load])
                rhs.append(-min_util * cap)
        elif min_util > 0:
            pass
    A, b = np.array(rows), np.array(rhs)
    first = linprog(-gain, A_ub=A, b_ub=b, bounds=(0, 1), method="highs")
    if first.status == 2:
        return None
    best = -first.fun
    A2 = np.vstack([A, -gain])
    b2 = np.append(b, -(best - 1e-7 * max(1.0, best)))
    second = linprog(dist, A_ub=A2, b_ub=b2, bounds=(0, 1), method="highs")
    return best, second.fun


def _single_source(inst, combo, capacity, lw):
    """(coverage, least distance at that coverage), every customer served whole by one outlet."""
    pairs = _pairs(inst, combo)
    keys = sorted({(i, lv) for i, lv, _, _ in pairs})
    choices = [[None] + [(j, d) for i, lv, j, d in pairs if (i, lv) == key] for key in keys]
    best = (-np.inf, np.inf)
    for pick in itertools.product(*choices):
        load = np.zeros(len(combo))
        cov = dist = 0.0
        for (i, lv), c in zip(keys, pick, strict=True):
            if c is None:
                continue
            load[c[0]] += inst.weights[i, lv]
            cov += lw[lv] * inst.weights[i, lv]
            dist += inst.weights[i, lv] * c[1]
        if any(load[j] > capacity[j, t] + 1e-9 for j, t in enumerate(combo) if t >= 0):
            continue
        if cov > best[0] + TOL or (abs(cov - best[0]) <= TOL and dist < best[1]):
            best = (cov, dist)
    return best


def _support(inst, combo, span):
    """Least total parent distance over parent choices meeting linkage and span; None if none."""
    dss = np.hypot(*(inst.site_xy[:, None, :] - inst.site_xy[None, :, :]).transpose(2, 0, 1))
    children, options = [], []
    for j, t in enumerate(combo):
        if t >= 1 and np.isfinite(inst.linkage[t]):
            parents = [
                q
                for q, u in enumerate(combo)
                if q != j and 0 <= u < t and dss[j, q] <= inst.linkage[t] + 1e-6
            ]
            if not parents:
                return None
            children.append(j)
            options.append(parents)
    best = None
    for pick in itertools.product(*options):
        counts = np.bincount(np.array(pick, dtype=int), minlength=len(combo)) if pick else []
        if any(counts[q] > span[combo[q]] for q in set(pick)):
            continue
        total = sum(dss[c, q] for c, q in zip(children, pick, strict=True))
        if best is None or total < best - 1e-9:
            best = total
    return best


def enumerate_capacitated(inst, capacity, span, min_util=0.0, single_source=False):
    """Lexicographic optimum (coverage, cost, distance, rank, support) or None."""
    lw = inst.level_weights
    rows = []
    for combo in itertools.product(*_tier_options(inst)):
        total, capex = _cost(inst, combo)
        if not _rules_ok(inst, combo, total, capex):
            continue
        # linkage always holds; the support distance is a stage only under a span of control
        support = _support(inst, combo, span if span is not None else np.full(K, np.inf))
        if support is None:
            continue
        support = support if span is not None else 0.0
        if single_source:
            cov, dist = _single_source(inst, combo, capacity, lw)
        else:
            got = _capacitated(inst, combo, capacity, min_util, lw)
            if got is None:
                continue
            cov, dist = got
        rank = sum(j * K + t + 1 for j, t in enumerate(combo) if t >= 0)
        rows.append((cov, total, dist, float(rank), support))
    if not rows:
        return None
    R = np.array(rows)
    keep = np.ones(len(R), dtype=bool)
    for col, sign in ((0, -1), (1, 1), (2, 1), (3, 1), (4, 1)):
        vals = sign * R[:, col]
        best = vals[keep].min()
        keep &= vals <= best + 1e-7 * max(1.0, abs(best)) + 1e-6
    return tuple(R[np.flatnonzero(keep)[0]])


def _instance(seed, small=False):
    inst = random_instance(seed, "max_coverage")
    rng = np.random.default_rng(1000 + seed)
    keep = 4 if small else 6
    n = 5 if small else 12
    inst = dataclasses.replace(
        inst,
        demand_xy=inst.demand_xy[:n],
        weights=inst.weights[:n],
        demand_region=inst.demand_region[:n],
        site_xy=inst.site_xy[:keep],
        allowed=inst.allowed[:keep],
        policy=inst.policy[:keep],
        current=inst.current[:keep],
        costs=dataclasses.replace(
            inst.costs,
            open=inst.costs.open[:keep],
            operate=inst.costs.operate[:keep],
            convert=inst.costs.convert[:keep],
            close=inst.costs.close[:keep],
            current_tier=inst.costs.current_tier[:keep],
        ),
        site_region=inst.site_region[:keep],
        counts=[c for c in inst.counts if c.region is None],
        budget=None if inst.budget is None else inst.budget * 0.7,
    )
    capacity = rng.integers(8, 30, size=(keep, K)).astype(float)
    capacity[:, 0] = np.where(rng.random(keep) < 0.3, np.inf, capacity[:, 0])  # unlimited
    return inst, capacity, rng


def _solve(inst, capacity, span=None, min_util=0.0, single_source=False, backend="highs"):
    problem = dataclasses.replace(
        inst.problem(),
        capacity=capacity,
        min_utilisation=min_util,
        single_source=single_source,
        span=span,
    )
    model = TieredModel(problem)
    result = solve_lexicographic(model, "max_coverage", SolverOptions(backend=backend))
    return model, result


def _values(result, span):
    v = result.values
    return (v["coverage"], v["cost"], v["distance"], v["site_id"], v.get("support_distance", 0.0))


def _close(a, b):
    """Coverage, cost, rank and support exactly; the assigned distance within 1e-4 relative:
    under multi-source capacities coverage is fixed with the solver's feasibility slack
    (1e-6 per assignment variable), which the distance stage may use."""
    tolerances = (1e-6, 1e-6, 1e-4, 1e-6, 1e-6)
    return all(abs(x - y) <= t * max(1.0, abs(y)) for x, y, t in zip(a, b, tolerances, strict=True))


@pytest.mark.parametrize("seed", range(8))
def test_capacitated_multi_source_equals_enumeration(seed):
    inst, capacity, _ = _instance(seed)
    expected = enumerate_capacitated(inst, capacity, None)
    model, result = _solve(inst, capacity)
    if expected is None:
        assert result.status == "infeasible"
        return
    assert result.status == "optimal"
    assert _close(_values(result, None), expected), (_values(result, None), expected)
    demand, _ = model.assignments(result.x)
    load = demand.groupby(["site", "tier"])["load"].sum()
    for (site, tier), value in load.items():
        assert value <= capacity[site, tier] + 1e-6
    # covered = assigned: the model's covered weight equals the assigned load
    covered = model.covered_by_level(result.x)
    for level in model.levels:
        load = demand.loc[demand["level"] == level, "load"].sum()
        assert abs(load - covered[level]) <= 1e-5 * max(1.0, covered[level])


@pytest.mark.parametrize("seed", range(6))
def test_minimum_utilisation_equals_enumeration(seed):
    inst, capacity, _ = _instance(seed)
    capacity = np.where(np.isfinite(capacity), capacity, 25.0)
    expected = enumerate_capacitated(inst, capacity, None, min_util=0.5)
    _, result = _solve(inst, capacity, min_util=0.5)
    if expected is None:
        assert result.status == "infeasible"
        return
    assert result.status == "optimal"
    assert _close(_values(result, None), expected), (_values(result, None), expected)


@pytest.mark.parametrize("seed", range(5))
def test_single_source_equals_enumeration(seed):
    inst, capacity, _ = _instance(seed, small=True)
    capacity = np.where(np.isfinite(capacity), capacity, 40.0) / 2
    expected = enumerate_capacitated(inst, capacity, None, single_source=True)
    model, result = _solve(inst, capacity, single_source=True)
    if expected is None:
        assert result.status == "infeasible"
        return
    assert result.status == "optimal"
    assert _close(_values(result, None), expected), (_values(result, None), expected)
    demand, _ = model.assignments(result.x)
    assert (demand.groupby(["level", "demand"]).size() == 1).all()
    assert np.allclose(demand["share"], 1.0)


@pytest.mark.parametrize("seed", range(8))
def test_span_of_control_equals_enumeration(seed):
    inst, capacity, rng = _instance(seed)
    span = np.array([float(rng.integers(1, 3)), float(rng.integers(1, 3)), np.inf])
    expected = enumerate_capacitated(inst, capacity, span)
    model, result = _solve(inst, capacity, span=span)
    if expected is None:
        assert result.status == "infeasible"
        return
    assert result.status == "optimal"
    assert _close(_values(result, span), expected), (_values(result, span), expected)
    _, parents = model.assignments(result.x)
    assert parents["site"].is_unique
    tiers = result.tiers
    for parent, n in parents.groupby("parent").size().items():
        assert n <= span[tiers[parent]]
        assert (tiers[parent] < parents.loc[parents["parent"] == parent, "tier"]).all()


def test_capacity_binds_coverage_drops_and_unlimited_capacity_changes_nothing():
    """With unlimited capacity the capacitated model has the plain model's coverage and cost;
    a tight capacity lowers coverage."""
    for seed in range(6):
        inst, _, _ = _instance(seed)
        plain = brute_force(dataclasses.replace(inst))
        if plain is None:
            continue
        _, free = _solve(inst, np.full((len(inst.site_xy), K), np.inf))
        assert free.status == "optimal"
        assert abs(free.values["coverage"] - plain[0]) < 1e-6
        assert abs(free.values["cost"] - plain[1]) < 1e-6
        _, tight = _solve(inst, np.full((len(inst.site_xy), K), 3.0))
        if tight.status == "optimal":
            assert tight.values["coverage"] < plain[0] - 1e-6


def test_cbc_backend_agrees():
    inst, capacity, rng = _instance(3)
    span = np.array([2.0, 1.0, np.inf])
    _, highs = _solve(inst, capacity, span=span)
    _, cbc = _solve(inst, capacity, span=span, backend="cbc")
    assert highs.status == cbc.status == "optimal"
    for key in ("coverage", "cost", "distance"):
        assert abs(highs.values[key] - cbc.values[key]) <= 1e-5 * max(1.0, abs(highs.values[key]))
