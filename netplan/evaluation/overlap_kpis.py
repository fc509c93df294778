"""The quantity an overlap cap (``siting.overlap``) limits, as KPIs of any set of outlets.

Per capped level and region: ``overlap_capped`` is the demand weight within reach of two or
more open outlets whose tiers the cap counts, and ``overlap_capped_pct`` that weight as a
share of the level's *covered* demand (assigned demand under capacities), in percent.

The overlap KPI that exists without a cap (``overlap`` / ``overlap_pct``) counts every tier
serving the level, as the cap does by default, so with the default tiers ``overlap_capped``
equals ``overlap``; the percentages differ in their base: ``overlap_pct`` is a share of all
demand, ``overlap_capped_pct`` a share of covered demand (what ``max_share`` bounds).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp

from netplan.scenario.siting import overlap_tiers

if TYPE_CHECKING:
    from netplan.scenario import Scenario

CAPPED_COLUMNS = ("overlap_capped", "overlap_capped_pct")


def capped_levels(scenario: Scenario) -> list[str]:
    """Keys of the levels with an overlap cap, in tier order."""
    if scenario.siting is None or not scenario.siting.overlap:
        return []
    return [key for key in scenario.tier_keys if key in scenario.siting.overlap]


def add_capped_counts(
    dem: pd.DataFrame, pairs: dict[tuple[int, int], sp.coo_matrix], scenario: Scenario
) -> None:
    """Column ``n_capped_<level>``: open outlets of the counted tiers in reach of each point.

    ``pairs[(tier, level)]`` are the (open outlet, demand point) pairs in reach of
    :func:`netplan.evaluation.kpis.evaluate`.
    """
    for key in capped_levels(scenario):
        level = scenario.tier_index(key)
        count = np.zeros(len(dem), dtype=np.int64)
        for tier in overlap_tiers(scenario, key):
            M = pairs.get((tier, level))
            if M is not None:
                np.add.at(count, M.col, 1)
        dem[f"n_capped_{key}"] = count


def capped_kpis(dem: pd.DataFrame, key: str, in_region: np.ndarray) -> dict[str, float]:
    """``overlap_capped`` and ``overlap_capped_pct`` of one level and region ({} without a cap)."""
    column = f"n_capped_{key}"
    if column not in dem:
        return {}
    w = dem[f"weight_{key}"].to_numpy()[in_region]
    covered = float((w * dem[f"covered_share_{key}"].to_numpy()[in_region]).sum())
    over = float(w[dem[column].to_numpy()[in_region] >= 2].sum())
    return {
        "overlap_capped": over,
        "overlap_capped_pct": 100.0 * over / covered if covered > 0 else 0.0,
    }


def cap_rows(scenario: Scenario, baseline: pd.DataFrame, planned: pd.DataFrame) -> list[dict]:
    """Per capped level: its name, the capped overlap % today and in the plan, and the cap %.

    Parameters
    ----------
    scenario : Scenario
    baseline, planned : DataFrame
        KPI frames of today's network and of the plan (``Evaluation.kpis``).
    """
    rows = []
    labels = dict(zip(scenario.tier_keys, scenario.tier_labels, strict=True))
    for key in capped_levels(scenario):

        def pct(frame: pd.DataFrame, key: str = key) -> float:
            sel = frame[(frame["region"] == "all") & (frame["level"] == key)]
            return float(sel["overlap_capped_pct"].iloc[0]) if len(sel) else float("nan")

        rows.append(
            {
                "level": key,
                "label": labels[key],
                "today": pct(baseline),
                "plan": pct(planned),
                "max": 100.0 * scenario.siting.overlap[key].max_share,
            }
        )
    return rows
