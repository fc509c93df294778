"""The roadmap MILP (issue 25, first step) against brute force on instances small enough to
enumerate every roadmap: up to 5 sites, 2 tiers, 2-3 phases.

The enumerator shares no code with the model: it lists every tier sequence of every site,
keeps those that obey the transition rules (written here again, plainly), checks linkage and
money of every phase with numpy on raw coordinates, and ranks roadmaps by coverage-years, then
total cost, then years x distance to the nearest serving outlet, then site id.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from netplan.inputs.costs import SiteCosts
from netplan.optimize.problem import TieredProblem
from netplan.optimize.records import SolverOptions
from netplan.optimize.roadmap_greedy import greedy_roadmap
from netplan.optimize.roadmap_model import PhaseLimits, RoadmapModel, RoadmapProblem
from netplan.optimize.roadmap_solve import (
    coverage_years,
    phase_money,
    solve_final_first,
    solve_roadmap,
    transitions_broken,
)
from netplan.travel.coverage import build_coverage, linkage_pairs

K = 2
REACH = np.array([[6000.0, 6000.0], [np.nan, 2500.0]])
LINK = np.array([np.nan, 5000.0])


def instance(seed: int, n_phases: int, m: int):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(10, 18))
    dxy = rng.uniform(0, 10_000, (n, 2)).round()
    sxy = rng.uniform(0, 10_000, (m, 2)).round()
    current = np.full(m, -1)
    n_existing = int(rng.integers(1, 3))
    current[:n_existing] = rng.integers(0, K, n_existing)
    policy = np.array(["new"] * m, dtype=object)
    policy[:n_existing] = rng.choice(["keep", "may_close", "may_retier", "may_retier_or_close"], n_existing)
    allowed = rng.random((m, K)) < 0.7
    allowed[np.arange(m), rng.integers(0, K, m)] = True
    for j in range(n_existing):
        if policy[j] in ("keep", "may_close"):
            allowed[j] = False
        allowed[j, current[j]] = True
    costs = SiteCosts(
        open=rng.integers(2, 9, (m, K)) * np.array([100.0, 30.0]),
        operate=rng.integers(1, 4, (m, K)) * np.array([20.0, 6.0]),
        convert=rng.integers(1, 6, (m, K)) * 15.0,
        close=rng.integers(0, 40, m).astype(float),
        current_tier=current,
        horizon_years=1.0,
    )
    base = np.tile(rng.integers(1, 8, (n, 1)).astype(float), (1, K))
    cov = build_coverage(dxy, sxy, allowed, REACH, "planar")
    link = linkage_pairs(sxy, allowed, LINK, "planar")
    phases, limits = [], []
    for p in range(n_phases):
        growth = np.where(dxy[:, 0] > 5000, 1.0 + 0.3 * p, 1.0)[:, None]
        phases.append(
            TieredProblem(weights=base * growth, coverage=cov, allowed=allowed, policy=policy,
                          costs=costs, linkage=link, site_rank=np.arange(m))  # fmt: skip
        )
        years = float(rng.integers(1, 4))
        limits.append(
            PhaseLimits(f"P{p}", years, capex=float(rng.integers(100, 500)),
                        opex=float(rng.integers(80, 200)) if rng.random() < 0.4 else None,
                        total=float(rng.integers(300, 900)) if rng.random() < 0.3 else None)  # fmt: skip
        )
    carry = bool(rng.random() < 0.4)
    total = float(rng.integers(800, 2500)) if rng.random() < 0.4 else None
    return RoadmapProblem(phases, limits, carry_over=carry, budget_total=total), dxy, sxy


# ----------------------------------------------------------------- brute force
def site_sequences(j: int, prob: RoadmapProblem) -> list[tuple[int, ...]]:
    """Every tier sequence of site j over the phases that its policy and the transition rules allow."""
    first = prob.phases[0]
    cur, pol, allowed = int(first.costs.current_tier[j]), first.policy[j], first.allowed[j]
    tiers = [k for k in range(K) if allowed[k]]
    options = {"keep": [cur], "may_close": [cur, -1], "may_retier": tiers,
               "may_retier_or_close": tiers + [-1], "new": tiers + [-1]}[pol]  # fmt: skip
    out = []
    for seq in itertools.product(options, repeat=prob.n_phases):
        full = (cur, *seq)
        changes = sum(1 for a, b in itertools.pairwise(full) if a >= 0 and b >= 0 and a != b)
        if changes > 1:
            continue
        if cur < 0:
            if any(a >= 0 and b < 0 for a, b in itertools.pairwise(full)):
                continue  # a new outlet never closes
            if any(a >= 0 and b >= 0 and b > a for a, b in itertools.pairwise(full)):
                continue  # ... and moves up only (tier 0 is the highest)
        else:
            if any(a < 0 and b >= 0 for a, b in itertools.pairwise(full)):
                continue  # never reopens
            if any(a >= 0 and a != cur and b < 0 for a, b in itertools.pairwise(full)):
                continue  # no change of tier before closing
        out.append(seq)
    return out


def capacitated_phase(dd, t, weights, capacity):
    """(best coverage, least weight x distance at it) of one phase's network under capacities:
    two transportation LPs (scipy) over the in-reach (demand, level, site) pairs, every level
    loading the outlet; as tests/test_capacity_bruteforce.py, for this file's two tiers."""
    from scipy.optimize import linprog

    pairs = [(i, level, j) for level in range(K) for j in np.flatnonzero((t >= 0) & (t <= level))
             for i in range(len(dd)) if weights[i, level] > 0 and dd[i, j] <= REACH[t[j], level] + 1e-6]  # fmt: skip
    if not pairs:
        return 0.0, 0.0
    w = np.array([weights[i, lv] for i, lv, _ in pairs])
    dist = np.array([weights[i, lv] * dd[i, j] for i, lv, j in pairs])
    rows = [[1.0 if (p[0], p[1]) == key else 0.0 for p in pairs] for key in {(i, lv) for i, lv, _ in pairs}]
    rhs = [1.0] * len(rows)
    for j in np.flatnonzero(t >= 0):
        rows.append([w[v] if pairs[v][2] == j else 0.0 for v in range(len(pairs))])
        rhs.append(capacity[j, t[j]])
    A, b = np.array(rows), np.array(rhs)
    first = linprog(-w, A_ub=A, b_ub=b, bounds=(0, 1), method="highs")
    best = -first.fun
    second = linprog(dist, A_ub=np.vstack([A, -w]), b_ub=np.append(b, -(best - 1e-9 * max(1.0, best))),
                     bounds=(0, 1), method="highs")  # fmt: skip
    return best, second.fun


