"""Mixed-integer programs as arrays, and the solver backends that solve them.

A :class:`LinearProgram` holds a MILP as whole arrays (costs, bounds, integrality, a sparse
constraint matrix with row bounds), the way PyPSA/linopy assemble models. Two backends
solve it: HiGHS through highspy's matrix interface (the default, no per-element Python
work) and CBC through PuLP (the second backend, also used for LP/MPS export).

Every solve returns a :class:`SolverRecord` with status, objective, best bound and relative
gap. Status vocabulary: ``optimal``, ``time_limit``, ``infeasible``, ``no_solution``,
``interrupted``, ``unproven``. A solve stopped by its time limit is never ``optimal``, nor is
one whose objective (c·x of the plan, checked against the solver's) and bound, as computed
here, do not meet the gap setting.
"""

from __future__ import annotations

import math
import re
import tempfile
import time
import warnings
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Literal

import numpy as np
import scipy.sparse as sp

Sense = Literal["min", "max"]
# ``unproven``: the solver called a solution optimal but its bound does not prove that
# within the gap setting (netplan computes the gap itself, from the bound and c·x)
STATUSES = ("optimal", "time_limit", "infeasible", "no_solution", "interrupted", "unproven")


@dataclass(frozen=True)
class LinearProgram:
    """A mixed-integer linear program ``opt c·x + offset  s.t.  row_lo <= A x <= row_hi, lb <= x <= ub``.

    Attributes
    ----------
    c, lb, ub : ndarray (n,)
    integer : ndarray (n,) of bool
    A : scipy.sparse.csr_matrix (m, n)
    row_lo, row_hi : ndarray (m,)
        Use ``-inf`` / ``inf`` for one-sided rows.
    sense : {"min", "max"}
    offset : float
        Constant added to the objective.
    """

    c: np.ndarray
    lb: np.ndarray
    ub: np.ndarray
    integer: np.ndarray
    A: sp.csr_matrix
    row_lo: np.ndarray
    row_hi: np.ndarray
    sense: Sense = "min"
    offset: float = 0.0

    @property
    def n_cols(self) -> int:
        return len(self.c)

    @property
    def n_rows(self) -> int:
        return self.A.shape[0]

    def with_objective(self, c: np.ndarray, sense: Sense, offset: float = 0.0) -> LinearProgram:
        """The same constraints with another objective."""
        return replace(self, c=np.asarray(c, dtype=float), sense=sense, offset=float(offset))

    def with_rows(self, A: sp.spmatrix, lo: np.ndarray, hi: np.ndarray) -> LinearProgram:
        """The program with extra constraint rows appended."""
        return replace(
            self,
            A=sp.vstack([self.A, sp.csr_matrix(A)], format="csr"),
            row_lo=np.concatenate([self.row_lo, np.asarray(lo, dtype=float)]),
            row_hi=np.concatenate([self.row_hi, np.asarray(hi, dtype=float)]),
        )

    def with_columns(
        self, count: int, lb: float = 0.0, ub: float = 1.0, integer: bool = False
    ) -> LinearProgram:
        """The program with ``count`` new columns (zero cost, no entries yet) appended."""
        A = sp.csr_matrix(
            (self.A.data, self.A.indices, self.A.indptr), shape=(self.n_rows, self.n_cols + count)
        )
        return replace(
            self,
            c=np.concatenate([self.c, np.zeros(count)]),
            lb=np.concatenate([self.lb, np.full(count, lb)]),
            ub=np.concatenate([self.ub, np.full(count, ub)]),
            integer=np.concatenate([self.integer, np.full(count, integer)]),
            A=A,
        )

    def with_bounds(self, columns: np.ndarray, lb: float, ub: float) -> LinearProgram:
        """The program with the bounds of ``columns`` replaced."""
        new_lb, new_ub = self.lb.copy(), self.ub.copy()
        new_lb[columns] = lb
        new_ub[columns] = ub
        return replace(self, lb=new_lb, ub=new_ub)

    def objective_value(self, x: np.ndarray) -> float:
        return float(self.c @ x + self.offset)

    def max_violation(self, x: np.ndarray) -> float:
        """Largest violation of a row or column bound by ``x`` (0 when feasible)."""
        ax = self.A @ x
        viol = [0.0]
        if self.n_rows:
            viol.append(float(np.max(np.maximum(self.row_lo - ax, ax - self.row_hi))))
        viol.append(float(np.max(np.maximum(self.lb - x, x - self.ub))))
        if self.integer.any():
            xi = x[self.integer]
            viol.append(float(np.max(np.abs(xi - np.round(xi)))))
        return max(viol)


