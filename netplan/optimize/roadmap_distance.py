"""The roadmap's distance tie-break: years × distance to the nearest serving outlet, per phase.

Among roadmaps equal in coverage-years and total cost, the one whose customers are nearer
their outlets over the years wins: ``sum_p years_p × sum_{i, level} w_p[i, level] ×
dist(i, nearest open serving outlet of phase p)``, over covered demand. It is the single
plan's distance stage (:mod:`netplan.optimize.assignment`) once per phase: each phase gets its
own truncated, aggregated nearest-outlet lists on its own columns, placed after the roadmap's;
the lists are lengthened until no covered point overflows, so the optimum is exact (the
argument of :mod:`~netplan.optimize.assignment` holds phase by phase, and the phases only
add up). :class:`RoadmapAsPlan` gives the roadmap the interface the single plan's
:func:`~netplan.optimize.tie_stages.solve_with_distance` uses, so the rounds are shared code.

Under capacities a phase's distance is the weight × distance of its capacity assignments
(those columns are in the phase model already), as in the single plan.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from netplan.optimize.assignment import NearestAssignment
from netplan.optimize.fixing import Fixings, prove_fixings
from netplan.optimize.model import StageObjective
from netplan.optimize.program import LinearProgram
from netplan.optimize.roadmap_model import RoadmapModel
from netplan.optimize.scaling import pow2_scale
from netplan.optimize.stage_fixing import PROBING_SHARE, tolerance

PROBING_SECONDS = 20.0  # as the single plan's, before the distance model


def _place(A: sp.spmatrix, n_local: int, offset: int, new_start: int, n_cols: int) -> sp.csr_matrix:
    """Columns of a phase block moved into the roadmap: phase columns by ``offset``, the
    block's new columns to ``new_start`` onwards."""
    coo = A.tocoo()
    col = np.where(coo.col < n_local, coo.col + offset, new_start + coo.col - n_local)
    return sp.csr_matrix((coo.data, (coo.row, col)), shape=(A.shape[0], n_cols))


class RoadmapNearest:
    """One :class:`~netplan.optimize.assignment.NearestAssignment` per phase, years-weighted.

    ``possible`` and ``sure`` (one (m, K) array per phase, from :func:`fix_site_tiers`) shorten
    the lists as in the single plan.
    """

    def __init__(
        self,
        model: RoadmapModel,
        possible: list[np.ndarray] | None = None,
        sure: list[np.ndarray] | None = None,
    ):
        self.model = model
        n = len(model.models)
        possible = possible or [None] * n
        sure = sure or [None] * n
        self.parts = [
            NearestAssignment(mdl, pos, sur)
            for mdl, pos, sur in zip(model.models, possible, sure, strict=True)
        ]

    @property
    def rounds(self) -> int:
        return max(part.rounds for part in self.parts)

    def seed(self, tiers: np.ndarray) -> None:
        for part, t in zip(self.parts, tiers, strict=True):
            part.seed(t)

    def overflowing(self, tiers: np.ndarray) -> int:
        return sum(part.overflowing(t) for part, t in zip(self.parts, tiers, strict=True))

    def extend(self, tiers: np.ndarray) -> int:
        return sum(part.extend(t) for part, t in zip(self.parts, tiers, strict=True))

    def build(self, n_base: int):
        """Rows and objective over ``n_base`` + every phase's new columns (as
        :meth:`NearestAssignment.build`)."""
        model = self.model
        built = [part.build(mdl.n_cols) for part, mdl in zip(self.parts, model.models, strict=True)]
        n_new = [b[0].shape[1] - mdl.n_cols for b, mdl in zip(built, model.models, strict=True)]
        n_cols = n_base + int(sum(n_new))
        blocks, lo, hi = [], [], []
        c = np.zeros(n_cols)
        start = n_base
        sizes: dict[str, int] = {}
        for p, ((A, low, h, cp, size), mdl) in enumerate(zip(built, model.models, strict=True)):
            blocks.append(_place(A, mdl.n_cols, int(model.offsets[p]), start, n_cols))
            lo.append(low)
            hi.append(h)
            c[start : start + n_new[p]] = model.problem.years[p] * cp[mdl.n_cols :]
            start += n_new[p]
            for key, value in size.items():
                sizes[key] = sizes.get(key, 0) + value if key != "distance_rounds" else self.rounds
        return sp.vstack(blocks, format="csr"), np.concatenate(lo), np.concatenate(hi), c, sizes

    def start(self, tiers: np.ndarray) -> np.ndarray:
        return np.concatenate([part.start(t) for part, t in zip(self.parts, tiers, strict=True)])


