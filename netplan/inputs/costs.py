"""Costs of operating each site as each tier, and of closing existing outlets.

Costs are one-off (opening a new outlet, converting an outlet to another tier, closing one)
plus the yearly operating cost times ``horizon_years``. Defaults come from the scenario per
ownership and tier; a site may override them with columns ``open_cost_<tier>``,
``operate_cost_<tier>``, ``convert_cost_<tier>`` and ``close_cost``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SiteCosts:
    """Cost arrays of ``m`` sites and ``K`` tiers.

    Attributes
    ----------
    open, operate, convert : ndarray (m, K)
        One-off opening cost of a new outlet, yearly operating cost, one-off conversion cost
        into the tier (existing outlets only).
    close : ndarray (m,)
        One-off cost of closing an existing outlet.
    current_tier : ndarray (m,) of int
        Today's tier of existing outlets, -1 for candidate sites.
    horizon_years : float
        Years of operating cost counted in the total.
    """

    open: np.ndarray
    operate: np.ndarray
    convert: np.ndarray
    close: np.ndarray
    current_tier: np.ndarray
    horizon_years: float

    @property
    def is_existing(self) -> np.ndarray:
        return self.current_tier >= 0

    def capex(self) -> np.ndarray:
        """One-off cost ``(m, K)`` of operating site j as tier k: open, convert, or 0 if unchanged."""
        m, k = self.open.shape
        same = self.current_tier[:, None] == np.arange(k)[None, :]
        existing = self.is_existing[:, None]
        return np.where(existing, np.where(same, 0.0, self.convert), self.open)

    def total(self) -> np.ndarray:
        """Total cost ``(m, K)`` over the horizon of operating site j as tier k."""
        return self.capex() + self.horizon_years * self.operate

    def closing(self) -> np.ndarray:
        """One-off cost ``(m,)`` paid when a site ends with no tier (0 for candidates)."""
        return np.where(self.is_existing, self.close, 0.0)

    def plan_cost(self, tier_of_site: np.ndarray) -> dict[str, float]:
        """Cost breakdown of an assignment of tiers to sites (-1 = closed / not opened).

        Returns
        -------
        dict
            ``total``, ``capex``, ``opex_per_year``, ``opex_total`` and by action
            ``open``, ``convert``, ``close``, ``operate`` (operating over the horizon).
        """
        tier_of_site = np.asarray(tier_of_site)
        on = tier_of_site >= 0
        idx = np.flatnonzero(on)
        k = tier_of_site[on]
        existing = self.is_existing
        opening = float(np.sum(np.where(existing[idx], 0.0, self.open[idx, k])))
        retier = existing[idx] & (self.current_tier[idx] != k)
        converting = float(np.sum(np.where(retier, self.convert[idx, k], 0.0)))
        closing = float(np.sum(self.close[existing & ~on]))
        opex_year = float(np.sum(self.operate[idx, k]))
        capex = opening + converting + closing
        return {
            "total": capex + self.horizon_years * opex_year,
            "capex": capex,
            "opex_per_year": opex_year,
            "opex_total": self.horizon_years * opex_year,
            "open": opening,
            "convert": converting,
            "close": closing,
            "operate": self.horizon_years * opex_year,
        }