def brute_force(prob: RoadmapProblem, dxy, sxy, capacity=None, last_first=False, reach=REACH, link=LINK):
    """Best roadmap by enumeration; with ``capacity`` (m, K) each phase's coverage and least
    assigned distance come from :func:`capacitated_phase`; ``last_first`` ranks by the last
    phase's coverage before everything else (``final_first`` when its end state is out of reach)."""
    m = prob.phases[0].n_sites
    costs = prob.phases[0].costs
    dd = np.linalg.norm(dxy[:, None] - sxy[None], axis=2)
    ss = np.linalg.norm(sxy[:, None] - sxy[None], axis=2)
    best = None
    for combo in itertools.product(*[site_sequences(j, prob) for j in range(m)]):
        tiers = np.array(combo).T  # (P, m)
        ok, cov_years, total, spent, budget = True, 0.0, 0.0, 0.0, 0.0
        distance, rank, last_cov = 0.0, 0.0, 0.0
        before = costs.current_tier
        for t, lim, phase in zip(tiers, prob.limits, prob.phases, strict=True):
            # linkage: every open point (tier 1) has an open hub within 5 km
            hubs = t == 0
            for j in np.flatnonzero(t == 1):
                if not np.any(hubs & (ss[j] <= link[1])):
                    ok = False
            capex = 0.0
            for j in range(m):
                a, b = before[j], t[j]
                if b >= 0 and a < 0 and costs.current_tier[j] < 0:
                    capex += costs.open[j, b]
                elif b >= 0 and a >= 0 and a != b:
                    capex += costs.convert[j, b]
                elif b < 0 and a >= 0:
                    capex += costs.close[j]
            opex = sum(costs.operate[j, t[j]] for j in range(m) if t[j] >= 0)
            spent += capex
            budget += lim.capex
            if (prob.carry_over and spent > budget + 1e-9) or (not prob.carry_over and capex > lim.capex + 1e-9):
                ok = False
            if lim.opex is not None and opex > lim.opex + 1e-9:
                ok = False
            if lim.total is not None and capex + lim.years * opex > lim.total + 1e-9:
                ok = False
            total += capex + lim.years * opex
            if capacity is not None:
                found = capacitated_phase(dd, t, phase.weights, capacity)
                if found is None:
                    ok = False
                    break
                cov_years += lim.years * found[0]
                distance += lim.years * found[1]
                rank += lim.years * sum(j * K + t[j] + 1 for j in np.flatnonzero(t >= 0))
                before = t
                continue
            for level in range(K):
                serve = np.zeros(len(dxy), bool)
                nearest = np.full(len(dxy), np.inf)
                for j in np.flatnonzero(t >= 0):
                    if t[j] <= level:
                        near = dd[:, j] <= reach[t[j], level]
                        serve |= near
                        nearest[near] = np.minimum(nearest[near], dd[near, j])
                cov_years += lim.years * phase.weights[serve, level].sum()
                last_cov = (last_cov if level else 0.0) + phase.weights[serve, level].sum()
                distance += lim.years * (phase.weights[serve, level] * nearest[serve]).sum()
            # site-id tie-break: years x (site x K + tier + 1) of every open site-tier
            rank += lim.years * sum(j * K + t[j] + 1 for j in np.flatnonzero(t >= 0))
            before = t
        if prob.budget_total is not None and total > prob.budget_total + 1e-9:
            ok = False
        if not ok:
            continue
        key = (round(cov_years, 6), -round(total, 6), -round(distance, 4), -rank)
        if last_first:
            key = (round(last_cov, 6), *key)
        if best is None or key > best[0]:
            best = (key, tiers)
    return best


