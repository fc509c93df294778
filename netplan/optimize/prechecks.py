"""Checks that need the inputs and their coverage but no solver: run by ``validate`` and ``run``.

They catch scenarios that can never be planned, with the reason and the fix, before any
time is spent solving.
"""

from __future__ import annotations

import numpy as np

from netplan._errors import InfeasiblePlanError
from netplan.travel.coverage import Pairs
from netplan.travel.units import format_distance


def unsupportable_keep_outlets(
    linkage: list[Pairs | None], allowed: np.ndarray, current: np.ndarray, policy: np.ndarray
) -> list[int]:
    """Positions of ``keep`` outlets whose tier needs support that no site could ever give."""
    bad = []
    for k, pairs in enumerate(linkage):
        if pairs is None or k == 0:
            continue
        keep = np.flatnonzero((policy == "keep") & (current == k))
        if not len(keep):
            continue
        supported = np.zeros(len(current), dtype=bool)
        others = pairs.demand != pairs.site
        supported[pairs.demand[others]] = True
        bad += [int(j) for j in keep if not supported[j]]
    return bad


def check_prepared(prep) -> None:
    """Raise :class:`InfeasiblePlanError` for rules no plan can satisfy, naming the culprit and the fix.

    Checks: a ``keep`` outlet that no higher tier can ever support; a total budget below
    the cost of the outlets that must stay open; two ``keep`` outlets closer than an enforced
    spacing rule (``between_existing: enforce``) while both tiers are the rule's.
    """
    inputs, scenario = prep.inputs, prep.scenario
    problems = []
    sites = inputs.sites
    for j in unsupportable_keep_outlets(
        prep.linkage, inputs.allowed, inputs.current_tier, inputs.policies
    ):
        k = int(inputs.current_tier[j])
        reach = scenario.linkage_reach[k]
        problems.append(
            f"outlet '{sites['site_id'].iloc[j]}' ({scenario.tier_keys[k]}, policy keep) can never be supported: no site that may host a "
            f"higher tier lies within its linkage reach of {format_distance(reach)}; allow a higher tier nearby, raise tiers[{k}].linkage, "
            "or change its policy"
        )
    problems += enforced_keep_pairs(prep)
    factor = scenario.budget_factor_of_baseline()
    total = prep.baseline_cost * factor if factor is not None else scenario.budget.total
    if total is not None:
        costs = inputs.costs.total()
        keep = np.flatnonzero(inputs.policies == "keep")
        retier = np.flatnonzero(inputs.policies == "may_retier")
        must = float(costs[keep, inputs.current_tier[keep]].sum())
        must += (
            float(np.where(inputs.allowed[retier], costs[retier], np.inf).min(axis=1).sum())
            if len(retier)
            else 0.0
        )
        if must > float(total) + 1e-9:
            problems.append(
                f"budget.total {float(total):,.0f} is below the {must:,.0f} that the outlets which must stay open cost "
                f"(short by {must - float(total):,.0f}); raise the budget or let some of them close (policy may_close)"
            )
    if problems:
        raise InfeasiblePlanError("\n".join(problems))


def enforced_keep_pairs(prep) -> list[str]:
    """One line per pair of ``keep`` outlets an enforced spacing rule forbids (they stay open
    at tiers of the rule, closer than its ``min``)."""
    inputs, scenario = prep.inputs, prep.scenario
    keys = scenario.tier_keys
    ids = inputs.sites["site_id"].astype(str).to_numpy()
    current = inputs.current_tier
    fixed = np.where(inputs.policies == "keep", current, -1)
    lines = []
    for rule in getattr(prep, "spacing", []):
        if not rule.enforce or not rule.n_pairs:
            continue
        in_t = np.isin(fixed, rule.tiers) & (fixed >= 0)
        both = in_t[rule.a] & in_t[rule.b]
        for a, b, d in zip(rule.a[both], rule.b[both], rule.dist[both], strict=True):
            apart = format_distance(d) if scenario.unit == "m" else f"{d:.1f} min"
            lines.append(
                f"{rule.label} ({', '.join(keys[t] for t in rule.tiers)} at least {rule.text} apart, "
                f"between_existing: enforce): keep outlets '{ids[a]}' ({keys[fixed[a]]}) and '{ids[b]}' "
                f"({keys[fixed[b]]}) are {apart} apart; set between_existing: exempt or let one of them "
                "close (policy may_close)"
            )
    return lines
