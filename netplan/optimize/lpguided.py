"""Maximal coverage of very large demand, guided by a first-order LP solution.

At a million demand points the tiered max-coverage LP has ~190 000 rows and 4 M non-zeros:
HiGHS's simplex and interior point need minutes for its root alone (national benchmark:
IPX 300 s single-threaded, HiGHS's MIP reaches its first cut round after 419 s). So:

1. **Bound.** HiGHS's PDLP (a first-order primal-dual method, matrix-vector products only)
   runs on the exact LP. Its row multipliers, whatever their accuracy, give a valid upper
   bound through the Lagrangian (:func:`lagrangian_bound`): nothing depends on PDLP having
   converged.
2. **Cuts.** The LP is weak where coverage meets linkage (several community points lean on
   the same fractional city station; national: LP 26,184,238, best plan known 26,088,831).
   :class:`CutRounds` adds the violated linkage-lifted coverage cuts of
   :mod:`netplan.optimize.cuts` and re-solves with warm-started PDLP, round after round, in a
   background thread beside step 3 (PDLP is single-threaded; HiGHS releases the GIL).
3. **Plan.** The first restriction fixes the sites the latest LP point leaves (almost)
   closed or opens (almost) fully. Fixing shrinks the model: a demand row with a fixed-open
   site is covered, one with only fixed-closed sites is lost, and the remaining rows merge
   when their *free* sites agree (:func:`restricted_program`). HiGHS solves that restricted
   MIP (at most a quarter of the time limit a round); its plan is a feasible plan of the
   full model. Every later round searches around the best plan (RINS, Danna, Rothberg & Le
   Pape 2005, :func:`_neighbourhood`): the site columns where the latest LP point disagrees
   with the plan most are free, the others keep the plan's values, and the plan is the MIP
   start. A round without a better plan waits for the next cut LP point, or, once the cut
   rounds have ended, doubles the neighbourhood.
4. **Proof.** The restricted optimum is the global optimum when every fixed column fails its
   reduced-cost test (forcing it the other way would cost more than the bound's margin over
   the plan), the classical LP reduced-cost fixing; otherwise the gap to the best bound is
   reported, never called optimal unless it is within the requested ``mip_rel_gap``.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from netplan.optimize.cuts import LinkageCoverCuts
from netplan.optimize.highs import highs_model, highs_version
from netplan.optimize.model import TieredModel
from netplan.optimize.program import LinearProgram
from netplan.optimize.records import SolverOptions, SolverRecord, relative_gap
from netplan.optimize.reduction import merge_identical_rows
from netplan.optimize.scaling import equilibrate
from netplan.optimize.solver import search_record, solve

# share of the time limit for the first PDLP solve (before any restricted MIP can start)
PDLP_SHARE = 0.15
# then rounds of linkage-lifted coverage cuts, each LP re-solved by warm-started PDLP for
# at most this share of the time limit, in a background thread beside the restricted MIPs
CUT_ROUND_SHARE = 0.1
MAX_CUT_ROUNDS = 12
# cut rounds stop when the cuts found are violated by less than this share of the bound
# (weighted by demand)
CUT_MIN_GAIN = 1e-4
# a column whose LP value is within this of 0 or 1 is fixed there in the first restriction
FIX_TOLERANCE = 0.02
# ... which keeps at most this share of the x columns free: the most decided fractional
# columns are rounded (national: 2 600-4 400 free sites hit the round's time cap with plans
# 0.2-4 % short; 1 968 of 12 300 x columns solved in 6-24 s to 26,078,379-26,090,043)
FIRST_FREE_SHARE = 0.16
# once there is a plan, each restriction searches around it (RINS, Danna, Rothberg & Le Pape
# 2005): every x column is fixed at the plan's value except the RINS_FREE_SHARE of them where
# the latest relaxation point disagrees with the plan most. After a round that finished
# without a better plan the search waits for the next relaxation point, or, once the cut
# rounds have ended, doubles the width (so small models end in an exact solve of the whole)
RINS_FREE_SHARE = 0.12
RINS_ROUND_GAP = 1e-4
MAX_ROUNDS = 60
# a round stops within this relative gap of its own bound (or a tenth of the global gap)
ROUND_GAP_CAP = 5e-4
# a restricted MIP gets at most this share of the time limit: the next round fixes by a
# better relaxation point (the cut rounds improve it meanwhile) instead of waiting
ROUND_TIME_SHARE = 0.25
NO_PROBING = 2**15  # HiGHS presolve_rule_off bit of probing


def lagrangian_bound(lp: LinearProgram, row_dual: np.ndarray) -> tuple[float, np.ndarray]:
    """A valid bound on the LP relaxation of ``lp`` from any row multipliers.

    For a maximisation, ``c·x = (c - Aᵀπ)·x + π·Ax`` and each term is bounded over the column
    and row bounds separately, so ``Σ_j max_{x_j in [lb,ub]} d_j x_j + Σ_r max_{s in [lo,hi]}
    π_r s`` bounds the LP for every π (HiGHS's sign convention; a multiplier pushing on an
    infinite side is dropped). At an optimal π it equals the LP optimum.

    Returns
    -------
    bound : float
        In ``lp``'s own sense (an upper bound when maximising, a lower bound when minimising).
    reduced : ndarray (n,)
        Reduced costs ``d = c - Aᵀπ`` in maximisation form: forcing column j from the bound
        it takes in the bound's maximiser to the other changes the bound by ``-|d_j| (ub-lb)``.
    """
    sign = 1.0 if lp.sense == "max" else -1.0
    pi = sign * np.asarray(row_dual, dtype=float)
    hi_ok, lo_ok = np.isfinite(lp.row_hi), np.isfinite(lp.row_lo)
    pi = np.where((pi > 0) & ~hi_ok, 0.0, pi)
    pi = np.where((pi < 0) & ~lo_ok, 0.0, pi)
    reduced = sign * lp.c - lp.A.T @ pi
    if not (np.isfinite(lp.ub[reduced > 0]).all() and np.isfinite(lp.lb[reduced < 0]).all()):
        return sign * math.inf, reduced
    rows = np.where(pi > 0, pi * np.where(hi_ok, lp.row_hi, 0.0), 0.0) + np.where(
        pi < 0, pi * np.where(lo_ok, lp.row_lo, 0.0), 0.0
    )
    cols = np.where(reduced > 0, reduced * lp.ub, 0.0) + np.where(reduced < 0, reduced * lp.lb, 0.0)
    return sign * float(rows.sum() + cols.sum()) + lp.offset, reduced


@dataclass
class FirstOrderLP:
    """PDLP's primal values, the bound its row multipliers prove, and its reduced costs."""

    x: np.ndarray
    bound: float
    reduced: np.ndarray
    seconds: float
    iterations: int
    row_dual: np.ndarray | None = None  # in lp's own rows (for a warm start)


