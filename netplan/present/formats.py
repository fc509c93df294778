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


def format_money(value: float | None, currency: str | None = None, signed: bool = False) -> str:
    """Money as people read it: ``"EUR 8,480,000"``, or ``"8,480,000"`` without a currency.

    The one place money becomes text (report, terminal, map, compare), so that formatting by
    locale can replace it here alone. A missing or non-finite value reads ``"n/a"``.

    Parameters
    ----------
    value : float or None
    currency : str or None
        The scenario's ``costs.currency`` (ISO 4217 code), or None for a plain number.
    signed : bool
        A difference: always a sign, ``"EUR +1,695,600"``, ``"EUR -20,000"``.

    Returns
    -------
    str
    """
    if value is None or not math.isfinite(value):
        return "n/a"
    amount = f"{value:+,.0f}" if signed else f"{value:,.0f}"
    if amount == "-0":  # a rounded tiny negative is no debt
        amount = "+0" if signed else "0"
    return f"{currency} {amount}" if currency else amount


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
