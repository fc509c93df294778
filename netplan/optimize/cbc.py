"""The CBC backend through PuLP, which also exports a program as ``.lp`` or ``.mps``."""

from __future__ import annotations

import math
import re
import tempfile
import threading
import time
import warnings
from pathlib import Path

import numpy as np

from netplan.optimize.program import LinearProgram
from netplan.optimize.progress import Throttle, current_watcher
from netplan.optimize.records import SolverOptions, SolverRecord, relative_gap


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


def solve_cbc(
    lp: LinearProgram, options: SolverOptions, start: np.ndarray | None
) -> tuple[np.ndarray | None, SolverRecord]:
    """One CBC solve of ``lp`` through PuLP, as CBC reports it (objective and bound read from
    its log; :func:`netplan.optimize.solver.solve` checks and certifies the report).

    Parameters
    ----------
    lp : LinearProgram
    options : SolverOptions
    start : ndarray (n,) or None
        A solution to start from (CBC warm start; integer columns rounded).

    Returns
    -------
    x : ndarray or None
        The solution, None without one.
    record : SolverRecord
    """
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
        with _ticking(current_watcher()):
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


class _ticking:
    """Reports the elapsed time of a CBC solve every half second (CBC runs as a separate
    program: PuLP shows nothing until it ends)."""

    def __init__(self, watcher):
        self.throttle = Throttle(watcher, "CBC", every=0.0) if watcher is not None else None
        self.stop = threading.Event()

    def _run(self) -> None:
        while not self.stop.wait(0.5):
            self.throttle(float("nan"), float("nan"))

    def __enter__(self):
        if self.throttle is not None:
            self.throttle(float("nan"), float("nan"))
            threading.Thread(target=self._run, daemon=True, name="netplan-cbc-ticks").start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        if self.throttle is not None:
            self.throttle(float("nan"), float("nan"), done=True)


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