def first_order_relaxation(
    lp: LinearProgram,
    options: SolverOptions,
    iteration_limit: int | None = None,
    start: tuple[np.ndarray, np.ndarray] | None = None,
    deadline: float | None = None,
) -> FirstOrderLP:
    """Solve the LP relaxation of ``lp`` with HiGHS's PDLP for at most ``options.time_limit``.

    Rows are scaled to unit largest coefficient first (a budget row with coefficients in the
    millions otherwise slows PDLP), and HiGHS's presolve is off: after presolve, HiGHS 1.16
    returns no usable row duals from a PDLP run stopped by a limit (measured: bound from its
    duals = the trivial bound). The bound does not need PDLP to converge.

    ``start`` = (column values, row multipliers in ``lp``'s rows) warm-starts PDLP (HiGHS
    takes it through ``setSolution``; measured on the national LP with cuts added: 1 000
    iterations from the previous round's point reach 26,145,814 against 26,158,179 cold).
    ``deadline`` (a ``time.perf_counter()`` value) caps the run after the set-up (scaling and
    passing 200 000 rows to HiGHS take a second or two that the time limit does not see).
    """

    t0 = time.perf_counter()
    scale = np.ones(lp.n_rows)
    if lp.n_rows:
        biggest = abs(lp.A).max(axis=1).toarray().ravel()
        scale = np.where(biggest > 0, 1.0 / np.where(biggest > 0, biggest, 1.0), 1.0)
    scaled = dataclasses.replace(
        lp,
        A=sp.csr_matrix(sp.diags(scale) @ lp.A),
        row_lo=lp.row_lo * scale,
        row_hi=lp.row_hi * scale,
    )
    h = highs_model(scaled, dataclasses.replace(options, highs_presolve=False), relax=True)
    h.setOptionValue("solver", "pdlp")
    if iteration_limit is not None:
        h.setOptionValue("pdlp_iteration_limit", int(iteration_limit))
    if start is not None:
        import highspy

        warm = highspy.HighsSolution()
        x0 = np.clip(np.asarray(start[0], dtype=float), lp.lb, lp.ub)
        warm.col_value = x0
        warm.row_value = scaled.A @ x0
        warm.value_valid = True
        warm.col_dual = np.zeros(lp.n_cols)
        warm.row_dual = np.asarray(start[1], dtype=float) / scale
        warm.dual_valid = True
        h.setSolution(warm)
    if deadline is not None:
        left = max(0.05, deadline - time.perf_counter())
        if options.time_limit is None or left < options.time_limit:
            h.setOptionValue("time_limit", float(left))
    h.run()
    solution = h.getSolution()
    x = np.clip(np.asarray(solution.col_value, dtype=float), lp.lb, lp.ub)
    row_dual = np.asarray(solution.row_dual, dtype=float) * scale  # back to lp's rows
    if len(row_dual) != lp.n_rows or not np.isfinite(row_dual).all():
        row_dual = np.zeros(lp.n_rows)
    bound, reduced = lagrangian_bound(lp, row_dual)
    iterations = int(h.getInfo().pdlp_iteration_count)
    if len(x) != lp.n_cols:
        x = np.clip(np.zeros(lp.n_cols), lp.lb, lp.ub)
    return FirstOrderLP(x, bound, reduced, time.perf_counter() - t0, iterations, row_dual)