class RoadmapAsPlan:
    """The roadmap seen as one plan by :func:`~netplan.optimize.tie_stages.solve_with_distance`:
    its "tiers" are the (P, m) phase tiers."""

    def __init__(self, model: RoadmapModel):
        self.model = model

    def x_from_tiers(self, tiers: np.ndarray) -> np.ndarray:
        x = self.model.x_from_phase_tiers(tiers)
        if x is None:
            raise ValueError("phase models with assignment columns have no tiers-only vector")
        return x

    def site_tiers(self, x: np.ndarray) -> np.ndarray:
        return self.model.phase_tiers(x[: self.model.n_cols])

    def distance_of(self, tiers: np.ndarray) -> float:
        return years_distance(self.model, tiers)

    def saturation_rows(self, n_cols: int):
        """Every phase's saturation rows (y equals its coverage on zero-weight levels)."""
        model = self.model
        parts = []
        for p, mdl in enumerate(model.models):
            A, lo, hi = mdl.saturation_rows(mdl.n_cols)
            parts.append((_place(A, mdl.n_cols, int(model.offsets[p]), n_cols, n_cols), lo, hi))
        return (
            sp.vstack([a for a, _, _ in parts], format="csr"),
            np.concatenate([lo for _, lo, _ in parts]),
            np.concatenate([hi for _, _, hi in parts]),
        )


def fix_site_tiers(
    model: RoadmapModel,
    lp: LinearProgram,
    objective: StageObjective,
    value: float,
    x: np.ndarray,
    left: float | None,
) -> tuple[LinearProgram, list[np.ndarray], list[np.ndarray], Fixings]:
    """Site-tier columns of every phase proven constant in every roadmap optimal so far.

    The single plan's LP reduced-cost fixing and probing
    (:func:`~netplan.optimize.fixing.prove_fixings`) on the roadmap's site-tier columns; exact
    whatever the probing budget. Returns the tightened program and, per phase, the (m, K)
    site-tiers that may still be open and those open in every remaining roadmap.
    """
    xcols = [model.xcol(p) for p in range(model.P)]
    cols = np.concatenate([xc[xc >= 0] for xc in xcols])
    budget = (
        PROBING_SECONDS if left is None else min(PROBING_SECONDS, PROBING_SHARE * max(left, 0.0))
    )
    slack = tolerance(value, pow2_scale(objective.c))
    cutoff = value - slack if objective.sense == "max" else value + slack
    fixed = prove_fixings(
        lp.with_objective(objective.c, objective.sense, objective.offset),
        len(cols),
        x[cols],
        cutoff,
        budget,
        columns=cols,
    )
    lp = lp.with_bounds(cols[fixed.zero], 0.0, 0.0).with_bounds(cols[fixed.one], 1.0, 1.0)
    zero = np.zeros(model.n_cols, dtype=bool)
    one = np.zeros(model.n_cols, dtype=bool)
    zero[cols[fixed.zero]] = True
    one[cols[fixed.one]] = True
    possible = [(xc >= 0) & ~zero[np.maximum(xc, 0)] for xc in xcols]
    sure = [(xc >= 0) & one[np.maximum(xc, 0)] for xc in xcols]
    return lp, possible, sure, fixed


def years_distance(model: RoadmapModel, tiers: np.ndarray) -> float:
    """Exact years-weighted nearest-outlet distance of a roadmap, from the coverage pairs."""
    return float(
        sum(
            years * mdl.distance_of(t)
            for mdl, years, t in zip(model.models, model.problem.years, tiers, strict=True)
        )
    )


def has_assignments(model: RoadmapModel) -> bool:
    """Phase models with capacity (or span) columns: the distance is that of the assignments."""
    return any(mdl.has_extensions for mdl in model.models)


def assigned_distance_objective(model: RoadmapModel) -> StageObjective:
    """Years × weight × distance of every phase's capacity assignments."""
    c = np.zeros(model.n_cols)
    for p, (mdl, years) in enumerate(zip(model.models, model.problem.years, strict=True)):
        if mdl.problem.capacity is not None:
            c[model.offsets[p] : model.offsets[p] + mdl.n_cols] = (
                years * mdl.assigned_distance_objective().c
            )
    return StageObjective("distance", c, "min")