def csr_from_pieces(
    rows: list[np.ndarray], cols: list[np.ndarray], vals: list[np.ndarray], shape: tuple[int, int]
) -> sp.csr_matrix:
    """CSR matrix from lists of COO pieces (row, column and value arrays); empty lists allowed."""
    if not rows:
        return sp.csr_matrix(shape)
    return sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=shape
    )


@dataclass
class SolverOptions:
    """Options every backend understands."""

    backend: Literal["highs", "cbc"] = "highs"
    time_limit: float | None = None
    mip_rel_gap: float = 0.0
    threads: int = 1
    seed: int = 0
    verbose: bool = False
    highs_presolve: bool = True  # off for models where HiGHS' MIP presolve proved unreliable
    # further HiGHS options by name (e.g. presolve_rule_off); other backends ignore them
    highs_options: dict[str, object] = field(default_factory=dict)


@dataclass
class SolverRecord:
    """What a solve returned, in the status vocabulary of netplan.

    Attributes
    ----------
    status : str
        ``optimal``, ``time_limit``, ``infeasible``, ``no_solution``, ``interrupted`` or
        ``unproven`` (called optimal by the solver, but the gap does not meet the setting).
    objective : float
        Objective of the best solution found, c·x (NaN if none).
    bound : float
        Best proven bound on the objective (NaN if unknown).
    gap : float
        Relative gap ``|objective - bound| / max(|objective|, 1e-9)``; 0 when proven optimal.
    seconds : float
        Wall time of the solve.
    solver, version : str
    time_limit : float or None
    mip_rel_gap : float
        The gap the solver was asked to reach.
    stage : str, optional
        Which lexicographic stage this solve was.
    message : str
    """

    status: str
    objective: float
    bound: float
    gap: float
    seconds: float
    solver: str
    version: str
    time_limit: float | None
    mip_rel_gap: float
    stage: str | None = None
    message: str = ""
    extra: dict[str, object] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            k: (None if isinstance(v, float) and not math.isfinite(v) else v)
            for k, v in asdict(self).items()
        }

    @property
    def has_solution(self) -> bool:
        with_plan = ("optimal", "time_limit", "interrupted", "unproven")
        return self.status in with_plan and math.isfinite(self.objective)


def relative_gap(objective: float, bound: float) -> float:
    """``|objective - bound| / |objective|`` (HiGHS's definition): 0 when they agree to 1e-9
    relative, infinite when the objective is 0 and the bound is not, NaN if unknown."""
    if not (math.isfinite(objective) and math.isfinite(bound)):
        return float("nan")
    diff = abs(objective - bound)
    if diff <= 1e-9 * max(1.0, abs(objective)):
        return 0.0
    if abs(objective) < 1e-9:
        return float("inf")
    return diff / abs(objective)


def search_record(
    status: str,
    objective: float,
    bound: float,
    seconds: float,
    options: SolverOptions,
    stage: str,
    message: str,
    solver: str = "HiGHS",
    version: str | None = None,
) -> SolverRecord:
    """Record of a search made of several solves (grid aggregation, LP-guided search).

    The gap is :func:`relative_gap` (0 when objective and bound agree), infinite without a
    plan.
    """
    gap = relative_gap(objective, bound) if math.isfinite(objective) else math.inf
    return SolverRecord(
        status,
        objective,
        bound,
        gap,
        seconds,
        solver,
        highs_version() if version is None else version,
        options.time_limit,
        options.mip_rel_gap,
        stage,
        message,
    )