class CutRounds:
    """Rounds of linkage-lifted coverage cuts, each LP re-solved by warm-started PDLP.

    Runs in a background thread beside the restricted MIPs (:meth:`start`): HiGHS's PDLP is
    single-threaded and releases the GIL, so on two cores both proceed at full speed
    (measured: 600 PDLP iterations on the national LP took 12.0 s next to a MIP solve and
    13 s alone; the MIP reached the same bound in 25 s either way).

    Every round's Lagrangian bound is valid (the cuts hold for every plan, so the LP with cuts
    still relaxes the MIP). ``best`` is the round with the smallest bound, with the reduced
    costs of the same multipliers (the reduced-cost proof needs both from one relaxation);
    ``last`` the latest point (the fixing follows it). Read them through :meth:`snapshot`.
    Measured on the national benchmark (1 000 000 x 10 000, 1 000 PDLP iterations a round):
    26,209,865 without cuts, 26,131,019 after one round, 26,114,391 after five; the exact LP
    without cuts is 26,184,238.
    """

    def __init__(
        self,
        model: TieredModel,
        lp: LinearProgram,
        options: SolverOptions,
        first: FirstOrderLP,
        deadline: float | None,
        round_time: float | None,
        max_rounds: int = MAX_CUT_ROUNDS,
        objective_scale: float = 1.0,
    ):
        self.lp, self.options = lp, options
        # the cuts' violation is weighted by the model's demand weights; ``lp`` may carry them
        # divided by this power of two (see netplan.optimize.scaling)
        self.objective_scale = objective_scale
        self.deadline, self.round_time, self.max_rounds = deadline, round_time, max_rounds
        self.separator = LinkageCoverCuts(model)
        self.best = self.last = first
        self.rounds: list[dict] = []
        self.iterations = first.iterations
        self.seconds = first.seconds
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._new_point = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None

    def snapshot(self) -> tuple[FirstOrderLP, FirstOrderLP]:
        """(best, last) at this moment."""
        with self._lock:
            return self.best, self.last

    @property
    def running(self) -> bool:
        """True while the background rounds go on (new relaxation points may come)."""
        return self._thread is not None and self._thread.is_alive()

    def wait_for_new_point(self, seen: FirstOrderLP, timeout: float | None) -> None:
        """Block until ``last`` is no longer ``seen``, the rounds end, or ``timeout`` passes."""
        deadline = None if timeout is None else time.perf_counter() + timeout
        with self._new_point:
            while self.last is seen and self.running:
                wait = 0.5 if deadline is None else min(0.5, deadline - time.perf_counter())
                if wait <= 0:
                    return
                self._new_point.wait(wait)

    def start(self) -> None:
        """Run the rounds in a background thread (no-op when no cut can exist)."""
        if self.separator.useful and self.max_rounds > 0:
            self._thread = threading.Thread(target=self._guarded, name="netplan-cuts", daemon=True)
            self._thread.start()

    def finish(self) -> None:
        """Stop after the current round and wait for it; re-raise what the thread raised."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self.error is not None:
            raise self.error

    def _guarded(self) -> None:
        try:
            self.run()
        except BaseException as exc:  # handed to the main thread by finish()
            self.error = exc

    def run(self) -> None:
        """The rounds themselves (in the calling thread)."""
        current = self.lp
        for k in range(1, self.max_rounds + 1):
            time_limit = self.round_time
            if self.deadline is not None:
                left = self.deadline - time.perf_counter()
                if left < 1.0:
                    break
                time_limit = left if time_limit is None else min(time_limit, left)
            if self._stop.is_set():
                break
            best, last = self.snapshot()
            cuts = self.separator.separate(last.x)
            violation = cuts.weighted_violation / self.objective_scale
            if violation <= CUT_MIN_GAIN * abs(best.bound):
                break
            n = cuts.A.shape[0]
            current = current.with_rows(cuts.A, np.full(n, -np.inf), np.zeros(n))
            warm = None
            if last.row_dual is not None:
                warm = (last.x, np.concatenate([last.row_dual, np.zeros(n)]))
            solved = first_order_relaxation(
                current,
                dataclasses.replace(self.options, time_limit=time_limit),
                start=warm,
                deadline=self.deadline,
            )
            with self._lock:
                self.last = solved
                self._new_point.notify_all()
                if solved.bound < self.best.bound:
                    self.best = solved
                self.iterations += solved.iterations
                self.seconds += solved.seconds
                self.rounds.append(
                    {
                        "round": k,
                        "cuts": int(n),
                        "rows": int(current.n_rows),
                        "weighted_violation": violation,
                        "pdlp_s": round(solved.seconds, 3),
                        "pdlp_iterations": solved.iterations,
                        "bound": solved.bound,
                    }
                )


@dataclass
class RestrictedProgram:
    """The max-coverage MIP with some site columns fixed, reduced and re-merged.

    Columns: the free x columns (``free``, in that order), then one y column per group of
    remaining demand rows with the same free sites.
    """

    lp: LinearProgram
    free: np.ndarray
    fixed_values: np.ndarray  # (nx,) value of every x column (free ones: NaN)
    rows_before: int
    feasible: bool = True

    def full_x(self, x_restricted: np.ndarray, nx: int) -> np.ndarray:
        """Values of the model's x columns for a solution of the restricted program."""
        out = np.nan_to_num(self.fixed_values.copy())
        out[self.free] = np.round(x_restricted[: len(self.free)])
        return out[:nx]


