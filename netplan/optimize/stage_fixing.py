"""Fixing a finished stage for the next ones: its optimum as a row, within the stage tolerance,
and the site columns proven constant in every plan optimal so far."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from netplan.optimize.fixing import Fixings, prove_fixings
from netplan.optimize.model import StageObjective, TieredModel
from netplan.optimize.program import LinearProgram
from netplan.optimize.scaling import pow2_scale, stage_tolerance

# share of the time left that proving fixings may take
PROBING_SHARE = 0.25


def tolerance(value: float, scale: float = 1.0) -> float:
    """Slack allowed when a stage's optimum is fixed for the next stages.

    Parameters
    ----------
    value : float
        The stage optimum, in the user's units.
    scale : float
        The objective's scale (:func:`netplan.optimize.scaling.pow2_scale` of its coefficients): the
        tolerance is relative to the scaled objective, so it does not depend on the unit.
    """
    return stage_tolerance(value, scale)


def fix_row(
    c: np.ndarray, sense: str, value: float, offset: float
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """The row ``c·x + offset`` held at ``value`` within :func:`tolerance` (``>=`` when
    maximising, ``<=`` when minimising), as ``(row, lo, hi)``."""
    c = np.asarray(c, dtype=float)
    row = sp.csr_matrix(c.reshape(1, -1))
    rhs = value - offset
    slack = tolerance(value, pow2_scale(c))
    if sense == "max":
        return row, np.array([rhs - slack]), np.array([np.inf])
    return row, np.array([-np.inf]), np.array([rhs + slack])


def stage_value(objective: StageObjective, x: np.ndarray) -> float:
    """The objective's exact value at ``x`` (columns beyond either length ignored)."""
    return float(objective.c[: len(x)] @ x[: len(objective.c)] + objective.offset)


def is_better(value: float, best: float, sense: str, scale: float) -> bool:
    """``value`` beats ``best`` by more than the stage tolerance."""
    slack = tolerance(best, scale)
    return value < best - slack if sense == "min" else value > best + slack


def fix_columns(
    model: TieredModel,
    lp: LinearProgram,
    objective: StageObjective,
    value: float,
    x: np.ndarray,
    left: float | None,
    seconds: float,
) -> tuple[LinearProgram, Fixings]:
    """Bounds of site-tier columns proven constant in every plan optimal so far."""
    budget = seconds if left is None else min(seconds, PROBING_SHARE * max(left, 0.0))
    slack = tolerance(value, pow2_scale(objective.c))
    cutoff = value - slack if objective.sense == "max" else value + slack
    fixed = prove_fixings(
        lp.with_objective(objective.c, objective.sense, objective.offset),
        model.nx,
        x,
        cutoff,
        budget,
    )
    lp = lp.with_bounds(np.flatnonzero(fixed.zero), 0.0, 0.0).with_bounds(
        np.flatnonzero(fixed.one), 1.0, 1.0
    )
    return lp, fixed