@pytest.mark.parametrize(("seed", "n_phases", "m"), [(s, 2, 5) for s in range(6)] + [(s, 3, 4) for s in range(6, 12)])
def test_roadmap_equals_brute_force(seed, n_phases, m):
    prob, dxy, sxy = instance(seed, n_phases, m)
    best = brute_force(prob, dxy, sxy)
    result = solve_roadmap(prob, SolverOptions(time_limit=60))
    if best is None:
        assert result.status == "infeasible", result.records[-1]
        return
    assert result.status == "optimal", [r.to_dict() for r in result.records]
    (cov, neg_cost, neg_distance, neg_rank), best_tiers = best
    assert result.values["coverage_years"] == pytest.approx(cov, abs=1e-6)
    assert result.values["cost"] == pytest.approx(-neg_cost, abs=1e-6)
    # the years-weighted distance and site-id tie-breaks, as the enumerator ranks them
    assert result.values["distance"] == pytest.approx(-neg_distance, abs=1e-3)
    assert result.values["site_id"] == pytest.approx(-neg_rank)
    assert result.tiers.tolist() == best_tiers.tolist()
    # the solver's roadmap obeys the rules as the enumerator reads them
    seqs = [set(site_sequences(j, prob)) for j in range(prob.phases[0].n_sites)]
    assert all(tuple(result.tiers[:, j]) in seqs[j] for j in range(len(seqs)))
    assert transitions_broken(prob, result.tiers) == []
    assert coverage_years(prob, result.tiers) == pytest.approx(cov)


def test_money_per_phase_is_paid_when_the_action_happens():
    """An outlet opened in phase 0 and upgraded in phase 1 pays open then convert; a closing
    existing outlet pays its closing cost in the phase it closes."""
    prob, _, _ = instance(3, 2, 4)
    costs = prob.phases[0].costs
    cur = costs.current_tier
    tiers = np.full((2, 4), -1)
    for j in range(4):
        if cur[j] >= 0:
            tiers[:, j] = cur[j]
    new = int(np.flatnonzero(cur < 0)[0])
    tiers[0, new], tiers[1, new] = 1, 0
    money = phase_money(prob, tiers)
    assert money[0]["capex"] == pytest.approx(costs.open[new, 1])
    assert money[1]["capex"] == pytest.approx(costs.convert[new, 0])
    years = prob.years
    assert money[1]["total"] == pytest.approx(money[1]["capex"] + years[1] * money[1]["opex_per_year"])
    assert transitions_broken(prob, tiers) == []
    tiers[1, new] = -1
    assert transitions_broken(prob, tiers) == [f"site {new}: a new outlet closes"]