def restricted_program(
    model: TieredModel, lp: LinearProgram, fixed: np.ndarray
) -> RestrictedProgram:
    """Fix the x columns where ``fixed`` is 0 or 1 (NaN = free) and reduce the model.

    ``lp`` is the max-coverage program of ``model`` (x and y columns only). A coverage row
    with a column fixed at 1 is covered in every plan of the restriction (its weight becomes a
    constant); one whose columns are all fixed at 0 is lost; the others keep only their free
    columns and rows with the same free columns merge (weights summed) — an exact reduction of
    the restricted MIP. The other rows (one tier, budget, counts, linkage) move the fixed
    columns' contribution into their bounds.
    """
    nx, ny = model.nx, model.ny
    fixed = np.asarray(fixed, dtype=float)
    free = np.flatnonzero(np.isnan(fixed))
    values = np.nan_to_num(fixed)
    A = lp.A.tocsr()
    cov = A[:ny, :nx]
    weight = lp.c[nx : nx + ny]
    ones = (values > 0.5) & ~np.isnan(fixed)
    covered = (abs(cov) @ ones.astype(float)) > 0
    cov_free = sp.csr_matrix(cov[:, free])
    live = ~covered & (cov_free.getnnz(axis=1) > 0)
    constant = float(weight[covered].sum()) + lp.offset
    rows = np.flatnonzero(live)
    groups = merge_identical_rows(cov_free[rows])
    g_weight = np.bincount(groups.group, weights=weight[rows], minlength=groups.n_groups)
    nf, ng = len(free), groups.n_groups
    cov_rows = sp.hstack(
        [cov_free[rows[groups.representative]], sp.identity(ng, format="csr")], format="csr"
    )
    other = A[ny:]
    if other[:, nx:].nnz:  # rows on y columns (targets): not a restriction this supports
        raise ValueError("restricted_program: rows other than coverage may not use y columns")
    shift = other[:, :nx] @ values
    o_lo, o_hi = lp.row_lo[ny:] - shift, lp.row_hi[ny:] - shift
    o_free = sp.csr_matrix(other[:, free])
    keep = o_free.getnnz(axis=1) > 0
    tol = 1e-6 * np.maximum(1.0, np.abs(np.where(np.isfinite(o_hi), o_hi, 0.0)))
    empty_ok = (o_lo[~keep] <= tol[~keep]) & (o_hi[~keep] >= -tol[~keep])
    o_rows = sp.hstack([o_free[keep], sp.csr_matrix((int(keep.sum()), ng))], format="csr")
    restricted = LinearProgram(
        c=np.concatenate([np.zeros(nf), g_weight]),
        lb=np.concatenate([lp.lb[free], np.zeros(ng)]),
        ub=np.concatenate([lp.ub[free], np.ones(ng)]),
        integer=np.concatenate([np.ones(nf, dtype=bool), np.zeros(ng, dtype=bool)]),
        A=sp.vstack([cov_rows, o_rows], format="csr"),
        row_lo=np.concatenate([np.full(ng, -np.inf), o_lo[keep]]),
        row_hi=np.concatenate([np.zeros(ng), o_hi[keep]]),
        sense="max",
        offset=constant,
    )
    fixed_values = np.where(np.isnan(fixed), np.nan, values)
    return RestrictedProgram(restricted, free, fixed_values, int(lp.n_rows), bool(empty_ok.all()))


