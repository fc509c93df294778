"""How numbers read on the pages: money, distances and table cells as text."""

from __future__ import annotations

import math

import numpy as np


def babel_locale(locale: str) -> str:
    """A netplan locale (``"en"``, ``"zh-CN"``) as babel's identifier (``"en"``, ``"zh_CN"``)."""
    return locale.replace("-", "_")


def number(value: float, digits: int = 0, locale: str = "en", signed: bool = False) -> str:
    """``value`` with the locale's grouping and ``digits`` decimals (babel), e.g. ``1,234.6``.

    Parameters
    ----------
    value : float
    digits : int
        Decimals shown (always that many).
    locale : str
        ``"en"`` or ``"zh-CN"``.
    signed : bool
        Always a sign: ``+1.5``, ``-0.3``.

    Returns
    -------
    str
    """
    from babel.numbers import format_decimal

    body = "#,##0" + ("." + "0" * digits if digits else "")
    pattern = f"+{body};-{body}" if signed else body
    value = round(float(value), digits) + 0.0  # Python's rounding, as the pages' %.1f; no -0.0
    return format_decimal(value, format=pattern, locale=babel_locale(locale), decimal_quantization=True)


def money(value: float, locale: str = "en") -> str:
    """``value`` with thousands separators and no decimals (``1,234,568``).

    Parameters
    ----------
    value : float
    locale : str
        ``"en"`` or ``"zh-CN"``.

    Returns
    -------
    str
    """
    return number(value, 0, locale)


def format_money(
    value: float | None, currency: str | None = None, locale: str = "en", signed: bool = False
) -> str:
    """Money as people read it: ``"EUR 8,480,000"`` (en), ``"¥8,480,000"`` (zh-CN, CNY).

    The one place money becomes text (report, terminal, map, compare), formatted with babel:
    in English the ISO code leads (unambiguous across currencies), in Chinese the currency's
    symbol (``¥``, ``€``). A missing or non-finite value reads ``"n/a"`` (``"无"`` in zh-CN).

    Parameters
    ----------
    value : float or None
    currency : str or None
        The scenario's ``costs.currency`` (ISO 4217 code), or None for a plain number.
    locale : str
        ``"en"`` or ``"zh-CN"``.
    signed : bool
        A difference: always a sign, ``"EUR +1,695,600"``, ``"EUR -20,000"``.

    Returns
    -------
    str
    """
    if value is None or not math.isfinite(value):
        return "n/a" if locale == "en" else "无"
    amount = float(round(value)) + 0.0  # whole units; a rounded tiny negative is no debt
    if not currency:
        return number(amount, 0, locale, signed=signed)
    from babel.numbers import format_currency

    sign = "¤¤ " if locale == "en" else "¤"
    body = "#,##0"
    pattern = f"{sign}+{body};{sign}-{body}" if signed else f"{sign}{body}"
    return format_currency(amount, currency, format=pattern, locale=babel_locale(locale),
                           currency_digits=False)  # fmt: skip


def distance(value: float | None, unit: str, locale: str = "en") -> str:
    """A distance or drive time for a person: ``"2.5 km"`` (metres in), ``"7.0 min"``, or ``"n/a"``.

    Parameters
    ----------
    value : float or None
        Metres when ``unit`` is ``"m"``, else minutes.
    unit : str
        The scenario's unit: ``"m"`` or ``"min"``.
    locale : str
        ``"en"`` (``"2.5 km"``) or ``"zh-CN"`` (``"2.5 公里"``).

    Returns
    -------
    str
    """
    from netplan.present.i18n import t

    if value is None or not np.isfinite(value):
        return t("n_a", locale)
    if unit == "m":
        return f"{number(value / 1000, 1, locale)} {t('unit.km', locale)}"
    return f"{number(value, 1, locale)} {t('unit.min', locale)}"


def cell(value: object, digits: int = 1, locale: str = "en") -> str:
    """A report table cell: integers with separators, floats with ``digits`` decimals, "–" for none.

    Parameters
    ----------
    value : object
        Any value of a table; ``None`` and non-finite floats give ``"–"``.
    digits : int
        Decimals of a float.
    locale : str
        ``"en"`` or ``"zh-CN"`` (babel's grouping and decimal signs).

    Returns
    -------
    str
        Plain text (the template escapes it).
    """
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if isinstance(value, (bool, np.bool_)):
        return str(value)
    if isinstance(value, (int, np.integer)):
        return number(int(value), 0, locale)
    if isinstance(value, (float, np.floating)):
        return number(float(value), digits, locale)
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
