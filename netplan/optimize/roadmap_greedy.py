"""The greedy order (AccessMod's "scaling up"), the baseline the exact roadmap is measured against.

Phase by phase, from today's network, each step takes the feasible action with the largest
level-weighted coverage gain (of that phase's demand) per unit of capex: open a new site as a
tier, or move a site to another tier where its policy and the transition rules allow.
Actions that cost nothing and gain coverage go first; ties go to the lower site rank (site
id), then the higher tier. An action that is feasible only together with a supporting outlet
is offered as that pair. A phase whose network breaks a rule (today's network may: an outlet
without support) first takes the repairs that lower the violation most, cheapest first
(closing included, where the policy allows). A step must keep the phase's network within every rule of a single
plan (the phase model's rows) and within the phase's money (capex, with ``carry_over`` the
unspent capex of earlier phases, opex, total). The phase ends when no such action gains
coverage. A phase whose network breaks a rule although no action is left (e.g. a minimum
count today's network misses) is reported, not hidden.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from netplan.optimize.model import TieredModel
from netplan.optimize.records import SolverOptions
from netplan.optimize.roadmap_model import RETIER_POLICIES, RoadmapProblem, without_budget
from netplan.optimize.roadmap_solve import coverage_years, phase_money
from netplan.optimize.solver import solve

FEASIBILITY = 1e-6


@dataclass
class GreedyResult:
    """The greedy roadmap.

    Attributes
    ----------
    tiers : ndarray (P, m)
    coverage_years : float
    steps : list of dict
        ``phase, sites, tiers_before, tiers_after, capex, gain`` per step, in order.
    problems : list of str
        Phases where the greedy network breaks a rule.
    """

    tiers: np.ndarray
    coverage_years: float
    steps: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class _Coverage:
    """How many open outlets serve each demand point per level, updated site by site."""

    def __init__(self, phase, tiers: np.ndarray):
        self.phase = phase
        self.levels = [int(lv) for lv in np.flatnonzero(phase.modelled_levels())]
        K = phase.n_tiers
        # (tier, level) -> CSC matrix (demand x site): a site's column lists the points it serves
        self.cols = {
            (k, lv): phase.coverage.matrix(k, lv).tocsc()
            for lv in self.levels
            for k in range(lv + 1)
        }
        self.count = {lv: np.zeros(phase.n_demand, dtype=np.int64) for lv in self.levels}
        self.lw = phase.lw()
        self.K = K
        for j in np.flatnonzero(tiers >= 0):
            self._apply(int(j), int(tiers[j]), +1)

    def _points(self, j: int, k: int, level: int) -> np.ndarray:
        if k < 0 or k > level:
            return np.zeros(0, dtype=np.int64)
        m = self.cols[(k, level)]
        return m.indices[m.indptr[j] : m.indptr[j + 1]]

    def _apply(self, j: int, k: int, sign: int) -> None:
        for lv in self.levels:
            np.add.at(self.count[lv], self._points(j, k, lv), sign)

    def gain(self, moves: list[tuple[int, int, int]]) -> float:
        """Level-weighted weight newly covered (minus newly uncovered) by ``moves``
        (site, tier before, tier after), without applying them."""
        total = 0.0
        for lv in self.levels:
            delta = np.zeros(0, dtype=np.int64)
            touched, change = [], []
            for j, before, after in moves:
                out, into = self._points(j, before, lv), self._points(j, after, lv)
                touched += [out, into]
                change += [np.full(len(out), -1), np.full(len(into), 1)]
            if not touched:
                continue
            pts = np.concatenate(touched)
            delta = np.concatenate(change)
            uniq, inv = np.unique(pts, return_inverse=True)
            net = np.bincount(inv, weights=delta, minlength=len(uniq))
            now = self.count[lv][uniq]
            after = now + net
            w = self.phase.weights[uniq, lv]
            total += self.lw[lv] * float(
                w[(after > 0) & (now == 0)].sum() - w[(after <= 0) & (now > 0)].sum()
            )
        return total

    def apply(self, moves: list[tuple[int, int, int]]) -> None:
        for j, before, after in moves:
            if before >= 0:
                self._apply(j, before, -1)
            if after >= 0:
                self._apply(j, after, +1)


def greedy_roadmap(problem: RoadmapProblem) -> GreedyResult:
    """The greedy roadmap of ``problem`` (see the module docstring).

    Returns
    -------
    GreedyResult
    """
    first = problem.phases[0]
    costs, policy, allowed = first.costs, first.policy, first.allowed
    current = costs.current_tier
    m = first.n_sites
    rank = np.arange(m) if first.site_rank is None else np.asarray(first.site_rank)
    tiers = current.copy()
    changed = np.zeros(m, dtype=bool)  # changed tier in an earlier phase (at most once)
    steps: list[dict] = []
    problems: list[str] = []
    out = np.zeros((problem.n_phases, m), dtype=np.int64)
    carried = 0.0
    paid = (0.0, 0.0)  # total and capex of the phases before
    support = _supporters(first)
    for p, (phase, lim) in enumerate(zip(problem.phases, problem.limits, strict=True)):
        model = TieredModel(without_budget(phase))
        cover = _Coverage(phase, tiers)
        before_phase = tiers.copy()
        one = _one_phase(problem, p)
        capex_left = np.inf if lim.capex is None else lim.capex + carried
        spent = 0.0

        def phase_capex(t: np.ndarray, one=one, before=before_phase) -> float:
            return phase_money(one, t[None, :], before=before)[0]["capex"]

        def state(t: np.ndarray, model=model, p=p, before=before_phase, lim=lim, paid=paid):
            """(rule violation, money excess) of a network: (0, 0) when it keeps everything."""
            return _violation(model, t), _money_excess(problem, p, t, before, lim, paid)

        checkable = model.n_cols == model.n_base_cols
        repairs = _Repairs(phase, p, before_phase, current, policy, allowed, changed, phase_capex,
                           capex_left, rank, state, steps)  # fmt: skip
        if checkable:
            cover, spent = repairs.run(tiers, spent, cover)
        tolerated = state(tiers) if checkable else (0.0, 0.0)
        broken = tolerated[0] > FEASIBILITY or tolerated[1] > FEASIBILITY

        def fits(
            trial, tolerated=tolerated, broken=broken, model=model, p=p, before=before_phase,
            lim=lim, paid=paid, state=state,
        ) -> bool:  # fmt: skip
            if not broken:
                return _fits(model, trial, problem, p, before, lim, paid)
            rows, money = state(trial)  # a broken network: a step may not make it worse
            return rows <= tolerated[0] + FEASIBILITY and money <= tolerated[1] + FEASIBILITY

        while True:
            now = phase_capex(tiers)
            ranked = []
            for j, k in _moves(tiers, before_phase, current, policy, allowed, changed):
                moves = [(j, int(tiers[j]), k)]
                capex = phase_capex(_with(tiers, moves)) - now
                g = cover.gain(moves)
                if g > 0 and spent + capex <= capex_left + 1e-9:
                    ranked.append((moves, capex, g))
            ranked.sort(key=lambda o: _order(o, rank))
            taken = None
            for moves, capex, g in ranked:
                trial = _with(tiers, moves)
                if fits(trial):
                    taken = (moves, capex, g)
                    break
                # feasible only together with a supporting outlet: offer the pair
                pair = _best_pair(model, cover, tiers, moves, support, before_phase, current, policy,
                                  allowed, changed, phase_capex, capex_left - spent, fits, rank)  # fmt: skip
                if pair is not None:
                    taken = pair
                    break
            if taken is None:
                break
            spent += _take(taken, p, tiers, cover, steps)
        if checkable:  # steps on a broken network may move what it breaks
            spent = repairs.close_unsupported(tiers, spent, cover)
        changed |= (before_phase >= 0) & (tiers >= 0) & (tiers != before_phase)
        carried = (capex_left - spent) if problem.carry_over and lim.capex is not None else 0.0
        out[p] = tiers
        money = phase_money(_one_phase(problem, p), tiers[None, :], before=before_phase)[0]
        paid = (paid[0] + money["total"], paid[1] + money["capex"])
    problems += _broken(problem, out)
    return GreedyResult(out, coverage_years(problem, out), steps, problems)


def _broken(problem: RoadmapProblem, tiers: np.ndarray) -> list[str]:
    """What the finished greedy roadmap breaks: a phase's rules or money limits, the whole
    roadmap's budget (the steps judged the budget from a projection; this is the result)."""
    out = []
    money = phase_money(problem, tiers)
    for p, (phase, lim, t) in enumerate(zip(problem.phases, problem.limits, tiers, strict=True)):
        model = TieredModel(without_budget(phase))
        if model.n_cols == model.n_base_cols and _violation(model, t) > FEASIBILITY:
            out.append(f"{lim.name}: the greedy network breaks a rule of the phase")
        m = money[p]
        over = [
            (m["opex_per_year"], lim.opex),
            (m["opex_per_year"], problem.budget_opex),
            (m["total"], lim.total),
        ]
        if any(c is not None and v > c * (1 + FEASIBILITY) + FEASIBILITY for v, c in over):
            out.append(f"{lim.name}: the greedy network is over a money limit of the phase")
    whole = sum(m["total"] for m in money)
    if (
        problem.budget_total is not None
        and whole > problem.budget_total * (1 + FEASIBILITY) + FEASIBILITY
    ):
        out.append(
            f"the greedy roadmap costs {whole:,.0f}, over the budget of {problem.budget_total:,.0f}"
        )
    return out