@dataclass
class LPGuidedResult:
    """Best plan (tier per site), its record (exact objective, Lagrangian bound, gap), rounds."""

    tiers: np.ndarray | None
    record: SolverRecord
    rounds: list[dict] = field(default_factory=list)


def _fixing(x: np.ndarray, reduced: np.ndarray, tolerance: float, width: int) -> np.ndarray:
    """x columns fixed at 0 / 1 by a relaxation point ``x`` (NaN = free), ``width`` free.

    Columns within ``tolerance`` of a bound are fixed there. If more than ``width`` others
    remain, the ones nearest a bound are rounded; if fewer, the fixed columns with the
    smallest reduced cost in absolute value (the cheapest to force the other way) are freed.
    """
    fixed = np.full(len(x), np.nan)
    fixed[x <= tolerance] = 0.0
    fixed[x >= 1.0 - tolerance] = 1.0
    fractional = np.flatnonzero(np.isnan(fixed))
    if len(fractional) > width:
        decided = fractional[np.argsort(-np.abs(x[fractional] - 0.5), kind="stable")]
        rounded = decided[: len(fractional) - width]
        fixed[rounded] = np.round(x[rounded])
    elif len(fractional) < width:
        candidates = np.flatnonzero(~np.isnan(fixed))
        order = candidates[np.argsort(np.abs(reduced[candidates]), kind="stable")]
        fixed[order[: width - len(fractional)]] = np.nan
    return fixed


def _neighbourhood(plan: np.ndarray, x: np.ndarray, reduced: np.ndarray, width: int) -> np.ndarray:
    """RINS fixing around ``plan``: ``width`` columns free (NaN), the rest at the plan's values.

    The free columns are those where the relaxation point ``x`` and the plan disagree most
    (ties: the smallest reduced cost in absolute value, the cheapest to move). Measured on
    the national benchmark: this neighbourhood improved the plan by 5 000-12 000 in rounds of
    7-20 s; freeing only the disagreements above 0.1 and then the plan's open columns or the
    smallest reduced costs solved in under 2 s and found nothing.
    """
    order = np.lexsort((np.abs(reduced), -np.abs(x - plan)))
    fixed = plan.astype(float).copy()
    fixed[order[:width]] = np.nan
    return fixed