def test_the_model_counts_its_transition_columns():
    prob, _, _ = instance(1, 3, 5)
    model = RoadmapModel(prob)
    new = int((prob.phases[0].costs.current_tier < 0).sum())
    assert (model.open_col >= 0).sum() == 3 * int(prob.phases[0].allowed[prob.phases[0].costs.current_tier < 0].sum())
    assert model.lp.n_cols == model.n_cols and new > 0


# ---------------------------------------------------------------- greedy order
def blocking_case(years: float = 2.0) -> RoadmapProblem:
    """One phase, capex 100: site A costs 10 and covers 20 people (2 per unit), sites B and C
    cost 50 each and cover 90 each (1.8 per unit). Greedy takes A first and can then afford
    only one of B and C (110 people); the exact roadmap opens B and C (180 people)."""
    cluster = lambda x, n: np.column_stack([np.full(n, x), np.zeros(n)])  # noqa: E731
    dxy = np.vstack([cluster(0.0, 2), cluster(10_000.0, 9), cluster(20_000.0, 9)])
    weights = np.zeros((20, K))
    weights[:, 1] = 10.0
    sxy = np.array([[50_000.0, 0.0], [0.0, 0.0], [10_000.0, 0.0], [20_000.0, 0.0]])  # hub, A, B, C
    allowed = np.array([[True, False], [False, True], [False, True], [False, True]])
    current = np.array([0, -1, -1, -1])
    policy = np.array(["keep", "new", "new", "new"], dtype=object)
    reach = np.array([[100.0, 100.0], [np.nan, 500.0]])
    link = np.array([np.nan, 60_000.0])
    costs = SiteCosts(
        open=np.array([[0.0, 0.0], [0.0, 10.0], [0.0, 50.0], [0.0, 50.0]]),
        operate=np.zeros((4, K)), convert=np.zeros((4, K)), close=np.zeros(4),
        current_tier=current, horizon_years=years,
    )  # fmt: skip
    phase = TieredProblem(
        weights=weights, coverage=build_coverage(dxy, sxy, allowed, reach, "planar"),
        allowed=allowed, policy=policy, costs=costs,
        linkage=linkage_pairs(sxy, allowed, link, "planar"), level_weights=np.array([0.0, 1.0]),
        site_rank=np.arange(4),
    )  # fmt: skip
    return RoadmapProblem([phase], [PhaseLimits("only", years, capex=100.0)])


def test_greedy_is_beaten_where_a_cheap_site_blocks_a_better_pair():
    prob = blocking_case(years=2.0)
    greedy = greedy_roadmap(prob)
    exact = solve_roadmap(prob, SolverOptions(time_limit=60))
    assert greedy.tiers.tolist() == [[0, 1, 1, -1]]  # A, then B; C no longer fits
    assert [s["sites"] for s in greedy.steps] == [[1], [2]]
    assert greedy.coverage_years == pytest.approx(2.0 * 110)
    assert exact.status == "optimal" and exact.tiers.tolist() == [[0, -1, 1, 1]]
    assert exact.values["coverage_years"] == pytest.approx(2.0 * 180)
    assert exact.values["coverage_years"] - greedy.coverage_years == pytest.approx(140.0)  # 63.6 % more


@pytest.mark.parametrize("seed", range(6, 12))
def test_greedy_obeys_the_rules_and_never_beats_the_exact_roadmap(seed):
    prob, _, _ = instance(seed, 3, 4)
    greedy = greedy_roadmap(prob)
    assert transitions_broken(prob, greedy.tiers) == []
    spent = 0.0
    for money, lim in zip(phase_money(prob, greedy.tiers), prob.limits, strict=True):
        spent += money["capex"]
        assert money["capex"] <= lim.capex + 1e-9 or prob.carry_over
        if lim.opex is not None and not greedy.problems:
            assert money["opex_per_year"] <= lim.opex + 1e-9
    if prob.carry_over:
        assert spent <= sum(lim.capex for lim in prob.limits) + 1e-9
    assert greedy.coverage_years == pytest.approx(coverage_years(prob, greedy.tiers))
    exact = solve_roadmap(prob, SolverOptions(time_limit=60))
    if exact.status == "optimal" and not greedy.problems:
        assert exact.values["coverage_years"] >= greedy.coverage_years - 1e-6