def _take(
    option, phase: int, tiers: np.ndarray, cover: _Coverage, steps: list, repair: bool = False
) -> float:
    """Apply a step (moves, capex, gain) to the network and the coverage counts, record it,
    and return its capex."""
    moves, capex, gain = option
    cover.apply(moves)
    for j, _, after in moves:
        tiers[j] = after
    step = {
        "phase": phase, "sites": [j for j, _, _ in moves], "tiers_before": [b for _, b, _ in moves],
        "tiers_after": [a for _, _, a in moves], "capex": capex, "gain": gain,
    }  # fmt: skip
    if repair:
        step["repair"] = True
    steps.append(step)
    return capex


def _violation(model: TieredModel, tiers: np.ndarray) -> float:
    """Sum of the phase model's row violations by the network (0: it keeps every rule)."""
    x = model.x_from_tiers(tiers)
    ax = model.lp.A @ x
    return float(
        np.maximum(model.lp.row_lo - ax, 0).sum() + np.maximum(ax - model.lp.row_hi, 0).sum()
    )


class _Repairs:
    """Repairs of a phase's network that breaks a rule or a money limit (today's may).

    First the one-move repairs that lower (rule violation, money excess) most, cheapest first,
    opening or re-tiering before closing. If a rule is still broken (money ran out, or no single
    move helps), the same again from a start that first undoes this phase's unsupported changes
    and closes today's unsupported outlets, cascading (as the single plan's start); the attempt
    that breaks less is kept, the first on a tie.
    """

    def __init__(self, phase, p, before_phase, current, policy, allowed, changed, phase_capex,
                 capex_left, rank, state, steps):  # fmt: skip
        self.phase, self.p, self.before = phase, p, before_phase
        self.current, self.policy, self.allowed, self.changed = current, policy, allowed, changed
        self.phase_capex, self.capex_left, self.rank = phase_capex, capex_left, rank
        self.state, self.steps = state, steps

    def run(self, tiers: np.ndarray, spent: float, cover: _Coverage) -> tuple[_Coverage, float]:
        saved, saved_spent, n_steps = tiers.copy(), spent, len(self.steps)
        spent = self.one_moves(tiers, spent, cover)
        if self.state(tiers)[0] <= FEASIBILITY:
            return cover, spent
        first = (tiers.copy(), spent, self.steps[n_steps:], cover, self.state(tiers))
        tiers[:] = saved
        del self.steps[n_steps:]
        other = _Coverage(self.phase, tiers)
        spent = self.close_unsupported(tiers, saved_spent, other)
        spent = self.one_moves(tiers, spent, other)
        spent = self.close_unsupported(tiers, spent, other)
        if _lower(self.state(tiers), first[4]):
            return other, spent
        tiers[:] = first[0]
        self.steps[n_steps:] = first[2]
        return first[3], first[1]

    def one_moves(self, tiers: np.ndarray, spent: float, cover: _Coverage) -> float:
        while max(self.state(tiers)) > FEASIBILITY:
            repair = _best_repair(tiers, self.before, self.current, self.policy, self.allowed,
                                  self.changed, self.phase_capex, self.capex_left - spent, cover,
                                  self.rank, self.state)  # fmt: skip
            if repair is None:
                break
            spent += _take(repair, self.p, tiers, cover, self.steps, repair=True)
        return spent

    def close_unsupported(self, tiers: np.ndarray, spent: float, cover: _Coverage) -> float:
        """Undo this phase's unsupported changes and close today's unsupported outlets
        (:func:`_close_unsupported`) when that lowers what the network breaks and the phase
        can pay it."""
        if self.state(tiers)[0] <= FEASIBILITY:
            return spent
        closing = _close_unsupported(self.phase, tiers, self.before, self.current, self.policy)
        if closing:
            trial = _with(tiers, closing)
            capex = self.phase_capex(trial) - self.phase_capex(tiers)
            if spent + capex <= self.capex_left + 1e-9 and _lower(self.state(trial), self.state(tiers)):
                spent += _take((closing, capex, cover.gain(closing)), self.p, tiers, cover,
                               self.steps, repair=True)  # fmt: skip
        return spent


