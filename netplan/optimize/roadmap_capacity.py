"""Capacitated coverage of a roadmap's phases: from a solution's assignment columns, or, for a
network given by its tiers alone (the greedy order), from the best assignment of that network.

Under capacities a customer is covered only by its assigned share (covered = assigned), so the
coverage of a phase depends on the assignments, not the tiers alone. The exact roadmap carries
its assignments (:attr:`~netplan.optimize.roadmap_solve.RoadmapResult.x`); a network without
them gets its best ones by :func:`best_assignment`: the phase's model with every site-tier
column fixed, coverage maximised (a transportation LP, or a MIP under single sourcing).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from netplan.optimize.model import TieredModel
from netplan.optimize.records import SolverOptions
from netplan.optimize.roadmap_model import RoadmapModel
from netplan.optimize.scaling import solve_scaled


def phase_part(model: RoadmapModel, x: np.ndarray, p: int) -> np.ndarray:
    """Phase ``p``'s columns of a roadmap solution, in its own model's order."""
    mdl = model.models[p]
    return x[model.offsets[p] : model.offsets[p] + mdl.n_cols]


def best_assignment(
    mdl: TieredModel, tiers: np.ndarray, options: SolverOptions | None = None
) -> np.ndarray | None:
    """The phase model's columns with the network ``tiers`` fixed and its coverage maximised;
    None when no assignment keeps the phase's rules (e.g. a minimum utilisation).

    Parameters
    ----------
    mdl : TieredModel
        One phase's model (with capacity or span columns).
    tiers : ndarray (m,)
    options : SolverOptions, optional
    """
    on = np.zeros(mdl.nx, dtype=bool)
    chosen = tiers[mdl.x_site] == mdl.x_tier
    on[chosen] = True
    cols = np.arange(mdl.nx)
    lp = mdl.lp.with_bounds(cols[on], 1.0, 1.0).with_bounds(cols[~on], 0.0, 0.0)
    obj = mdl.coverage_objective()
    # presolve off, as for every assignment model (lexicographic._solve_with_assignments)
    options = dataclasses.replace(options or SolverOptions(), highs_presolve=False)
    x, record = solve_scaled(lp.with_objective(obj.c, obj.sense, obj.offset), options)
    if x is None or record.status != "optimal":
        return None
    return np.where(lp.integer, np.round(x), x)


def covered_weights(
    model: RoadmapModel, tiers: np.ndarray, x: np.ndarray | None = None
) -> tuple[np.ndarray, list[int]]:
    """(P, K) covered demand weight per phase and level under capacities, and the phases whose
    network no assignment fits (their row is NaN).

    ``x``: a roadmap solution whose assignments are used; without it each phase's best
    assignment of its network (:func:`best_assignment`).
    """
    out = np.full((model.P, model.K), np.nan)
    failed = []
    for p, mdl in enumerate(model.models):
        part = phase_part(model, x, p) if x is not None else best_assignment(mdl, tiers[p])
        if part is None:
            failed.append(p)
            continue
        out[p] = mdl.covered_by_level(part)
    return out, failed


def coverage_years_assigned(model: RoadmapModel, covered: np.ndarray) -> float:
    """Sum over phases of years × level-weighted covered weight (rows of :func:`covered_weights`)."""
    total = 0.0
    for p, mdl in enumerate(model.models):
        total += model.problem.years[p] * float(np.nansum(mdl.problem.lw() * covered[p]))
    return total