# -------------------------------------------------------- distance tie-break
def equal_sites_case(phase_years: tuple[float, ...]):
    """A keep hub far away and two new community sites that cost the same and reach the same
    two customers: site 0 is 900 m from them, site 1 only 100 m. One site fits the budget
    of the first phase; the second phase has no money."""
    dxy = np.array([[0.0, 0.0], [0.0, 200.0]])
    sxy = np.array([[900.0, 100.0], [100.0, 100.0], [30_000.0, 0.0]])  # far, near, hub
    allowed = np.array([[False, True], [False, True], [True, False]])
    current = np.array([-1, -1, 0])
    policy = np.array(["new", "new", "keep"], dtype=object)
    reach = np.array([[100.0, 100.0], [np.nan, 2_000.0]])
    costs = SiteCosts(
        open=np.array([[0.0, 40.0], [0.0, 40.0], [0.0, 0.0]]), operate=np.zeros((3, K)),
        convert=np.zeros((3, K)), close=np.zeros(3), current_tier=current, horizon_years=1.0,
    )  # fmt: skip
    phase = TieredProblem(
        weights=np.array([[3.0, 3.0], [5.0, 5.0]]),
        coverage=build_coverage(dxy, sxy, allowed, reach, "planar"), allowed=allowed,
        policy=policy, costs=costs, linkage=linkage_pairs(sxy, allowed, LINK * 10, "planar"),
        site_rank=np.arange(3),
    )  # fmt: skip
    limits = [PhaseLimits(f"P{p}", y, capex=50.0 if p == 0 else 0.0) for p, y in enumerate(phase_years)]
    return RoadmapProblem([phase] * len(phase_years), limits)


def test_distance_tie_break_prefers_the_nearer_of_two_equal_outlets_over_the_years():
    prob = equal_sites_case((1.0, 3.0))
    result = solve_roadmap(prob, SolverOptions(time_limit=60))
    assert result.status == "optimal", [r.to_dict() for r in result.records]
    assert [r.stage for r in result.records] == ["coverage_years", "cost", "distance", "site_id"]
    # site id alone would take site 0; the distance stage takes the nearer site 1
    assert result.tiers.tolist() == [[-1, 1, 0], [-1, 1, 0]]
    near = 3 * np.hypot(100, 100) + 5 * np.hypot(100, 100)  # both customers ~141 m away
    assert result.values["distance"] == pytest.approx((1.0 + 3.0) * near)
    # without the tie-breaks only the first two stages run
    short = solve_roadmap(prob, SolverOptions(time_limit=60), tie_break=False)
    assert [r.stage for r in short.records] == ["coverage_years", "cost"]


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_capacitated_roadmap_equals_brute_force(seed):
    """Capacities in every phase (multi-source, both levels load the outlet): the roadmap's
    coverage-years, cost and assigned distance equal enumeration with a transportation LP per
    phase; a phase's assignments stay within each open outlet's capacity."""
    import dataclasses

    prob, dxy, sxy = instance(seed, 2, 4)
    capacity = np.full((4, K), 12.0)
    prob.phases = [dataclasses.replace(p, capacity=capacity, capacity_levels=np.ones(K, bool))
                   for p in prob.phases]  # fmt: skip
    best = brute_force(prob, dxy, sxy, capacity=capacity)
    result = solve_roadmap(prob, SolverOptions(time_limit=60))
    if best is None:
        assert result.status == "infeasible"
        return
    assert result.status == "optimal", [r.to_dict() for r in result.records]
    (cov, neg_cost, neg_distance, _), _ = best
    assert result.values["coverage_years"] == pytest.approx(cov, abs=1e-5)
    assert result.values["cost"] == pytest.approx(-neg_cost, abs=1e-6)
    # within 1e-4 relative, as the single plan's test: coverage is fixed with the solver's
    # feasibility slack on the continuous assignments (1e-6 each), which the distance may use
    assert result.values["distance"] == pytest.approx(-neg_distance, rel=1e-4)
    # the capacities bind: the same network without them covers more
    assert result.values["coverage_years"] < coverage_years(prob, result.tiers) - 1.0
    # capacity holds in every phase, read from the solution's assignment columns
    model = RoadmapModel(prob)
    for p, mdl in enumerate(model.models):
        demand, _ = mdl.assignments(result.x[model.offsets[p] : model.offsets[p] + mdl.n_cols])
        load = demand.groupby("site")["load"].sum()
        assert (load <= 12.0 + 1e-6).all(), load
        assert set(load.index) <= set(np.flatnonzero(result.tiers[p] >= 0))


