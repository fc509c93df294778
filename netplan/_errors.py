"""Exception types raised by netplan.

Every error a user can cause is a :class:`NetplanError`, which subclasses
:class:`ValueError` so callers may catch either. Messages are one line: what is
wrong, where (file, row or key) and how to fix it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class NetplanError(ValueError):
    """Base class of every error netplan raises on bad input or an unsolvable plan."""


class ScenarioError(NetplanError):
    """The scenario file or object is invalid (unknown key, wrong type, bad value)."""


class InputDataError(NetplanError):
    """An input layer (demand, outlets, candidates, regions) is invalid."""


class NetplanWarning(UserWarning):
    """A recoverable input problem fixed by a documented rule (e.g. zero-weight demand dropped)."""


class InputFileNotFoundError(InputDataError, FileNotFoundError):
    """An input file named by the scenario does not exist."""


class InfeasiblePlanError(NetplanError):
    """No plan satisfies the scenario's rules (budget, counts, targets, policies)."""


class PlanValidationError(NetplanError):
    """A plan breaks a rule of its scenario (raised by the independent validator)."""


class OutputError(NetplanError):
    """The output folder cannot be written (exists and is not empty, or is not writable)."""


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest option, or ``""`` if none is close."""
    options = [str(o) for o in options]
    close = difflib.get_close_matches(str(word), options, n=1, cutoff=0.5)
    if not close:
        lowered = {o.lower(): o for o in options}
        if str(word).lower() in lowered:
            close = [lowered[str(word).lower()]]
    return f" (did you mean '{close[0]}'?)" if close else ""


class CompareError(NetplanError):
    """Two run folders cannot be compared: not a run folder, or runs of different tiers or regions."""