def _close_unsupported(phase, tiers, before_phase, current, policy) -> list[tuple[int, int, int]]:
    """Moves that leave no outlet without a supporting outlet in reach where that is allowed:
    a site changed in this phase goes back to its tier before the phase, today's outlet still
    at today's tier closes if its policy allows; top tier first, until nothing changes (a
    closing may leave outlets below it unsupported)."""
    if phase.linkage is None:
        return []
    t = tiers.copy()
    closable = (current >= 0) & np.isin(policy, ("may_close", "may_retier_or_close"))
    for _ in range(2 * phase.n_tiers + 2):
        moved = False
        for k in range(1, phase.n_tiers):
            pairs = phase.linkage[k]
            if pairs is None:
                continue
            upper = t[pairs.site]
            supported = np.zeros(len(t), dtype=bool)
            supported[pairs.demand[(upper >= 0) & (upper < k)]] = True
            lost = (t == k) & ~supported
            back = lost & (t != before_phase)
            close = lost & ~back & closable & (t == current)
            t[back] = before_phase[back]
            t[close] = -1
            moved |= bool(back.any() or close.any())
        if not moved:
            break
    return [(int(j), int(tiers[j]), int(t[j])) for j in np.flatnonzero(t != tiers)]


def _best_repair(tiers, before_phase, current, policy, allowed, changed, phase_capex, budget, cover, rank, state):  # fmt: skip
    """The move that lowers (rule violation, money excess) most, then the cheapest, the most
    coverage, the site rank; closing an outlet (coverage lost) only when no opening or
    re-tiering helps."""
    base = state(tiers)
    now = phase_capex(tiers)
    ups = list(_moves(tiers, before_phase, current, policy, allowed, changed))
    closable = (
        (current >= 0) & np.isin(policy, ("may_close", "may_retier_or_close")) & (tiers == current)
    )
    closings = [(int(j), -1) for j in np.flatnonzero(closable)]
    for options in (ups, closings):
        best = _lowest(tiers, options, phase_capex, now, budget, base, cover, rank, state)
        if best is not None:
            return best
    return None


