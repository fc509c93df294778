"""How numbers read on the pages: money, distances and table cells as text."""

from __future__ import annotations

import math

import numpy as np


def money(value: float) -> str:
    """``value`` with thousands separators and no decimals (``1,234,568``).

    Parameters
    ----------
    value : float

    Returns
    -------
    str
    """
    return f"{value:,.0f}"


def distance(value: float | None, unit: str) -> str:
    """A distance or drive time for a person: ``"2.5 km"`` (metres in), ``"7.0 min"``, or ``"n/a"``.

    Parameters
    ----------
    value : float or None
        Metres when ``unit`` is ``"m"``, else minutes.
    unit : str
        The scenario's unit: ``"m"`` or ``"min"``.

    Returns
    -------
    str
    """
    if value is None or not np.isfinite(value):
        return "n/a"
    if unit == "m":
        return f"{value / 1000:.1f} km"
    return f"{value:.1f} min"


def cell(value: object, digits: int = 1) -> str:
    """A report table cell: integers with separators, floats with ``digits`` decimals, "–" for none.

    Parameters
    ----------
    value : object
        Any value of a table; ``None`` and non-finite floats give ``"–"``.
    digits : int
        Decimals of a float.

    Returns
    -------
    str
        Plain text (the template escapes it).
    """
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        return f"{value:,.{digits}f}"
    return str(value)


def compact(value: object) -> str:
    """A Jupyter table cell: floats of 1000 and more without decimals, smaller ones with one.

    Parameters
    ----------
    value : object

    Returns
    -------
    str
        Plain text (the template escapes it).
    """
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.1f}"
    return str(value)