def solve_max_coverage_lp_guided(
    model: TieredModel,
    options: SolverOptions,
    start_tiers: np.ndarray | None = None,
    pdlp_share: float = PDLP_SHARE,
    on_round=None,
    max_cut_rounds: int = MAX_CUT_ROUNDS,
) -> LPGuidedResult:
    """Maximal weighted coverage by a PDLP bound and restricted exact MIPs (module docstring).

    Parameters
    ----------
    model : TieredModel
        A ``max_coverage`` model without capacities, span of control or region targets.
    options : SolverOptions
        ``time_limit`` for everything (the first PDLP solve gets ``pdlp_share`` of it, at
        least 1 s; the cut rounds then run beside the restricted MIPs until the limit); the
        loop stops when the gap to the bound is within ``mip_rel_gap``.
    start_tiers : ndarray (m,), optional
        A feasible plan (tier per site, -1 closed): every restriction keeps it reachable.
    max_cut_rounds : int
        Rounds of linkage-lifted coverage cuts (:class:`CutRounds`); 0 = the plain LP bound.

    Returns
    -------
    LPGuidedResult
        ``record.status`` is ``optimal`` only when the reduced-cost test proves the
        restriction's optimum global (or the plan meets the bound).
    """
    t0 = time.perf_counter()
    obj = model.coverage_objective()
    # every row and the objective divided by a power of two (netplan.optimize.scaling): the whole
    # search runs in these units, so its tolerances do not depend on the unit of the weights;
    # the record converts back
    scaled = equilibrate(model.lp.with_objective(obj.c, obj.sense, obj.offset))
    lp, scale = scaled.lp, scaled.objective_scale

    # kept back from the limit for joining the cut thread, mapping the plan back and the
    # planner's work after this stage (national: with 1.5 s the run ended 0.5 s over the
    # limit, with 3 s 1.3-2.5 s early)
    reserve = 0.0 if options.time_limit is None else min(2.0, 0.02 * options.time_limit)

    def left() -> float | None:
        if options.time_limit is None:
            return None
        return options.time_limit - reserve - (time.perf_counter() - t0)

    limit = options.time_limit
    pdlp_time = None if limit is None else max(1.0, pdlp_share * limit)
    first = first_order_relaxation(
        lp,
        dataclasses.replace(options, time_limit=pdlp_time),
        deadline=None if pdlp_time is None else t0 + pdlp_time,
    )
    cut_rounds = CutRounds(
        model,
        lp,
        options,
        first,
        deadline=None if limit is None else t0 + limit - reserve,
        round_time=None if limit is None else max(1.0, CUT_ROUND_SHARE * limit),
        max_rounds=max_cut_rounds,
        objective_scale=scale,
    )
    cut_rounds.start()
    try:
        status, best, best_x, rounds = _restricted_rounds(
            model, lp, options, cut_rounds, start_tiers, left, on_round
        )
    finally:
        cut_rounds.finish()
    bound = cut_rounds.best.bound
    if status != "optimal" and math.isfinite(best):
        if bound - best <= max(options.mip_rel_gap * abs(best), 1e-9 * max(1.0, abs(best))):
            status = "optimal"  # the last cut round closed the gap
    if status == "optimal" and rounds and rounds[-1].get("proven"):
        bound = best
    tiers = (
        None if best_x is None else model.site_tiers(np.concatenate([best_x, np.zeros(model.ny)]))
    )
    record = search_record(
        status,
        best,
        bound,
        time.perf_counter() - t0,
        options,
        "coverage",
        f"lp-guided: PDLP bound + {len(rounds)} restricted MIPs",
    )
    # objective and bound back in the user's units (exact: the scale is a power of two); the
    # rounds' figures stay in scaled units
    record.objective *= scale
    record.bound *= scale
    record.extra["objective_scale"] = scale
    record.extra["lp_guided_rounds"] = rounds
    record.extra["pdlp_seconds"] = round(cut_rounds.seconds, 3)
    record.extra["pdlp_iterations"] = cut_rounds.iterations
    record.extra["pdlp_bound"] = cut_rounds.best.bound * scale
    record.extra["cut_rounds"] = cut_rounds.rounds
    return LPGuidedResult(tiers, record, rounds)


