"""Live progress of a running solve: elapsed time, incumbent and bound, as the backends see them.

A display subscribes with :func:`watch_solves` (the command line's progress line does); the
backends call :func:`report` from their callbacks. Without a subscriber, a solve inside a
Jupyter kernel prints a line at most every :data:`KERNEL_EVERY` seconds (none for a short
solve); anywhere else nothing is printed.
"""

from __future__ import annotations

import contextvars
import math
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

KERNEL_EVERY = 3.0  # seconds between two lines printed in a Jupyter kernel


@dataclass(frozen=True)
class SolveProgress:
    """Where a running solve stands.

    Attributes
    ----------
    solver : str
        ``HiGHS`` or ``CBC``.
    elapsed : float
        Seconds since the solve started.
    incumbent : float
        Objective of the best solution found so far (NaN before the first; CBC: always NaN).
    bound : float
        Best proven bound so far (NaN when unknown).
    done : bool
        True on the last report of a solve.
    """

    solver: str
    elapsed: float
    incumbent: float = float("nan")
    bound: float = float("nan")
    done: bool = False

    @property
    def gap(self) -> float:
        """``|incumbent - bound| / |incumbent|`` (NaN when either is unknown)."""
        if not (math.isfinite(self.incumbent) and math.isfinite(self.bound)):
            return float("nan")
        return abs(self.incumbent - self.bound) / max(abs(self.incumbent), 1e-9)

    def text(self) -> str:
        """One line: ``0:00:12 · best 164,375 · bound 164,375 · gap 0.0 %``."""
        whole = int(self.elapsed)
        parts = [f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"]
        if math.isfinite(self.incumbent):
            parts.append(f"best {self.incumbent:,.0f}")
        if math.isfinite(self.bound):
            parts.append(f"bound {self.bound:,.0f}")
        if math.isfinite(self.gap):
            parts.append(f"gap {100 * self.gap:.1f} %")
        return " · ".join(parts)


Watcher = Callable[[SolveProgress], None]
_watcher: contextvars.ContextVar[Watcher | None] = contextvars.ContextVar(
    "netplan_solve_watcher", default=None
)


@contextmanager
def watch_solves(watcher: Watcher | None) -> Iterator[None]:
    """Send every solve's progress inside the block to ``watcher`` (None: silence, also in
    Jupyter).

    Parameters
    ----------
    watcher : callable or None
        Called with a :class:`SolveProgress`, from the thread that runs the solve; it must
        return quickly (HiGHS waits for it).
    """
    token = _watcher.set(watcher if watcher is not None else _ignore)
    try:
        yield
    finally:
        _watcher.reset(token)


@contextmanager
def in_user_units(scale: float) -> Iterator[None]:
    """Inside the block, solves see a program whose objective is the user's divided by
    ``scale`` (:mod:`netplan.optimize.scaling`): the watcher gets the user's figures."""
    watcher = current_watcher()
    if watcher is None or scale == 1.0:
        yield
        return

    def rescaled(p: SolveProgress) -> None:
        watcher(replace(p, incumbent=p.incumbent * scale, bound=p.bound * scale))

    with watch_solves(rescaled):
        yield


@contextmanager
def known_best(value: float, sense: str) -> Iterator[None]:
    """Inside the block, the watcher's incumbent is never worse than ``value``.

    A search for "the best plan other than the known ones" (the tie stages' no-good rounds)
    starts without an incumbent of its own, yet the stage's best known value is what the
    planner is waiting on; the progress line shows it as ``best``.

    Parameters
    ----------
    value : float
        The best stage value known before the solve, in the units the watcher sees.
    sense : {"min", "max"}
    """
    watcher = current_watcher()
    if watcher is None or not math.isfinite(value):
        yield
        return

    def merged(p: SolveProgress) -> None:
        inc = p.incumbent
        worse = inc > value if sense == "min" else inc < value
        if not math.isfinite(inc) or worse:
            p = replace(p, incumbent=value)
        watcher(p)

    with watch_solves(merged):
        yield


def subscribe(watcher: Watcher) -> contextvars.Token:
    """Start sending this context's solve progress to ``watcher`` until :func:`unsubscribe`
    (for displays told of a stage's start and end separately, as the command line is)."""
    return _watcher.set(watcher)


def unsubscribe(token: contextvars.Token) -> None:
    """Undo :func:`subscribe` (quietly if the token belongs to another context)."""
    try:
        _watcher.reset(token)
    except ValueError:
        _watcher.set(None)


def _ignore(_: SolveProgress) -> None:
    return None


def current_watcher() -> Watcher | None:
    """The watcher of this context: the subscribed one, else a printer inside a Jupyter kernel,
    else None (the backends then register no callback at all)."""
    watcher = _watcher.get()
    if watcher is _ignore:
        return None
    if watcher is not None:
        return watcher
    return KernelPrinter() if in_kernel() else None


def in_kernel() -> bool:
    """Whether this code runs inside a Jupyter (ipykernel) kernel."""
    shell = sys.modules.get("IPython")
    if shell is None or "ipykernel" not in sys.modules:
        return False
    try:
        ip = shell.get_ipython()
    except Exception:  # an IPython without get_ipython: no kernel to print to
        return False
    return ip is not None and "IPKernelApp" in getattr(ip, "config", {})


class KernelPrinter:
    """Prints a solve's progress to stdout at most every ``every`` seconds, and nothing for a
    solve shorter than that (a notebook keeps only a few lines)."""

    def __init__(self, every: float = KERNEL_EVERY, stream=None):
        self.every = every
        self.stream = stream
        self.last = 0.0
        self.printed = False

    def __call__(self, p: SolveProgress) -> None:
        if p.done:
            if self.printed:
                self._print(f"{p.solver} done: {p.text()}")
            return
        if p.elapsed - self.last < self.every:
            return
        self.last = p.elapsed
        self.printed = True
        self._print(f"{p.solver} solving: {p.text()}")

    def _print(self, line: str) -> None:
        print(line, file=self.stream or sys.stdout, flush=True)


class Throttle:
    """Forwards at most one report every ``every`` seconds to a watcher (improvements and the
    last report always pass); the HiGHS callback fires thousands of times a second."""

    def __init__(self, watcher: Watcher, solver: str, every: float = 0.25):
        self.watcher = watcher
        self.solver = solver
        self.every = every
        self.t0 = time.perf_counter()
        self.next = 0.0
        self.incumbent = float("nan")
        self.bound = float("nan")

    def __call__(
        self, incumbent: float, bound: float, force: bool = False, done: bool = False
    ) -> None:
        elapsed = time.perf_counter() - self.t0
        if not (force or done or elapsed >= self.next):
            return
        self.next = elapsed + self.every
        if math.isfinite(incumbent) and abs(incumbent) < 1e50:
            self.incumbent = incumbent
        if math.isfinite(bound) and abs(bound) < 1e50:
            self.bound = bound
        try:
            self.watcher(SolveProgress(self.solver, elapsed, self.incumbent, self.bound, done))
        except Exception:  # a broken display must not stop the solve
            pass