# a solver's objective and c·x of the solution it returns must agree this closely (relative)
OBJECTIVE_TOLERANCE = 1e-9
MIP_FEASIBILITY = 1e-6  # HiGHS' default mip_feasibility_tolerance (on the scaled rows)
MIP_ABS_GAP = 1e-6  # HiGHS' default mip_abs_gap: it may stop this far from the bound


def solve(
    lp: LinearProgram, options: SolverOptions | None = None, start: np.ndarray | None = None
) -> tuple[np.ndarray | None, SolverRecord]:
    """Solve a :class:`LinearProgram` with the chosen backend, and check what it says.

    The solver's objective is checked against c·x of the solution it returns
    (:meth:`LinearProgram.objective_value`). When they disagree by more than
    ``OBJECTIVE_TOLERANCE * max(1, |c·x|)`` (HiGHS 1.16 with presolve and a start reported
    "Optimal" at 1682 for a start worth 1789 on a round of OR-Library pmed20), the program is
    solved again without the start, then (HiGHS) with presolve off, within what is left of
    the time limit; ``record.extra`` says so (``solver_objective``: the first objective
    reported, ``objective_resolves``: re-solves made, ``resolved_by``: the one that agreed).
    The record's objective is always c·x of the returned solution and its gap is computed
    here from that and the bound; a bound from a solve whose objective disagreed is not
    used. A solve is ``optimal`` only when that gap meets ``options.mip_rel_gap``; a solver
    claim of optimality that does not is reported as ``unproven``.

    Parameters
    ----------
    lp : LinearProgram
    options : SolverOptions, optional
        Backend, time limit (seconds, for the whole call including re-solves), relative MIP
        gap (default 0: prove optimality), threads, random seed.
    start : ndarray (n,), optional
        A feasible solution to start from (HiGHS ``setSolution``, CBC warm start).

    Returns
    -------
    x : ndarray or None
        Values of the variables in the best solution found, None if there is none.
    record : SolverRecord
    """
    options = options or SolverOptions()
    if options.backend == "highs":
        backend = _solve_highs
    elif options.backend == "cbc":
        backend = _solve_cbc
    else:
        raise ValueError(f"unknown solver backend {options.backend!r}; use 'highs' or 'cbc'")
    t0 = time.perf_counter()
    x, record = backend(lp, options, start)
    agrees = _objective_agrees(lp, x, record)
    first_objective, resolves = record.objective, []
    # a plan from a solve that misreports it is kept only if it keeps the rules
    best_x = x if agrees or (x is not None and lp.max_violation(x) <= 1e-6) else None
    fallback = x
    retries: list[tuple[str, SolverOptions]] = []
    if not agrees:
        if start is not None:
            retries.append(("no start", options))
        if options.backend == "highs" and options.highs_presolve:
            retries.append(("presolve off", replace(options, highs_presolve=False)))
    for reason, retry_options in retries:
        if agrees:
            break
        left = None
        if options.time_limit is not None:
            left = options.time_limit - (time.perf_counter() - t0)
            if left <= 0.01:
                # no time left to check: a plan, but no proof
                record.status = "time_limit" if fallback is not None else "no_solution"
                break
        x, record = backend(lp, replace(retry_options, time_limit=left), None)
        resolves.append(reason)
        agrees = _objective_agrees(lp, x, record)
        # a checked plan wins (a misreported one may gain from the solver's tolerances); else
        # the better one
        if x is not None and (
            agrees
            or best_x is None
            or _better(lp, lp.objective_value(x), lp.objective_value(best_x))
        ):
            best_x = x
    if resolves or not agrees:
        record.extra["solver_objective"] = first_objective
        record.extra["objective_resolves"] = float(len(resolves))
        if agrees and x is not None:
            record.extra["resolved_by"] = resolves[-1]
    record.seconds = time.perf_counter() - t0
    x = best_x if best_x is not None else fallback
    if x is None:
        return None, record
    if record.status == "no_solution":
        record.status = "time_limit"  # the re-solve stopped before a plan: an earlier one's
    record.objective = lp.objective_value(x)
    if not agrees:
        record.bound = float("nan")  # the bound of a solve that misreports its plan
    if not math.isfinite(record.bound):
        # stopped before any bound (e.g. a time limit inside the root LP): the column bounds
        # alone still give one, so a plan never goes out without a bound when one is known
        record.bound = box_bound(lp)
    # plan and bound agree when they differ by no more than the solver's own tolerances: its
    # absolute MIP gap and the feasibility noise of continuous columns (a distance stage closed
    # by HiGHS at gap 0 was 7.7e-8 apart in scaled units); beyond that the gap must meet the
    # setting
    slack = (
        OBJECTIVE_TOLERANCE * max(1.0, abs(record.objective)) + noise_allowance(lp) + MIP_ABS_GAP
    )
    apart = abs(record.objective - record.bound)
    record.gap = 0.0 if apart <= slack else relative_gap(record.objective, record.bound)
    if record.status == "optimal" and not (
        apart <= slack + options.mip_rel_gap * abs(record.objective)
    ):
        record.status = "unproven"
    return x, record