def _restricted_rounds(
    model: TieredModel,
    lp: LinearProgram,
    options: SolverOptions,
    cut_rounds: CutRounds,
    start_tiers: np.ndarray | None,
    left,
    on_round,
) -> tuple[str, float, np.ndarray | None, list[dict]]:
    """The restricted exact MIPs (module docstring, step 3).

    Until a restriction has found a plan, the columns are fixed by the latest relaxation
    point (:func:`_fixing`); then every round searches around the best plan
    (:func:`_neighbourhood`), steered by the latest relaxation point, with the plan as the
    MIP start. The reduced costs are those of the best bound so far (both may have improved
    in the background since the last round). Returns (status, best value, best x columns,
    round records).
    """
    nx = model.nx
    best_x = None
    best = -math.inf
    found = False  # a restriction has found a plan (the start alone does not steer the fixing)
    if start_tiers is not None:
        x0 = model.x_from_tiers(np.asarray(start_tiers, dtype=np.int64))
        if lp.max_violation(x0) <= 1e-6:
            best_x, best = x0[:nx], lp.objective_value(x0)
    rounds: list[dict] = []
    first_width = max(1, round(FIRST_FREE_SHARE * nx))
    base_width = max(1, round(RINS_FREE_SHARE * nx))
    width = first_width
    steered_by = None  # the relaxation point of the previous round
    for k in range(1, MAX_ROUNDS + 1):
        remaining = left()
        if remaining is not None and remaining <= 0.5:
            break
        relaxation, latest = cut_rounds.snapshot()
        bound, reduced = relaxation.bound, relaxation.reduced[:nx]
        if found and (latest is not steered_by or rounds[-1]["neighbourhood"] != "plan"):
            width = base_width  # a new point to steer by: a new neighbourhood at the start width
        steered_by = latest
        if found:
            fixed = _neighbourhood(best_x, latest.x[:nx], reduced, min(width, nx))
        else:
            fixed = _fixing(latest.x[:nx], reduced, FIX_TOLERANCE, min(width, nx))
        restricted = restricted_program(model, lp, fixed)
        if not restricted.feasible:  # the fixing broke a rule: free every column
            fixed = np.full(nx, np.nan)
            restricted = restricted_program(model, lp, fixed)
        start = None
        if best_x is not None and _respects(best_x, fixed):
            start = np.zeros(restricted.lp.n_cols)
            start[: len(restricted.free)] = best_x[restricted.free]
            start = _complete_start(restricted.lp, start)
        final = len(restricted.free) == nx
        # a round need not close its own gap far below the global one: widen instead
        gap_now = relative_gap(best, bound) if math.isfinite(best) else math.inf
        if final:
            round_gap = options.mip_rel_gap
        elif found:
            # the plan is the start, usually within the global gap of the neighbourhood's
            # own bound: with the global gap HiGHS would stop at once (measured: every
            # national round in under 2 s, no better plan; with 1e-4, 5 000-12 000 better)
            round_gap = min(options.mip_rel_gap, RINS_ROUND_GAP)
        else:
            round_gap = max(options.mip_rel_gap, min(0.1 * gap_now, ROUND_GAP_CAP))
        round_time = None if remaining is None else remaining - 0.5  # set-up of the round
        if remaining is not None and not final:
            cap = ROUND_TIME_SHARE * options.time_limit
            round_time = round_time if remaining < 1.5 * cap else cap
        # HiGHS's probing ignores the time limit (measured: 122 s in a 12 s round at 90 000
        # rows); the restricted models are small enough to do without it
        round_options = dataclasses.replace(
            options,
            time_limit=round_time,
            mip_rel_gap=round_gap,
            highs_options={**options.highs_options, "presolve_rule_off": NO_PROBING},
        )
        if restricted.lp.n_cols == 0:  # everything fixed: the fixing is the plan
            x, last = np.zeros(0), _fixed_record(restricted.lp.offset, round_options)
        else:
            x, last = solve(restricted.lp, round_options, start)
        info = {
            "round": k,
            "neighbourhood": "plan" if found else "relaxation",
            "free_columns": int(len(restricted.free)),
            "rows": int(restricted.lp.n_rows),
            "solve_s": round(last.seconds, 3),
            "status": last.status,
            "restricted_objective": last.objective,
            "restricted_bound": last.bound,
        }
        improved = False
        if x is not None:
            full = np.concatenate([restricted.full_x(x, nx), np.zeros(model.ny)])
            plan_x = model.x_from_tiers(model.site_tiers(full))
            value = lp.objective_value(plan_x)
            if value > best:
                improved = not found or value > best + 1e-9 * max(1.0, abs(best))
                best, best_x, found = value, plan_x[:nx], True
        # the proof needs bound and reduced costs of one relaxation: the one this round used
        # (its fixing was tested against it) or, if better, the current best
        relaxation_now, _ = cut_rounds.snapshot()
        proven = False
        if last.status == "optimal" and last.gap == 0.0 and math.isfinite(best):
            for rel in (relaxation_now, relaxation):
                margin = rel.bound - best
                if _fixings_proven(fixed, rel.reduced[:nx], lp.lb[:nx], lp.ub[:nx], margin):
                    proven = True
                    break
        bound = min(bound, relaxation_now.bound)
        info.update(
            {"best": best, "bound": bound, "gap": relative_gap(best, bound), "proven": proven}
        )
        rounds.append(info)
        if on_round is not None:
            on_round(info)
        margin = bound - best
        if proven or margin <= max(options.mip_rel_gap * abs(best), 1e-9 * max(1.0, abs(best))):
            return "optimal", best, best_x, rounds
        if final or last.status == "interrupted":
            break
        remaining = left()
        can_finish = remaining is None or remaining >= ROUND_TIME_SHARE * options.time_limit
        # a round that finished (or found its fixing infeasible) without a better plan is
        # widened, unless a wider round could not finish in the time left (measured: 4 962
        # free sites in the last 16 s found nothing); a round stopped by its time cap is
        # followed by one of the same width, steered by the latest relaxation point
        if last.status in ("optimal", "infeasible") and not improved:
            if found and cut_rounds.running:
                # the same point and plan would give the same neighbourhood: wait for the
                # next relaxation point (national: a cut round every 13 s; 2 952 free
                # columns instead found nothing in 7-14 s, 3 936 hit the 35 s cap)
                cut_rounds.wait_for_new_point(latest, None if remaining is None else remaining)
            elif can_finish:
                width = max(2 * len(restricted.free), len(restricted.free) + 1)
    return "time_limit", best, best_x, rounds


