"""Judging a network independently of the solver: KPIs, gaps and overlaps, and the validator.

- :mod:`~netplan.evaluation.kpis` evaluates any set of outlets (today's or a plan) against demand;
- :mod:`~netplan.evaluation.validator` re-checks a plan against every rule of its scenario.
"""

from netplan.evaluation.kpis import Evaluation, baseline_outlets, evaluate
from netplan.evaluation.validator import Check, check_plan, validate_plan

__all__ = ["Check", "Evaluation", "baseline_outlets", "check_plan", "evaluate", "validate_plan"]