def noise_allowance(lp: LinearProgram) -> float:
    """How far the objective of a solution may move when its continuous columns move by the
    solver's feasibility tolerance: ``MIP_FEASIBILITY · Σ |c_j|`` over continuous columns
    (in ``lp``'s units; 0 when the objective has only integer columns)."""
    return MIP_FEASIBILITY * float(np.abs(lp.c[~lp.integer]).sum())


def _objective_agrees(lp: LinearProgram, x: np.ndarray | None, record: SolverRecord) -> bool:
    """Whether the solver's objective is c·x of its solution (True when there is none)."""
    if x is None:
        return True
    value = lp.objective_value(x)
    # continuous columns may sit within the solver's feasibility tolerance of their bounds,
    # which moves c·x a little away from the solver's own (postsolve) objective; that noise
    # is not a false proof (measured: 4e-7 relative on a distance stage)
    tolerance = OBJECTIVE_TOLERANCE * max(1.0, abs(value)) + noise_allowance(lp)
    if record.solver == "CBC":
        tolerance = max(tolerance, 1e-8)  # its log prints the objective with 8 decimals
    return abs(record.objective - value) <= tolerance


def _better(lp: LinearProgram, a: float, b: float) -> bool:
    return a > b if lp.sense == "max" else a < b


def box_bound(lp: LinearProgram) -> float:
    """Best objective over the column bounds alone (rows ignored): a bound every solution
    respects; NaN when a column with a non-zero cost is unbounded in the improving direction."""
    c = lp.c
    better_ub = (c > 0) if lp.sense == "max" else (c < 0)
    at = np.where(better_ub, lp.ub, lp.lb)
    at = np.where(c == 0, 0.0, at)
    if not np.isfinite(at).all():
        return float("nan")
    return float(c @ at + lp.offset)


# --------------------------------------------------------------------------- HiGHS
def highs_version() -> str:
    import highspy

    h = highspy.Highs()
    return f"{h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"


