"""Siting rules re-checked from coordinates: spacing between outlets and exclusion zones.

The validator's re-check of a plan (:func:`siting_checks`) and the diagnosis of today's
network (:func:`siting_breaks`) share one computation: for each spacing rule, the distance
of every pair of open outlets whose tiers are both in the rule's tiers, recomputed from the
coordinates (planar or great-circle metres by :func:`netplan.travel.geometry.distance`; on
roads the drive times of both directions, the shorter counting), with no neighbour search
and no model data; for each exclusion rule, point in polygon of the outlets against the
buffered zones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from netplan.scenario.siting import spacing_quantity
from netplan.travel.geometry import distance, point_coords

if TYPE_CHECKING:
    from netplan.evaluation.kpis import Evaluation
    from netplan.inputs.build import Inputs
    from netplan.planner import Plan

#: Same tolerance as the model's (:data:`netplan.optimize.spacing.SPACING_TOLERANCE`): a pair
#: exactly ``min`` apart keeps the rule.
TOLERANCE = 1e-6
# pairs of outlets measured at once (planar / haversine): bounds memory for big networks
CHUNK = 2_000_000

BREAK_COLUMNS = ["site_id", "kind", "rule", "other_id", "distance", "unit", "exempt", "source"]


def _pair_distances(inputs: Inputs, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every unordered pair of sites ``idx`` (i < j positions) and its distance or shorter drive time."""
    n = len(idx)
    if n < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    i, j = np.triu_indices(n, k=1)
    xy = point_coords(inputs.sites.geometry.iloc[idx])
    d = np.empty(len(i))
    if inputs.travel is not None:  # drive times, both ways; the shorter counts
        one = inputs.travel.times(xy[i], xy[j])
        other = inputs.travel.times(xy[j], xy[i])
        d[:] = np.minimum(one, other)
    else:
        for s in range(0, len(i), CHUNK):
            d[s : s + CHUNK] = distance(xy[i[s : s + CHUNK]], xy[j[s : s + CHUNK]], inputs.mode)
    return idx[i], idx[j], d


def spacing_breaks(inputs: Inputs, tiers: np.ndarray) -> pd.DataFrame:
    """Pairs of open outlets (``tiers`` >= 0) breaking a spacing rule, with their distance.

    One row per outlet and pair (both ends listed). ``exempt``: both are today's outlets and
    the rule says ``between_existing: exempt``.
    """
    scenario = inputs.scenario
    rules = scenario.siting.spacing if scenario.siting else []
    ids = inputs.sites["site_id"].astype(str).to_numpy()
    existing = inputs.current_tier >= 0
    rows = []
    for r, rule in enumerate(rules):
        t = [scenario.tier_index(k) for k in rule.tiers]
        minimum = spacing_quantity(rule, r).value
        idx = np.flatnonzero((tiers >= 0) & np.isin(tiers, t))
        a, b, d = _pair_distances(inputs, idx)
        close = d < minimum - TOLERANCE
        for s, o, dist in zip(a[close], b[close], d[close], strict=True):
            exempt = rule.between_existing == "exempt" and existing[s] and existing[o]
            for x, y in ((s, o), (o, s)):
                rows.append(
                    (
                        ids[x],
                        "spacing",
                        f"siting.spacing[{r}]",
                        ids[y],
                        dist,
                        scenario.unit,
                        exempt,
                        rule.min,
                    )
                )
    return pd.DataFrame(rows, columns=BREAK_COLUMNS)


def exclusion_breaks(inputs: Inputs, tiers: np.ndarray, new_only: bool) -> pd.DataFrame:
    """Open outlets (``tiers`` >= 0, tier among the rule's) inside an exclusion zone.

    ``new_only``: only new sites (the rule; today's outlets inside are allowed). ``distance``
    is in metres to the zone as drawn, or, for ``near: outlets``, to the nearest other
    outlet; ``other_id`` names that outlet.
    """
    ids = inputs.sites["site_id"].astype(str).to_numpy()
    xy = point_coords(inputs.sites.geometry)
    rows = []
    for zone in inputs.exclusions:
        sel = (tiers >= 0) & np.isin(tiers, zone.tiers)
        if new_only:
            sel &= inputs.current_tier < 0
        idx = np.flatnonzero(sel)
        inside, dist, which = zone.locate(xy[idx], inputs.crs, idx)
        for j, d, z in zip(idx[inside], dist[inside], which[inside], strict=True):
            other = ids[zone.owner[z]] if zone.owner is not None else ""
            rows.append((ids[j], "exclusion", zone.label, other, d, "m", False, zone.source))
    return pd.DataFrame(rows, columns=BREAK_COLUMNS)