# ------------------------------------------------------------------ final_first
@pytest.mark.parametrize(("seed", "n_phases", "m"), [(s, 2, 5) for s in range(4)] + [(s, 3, 4) for s in (6, 8, 9, 10)])
def test_final_first_orders_the_best_end_state_and_never_beats_the_exact_roadmap(seed, n_phases, m):
    prob, dxy, sxy = instance(seed, n_phases, m)
    ff = solve_final_first(prob, SolverOptions(time_limit=60))
    exact = solve_roadmap(prob, SolverOptions(time_limit=60))
    if ff.status == "unreachable":  # no roadmap at all (the exact one is infeasible too)
        assert exact.status == "infeasible"
        return
    assert ff.status == "optimal", [r.to_dict() for r in ff.records]
    if ff.unreachable_end_coverage is not None:
        # the single-plan end state is out of reach: the roadmap whose last phase covers most,
        # then the most coverage-years, as enumeration ranks every roadmap
        assert any("cannot be reached within the phase budgets" in (r.message or "") for r in ff.records)
        assert [r.stage for r in ff.records if not r.stage.startswith("end_state")][-4:] == [
            "end_coverage", "coverage_years", "cost", "distance"] or ff.records[-1].stage == "site_id"  # fmt: skip
        best = brute_force(prob, dxy, sxy, last_first=True)
        assert ff.values["end_coverage"] == pytest.approx(best[0][0], abs=1e-6)
        assert ff.values["end_coverage"] <= ff.unreachable_end_coverage + 1e-6
        assert ff.values["coverage_years"] == pytest.approx(best[0][1], abs=1e-6)
        assert ff.tiers.tolist() == best[1].tolist()
        return
    assert ff.tiers[-1].tolist() == ff.end_tiers.tolist()
    # brute force among the roadmaps that end in that end state
    ending = [seq for seq in itertools.product(*[site_sequences(j, prob) for j in range(m)])
              if [s[-1] for s in seq] == ff.end_tiers.tolist()]  # fmt: skip
    assert ending
    best = brute_force_among(prob, dxy, sxy, ending)
    assert ff.values["coverage_years"] == pytest.approx(best[0][0], abs=1e-6)
    assert ff.values["coverage_years"] <= exact.values["coverage_years"] + 1e-6


def test_final_first_falls_back_to_the_best_reachable_end_state():
    """The single-plan end state (the 90 site covering 10 customers, under the summed capex of
    100) fits no phase's capex of 50: final_first says so and plans the roadmap whose last
    phase covers most among reachable ones (the two 40 sites, one a phase: 7 customers), then
    the most coverage-years; enumeration agrees."""
    dxy = np.array([[0.0, 0.0], [3000.0, 0.0], [1500.0, 0.0]])
    sxy = np.array([[0.0, 100.0], [3000.0, 100.0], [1500.0, 100.0], [30_000.0, 0.0]])
    allowed = np.array([[False, True], [False, True], [False, True], [True, False]])
    current = np.array([-1, -1, -1, 0])
    policy = np.array(["new", "new", "new", "keep"], dtype=object)
    reach = np.array([[100.0, 100.0], [np.nan, 1000.0]])
    costs = SiteCosts(
        open=np.array([[0.0, 40.0], [0.0, 40.0], [0.0, 90.0], [0.0, 0.0]]), operate=np.zeros((4, K)),
        convert=np.zeros((4, K)), close=np.zeros(4), current_tier=current, horizon_years=2.0,
    )  # fmt: skip
    phase = TieredProblem(
        weights=np.array([[3.0, 3.0], [4.0, 4.0], [10.0, 10.0]]),
        coverage=build_coverage(dxy, sxy, allowed, reach, "planar"), allowed=allowed,
        policy=policy, costs=costs, linkage=linkage_pairs(sxy, allowed, LINK * 10, "planar"),
        site_rank=np.arange(4),
    )  # fmt: skip
    prob = RoadmapProblem([phase, phase], [PhaseLimits("one", 1.0, capex=50.0), PhaseLimits("two", 1.0, capex=50.0)])
    ff = solve_final_first(prob, SolverOptions(time_limit=60))
    assert ff.status == "optimal", [r.to_dict() for r in ff.records]
    assert ff.unreachable_end_coverage == pytest.approx(10.0)  # what the single plan would cover
    assert ff.values["end_coverage"] == pytest.approx(7.0)
    # one 40 site in the first phase (the larger, 4 customers), the other in the second
    assert ff.tiers.tolist() == [[-1, 1, -1, 0], [1, 1, -1, 0]]
    assert ff.values["coverage_years"] == pytest.approx(4.0 + 7.0)
    best = brute_force(prob, dxy, sxy, last_first=True, reach=reach, link=LINK * 10)
    assert best[0][:2] == (pytest.approx(7.0), pytest.approx(11.0)) and best[1].tolist() == ff.tiers.tolist()