def highs_model(lp: LinearProgram, options: SolverOptions | None = None, relax: bool = False):
    """A ``highspy.Highs`` holding ``lp``, passed straight from its arrays, with netplan's options.

    Parameters
    ----------
    relax : bool
        Pass every column as continuous (the LP relaxation).
    """
    import highspy

    options = options or SolverOptions()
    h = highspy.Highs()
    h.setOptionValue("output_flag", bool(options.verbose))
    h.setOptionValue("mip_rel_gap", float(options.mip_rel_gap))
    h.setOptionValue("mip_abs_gap", 0.0 if options.mip_rel_gap == 0 else 1e-6)
    h.setOptionValue("threads", int(options.threads))
    h.setOptionValue("random_seed", int(options.seed))
    if options.time_limit is not None:
        h.setOptionValue("time_limit", max(float(options.time_limit), 0.01))
    if not options.highs_presolve:
        h.setOptionValue("presolve", "off")
    for name, value in options.highs_options.items():
        h.setOptionValue(name, value)
    A = lp.A.tocsc()
    A.sort_indices()
    sense = highspy.ObjSense.kMaximize if lp.sense == "max" else highspy.ObjSense.kMinimize
    integrality = np.zeros(lp.n_cols, dtype=np.int32) if relax else lp.integer.astype(np.int32)
    h.passModel(
        lp.n_cols,
        lp.n_rows,
        int(A.nnz),
        int(highspy.MatrixFormat.kColwise),
        int(sense),
        float(lp.offset),
        np.ascontiguousarray(lp.c, dtype=np.float64),
        np.ascontiguousarray(lp.lb, dtype=np.float64),
        np.ascontiguousarray(lp.ub, dtype=np.float64),
        np.ascontiguousarray(lp.row_lo, dtype=np.float64),
        np.ascontiguousarray(lp.row_hi, dtype=np.float64),
        np.ascontiguousarray(A.indptr[:-1], dtype=np.int32),
        np.ascontiguousarray(A.indices, dtype=np.int32),
        np.ascontiguousarray(A.data, dtype=np.float64),
        integrality,
    )
    return h


def solve_relaxation(
    lp: LinearProgram, options: SolverOptions | None = None
) -> tuple[np.ndarray | None, np.ndarray | None, SolverRecord]:
    """Solve the LP relaxation with HiGHS; returns the values, the reduced costs and the record."""
    import highspy

    options = options or SolverOptions()
    h = highs_model(lp, options, relax=True)
    t0 = time.perf_counter()
    h.run()
    seconds = time.perf_counter() - t0
    status = h.getModelStatus()
    optimal = status == highspy.HighsModelStatus.kOptimal
    value = float(h.getInfo().objective_function_value) if optimal else float("nan")
    record = SolverRecord(
        status="optimal"
        if optimal
        else ("time_limit" if status == highspy.HighsModelStatus.kTimeLimit else "no_solution"),
        objective=value,
        bound=value,
        gap=0.0 if optimal else float("nan"),
        seconds=seconds,
        solver="HiGHS",
        version=highs_version(),
        time_limit=options.time_limit,
        mip_rel_gap=0.0,
        message="LP relaxation",
    )
    if not optimal:
        return None, None, record
    solution = h.getSolution()
    return (
        np.asarray(solution.col_value, dtype=float),
        np.asarray(solution.col_dual, dtype=float),
        record,
    )