def _complete_start(lp: LinearProgram, start: np.ndarray) -> np.ndarray | None:
    """Give the y columns of a start their best value (covered when a free site covers them)."""
    n_y = int((~lp.integer).sum())
    nf = lp.n_cols - n_y
    cov = lp.A[:n_y, :nf]
    covered = (abs(cov) @ start[:nf]) > 0.5
    out = start.copy()
    out[nf:] = covered.astype(float)
    return out if lp.max_violation(out) <= 1e-6 else None


def _fixed_record(value: float, options: SolverOptions) -> SolverRecord:
    """Record of a restricted program without free columns (its only plan is the fixing)."""
    return SolverRecord(
        "optimal",
        value,
        value,
        0.0,
        0.0,
        "HiGHS",
        highs_version(),
        options.time_limit,
        0.0,
        message="every column fixed",
    )


def _respects(x: np.ndarray, fixed: np.ndarray) -> bool:
    """The plan ``x`` takes every fixed column's value (so it is a plan of the restriction)."""
    mask = ~np.isnan(fixed)
    return bool(np.all(np.abs(x[mask] - fixed[mask]) < 0.5))


def _fixings_proven(
    fixed: np.ndarray, reduced: np.ndarray, lb: np.ndarray, ub: np.ndarray, margin: float
) -> bool:
    """Reduced-cost test: every plan better than the bound minus ``margin`` takes each fixed
    column's fixed value. Moving a column off the bound the Lagrangian maximiser puts it at
    lowers the bound by ``|d_j|``, so a column fixed at 0 needs ``d_j < -margin`` and one
    fixed at 1 needs ``d_j > margin`` (columns with ``lb == ub`` cannot move)."""
    at0, at1 = fixed == 0.0, fixed == 1.0
    immovable = lb == ub
    ok0 = immovable[at0] | (reduced[at0] < -margin)
    ok1 = immovable[at1] | (reduced[at1] > margin)
    return bool(ok0.all() and ok1.all())