def brute_force_among(prob, dxy, sxy, combos):
    """brute_force restricted to the given site sequences."""
    original = site_sequences

    def only(j, p):
        return sorted({c[j] for c in combos})

    globals()["site_sequences"] = only
    try:
        found = brute_force(prob, dxy, sxy)
    finally:
        globals()["site_sequences"] = original
    allowed = {tuple(c) for c in combos}
    assert found is None or tuple(map(tuple, found[1].T)) in allowed
    return found


@pytest.mark.parametrize("seed", range(6))
def test_greedy_repairs_todays_broken_rules_before_it_adds(seed):
    """Today's network may break a rule (an outlet without support): greedy first repairs it
    (opening or re-tiering before closing), then every phase's network keeps every rule of the
    phase model, or the phase is reported."""
    from netplan.optimize.model import TieredModel
    from netplan.optimize.roadmap_greedy import _violation
    from netplan.optimize.roadmap_model import without_budget

    prob, _, _ = instance(seed, 2, 5)
    greedy = greedy_roadmap(prob)
    for p, (phase, lim) in enumerate(zip(prob.phases, prob.limits, strict=True)):
        broken = _violation(TieredModel(without_budget(phase)), greedy.tiers[p]) > 1e-9
        assert broken == any(lim.name in problem for problem in greedy.problems)
    exact = solve_roadmap(prob, SolverOptions(time_limit=60))
    if exact.status == "optimal" and not greedy.problems:
        assert exact.values["coverage_years"] >= greedy.coverage_years - 1e-6
    if seed == 1:  # two points without a hub today: re-tier one into the hub, close the other
        assert [s["tiers_after"] for s in greedy.steps if s.get("repair")] == [[0], [-1]]
        assert greedy.coverage_years == pytest.approx(exact.values["coverage_years"])


@pytest.mark.parametrize("seed", range(6, 12))
def test_a_roadmap_as_columns_keeps_every_row_and_starts_the_solve(seed):
    """x_from_phase_tiers of the exact roadmap keeps every row of the program (transitions at
    their least values); the greedy roadmap, where feasible, is accepted as a start and the
    optimum is unchanged."""
    prob, _, _ = instance(seed, 3, 4)
    exact = solve_roadmap(prob, SolverOptions(time_limit=60))
    if exact.status != "optimal":
        return
    model = RoadmapModel(prob)
    x = model.x_from_phase_tiers(exact.tiers)
    assert model.lp.max_violation(x) <= 1e-9
    cost = model.cost_objective()
    assert cost.c @ x == pytest.approx(exact.values["cost"])
    greedy = greedy_roadmap(prob)
    started = solve_roadmap(prob, SolverOptions(time_limit=60), start_tiers=greedy.tiers)
    assert started.values["coverage_years"] == pytest.approx(exact.values["coverage_years"])
    assert started.values["cost"] == pytest.approx(exact.values["cost"])


