"""The tiered MILP against brute-force enumeration on small random instances.

Each instance has at most 8 sites, 3 tiers, linkage, a budget, policies (keep, may_close,
may_retier, may_retier_or_close), count rules, per-(tier, level) reach overrides and, for
min_cost, coverage targets (some per region). The enumerator in bruteforce.py shares no code
with the model; the whole lexicographic optimum (coverage, cost, distance, site rank) must
match, for both objectives, both backends, and both ways the tie-break stages run.
"""

from __future__ import annotations

import pytest

from netplan.optimize.lexicographic import solve_lexicographic
from netplan.optimize.model import TieredModel
from netplan.optimize.records import SolverOptions

from bruteforce import brute_force, random_instance

SEEDS = range(24)


def _values(result):
    v = result.values
    return v["coverage"], v["cost"], v["distance"], v["site_id"]


def _close(a, b):
    return all(abs(x - y) <= 1e-6 * max(1.0, abs(y)) for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("objective", ["max_coverage", "min_cost"])
@pytest.mark.parametrize("backend", ["highs", "cbc"])
def test_milp_equals_enumeration(objective, backend):
    feasible = 0
    for seed in SEEDS:
        inst = random_instance(seed, objective)
        expected = brute_force(inst)
        model = TieredModel(inst.problem())
        result = solve_lexicographic(model, objective, SolverOptions(backend=backend))
        if expected is None:
            assert result.status == "infeasible", (
                f"seed {seed}: enumeration finds no feasible plan, solver says {result.status}"
            )
            continue
        feasible += 1
        assert result.status == "optimal", f"seed {seed}: {result.status}"
        assert _close(_values(result), expected), (
            f"seed {seed}: solver {_values(result)} != enumeration {expected}"
        )
    assert feasible >= 20, "too few feasible instances to mean anything"


@pytest.mark.parametrize("objective", ["max_coverage", "min_cost"])
def test_distance_model_path_equals_enumeration(objective):
    """With listing of tied plans disabled, the distance model (truncated lists, overflow, re-solve) must give the same optimum."""
    used_distance_model = 0
    for seed in SEEDS:
        inst = random_instance(seed, objective)
        expected = brute_force(inst)
        if expected is None:
            continue
        result = solve_lexicographic(
            TieredModel(inst.problem()), objective, SolverOptions(), max_enumerated=0
        )
        assert result.status == "optimal"
        assert _close(_values(result), expected), f"seed {seed}: {_values(result)} != {expected}"
        used_distance_model += "distance_columns" in result.sizes
    assert used_distance_model >= 3, "the distance model path was hardly exercised"


def test_unmerged_model_gives_same_optimum():
    """Merging identical demand rows is exact: the unmerged model has the same optimum."""
    for seed in range(8):
        inst = random_instance(seed, "max_coverage")
        merged = solve_lexicographic(TieredModel(inst.problem()), "max_coverage", SolverOptions())
        plain_model = TieredModel(inst.problem(), merge_demand=False)
        plain = solve_lexicographic(plain_model, "max_coverage", SolverOptions())
        assert merged.status == plain.status
        if merged.status == "optimal":
            assert _close(_values(merged), _values(plain))
            assert plain_model.ny >= TieredModel(inst.problem()).ny


@pytest.mark.parametrize("objective", ["max_coverage", "min_cost"])
def test_without_tie_break_the_first_two_stages_match(objective):
    for seed in SEEDS:
        inst = random_instance(seed, objective)
        expected = brute_force(inst)
        result = solve_lexicographic(
            TieredModel(inst.problem()), objective, SolverOptions(), tie_break=False
        )
        if expected is None:
            assert result.status == "infeasible"
            continue
        assert result.status == "optimal"
        assert _close((result.values["coverage"], result.values["cost"]), expected[:2]), (
            f"seed {seed}"
        )
