"""Why no roadmap exists: the smallest violations of the money rows and of every phase's rules.

The single plan's elastic re-solve (:mod:`netplan.optimize.infeasibility`) on the roadmap
program: each money row (a phase's capex, opex and total, the roadmap's budget) and each
phase's count rules, coverage targets and overlap caps gets a non-negative slack priced by the
inverse of its scale, and the program is re-solved minimising the total relative slack. The
rules with positive slack are named with the phase and the amount, e.g.
"phases[0] ('2027 pilot').budget.capex: the other rules need EUR 120,000 more (8 % above
EUR 1,500,000)". When even the elastic program has no roadmap the transition rules, policies
or linkage contradict each other, and the message says so.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from netplan.optimize.infeasibility import (
    ELASTIC_SECONDS,
    _Slack,
    _slacks,
    elastic_program,
    slack_lines,
)
from netplan.optimize.records import SolverOptions
from netplan.optimize.roadmap_model import RoadmapModel
from netplan.optimize.solver import solve


def explain_roadmap_infeasible(
    model: RoadmapModel,
    tier_keys: list[str],
    region_names: list[str],
    options: SolverOptions | None = None,
    target_keys: list[str] | None = None,
) -> str | None:
    """One line naming each rule that must give way, with the phase and by how much.

    Parameters
    ----------
    model : RoadmapModel
        The infeasible roadmap program.
    tier_keys, region_names : list of str
        For the messages.
    options : SolverOptions, optional
        Backend and threads; the elastic solve gets at most ``ELASTIC_SECONDS``.
    target_keys : list of str, optional
        Per phase, the scenario key its targets come from (``phases[1].targets`` or, for the
        last phase without its own, ``objective.targets``); default ``objective.targets``.

    Returns
    -------
    str or None
        None when the elastic solve stops without an answer.
    """
    slacks: list[_Slack] = []
    row = 0
    for p, (lim, mdl) in enumerate(zip(model.problem.limits, model.models, strict=True)):
        where = f"phases[{p}] ({lim.name!r})"
        source = target_keys[p] if target_keys else "objective.targets"
        for slack in _slacks(mdl, tier_keys, region_names):
            label = slack.label.replace("objective.targets", source, 1)
            slacks.append(
                dataclasses.replace(slack, row=row + slack.row, label=f"{label} in {where}")
            )
        row += mdl.lp.n_rows
    first_money = model.lp.n_rows - len(model.money_rows)
    for r, (label, limit) in enumerate(model.money_rows):
        slacks.append(
            _Slack(first_money + r, -1.0, max(1.0, abs(limit)), label, "budget", (limit,))
        )
    options = dataclasses.replace(options or SolverOptions(), time_limit=ELASTIC_SECONDS)
    x, record = solve(elastic_program(model, slacks), options)
    if x is None:
        if record.status == "infeasible":
            return (
                "no feasible roadmap even with unlimited budgets, counts and targets: the transition "
                "rules (a new outlet stays open, one change of tier, no reopening), the policies or "
                "the linkage contradict each other; check keep / may_retier outlets and the linkage reach"
            )
        return None
    lines = slack_lines(slacks, np.asarray(x[model.lp.n_cols :]))
    if not lines:
        return None
    if record.status != "optimal":
        lines.append(
            f"(smallest violations not proven: the elastic solve stopped with status {record.status})"
        )
    return "no feasible roadmap; the smallest relaxation that makes one possible: " + "; and ".join(
        lines
    )