# ------------------------------------------------------------------- min_cost
def brute_force_min_cost(prob: RoadmapProblem, dxy, sxy):
    """Least total cost over roadmaps meeting every phase's targets (share of the demand some
    allowed site could reach), then most coverage-years; plain loops, as brute_force."""
    m = prob.phases[0].n_sites
    costs = prob.phases[0].costs
    dd = np.linalg.norm(dxy[:, None] - sxy[None], axis=2)
    ss = np.linalg.norm(sxy[:, None] - sxy[None], axis=2)
    allowed = prob.phases[0].allowed
    reachable = np.zeros((len(dxy), K), bool)
    for level in range(K):
        for j in range(m):
            for k in range(level + 1):
                if allowed[j, k]:
                    reachable[:, level] |= dd[:, j] <= REACH[k, level]
    best = None
    for combo in itertools.product(*[site_sequences(j, prob) for j in range(m)]):
        tiers = np.array(combo).T
        ok, cov_years, total, before = True, 0.0, 0.0, costs.current_tier
        for t, lim, phase in zip(tiers, prob.limits, prob.phases, strict=True):
            if any(not np.any((t == 0) & (ss[j] <= LINK[1])) for j in np.flatnonzero(t == 1)):
                ok = False
            capex = sum(costs.open[j, t[j]] if t[j] >= 0 and before[j] < 0 else
                        costs.convert[j, t[j]] if t[j] >= 0 and before[j] >= 0 and before[j] != t[j] else
                        costs.close[j] if t[j] < 0 and before[j] >= 0 else 0.0 for j in range(m))  # fmt: skip
            if capex > lim.capex + 1e-9:
                ok = False
            opex = sum(costs.operate[j, t[j]] for j in range(m) if t[j] >= 0)
            total += capex + lim.years * opex
            for level in range(K):
                serve = np.zeros(len(dxy), bool)
                for j in np.flatnonzero((t >= 0) & (t <= level)):
                    serve |= dd[:, j] <= REACH[t[j], level]
                covered = phase.weights[serve, level].sum()
                cov_years += lim.years * covered
                share = phase.targets[level]
                if np.isfinite(share) and covered < share * phase.weights[reachable[:, level], level].sum() - 1e-9:
                    ok = False
            before = t
        if ok:
            key = (-round(total, 6), round(cov_years, 6))
            if best is None or key > best[0]:
                best = (key, tiers)
    return best


@pytest.mark.parametrize("seed", [0, 2, 3, 8, 9, 10])
def test_min_cost_roadmap_meets_every_phase_target_at_least_cost(seed):
    import dataclasses

    n_phases, m = (2, 5) if seed < 6 else (3, 4)
    prob, dxy, sxy = instance(seed, n_phases, m)
    shares = [0.3, 0.5, 0.6][:n_phases]
    prob.phases = [
        dataclasses.replace(ph, objective="min_cost", targets=np.array([np.nan, share]))
        for ph, share in zip(prob.phases, shares, strict=True)
    ]
    best = brute_force_min_cost(prob, dxy, sxy)
    result = solve_roadmap(prob, SolverOptions(time_limit=60))
    if best is None:
        assert result.status == "infeasible"
        return
    assert result.status == "optimal", [r.to_dict() for r in result.records]
    assert [r.stage for r in result.records][:2] == ["cost", "coverage_years"]
    (neg_cost, cov), _ = best
    assert result.values["cost"] == pytest.approx(-neg_cost, abs=1e-6)
    assert result.values["coverage_years"] == pytest.approx(cov, abs=1e-6)


# ------------------------------------------------------------ why no roadmap
def test_an_infeasible_roadmap_is_explained_by_the_smallest_money_relaxation():
    """Seed 4 has no roadmap: the first phase cannot pay for what linkage and the later
    phases need. The elastic re-solve names that phase's capex and the amount, and the amount
    is exact: with it the roadmap exists, with 1 less it does not (costs are whole numbers)."""
    import dataclasses

    from netplan.optimize.roadmap_infeasibility import explain_roadmap_infeasible

    prob, _, _ = instance(4, 2, 5)
    assert solve_roadmap(prob, SolverOptions(time_limit=60)).status == "infeasible"
    text = explain_roadmap_infeasible(RoadmapModel(prob), ["hub", "point"], [])
    assert text == (
        "no feasible roadmap; the smallest relaxation that makes one possible: phases[0] ('P0')"
        ".budget.capex: the other rules need 281 more (236 % above 119); raise it or relax the "
        "rules that force the spending"
    )
    for extra, status in ((281.0, "optimal"), (280.0, "infeasible")):
        limits = [dataclasses.replace(prob.limits[0], capex=119.0 + extra), prob.limits[1]]
        again = solve_roadmap(dataclasses.replace(prob, limits=limits), SolverOptions(time_limit=60))
        assert again.status == status, (extra, again.status)
    # seed 7 breaks no money row: the transition rules, policies or linkage are the obstacle
    prob, _, _ = instance(7, 3, 4)
    assert explain_roadmap_infeasible(RoadmapModel(prob), ["hub", "point"], []).startswith(
        "no feasible roadmap even with unlimited budgets, counts and targets: the transition rules"
    )