def _lowest(tiers, options, phase_capex, now, budget, base, cover, rank, state):
    """Among ``options``, the move whose network's state is least, below ``base``."""
    best, best_key = None, None
    for j, k in options:
        moves = [(j, int(tiers[j]), k)]
        trial = _with(tiers, moves)
        capex = phase_capex(trial) - now
        if capex > budget + 1e-9:
            continue
        after = state(trial)
        if not _lower(after, base):
            continue
        g = cover.gain(moves)
        key = (after, capex, -g, int(rank[j]), k)
        if best_key is None or key < best_key:
            best, best_key = (moves, capex, g), key
    return best


def _lower(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """``a`` is below ``b``: fewer rules broken, or as few and less money over."""
    if a[0] < b[0] - FEASIBILITY:
        return True
    return abs(a[0] - b[0]) <= FEASIBILITY and a[1] < b[1] - FEASIBILITY


def _order(option, rank) -> tuple:
    moves, capex, gain = option
    ratio = np.inf if capex <= 0 else gain / capex
    j, _, k = moves[0]
    return (-ratio, int(rank[j]), k)


def _moves(tiers, before_phase, current, policy, allowed, changed):
    """(site, tier) moves a step may take within a phase: open a new site, move a new site up
    (a change of tier if it was open before the phase), re-tier today's outlet where its
    policy allows; a site that changed tier in an earlier phase changes no more."""
    for j in range(len(tiers)):
        t = int(tiers[j])
        was_open = before_phase[j] >= 0
        if current[j] < 0:
            if t < 0:
                yield from ((j, int(k)) for k in np.flatnonzero(allowed[j]))
            elif not (was_open and changed[j]):
                yield from ((j, int(k)) for k in np.flatnonzero(allowed[j][:t]))
        elif policy[j] in RETIER_POLICIES and not changed[j] and t >= 0:
            yield from ((j, int(k)) for k in np.flatnonzero(allowed[j]) if k != t)


def _with(tiers, moves):
    trial = tiers.copy()
    for j, _, after in moves:
        trial[j] = after
    return trial


def _fits(model: TieredModel, tiers, problem: RoadmapProblem, p: int, before, lim, paid) -> bool:
    """The network obeys the phase model's rows, the phase's opex / total limits, and the
    whole roadmap's budget: ``paid`` (total, capex) of the earlier phases, plus this phase,
    plus the later phases operating at least this network (greedy never closes)."""
    if not _fits_money(problem, p, tiers, before, lim, paid):
        return False
    return _fits_rows(model, tiers)


def _money_excess(problem: RoadmapProblem, p: int, tiers, before, lim, paid) -> float:
    """How far the network is over its money limits (opex, total, the whole roadmap's), each
    as a share of its limit, summed; 0 within every limit (capex is kept by the steps)."""
    money = phase_money(_one_phase(problem, p), np.vstack([tiers]), before=before)[0]
    paid_total, _ = paid
    later = float(problem.years[p + 1 :].sum())
    pairs = [(paid_total + money["total"] + later * money["opex_per_year"], problem.budget_total)]
    pairs += [(money["opex_per_year"], lim.opex), (money["opex_per_year"], problem.budget_opex)]
    pairs += [(money["total"], lim.total)]
    return float(sum(max(0.0, v - c) / max(1.0, abs(c)) for v, c in pairs if c is not None))


def _fits_money(problem: RoadmapProblem, p: int, tiers, before, lim, paid) -> bool:
    """Opex / total of the phase and the whole roadmap's budget (see :func:`_fits`)."""
    money = phase_money(_one_phase(problem, p), np.vstack([tiers]), before=before)[0]
    paid_total, paid_capex = paid
    later = float(problem.years[p + 1 :].sum())
    whole = paid_total + money["total"] + later * money["opex_per_year"]
    if (
        problem.budget_total is not None
        and whole > problem.budget_total * (1 + FEASIBILITY) + FEASIBILITY
    ):
        return False
    cap = problem.budget_capex
    if cap is not None and paid_capex + money["capex"] > cap * (1 + FEASIBILITY) + FEASIBILITY:
        return False
    for cap in (lim.opex, problem.budget_opex):
        if cap is not None and money["opex_per_year"] > cap + FEASIBILITY * max(1.0, cap):
            return False
    if lim.total is not None and money["total"] > lim.total + FEASIBILITY * max(1.0, lim.total):
        return False
    return True


def _fits_rows(model: TieredModel, tiers) -> bool:
    """The phase model's rows hold for the network (with extension columns: some completion)."""
    x = model.x_from_tiers(tiers)
    if model.n_cols == model.n_base_cols:
        return model.lp.max_violation(x) <= FEASIBILITY
    # extension columns (capacities, span, overlap): is there a completion with x fixed?
    cols = np.arange(model.nx)
    lp = model.lp.with_bounds(cols[x[: model.nx] > 0.5], 1.0, 1.0).with_bounds(
        cols[x[: model.nx] <= 0.5], 0.0, 0.0
    )
    sol, record = solve(lp.with_objective(np.zeros(lp.n_cols), "min"), SolverOptions(time_limit=30))
    return sol is not None and record.status == "optimal"


def _one_phase(problem: RoadmapProblem, p: int) -> RoadmapProblem:
    return RoadmapProblem([problem.phases[p]], [problem.limits[p]])


def _supporters(phase) -> dict[int, np.ndarray]:
    """Per tier k, (supported site, supporting site) pairs within tier k's linkage reach."""
    return {k: pairs for k, pairs in enumerate(phase.linkage or []) if pairs is not None}


def _best_pair(model, cover, tiers, moves, support, before_phase, current, policy, allowed,
               changed, phase_capex, budget, fits, rank):  # fmt: skip
    """The best (move + a supporting outlet's move) that fits, or None."""
    ((j, _, k),) = moves
    pairs = support.get(k)
    if pairs is None or k == 0:
        return None
    sup = np.unique(pairs.site[(pairs.demand == j) & (pairs.site != j)])
    possible = set(_moves(tiers, before_phase, current, policy, allowed, changed))
    now = phase_capex(tiers)
    best = None
    for s in sup:
        for s_tier in range(k):
            if (int(s), s_tier) not in possible:
                continue
            both = [(j, int(tiers[j]), k), (int(s), int(tiers[s]), s_tier)]
            trial = _with(tiers, both)
            capex = phase_capex(trial) - now
            if capex > budget + 1e-9:
                continue
            g = cover.gain(both)
            if g <= 0 or not fits(trial):
                continue
            option = (both, capex, g)
            if best is None or _order(option, rank) < _order(best, rank):
                best = option
    return best
