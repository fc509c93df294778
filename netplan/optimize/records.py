"""What a solve is asked (:class:`SolverOptions`) and what it answers (:class:`SolverRecord`).

Status vocabulary: ``optimal``, ``time_limit``, ``infeasible``, ``no_solution``,
``interrupted``, ``unproven``. The gap is netplan's own (:func:`relative_gap`), computed from
the objective and the bound.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Literal

# ``unproven``: the solver called a solution optimal but its bound does not prove that
# within the gap setting (netplan computes the gap itself, from the bound and c·x)
STATUSES = ("optimal", "time_limit", "infeasible", "no_solution", "interrupted", "unproven")


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
