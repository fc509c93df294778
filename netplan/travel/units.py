"""Quantities with units: reach and linkage distances ("20 km", "1500 m", "30 min").

Bare numbers are rejected on purpose: a reach of ``20`` could be metres, kilometres or
minutes, and guessing silently is the most common planning-tool bug.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

from netplan._errors import ScenarioError

Dimension = Literal["distance", "time"]

# factor to the base unit of each dimension: metres for distance, minutes for time
_UNITS: dict[str, tuple[Dimension, float]] = {
    "m": ("distance", 1.0),
    "metre": ("distance", 1.0),
    "metres": ("distance", 1.0),
    "meter": ("distance", 1.0),
    "meters": ("distance", 1.0),
    "km": ("distance", 1000.0),
    "kilometre": ("distance", 1000.0),
    "kilometres": ("distance", 1000.0),
    "kilometer": ("distance", 1000.0),
    "kilometers": ("distance", 1000.0),
    "mi": ("distance", 1609.344),
    "mile": ("distance", 1609.344),
    "miles": ("distance", 1609.344),
    "min": ("time", 1.0),
    "mins": ("time", 1.0),
    "minute": ("time", 1.0),
    "minutes": ("time", 1.0),
    "h": ("time", 60.0),
    "hr": ("time", 60.0),
    "hour": ("time", 60.0),
    "hours": ("time", 60.0),
    "s": ("time", 1.0 / 60.0),
    "sec": ("time", 1.0 / 60.0),
    "seconds": ("time", 1.0 / 60.0),
}

# Largest amounts a reach may have: no two places on Earth are more than half its
# circumference (20,037.5 km) apart, and a drive time of a year is no service reach.
MAX_VALUE: dict[Dimension, float] = {"distance": 20_037_500.0, "time": 365 * 24 * 60.0}
_MAX_TEXT: dict[Dimension, str] = {"distance": "20037.5 km", "time": "8760 h"}

_PATTERN = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-z]+)\s*$")


@dataclass(frozen=True)
class Quantity:
    """A non-negative amount with a dimension.

    Attributes
    ----------
    value : float
        The amount in the base unit of its dimension: metres for distance, minutes for time.
    dimension : {"distance", "time"}
        What the amount measures.
    text : str
        The text it was parsed from, kept for messages and reports.
    """

    value: float
    dimension: Dimension
    text: str

    def __str__(self) -> str:
        return self.text

    @property
    def unit(self) -> str:
        """Base unit of the dimension: ``"m"`` or ``"min"``."""
        return "m" if self.dimension == "distance" else "min"


def parse_quantity(text: object, key: str) -> Quantity:
    """Parse a reach such as ``"20 km"``, ``"1500 m"`` or ``"30 min"``.

    Parameters
    ----------
    text : object
        The value from the scenario file.
    key : str
        Where the value sits in the scenario (e.g. ``tiers[1].reach``), used in messages.

    Returns
    -------
    Quantity
        The parsed amount in metres or minutes.

    Raises
    ------
    ScenarioError
        If the value is a bare number, has an unknown unit, is not strictly positive, is not
        finite (``1e999 km``) or exceeds :data:`MAX_VALUE` (half the Earth's circumference,
        or a year of driving).
    """
    if isinstance(text, Quantity):
        return text
    if isinstance(text, bool) or text is None:
        raise ScenarioError(
            f"{key}: expected a distance or time with a unit like '20 km' or '30 min', got {text!r}"
        )
    if isinstance(text, int | float):
        raise ScenarioError(
            f"{key}: the bare number {text!r} has no unit; write it with one, e.g. '{text} km', '{text} m' or '{text} min'"
        )
    match = _PATTERN.match(str(text))
    if not match:
        raise ScenarioError(
            f"{key}: cannot read {text!r}; write a number and a unit, e.g. '20 km', '1500 m' or '30 min'"
        )
    number, unit = float(match.group(1)), match.group(2).lower()
    if unit not in _UNITS:
        raise ScenarioError(
            f"{key}: unknown unit '{match.group(2)}' in {text!r}; use m, km, mi, min or h"
        )
    dimension, factor = _UNITS[unit]
    if not number > 0:
        raise ScenarioError(
            f"{key}: reach must be greater than 0, got {text!r}; give a positive distance or time"
        )
    value = number * factor
    if not math.isfinite(value):
        raise ScenarioError(
            f"{key}: {text!r} is not a finite amount; give a distance or time such as '20 km' or '30 min'"
        )
    if value > MAX_VALUE[dimension]:
        raise ScenarioError(
            f"{key}: {text!r} is longer than any {dimension} a reach can mean; give at most {_MAX_TEXT[dimension]}"
        )
    return Quantity(value, dimension, str(text).strip())


def format_distance(metres: float) -> str:
    """Format metres for people: ``"850 m"`` or ``"12.3 km"``."""
    if metres != metres:  # NaN
        return "n/a"
    return f"{metres:.0f} m" if abs(metres) < 1000 else f"{metres / 1000:.1f} km"
