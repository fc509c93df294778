"""The roadmap MILP: one tiered model per phase, tied together by the transitions between phases.

Columns: the columns of every phase's :class:`~netplan.optimize.model.TieredModel` in phase
order (so every rule of a single plan — policies, linkage, counts, capacities, siting rules —
holds in every phase), then three families of transition columns, all continuous in [0, 1]:

- ``open[p, j, k]`` >= ``X_p[j,k] - o_{p-1}[j]``: new site j opens as tier k in phase p;
- ``change[p, j, k]`` >= ``X_p[j,k] - X_{p-1}[j,k] - (1 - o_{p-1}[j])``: site j, open in
  phase p-1, operates as another tier k in phase p (paid at ``convert[j,k]``);
- ``close[p, j]`` >= ``o_{p-1}[j] - o_p[j]``: today's outlet j closes in phase p;

where ``X_p[j,k]`` is the phase's site-tier column, ``o_p[j] = sum_k X_p[j,k]``, and phase -1 is
today's network (constants). The transition columns appear only with non-negative
coefficients in ``<=`` rows (money, the one-change row) and in the cost objective, which is
minimised: a solution can always lower them to their bounds, so the rows are exact for every
integral X although the columns are continuous.

Transitions (DESIGN: a roadmap):

| site | rule | rows |
|---|---|---|
| new | opens once and stays open; tier changes upward only | ``U_{p-1}[j,k] <= U_p[j,k]`` with ``U_p[j,k] = sum_{k'<=k} X_p[j,k']`` (k = K-1 is "stays open") |
| any | changes tier at most once over the horizon | ``sum_{p,k} change[p,j,k] <= 1`` |
| today's, may close | closes at most once, never reopens | ``o_p[j] <= o_{p-1}[j]`` |
| today's, may re-tier or close | does not change tier before closing | ``sum_{k != today} X_{p-1}[j,k] <= o_p[j]`` |
| keep | stays at its tier | fixed by each phase's model |

Money per phase p: ``capex_p = sum open·open_cost + change·convert + close·close_cost``;
``opex_p = sum X_p·operate``; limits on capex (cumulative with ``carry_over``), opex, and
``capex_p + years_p · opex_p``; the whole roadmap's total, capex and (per phase) opex.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from netplan.optimize.model import StageObjective, TieredModel
from netplan.optimize.problem import TieredProblem
from netplan.optimize.program import LinearProgram

INF = np.inf
RETIER_POLICIES = ("may_retier", "may_retier_or_close")


@dataclass
class PhaseLimits:
    """Length and money limits of one phase (None = no limit)."""

    name: str
    years: float
    capex: float | None = None
    opex: float | None = None
    total: float | None = None


@dataclass
class RoadmapProblem:
    """Phases of one network: the same sites, tiers, policies and costs in every phase.

    Attributes
    ----------
    phases : list of TieredProblem
        One per phase, in time order, with the phase's demand weights and targets; their
        budget fields are ignored (the roadmap's money rows replace them).
    limits : list of PhaseLimits
    carry_over : bool
        Unspent capex moves to the next phase.
    budget_total, budget_capex, budget_opex : float or None
        The whole roadmap: total and capex summed over phases, opex per year in every phase.
    """

    phases: list[TieredProblem]
    limits: list[PhaseLimits]
    carry_over: bool = False
    budget_total: float | None = None
    budget_capex: float | None = None
    budget_opex: float | None = None

    @property
    def n_phases(self) -> int:
        return len(self.phases)

    @property
    def years(self) -> np.ndarray:
        return np.array([lim.years for lim in self.limits], dtype=float)


class RoadmapModel:
    """The roadmap MILP of a :class:`RoadmapProblem` (see the module docstring).

    Attributes
    ----------
    models : list of TieredModel
        The phase models; phase p's columns start at ``offsets[p]``.
    lp : LinearProgram
    """

    def __init__(self, problem: RoadmapProblem):
        self.problem = problem
        first = problem.phases[0]
        m, K = first.n_sites, first.n_tiers
        unbudgeted = [without_budget(p) for p in problem.phases]
        self.models = [TieredModel(p) for p in unbudgeted]
        sizes = [mdl.n_cols for mdl in self.models]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        self.n_phase_cols = int(sum(sizes))
        self.m, self.K, self.P = m, K, problem.n_phases
        self.costs = first.costs
        self.current = first.costs.current_tier
        self.policy = first.policy
        self.allowed = first.allowed
        self._layout_transitions()
        self.lp = self._build_lp()

    # ----------------------------------------------------------------- columns
    def xcol(self, p: int) -> np.ndarray:
        """(m, K) column of X_p[j,k] in the roadmap program, -1 where not allowed."""
        base = self.models[p].xcol
        return np.where(base >= 0, base + self.offsets[p], -1)

    def _layout_transitions(self) -> None:
        new = self.current < 0
        existing = ~new
        may_change = new | np.isin(self.policy, RETIER_POLICIES)
        may_close = existing & np.isin(self.policy, ("may_close", "may_retier_or_close"))
        n = self.n_phase_cols
        self.open_col = np.full((self.P, self.m, self.K), -1, dtype=np.int64)
        self.change_col = np.full((self.P, self.m, self.K), -1, dtype=np.int64)
        self.close_col = np.full((self.P, self.m), -1, dtype=np.int64)
        for p in range(self.P):
            cells = new[:, None] & self.allowed
            j, k = np.nonzero(cells)
            self.open_col[p, j, k] = n + np.arange(len(j))
            n += len(j)
            # a change needs the site open in the phase before: in phase 0 only today's
            # outlets, into another tier than today's (X_{-1} is today's network)
            cells = may_change[:, None] & self.allowed
            if p == 0:
                cells &= existing[:, None] & (self.current[:, None] != np.arange(self.K)[None, :])
            j, k = np.nonzero(cells)
            self.change_col[p, j, k] = n + np.arange(len(j))
            n += len(j)
            j = np.flatnonzero(may_close)
            self.close_col[p, j] = n + np.arange(len(j))
            n += len(j)
        self.n_cols = n

    # -------------------------------------------------------------------- rows
    def _open_sum(self, p: int, rows: _Rows, r: np.ndarray, sign: float, sites: np.ndarray) -> None:
        """Add ``sign · o_p[j]`` to row ``r[i]`` for each site ``sites[i]`` (phase -1: constants)."""
        cols = self.xcol(p)[sites]
        for k in range(self.K):
            ok = cols[:, k] >= 0
            rows.add(r[ok], cols[ok, k], sign)

    def _build_lp(self) -> LinearProgram:
        P, K = self.P, self.K
        rows = _Rows(self.n_cols)
        cur = self.current
        new = np.flatnonzero(cur < 0)
        existing = np.flatnonzero(cur >= 0)
        onehot_today = np.zeros((self.m, K))
        onehot_today[existing, cur[existing]] = 1.0
        # open[p,j,k] >= X_p[j,k] - o_{p-1}[j]   ->   X_p[j,k] - o_{p-1}[j] - open <= 0
        for p in range(P):
            j, k = np.nonzero(self.open_col[p] >= 0)
            r = rows.new(len(j), -INF, 0.0)
            rows.add(r, self.xcol(p)[j, k], 1.0)
            rows.add(r, self.open_col[p, j, k], -1.0)
            if p > 0:
                for kk in range(K):
                    prev = self.xcol(p - 1)[j, kk]
                    ok = prev >= 0
                    rows.add(r[ok], prev[ok], -1.0)
        # change[p,j,k] >= X_p[j,k] - X_{p-1}[j,k] - 1 + o_{p-1}[j]
        for p in range(P):
            j, k = np.nonzero(self.change_col[p] >= 0)
            if p == 0:  # phase -1 is today: X_{-1} and o_{-1} = 1 are constants (existing only)
                r = rows.new(len(j), -INF, onehot_today[j, k])
                rows.add(r, self.xcol(0)[j, k], 1.0)
            else:
                r = rows.new(len(j), -INF, 1.0)
                rows.add(r, self.xcol(p)[j, k], 1.0)
                prev = self.xcol(p - 1)[j, k]
                ok = prev >= 0
                rows.add(r[ok], prev[ok], -1.0)
                for kk in range(K):  # + o_{p-1}[j] on the left: - o_{p-1} moved => +1 coefficient
                    pk = self.xcol(p - 1)[j, kk]
                    ok = pk >= 0
                    rows.add(r[ok], pk[ok], 1.0)
            rows.add(r, self.change_col[p, j, k], -1.0)
        # close[p,j] >= o_{p-1}[j] - o_p[j]
        for p in range(P):
            j = np.flatnonzero(self.close_col[p] >= 0)
            if p == 0:
                r = rows.new(len(j), 1.0, INF)  # o_0 + close >= 1
            else:
                r = rows.new(len(j), 0.0, INF)  # o_p - o_{p-1} + close >= 0
                self._open_sum(p - 1, rows, r, -1.0, j)
            self._open_sum(p, rows, r, 1.0, j)
            rows.add(r, self.close_col[p, j], 1.0)
        # at most one change of tier per site over the horizon
        j_all = np.unique(np.nonzero(self.change_col >= 0)[1])
        r = rows.new(len(j_all), -INF, 1.0)
        pos = np.full(self.m, -1)
        pos[j_all] = np.arange(len(j_all))
        pp, jj, kk = np.nonzero(self.change_col >= 0)
        rows.add(r[pos[jj]], self.change_col[pp, jj, kk], 1.0)
        for p in range(1, P):
            # new sites: U_{p-1}[j,k] <= U_p[j,k] for every k (upward only; k = K-1: stays open)
            for k in range(K):
                r = rows.new(len(new), 0.0, INF)
                for kk in range(k + 1):
                    now, before = self.xcol(p)[new, kk], self.xcol(p - 1)[new, kk]
                    rows.add(r[now >= 0], now[now >= 0], 1.0)
                    rows.add(r[before >= 0], before[before >= 0], -1.0)
            # today's outlets never reopen: o_p <= o_{p-1}
            r = rows.new(len(existing), -INF, 0.0)
            self._open_sum(p, rows, r, 1.0, existing)
            self._open_sum(p - 1, rows, r, -1.0, existing)
            # re-tiered today's outlets (may_retier_or_close) stay open: sum_{k != today} X_{p-1} <= o_p
            rc = existing[self.policy[existing] == "may_retier_or_close"]
            r = rows.new(len(rc), -INF, 0.0)
            before = self.xcol(p - 1)[rc]
            for k in range(K):
                ok = (before[:, k] >= 0) & (cur[rc] != k)
                rows.add(r[ok], before[ok, k], 1.0)
            self._open_sum(p, rows, r, -1.0, rc)
        self._money_rows(rows)
        A, lo, hi = rows.matrix()
        phase_A = sp.block_diag([mdl.lp.A for mdl in self.models], format="csr")
        phase_A = sp.hstack(
            [phase_A, sp.csr_matrix((phase_A.shape[0], self.n_cols - self.n_phase_cols))],
            format="csr",
        )
        lb = np.concatenate(
            [mdl.lp.lb for mdl in self.models] + [np.zeros(self.n_cols - self.n_phase_cols)]
        )
        ub = np.concatenate(
            [mdl.lp.ub for mdl in self.models] + [np.ones(self.n_cols - self.n_phase_cols)]
        )
        integer = np.concatenate(
            [mdl.lp.integer for mdl in self.models]
            + [np.zeros(self.n_cols - self.n_phase_cols, bool)]
        )
        self.n_transition_rows = A.shape[0]
        return LinearProgram(
            c=np.zeros(self.n_cols),
            lb=lb,
            ub=ub,
            integer=integer,
            A=sp.vstack([phase_A, A], format="csr"),
            row_lo=np.concatenate([mdl.lp.row_lo for mdl in self.models] + [lo]),
            row_hi=np.concatenate([mdl.lp.row_hi for mdl in self.models] + [hi]),
        )

    # ------------------------------------------------------------------- money
    def capex_vector(self, p: int) -> np.ndarray:
        """Coefficients of phase p's one-off costs over the roadmap's columns."""
        c = np.zeros(self.n_cols)
        j, k = np.nonzero(self.open_col[p] >= 0)
        c[self.open_col[p, j, k]] = self.costs.open[j, k]
        j, k = np.nonzero(self.change_col[p] >= 0)
        c[self.change_col[p, j, k]] = self.costs.convert[j, k]
        j = np.flatnonzero(self.close_col[p] >= 0)
        c[self.close_col[p, j]] = self.costs.close[j]
        return c

    def opex_vector(self, p: int) -> np.ndarray:
        """Coefficients of phase p's yearly operating cost."""
        c = np.zeros(self.n_cols)
        mdl = self.models[p]
        c[self.offsets[p] + np.arange(mdl.nx)] = self.costs.operate[mdl.x_site, mdl.x_tier]
        return c

    def _money_rows(self, rows: _Rows) -> None:
        """The money limits, the last rows of the program; ``money_rows`` names each one
        (scenario key and limit), for the infeasibility explanation."""
        prob = self.problem
        years = prob.years
        capex = [self.capex_vector(p) for p in range(self.P)]
        opex = [self.opex_vector(p) for p in range(self.P)]
        dense: list[tuple[np.ndarray, float, str]] = []
        since = 0  # carry_over: capex summed since the last phase without a capex limit
        for p, lim in enumerate(prob.limits):
            where = f"phases[{p}] ({lim.name!r})"
            if lim.capex is None:
                since = p + 1
            elif prob.carry_over:
                limit = sum(prob.limits[q].capex for q in range(since, p + 1))
                label = f"{where}.budget.capex" + (
                    f" with the unspent capex of phases[{since}..{p - 1}]" if since < p else ""
                )
                dense.append((np.sum(capex[since : p + 1], axis=0), limit, label))
            else:
                dense.append((capex[p], lim.capex, f"{where}.budget.capex"))
            if lim.opex is not None:
                dense.append((opex[p], lim.opex, f"{where}.budget.opex"))
            if prob.budget_opex is not None:
                dense.append((opex[p], prob.budget_opex, f"budget.opex in {where}"))
            if lim.total is not None:
                dense.append((capex[p] + years[p] * opex[p], lim.total, f"{where}.budget.total"))
        if prob.budget_total is not None:
            dense.append((self.cost_objective().c, prob.budget_total, "budget.total"))
        if prob.budget_capex is not None:
            dense.append((np.sum(capex, axis=0), prob.budget_capex, "budget.capex"))
        self.money_rows = [(label, float(limit)) for _, limit, label in dense]
        for vec, limit, _ in dense:
            cols = np.flatnonzero(vec)
            r = rows.new(1, -INF, float(limit))
            rows.add(np.repeat(r, len(cols)), cols, vec[cols])

    # -------------------------------------------------------------- objectives
    def coverage_years_objective(self) -> StageObjective:
        """Sum over phases of years × level-weighted covered demand (maximised)."""
        c = np.zeros(self.n_cols)
        offset = 0.0
        for p, (mdl, years) in enumerate(zip(self.models, self.problem.years, strict=True)):
            obj = mdl.coverage_objective()
            c[self.offsets[p] : self.offsets[p] + mdl.n_cols] = years * obj.c
            offset += years * obj.offset
        return StageObjective("coverage_years", c, "max", offset)

    def cost_objective(self) -> StageObjective:
        """Sum over phases of capex + years × yearly opex (minimised)."""
        years = self.problem.years
        c = sum(self.capex_vector(p) + years[p] * self.opex_vector(p) for p in range(self.P))
        return StageObjective("cost", np.asarray(c, dtype=float), "min")

    def tie_objective(self) -> StageObjective:
        """Years × site rank per phase: among equal roadmaps, lower-ranked sites (site id)."""
        c = np.zeros(self.n_cols)
        for p, (mdl, years) in enumerate(zip(self.models, self.problem.years, strict=True)):
            c[self.offsets[p] : self.offsets[p] + mdl.n_cols] = years * mdl.tie_objective().c
        return StageObjective("site_id", c, "min")

    # --------------------------------------------------------------- solutions
    def x_from_phase_tiers(self, tiers: np.ndarray) -> np.ndarray | None:
        """A full column vector of a (P, m) tier sequence: each phase's columns as its model
        builds them from tiers, the transition columns at their least values. None when a
        phase model has extension columns (assignments) that tiers alone do not fix."""
        x = np.zeros(self.n_cols)
        for p, (mdl, off) in enumerate(zip(self.models, self.offsets, strict=True)):
            part = mdl.x_from_tiers(tiers[p])
            if len(part) != mdl.n_cols:
                return None
            x[off : off + mdl.n_cols] = part
        seq = np.vstack([self.current, tiers])
        for p in range(self.P):
            before, now = seq[p], seq[p + 1]
            j, k = np.nonzero(self.open_col[p] >= 0)
            x[self.open_col[p, j, k]] = (now[j] == k) & (before[j] < 0)
            j, k = np.nonzero(self.change_col[p] >= 0)
            x[self.change_col[p, j, k]] = (now[j] == k) & (before[j] >= 0) & (before[j] != k)
            j = np.flatnonzero(self.close_col[p] >= 0)
            x[self.close_col[p, j]] = (now[j] < 0) & (before[j] >= 0)
        return x

    def phase_tiers(self, x: np.ndarray) -> np.ndarray:
        """(P, m) tier of each site in each phase of a solution (-1 = none)."""
        return np.vstack(
            [
                mdl.site_tiers(x[o : o + mdl.n_cols])
                for mdl, o in zip(self.models, self.offsets, strict=True)
            ]
        )


def without_budget(p: TieredProblem) -> TieredProblem:
    from dataclasses import replace

    return replace(p, budget_total=None, budget_capex=None, budget_opex=None)


class _Rows:
    """Sparse rows collected as (row, column, value) triplets."""

    def __init__(self, n_cols: int):
        self.n_cols = n_cols
        self.n = 0
        self.r: list[np.ndarray] = []
        self.c: list[np.ndarray] = []
        self.v: list[np.ndarray] = []
        self.lo: list[np.ndarray] = []
        self.hi: list[np.ndarray] = []

    def new(self, count: int, lo, hi) -> np.ndarray:
        r = self.n + np.arange(count)
        self.n += count
        self.lo.append(np.broadcast_to(np.asarray(lo, dtype=float), (count,)).copy())
        self.hi.append(np.broadcast_to(np.asarray(hi, dtype=float), (count,)).copy())
        return r

    def add(self, rows: np.ndarray, cols: np.ndarray, value) -> None:
        rows, cols = np.asarray(rows), np.asarray(cols)
        self.r.append(rows)
        self.c.append(cols)
        self.v.append(np.broadcast_to(np.asarray(value, dtype=float), rows.shape).copy())

    def matrix(self) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
        cat = lambda parts, dt: np.concatenate(parts).astype(dt) if parts else np.zeros(0, dt)  # noqa: E731
        A = sp.csr_matrix(
            (cat(self.v, float), (cat(self.r, np.int64), cat(self.c, np.int64))),
            shape=(self.n, self.n_cols),
        )
        return A, cat(self.lo, float), cat(self.hi, float)
