"""The ratio rule: the numbers of one family must not span too many orders of magnitude.

A MILP solver works to tolerances of about 1e-7 of the largest coefficient, so within one
family of numbers that enter the model together, a value more than a million times smaller
than the largest is at risk of being lost, and beyond a billion the solver's answer can no
longer be trusted (one customer of weight 1e16 among weights of 1..100 made every other
customer count as nothing). netplan's families:

- **demand weights** of one service level: the values of its weight column (or of the points
  a zone layer is spread onto);
- **level weights**: ``objective.level_weights`` of every level (a level not listed weighs 1);
- **coverage coefficients** (``max_coverage``): level weight x demand weight, over the levels
  whose level weight is above 0, since they meet in one objective;
- **costs**: every open, operate, convert and close cost of the scenario's cost tables
  (``costs.direct``, ``costs.partner``) and of the site columns ``open_cost_<tier>``,
  ``operate_cost_<tier>``, ``convert_cost_<tier>`` and ``close_cost``;
- **reaches**: every reach and linkage of the tiers and of ``reach_overrides``.

Zeros are left out (a zero weight or cost is exact, and common). Within one family, a ratio
above :data:`WARN_RATIO` (1e6) between the largest and the smallest non-zero value gets a
warning, above :data:`ERROR_RATIO` (1e9) an error naming where the outlying values are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

WARN_RATIO = 1e6
ERROR_RATIO = 1e9
_SHOWN = 3  # rows named in a message before "and N more"


@dataclass(frozen=True)
class Member:
    """Values of one family from one place (a scenario key, or a column of a file).

    Attributes
    ----------
    label : str
        Where the values are, e.g. ``"costs.direct.city.open"`` or
        ``"demand.csv column 'customers'"``.
    values : ndarray
        The values (NaN = not given, ignored; zeros are ignored too).
    ids : sequence of str, optional
        How the user finds each value (row numbers as in the file, or point ids); None for a
        single scenario value.
    noun : str
        What an id is (``"row"``, ``"point"``).
    """

    label: str
    values: np.ndarray
    ids: Sequence[str] | None = None
    noun: str = "row"


def ratio_problem(
    family: str,
    members: Sequence[Member],
    fix: str = "fix them (a typo or a wrong unit?), or set values that should not count to 0",
) -> tuple[str, str] | None:
    """Check the ratio rule on one family.

    Parameters
    ----------
    family : str
        Name of the family for the message (e.g. ``"costs"``).
    members : sequence of Member
        Every source of values of the family.
    fix : str
        How to fix an error, ending its message.

    Returns
    -------
    tuple of (str, str) or None
        ``("error", line)`` when the largest non-zero value exceeds :data:`ERROR_RATIO` times
        the smallest, ``("warning", line)`` above :data:`WARN_RATIO`, else None. The line
        names the outlying values (label and rows) and the values they are compared with.
    """
    arrays = [np.asarray(m.values, dtype=float).ravel() for m in members]
    positive = np.concatenate([a[np.isfinite(a) & (a > 0)] for a in arrays] or [np.zeros(0)])
    if len(positive) < 2:
        return None
    lo, hi = float(positive.min()), float(positive.max())
    ratio = hi / lo
    if ratio <= WARN_RATIO:
        return None
    kind, limit = ("error", ERROR_RATIO) if ratio > ERROR_RATIO else ("warning", WARN_RATIO)
    # the outliers are on the side farther from the (logarithmic) median
    mid = float(np.median(np.log10(positive)))
    large = np.log10(hi) - mid >= mid - np.log10(lo)
    outlying, reference = [], []
    for member, values in zip(members, arrays, strict=True):
        ok = np.isfinite(values) & (values > 0)
        far = ok & ((values > lo * limit) if large else (values < hi / limit))
        near = ok & (values == (lo if large else hi))
        if far.any():
            outlying.append(_describe(member, values, far))
        if near.any():
            reference.append(_describe(member, values, near))
    head = (
        f"{family}: the largest non-zero value is {ratio:.3g} times the smallest "
        f"({hi:.10g} vs {lo:.10g}), above {f'{limit:.0e}'.replace('e+0', 'e')}"
    )
    where = f"{'largest' if large else 'smallest'} values: {'; '.join(outlying)}; compared with {'; '.join(reference)}"
    if kind == "error":
        return kind, (
            f"{head}: the solver's tolerances (about 1e-7 of the largest coefficient) cannot "
            f"plan with both. Outlying {where}; {fix}"
        )
    return kind, (
        f"{head}: the smallest may be lost within the solver's tolerances (about 1e-7 of the "
        f"largest coefficient). Outlying {where}; check them"
    )


def _describe(member: Member, values: np.ndarray, mask: np.ndarray) -> str:
    """``"label rows 7 (1e+16), 9 (2e+16) and 3 more"`` or ``"label = 5e+06"``."""
    idx = np.flatnonzero(mask)
    if member.ids is None:
        return f"{member.label} = {values[idx[0]]:.10g}"
    shown = ", ".join(f"{member.ids[i]} ({values[i]:.10g})" for i in idx[:_SHOWN])
    more = f" and {len(idx) - _SHOWN} more" if len(idx) > _SHOWN else ""
    noun = member.noun if len(idx) == 1 else member.noun + "s"
    return f"{member.label} {noun} {shown}{more}"
