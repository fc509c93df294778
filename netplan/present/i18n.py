"""The message catalogue: every label users read on the pages and in the terminal summary.

One catalogue per locale in :mod:`netplan.present.messages` (``en``, ``zh_CN``), keyed alike;
:func:`t` looks a key up and fills its ``{placeholders}`` (``str.format``). The scenario's
top-level ``locale`` key chooses the catalogue. Names from the data (tier names, regions, site
ids) are never translated: they reach the templates as values.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from netplan.present.messages import en, zh_CN

LOCALES = {"en": en.MESSAGES, "zh-CN": zh_CN.MESSAGES}


def catalogue(locale: str) -> dict[str, str]:
    """All messages of ``locale`` (``"en"`` or ``"zh-CN"``), key → text."""
    try:
        return LOCALES[locale]
    except KeyError:
        raise ValueError(f"locale {locale!r}: expected one of {', '.join(LOCALES)}") from None


def t(key: str, locale: str = "en", /, **values: object) -> str:
    """The message ``key`` in ``locale`` with ``values`` filled in.

    Parameters
    ----------
    key : str
        A catalogue key, e.g. ``"report.title"``.
    locale : str
        ``"en"`` or ``"zh-CN"``.
    **values
        The message's placeholders.

    Returns
    -------
    str
        Plain text (templates escape it).
    """
    return catalogue(locale)[key].format(**values)


def plural(key: str, count: int, locale: str = "en", /, **values: object) -> str:
    """``key.one`` when ``count`` is 1, else ``key.other``, with ``n=count`` filled in."""
    return t(f"{key}.{'one' if count == 1 else 'other'}", locale, n=count, **values)


@functools.cache
def translator(locale: str) -> Callable[..., str]:
    """``t`` bound to ``locale``, as the templates' ``_`` function."""
    catalogue(locale)  # an unknown locale fails here, not in a template

    def _(key: str, /, **values: object) -> str:
        return t(key, locale, **values)

    return _