def _solve_highs(
    lp: LinearProgram, options: SolverOptions, start: np.ndarray | None
) -> tuple[np.ndarray | None, SolverRecord]:
    import highspy

    t0 = time.perf_counter()
    h = highs_model(lp, options)
    if start is not None:
        idx = np.arange(lp.n_cols, dtype=np.int32)
        h.setSolution(lp.n_cols, idx, np.ascontiguousarray(start, dtype=np.float64))
    if options.time_limit is not None:
        # the limit covers passing the model too (national: ~1 s for 190 000 rows)
        left = float(options.time_limit) - (time.perf_counter() - t0)
        h.setOptionValue("time_limit", max(left, 0.01))
    h.HandleKeyboardInterrupt = True
    h.solve()
    seconds = time.perf_counter() - t0
    model_status = h.getModelStatus()
    info = h.getInfo()
    has_primal = info.primal_solution_status == 2  # kSolutionStatusFeasible
    x = np.asarray(h.getSolution().col_value, dtype=float) if has_primal else None
    S = highspy.HighsModelStatus
    is_mip = bool(lp.integer.any())
    if model_status == S.kOptimal:
        status = "optimal"
    elif model_status == S.kTimeLimit:
        status = "time_limit" if has_primal else "no_solution"
    elif model_status in (S.kInfeasible, S.kUnboundedOrInfeasible):
        status = "infeasible"
    elif model_status in (S.kInterrupt, S.kHighsInterrupt):
        status = "interrupted"
    else:
        status = "no_solution"
    objective = float(info.objective_function_value) if x is not None else float("nan")
    if is_mip:
        bound = float(info.mip_dual_bound)
        if not math.isfinite(bound):
            bound = float("nan")
    else:
        bound = objective if status == "optimal" else float("nan")
    gap = relative_gap(objective, bound)
    record = SolverRecord(
        status=status,
        objective=objective,
        bound=bound,
        gap=gap,
        seconds=seconds,
        solver="HiGHS",
        version=highs_version(),
        time_limit=options.time_limit,
        mip_rel_gap=options.mip_rel_gap,
        message=h.modelStatusToString(model_status),
        extra={"nodes": float(info.mip_node_count)} if is_mip else {},
    )
    return x, record


# ----------------------------------------------------------------------- PuLP / CBC
def to_pulp(lp: LinearProgram, name: str = "netplan"):
    """The program as a :class:`pulp.LpProblem` (for CBC, or LP/MPS export).

    Variables are named ``v<i>`` and rows ``r<i>``, in array order.
    """
    import pulp

    prob = pulp.LpProblem(name, pulp.LpMaximize if lp.sense == "max" else pulp.LpMinimize)
    # PuLP 3 prefers prob.add_variable; PuLP 2.8 only has the LpVariable constructor
    make = (
        prob.add_variable
        if hasattr(prob, "add_variable")
        else (
            lambda n, lowBound, upBound, cat: pulp.LpVariable(
                n, lowBound=lowBound, upBound=upBound, cat=cat
            )
        )
    )
    variables = []
    for i in range(lp.n_cols):
        lo = None if not math.isfinite(lp.lb[i]) else float(lp.lb[i])
        hi = None if not math.isfinite(lp.ub[i]) else float(lp.ub[i])
        cat = pulp.LpInteger if lp.integer[i] else pulp.LpContinuous
        variables.append(make(f"v{i}", lowBound=lo, upBound=hi, cat=cat))
    nz = np.flatnonzero(lp.c)
    prob += pulp.LpAffineExpression(
        [(variables[i], float(lp.c[i])) for i in nz], constant=float(lp.offset)
    )
    A = lp.A.tocsr()
    for r in range(lp.n_rows):
        cols = A.indices[A.indptr[r] : A.indptr[r + 1]]
        vals = A.data[A.indptr[r] : A.indptr[r + 1]]
        expr = pulp.LpAffineExpression(
            [(variables[c], float(v)) for c, v in zip(cols, vals, strict=True)]
        )
        lo, hi = lp.row_lo[r], lp.row_hi[r]
        if math.isfinite(lo) and math.isfinite(hi) and lo == hi:
            prob += pulp.LpConstraint(expr, pulp.LpConstraintEQ, f"r{r}", float(lo))
            continue
        if math.isfinite(lo):
            prob += pulp.LpConstraint(
                expr,
                pulp.LpConstraintGE,
                f"r{r}" if not math.isfinite(hi) else f"r{r}_lo",
                float(lo),
            )
        if math.isfinite(hi):
            prob += pulp.LpConstraint(
                expr,
                pulp.LpConstraintLE,
                f"r{r}" if not math.isfinite(lo) else f"r{r}_hi",
                float(hi),
            )
    return prob, variables


def cbc_version() -> str:
    import pulp

    return f"CBC via PuLP {pulp.__version__}"


