"""Why no plan exists: the smallest violations of the soft rules, from an elastic re-solve.

When the tiered model is infeasible, the budget rows, count rules, coverage targets and the
overlap caps of ``siting.overlap`` get non-negative slack columns, each priced by the inverse
of its rule's scale (the budget, the count, the coverable demand), and the model is re-solved minimising the total relative
slack. The rules whose slack is positive in that optimum are reported with the amounts —
e.g. "objective.targets.community: the community-level target is short by 1.8 % of
coverable demand (412 customers)". If even the elastic model is infeasible the conflict is
structural (policies, linkage, capacities), and the message says so.

Spacing rules (:mod:`netplan.optimize.spacing`) are not priced against the others: with them
the explanation also solves the model with slack on the spacing rows alone (every other rule
held), and when that has a plan it names each spacing rule that must give way and by how
many outlets — a target the spacing makes unreachable is named as such.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.sparse as sp

from netplan.optimize.model import TieredModel
from netplan.optimize.overlap import cap_row_offset
from netplan.optimize.program import LinearProgram
from netplan.optimize.records import SolverOptions
from netplan.optimize.solver import solve

ELASTIC_SECONDS = 30.0
SLACK_REPORTED = 1e-6


@dataclasses.dataclass
class _Slack:
    row: int
    sign: float  # +1: the slack raises the row activity (a lower bound is short); -1: lowers it
    scale: float
    label: str
    kind: str  # budget, min, max, target
    info: tuple = ()


def _slacks(model: TieredModel, tier_keys: list[str], region_names: list[str]) -> list[_Slack]:
    out: list[_Slack] = []
    first, _ = model.row_blocks["budget"]
    for r, (key, limit, _) in enumerate(model.budget_rows):
        out.append(_Slack(first + r, -1.0, max(1.0, abs(limit)), key, "budget", (limit,)))
    first, _ = model.row_blocks["counts"]
    for r, rule in enumerate(model.problem.counts):
        label = rule.label or "count rule"
        if rule.lo > 0:
            out.append(_Slack(first + r, 1.0, max(1.0, rule.lo), label, "min", (rule.lo,)))
        if np.isfinite(rule.hi):
            out.append(_Slack(first + r, -1.0, max(1.0, rule.hi), label, "max", (rule.hi,)))
    first, _ = model.row_blocks["targets"]
    for r, (region, level, share) in enumerate(model.target_rows):
        coverable = model.coverable_weight(level, region)
        key = tier_keys[level]
        label = (
            f"objective.targets.{key}"
            if region is None
            else f"objective.region_targets.{region_names[region]}.{key}"
        )
        out.append(
            _Slack(first + r, 1.0, max(1.0, coverable), label, "target", (key, coverable, share))
        )
    first = cap_row_offset(model) if model.overlap.caps else 0
    for r, (cap, _, _) in enumerate(model.overlap.caps):
        coverable = model.coverable_weight(cap.level)
        key = tier_keys[cap.level]
        out.append(
            _Slack(
                first + r, -1.0, max(1.0, coverable), f"siting.overlap.{key}", "overlap",
                (key, coverable, cap.max_share),
            )
        )  # fmt: skip
    return out


def elastic_program(model: TieredModel, slacks: list[_Slack]) -> LinearProgram:
    """The model with one priced slack column per soft rule (and no other objective)."""
    lp = model.lp
    k = len(slacks)
    S = sp.csr_matrix(
        ([s.sign for s in slacks], ([s.row for s in slacks], np.arange(k))), shape=(lp.n_rows, k)
    )
    c = np.concatenate([np.zeros(lp.n_cols), [1.0 / s.scale for s in slacks]])
    return LinearProgram(
        c=c,
        lb=np.concatenate([lp.lb, np.zeros(k)]),
        ub=np.concatenate([lp.ub, np.full(k, np.inf)]),
        integer=np.concatenate([lp.integer, np.zeros(k, dtype=bool)]),
        A=sp.hstack([lp.A, S], format="csr"),
        row_lo=lp.row_lo,
        row_hi=lp.row_hi,
        sense="min",
    )


def explain_infeasible(
    model: TieredModel,
    tier_keys: list[str],
    region_names: list[str],
    options: SolverOptions | None = None,
) -> str | None:
    """One line per rule that must give way, with by how much; None if it cannot tell.

    Parameters
    ----------
    model : TieredModel
        The infeasible model.
    tier_keys, region_names : list of str
        For the messages.
    options : SolverOptions, optional
        Backend and threads; the elastic solve gets at most ``ELASTIC_SECONDS``.
    """
    slacks = _slacks(model, tier_keys, region_names)
    options = dataclasses.replace(options or SolverOptions(), time_limit=ELASTIC_SECONDS)
    if not slacks:
        spacing = _spacing_lines(model, tier_keys, options)
        return "no feasible plan; " + spacing if spacing else None
    x, record = solve(elastic_program(model, slacks), options)
    if x is None:
        spacing = (
            _spacing_lines(model, tier_keys, options) if record.status == "infeasible" else None
        )
        if spacing:
            return "no feasible plan; " + spacing
        if record.status == "infeasible":
            return (
                "no feasible plan even with unlimited budget, counts and targets: the policies, linkage, "
                "capacities or span of control contradict each other; check keep / may_retier outlets "
                "and the linkage reach"
            )
        return None
    lines = slack_lines(slacks, x[model.lp.n_cols :])
    spacing = _spacing_lines(model, tier_keys, options)
    if not lines:
        if spacing:
            return "no feasible plan; " + spacing
        return None
    if record.status != "optimal":
        lines.append(
            f"(smallest violations not proven: the elastic solve stopped with status {record.status})"
        )
    # one line: the CLI prints one error line per problem, and this is one problem
    text = "no feasible plan; the smallest relaxation that makes one possible: " + "; and ".join(
        lines
    )
    return text + ("; or, with all of those kept: " + spacing if spacing else "")


def slack_lines(slacks: list[_Slack], values: np.ndarray) -> list[str]:
    """One message per soft rule whose slack in the elastic optimum is positive."""
    lines = []
    for slack, amount in zip(slacks, values, strict=True):
        if amount <= SLACK_REPORTED * slack.scale:
            continue
        if slack.kind == "budget":
            (limit,) = slack.info
            lines.append(
                f"{slack.label}: the other rules need {_money(amount)} more "
                f"({100 * amount / max(limit, 1e-9):.3g} % above {_money(limit)}); raise it or "
                "relax the rules that force the spending"
            )
        elif slack.kind == "min":
            (lo,) = slack.info
            lines.append(
                f"{slack.label}: at least {lo:.0f} is asked but only {lo - amount:.0f} fit the other rules "
                f"(short by {amount:.0f}); lower the minimum or raise the budget"
            )
        elif slack.kind == "max":
            (hi,) = slack.info
            lines.append(
                f"{slack.label}: at most {hi:.0f} is allowed but the other rules need {hi + amount:.0f} "
                f"(over by {amount:.0f}); raise the maximum"
            )
        elif slack.kind == "overlap":
            key, coverable, share = slack.info
            lines.append(
                f"{slack.label}: the other rules need {amount:,.0f} more {key}-level demand within reach "
                f"of 2+ outlets than max_share {share:g} allows ({100 * amount / max(coverable, 1e-9):.1f} % "
                "of coverable demand); raise max_share or relax what forces the overlap (targets, keep outlets)"
            )
        else:
            key, coverable, share = slack.info
            pct = 100 * amount / max(coverable, 1e-9)
            lines.append(
                f"{slack.label}: the {key}-level target ({100 * share:.1f} %) is short by {pct:.1f} % of coverable "
                f"demand ({amount:,.0f} customers); lower the target or raise the budget"
            )
    return lines


def _spacing_lines(model: TieredModel, tier_keys: list[str], options: SolverOptions) -> str | None:
    """The spacing rules that must give way for every other rule to hold, or None.

    The model with one slack column per spacing row (priced 1: one outlet too many in a
    clique of mutually close sites) and every other rule hard; None without spacing rows,
    or when even that model has no plan (spacing is not the obstacle)."""
    first, end = model.row_blocks.get("spacing", (0, 0))
    if end == first:
        return None
    slacks, r = [], first
    for rule in model.problem.spacing:
        for _ in rule.cliques:
            slacks.append(_Slack(r, -1.0, 1.0, rule.label, "spacing", (rule,)))
            r += 1
    x, record = solve(elastic_program(model, slacks), options)
    if x is None:
        return None
    values = x[model.lp.n_cols :]
    over: dict[str, float] = {}
    rules = {}
    for slack, amount in zip(slacks, values, strict=True):
        if amount > 0.5:
            over[slack.label] = over.get(slack.label, 0.0) + amount
            rules[slack.label] = slack.info[0]
    if not over:
        return None
    parts = []
    for label, amount in over.items():
        rule = rules[label]
        parts.append(
            f"{label} (no two {'/'.join(tier_keys[t] for t in rule.tiers)} outlets closer than {rule.text}) stands in the way: "
            f"the other rules (targets, counts, keep outlets) need {amount:.0f} more outlet(s) closer than "
            f"{rule.text} to one another; lower its min, set between_existing: exempt, or relax the targets"
        )
    return "; and ".join(parts)


def _money(value: float) -> str:
    """Whole units with thousands separators, or 4 significant digits below 1 000 (a budget of
    299.9 short by 0.1 must not read "need 0 more ... above 300")."""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"