def siting_breaks(inputs: Inputs) -> pd.DataFrame:
    """Today's outlets breaking a siting rule (the diagnosis of today's network).

    Columns: ``site_id``, ``kind`` (``spacing`` / ``exclusion``), ``rule`` (scenario key),
    ``other_id`` (the outlet too close, or whose zone it is in), ``distance`` (in ``unit``:
    metres, or minutes on roads), ``exempt`` (spacing between two of today's outlets left
    alone by the rule), ``source`` (the rule's ``min`` or the zone's file / ``near outlets``).
    """
    cached = inputs.__dict__.get("_siting_breaks")
    if cached is not None:  # the run file, the report and the map all show it
        return cached.copy()
    today = inputs.current_tier
    parts = [spacing_breaks(inputs, today), exclusion_breaks(inputs, today, new_only=False)]
    parts = [p for p in parts if len(p)]
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=BREAK_COLUMNS)
    inputs.__dict__["_siting_breaks"] = out
    return out.copy()


def siting_record(inputs: Inputs, spacing: list) -> dict[str, object]:
    """run.json's ``siting``: per spacing rule the pairs found and rows added, per exclusion
    rule the (site, tier) options removed, and today's outlets breaking a rule."""
    breaks = siting_breaks(inputs)
    keys = inputs.scenario.tier_keys

    def named(summary: dict) -> dict:
        return {**summary, "tiers": [keys[t] for t in summary["tiers"]]}

    return {
        "spacing": [named(rule.summary()) for rule in spacing],
        "exclusions": [named(zone.summary()) for zone in inputs.exclusions],
        "breaks_today": [
            {
                "site_id": str(r.site_id),
                "kind": r.kind,
                "rule": r.rule,
                "other_id": str(r.other_id),
                "distance": round(float(r.distance), 3),
                "unit": r.unit,
                "exempt": bool(r.exempt),
            }
            for r in breaks.itertuples(index=False)
        ],
    }


def siting_checks(plan: Plan, evaluation: Evaluation) -> list[tuple[str, bool, dict]]:
    """One check per spacing and exclusion rule of the plan's scenario (none without rules).

    Returns ``(kind, ok, values)`` triples for :meth:`netplan.evaluation.validator.Check.of`
    (the validator imports this module): kinds ``spacing`` and ``exclusion``, worded in
    :mod:`netplan.evaluation.check_messages`.
    """
    inputs = plan.inputs
    scenario = plan.scenario
    if scenario.siting is None:
        return []
    checks = []
    spacing = spacing_breaks(inputs, plan.tiers)
    for r, rule in enumerate(scenario.siting.spacing):
        label = f"siting.spacing[{r}]"
        bad = spacing[(spacing["rule"] == label) & ~spacing["exempt"].astype(bool)]
        bad = bad[bad["site_id"] < bad["other_id"]]
        pairs = ", ".join(
            f"{a}-{b} ({d:,.1f} {scenario.unit})"
            for a, b, d in bad[["site_id", "other_id", "distance"]].head(5).itertuples(index=False)
        )
        values = {"tiers": ", ".join(rule.tiers), "min": rule.min, "n": len(bad), "pairs": pairs}
        checks.append(("spacing", bad.empty, values))
    inside = exclusion_breaks(inputs, plan.tiers, new_only=True)
    for zone in inputs.exclusions:
        bad = inside[inside["rule"] == zone.label]
        values = {
            "label": zone.label,
            "source": zone.source,
            "sites": ", ".join(bad["site_id"].head(10)),
        }
        checks.append(("exclusion", bad.empty, values))
    return checks