_BOUND_RE = re.compile(r"^(?:Lower|Upper) bound:\s+(-?[0-9.eE+-]+)", re.MULTILINE)
_BEST_POSSIBLE_RE = re.compile(r"best possible (-?[0-9.eE+-]+)")
_OBJECTIVE_RE = re.compile(r"^Objective value:\s+(-?[0-9.eE+-]+)", re.MULTILINE)


def _solve_cbc(
    lp: LinearProgram, options: SolverOptions, start: np.ndarray | None
) -> tuple[np.ndarray | None, SolverRecord]:
    import pulp

    prob, variables = to_pulp(lp)
    if start is not None:
        for var, value in zip(variables, start, strict=True):
            var.setInitialValue(float(round(value)) if var.cat == pulp.LpInteger else float(value))
    with tempfile.TemporaryDirectory(prefix="netplan-cbc-") as tmp, warnings.catch_warnings():
        # PuLP 3 marks its bundled CBC as deprecated for 4.0; pyproject pins pulp < 4
        warnings.simplefilter("ignore", DeprecationWarning)
        log = Path(tmp) / "cbc.log"
        solver = pulp.PULP_CBC_CMD(
            msg=bool(options.verbose),
            timeLimit=options.time_limit,
            gapRel=options.mip_rel_gap,
            gapAbs=0.0 if options.mip_rel_gap == 0 else None,
            threads=options.threads,
            warmStart=start is not None,
            logPath=str(log),
            keepFiles=False,
            options=[f"randomCbcSeed {options.seed + 1}"],
        )
        t0 = time.perf_counter()
        prob.solve(solver)
        seconds = time.perf_counter() - t0
        text = log.read_text(errors="replace") if log.exists() else ""
    sol = prob.sol_status
    if sol == pulp.LpSolutionOptimal:
        status = "optimal"
    elif sol == pulp.LpSolutionIntegerFeasible:
        status = "time_limit"
    elif (
        sol in (pulp.LpSolutionInfeasible, pulp.LpSolutionUnbounded)
        or prob.status == pulp.LpStatusInfeasible
    ):
        status = "infeasible"
    else:
        status = "no_solution"
    x = None
    if status in ("optimal", "time_limit"):
        x = np.array(
            [v.varValue if v.varValue is not None else 0.0 for v in variables], dtype=float
        )
    objective = float("nan")
    if x is not None:
        # CBC's own objective (without the constant, which PuLP's files leave out), so that
        # solve() can check it against c·x; c·x when the log has none
        reported = _OBJECTIVE_RE.search(text)
        objective = float(reported.group(1)) + lp.offset if reported else lp.objective_value(x)
    bound = float("nan")
    if status == "optimal":
        # proven: the plan's own value when the log's (8 decimals) agrees with it
        value = lp.objective_value(x)
        bound = value if abs(objective - value) <= 1e-8 else objective
    else:
        match = _BOUND_RE.search(text)
        if match:
            bound = float(match.group(1))
        else:
            found = _BEST_POSSIBLE_RE.findall(text)
            if found:
                sign = -1.0 if lp.sense == "max" else 1.0  # CBC minimises internally
                bound = sign * float(found[-1])
    record = SolverRecord(
        status=status,
        objective=objective,
        bound=bound,
        gap=relative_gap(objective, bound),
        seconds=seconds,
        solver="CBC",
        version=cbc_version(),
        time_limit=options.time_limit,
        mip_rel_gap=options.mip_rel_gap,
        message=pulp.LpStatus.get(prob.status, str(prob.status)),
    )
    return x, record


def write_model(lp: LinearProgram, path: str | Path) -> Path:
    """Export the program as ``.lp`` or ``.mps`` (through PuLP), for other solvers."""
    path = Path(path)
    prob, _ = to_pulp(lp)
    if path.suffix.lower() == ".mps":
        prob.writeMPS(str(path))
    elif path.suffix.lower() == ".lp":
        prob.writeLP(str(path))
    else:
        raise ValueError(f"{path}: export as .lp or .mps")
    return path
