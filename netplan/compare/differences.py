"""Plan B against plan A: sites added, removed and re-tiered, KPI and cost deltas.

Runs are comparable when they plan the same tiers (same keys, same order) for the same
regions (see :func:`netplan.compare.runs.check_comparable`); deltas are B − A.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from netplan._errors import CompareError
from netplan.compare.roadmap_runs import run_kind
from netplan.compare.roadmaps import RoadmapComparison, compare_roadmaps
from netplan.compare.runs import Note, RunFolder, check_comparable, read_run
from netplan.evaluation.columns import kpi_columns, rounded
from netplan.travel.geometry import to_wgs84

CHANGES = ("added", "removed", "retiered")
COST_PARTS = [
    "total",
    "capex",
    "opex_per_year",
    "opex_total",
    "open",
    "convert",
    "close",
    "operate",
]


@dataclass
class Comparison:
    """Plan B against plan A.

    Attributes
    ----------
    a, b : RunFolder
    sites : GeoDataFrame
        One row per site open in either plan: ``site_id``, ``name``, ``change`` (added,
        removed, retiered, unchanged), ``tier_a``, ``tier_b``, ``action_a``, ``action_b``
        (each plan's action against today's network), ``today``, ``region``, ``cost_a``,
        ``cost_b``, ``cost_delta``; geometry in EPSG:4326.
    kpis : DataFrame
        One row per (region, level): each KPI of plan A (``<kpi>_a``), plan B (``<kpi>_b``)
        and ``<kpi>_delta`` = B − A.
    cost : DataFrame
        Cost components of each plan (index: total, capex, …; columns ``a``, ``b``, ``delta``).
    outlets : DataFrame
        Per tier: outlets in A and B, their difference, and the sites added, removed and
        re-tiered into that tier.
    coverage : GeoDataFrame
        Demand points whose coverage changed, per level: ``level``, ``weight``, ``change``
        (``gained`` or ``lost``); empty if the runs' demand points differ.
    notes : list of str
        Differences between the runs that change what a delta means, in English; each a
        :class:`~netplan.compare.runs.Note` that keeps its catalogue key and figures, so the
        pages and the terminal show it in the runs' locale.
    """

    a: RunFolder
    b: RunFolder
    sites: gpd.GeoDataFrame
    kpis: pd.DataFrame
    cost: pd.DataFrame
    outlets: pd.DataFrame
    coverage: gpd.GeoDataFrame
    notes: list[str] = field(default_factory=list)

    @property
    def currency(self) -> str | None:
        """The runs' ``costs.currency`` (run.json), when both runs name the same one."""
        a, b = ((r.record.get("scenario") or {}).get("currency") for r in (self.a, self.b))
        return a if a == b else None

    @property
    def changed(self) -> gpd.GeoDataFrame:
        """Sites added, removed or re-tiered."""
        return self.sites.loc[self.sites["change"].isin(CHANGES)].reset_index(drop=True)

    def change_counts(self) -> dict[str, int]:
        """Number of sites added, removed and re-tiered."""
        counts = self.sites["change"].value_counts()
        return {c: int(counts.get(c, 0)) for c in CHANGES}

    def summary(self) -> dict[str, object]:
        """The headline figures (what ``compare.json`` holds), rounded for display.

        Money in whole units, percentages to 2 decimals (each delta is B − A of the rounded
        values), the distance unit of both runs (``km`` or ``min``).
        """
        lv = rounded(self.kpis.loc[self.kpis["region"] == "all"])
        return {
            "run_a": str(self.a.path),
            "run_b": str(self.b.path),
            "scenario_a": (self.a.record.get("scenario") or {}).get("name"),
            "scenario_b": (self.b.record.get("scenario") or {}).get("name"),
            "sites": self.change_counts(),
            "cost": {k: _money(v) for k, v in self.cost["delta"].items()},
            "cost_a": _money(self.cost.loc["total", "a"]),
            "cost_b": _money(self.cost.loc["total", "b"]),
            "budget_a": _money((self.a.record.get("budget") or {}).get("total")),
            "budget_b": _money((self.b.record.get("budget") or {}).get("total")),
            "unit": self.a.unit,
            "covered_pct": {
                r.level: {"a": r.covered_pct_a, "b": r.covered_pct_b, "delta": r.covered_pct_delta}
                for r in lv.itertuples()
            },
            "notes": list(self.notes),
        }

    def __repr__(self) -> str:
        c = self.change_counts()
        return (
            f"Comparison({self.a.label} → {self.b.label}: {c['added']} added, {c['removed']} removed, "
            f"{c['retiered']} re-tiered, cost Δ {self.cost.loc['total', 'delta']:+,.0f})"
        )


def compare(run_a: str | Path, run_b: str | Path) -> Comparison | RoadmapComparison:
    """Compare plan B against plan A from two run folders (two plans, or two roadmaps).

    Parameters
    ----------
    run_a, run_b : str or Path
        Folders written by ``netplan run`` (``plan.gpkg``, ``kpis.csv``, ``run.json``), both
        of single plans or both of roadmaps (scenarios with ``phases``).

    Returns
    -------
    Comparison or RoadmapComparison
        Two plans: tables of sites added / removed / re-tiered, KPI deltas per level and
        region, cost deltas and outlets per tier. Two roadmaps: per phase the coverage per
        level and the money, the coverage-years and the actions that differ
        (:func:`netplan.compare.roadmaps.compare_roadmaps`). Deltas are B − A.

    Raises
    ------
    CompareError
        A folder is not a run folder, one run is a roadmap and the other a single plan, or
        the runs plan different tiers, regions (or phases).
    """
    kinds = run_kind(run_a), run_kind(run_b)
    for path, kind, which in ((run_a, kinds[0], "A"), (run_b, kinds[1], "B")):
        if kind not in ("plan", "roadmap"):
            read_run(path, which)  # refuses the kind in one line
    if kinds == ("roadmap", "roadmap"):
        return compare_roadmaps(run_a, run_b)
    if "roadmap" in kinds:
        which = "A" if kinds[0] == "roadmap" else "B"
        other = "B" if which == "A" else "A"
        raise CompareError(
            f"cannot compare {run_a} with {run_b}: {which} is a roadmap run (phases) and {other} a "
            "single-plan run; compare two roadmaps (scenarios with 'phases') or two single plans"
        )
    a, b = read_run(run_a, "A"), read_run(run_b, "B")
    if a.label == b.label:  # e.g. two "out" folders: name them by their parents too
        a.label, b.label = (f"{r.path.resolve().parent.name}/{r.path.name}" for r in (a, b))
    notes = check_comparable(a, b)
    sites = _site_table(a, b)
    coverage = _coverage_change(a, b)
    if coverage is None:
        notes.append(Note("cmp.note.demand_points"))
        coverage = gpd.GeoDataFrame(
            {"demand_id": [], "level": [], "weight": [], "change": []},
            geometry=[],
            crs="EPSG:4326",
        )
    return Comparison(
        a=a,
        b=b,
        sites=sites,
        kpis=_kpi_deltas(a, b),
        cost=_cost_deltas(a, b),
        outlets=_outlet_counts(a, b, sites),
        coverage=coverage,
        notes=notes,
    )


def _site_table(a: RunFolder, b: RunFolder) -> gpd.GeoDataFrame:
    cols = ["site_id", "name", "tier", "action", "current_tier", "region", "cost", "geometry"]

    def part(run: RunFolder) -> gpd.GeoDataFrame:
        out = to_wgs84(run.outlets)
        for col in cols:
            if col not in out:
                out[col] = np.nan if col == "cost" else ""
        return out[cols]

    pa, pb = part(a), part(b)
    merged = pa.merge(pb, on="site_id", how="outer", suffixes=("_a", "_b"), sort=False)
    tier_a = merged["tier_a"].fillna("").astype(str).to_numpy()
    tier_b = merged["tier_b"].fillna("").astype(str).to_numpy()
    open_a, open_b = tier_a != "", tier_b != ""
    change = np.select(
        [~open_a & open_b, open_a & ~open_b, open_a & open_b & (tier_a != tier_b)],
        list(CHANGES),
        "unchanged",
    )
    keep = open_a | open_b  # a site closed (or absent) in both plans did not change
    geometry = merged["geometry_b"].where(open_b, merged["geometry_a"])
    geometry = geometry.where(geometry.notna(), merged["geometry_a"])

    def pick(col: str) -> pd.Series:
        return merged[f"{col}_b"].where(merged[f"{col}_b"].notna(), merged[f"{col}_a"]).fillna("")

    cost_a = merged["cost_a"].astype(float).fillna(0.0).to_numpy()
    cost_b = merged["cost_b"].astype(float).fillna(0.0).to_numpy()
    table = gpd.GeoDataFrame(
        {
            "site_id": merged["site_id"].astype(str),
            "name": pick("name").astype(str),
            "change": change,
            "tier_a": tier_a,
            "tier_b": tier_b,
            "action_a": merged["action_a"].fillna("").astype(str).to_numpy(),
            "action_b": merged["action_b"].fillna("").astype(str).to_numpy(),
            "today": pick("current_tier").astype(str),
            "region": pick("region").astype(str),
            "cost_a": cost_a,
            "cost_b": cost_b,
            "cost_delta": cost_b - cost_a,
        },
        geometry=gpd.GeoSeries(geometry.to_numpy(), crs="EPSG:4326"),
        crs="EPSG:4326",
    )
    table = table.loc[keep]
    order = pd.Categorical(table["change"], [*CHANGES, "unchanged"], ordered=True)
    return (
        table.assign(_o=order)
        .sort_values(["_o", "site_id"])
        .drop(columns="_o")
        .reset_index(drop=True)
    )


def _kpi_deltas(a: RunFolder, b: RunFolder) -> pd.DataFrame:
    keys = ["region", "level"]
    columns = kpi_columns(a.unit)  # the same in B (check_comparable)
    plan_cols = [f"{c}_plan" for c in columns]
    left = a.kpis[keys + ["level_name", "unit"] + plan_cols]
    right = b.kpis[keys + plan_cols]
    merged = left.merge(right, on=keys, how="left", suffixes=("_a", "_b"), sort=False)
    out = merged[keys + ["level_name", "unit"]].copy()
    for col in columns:
        va, vb = merged[f"{col}_plan_a"].astype(float), merged[f"{col}_plan_b"].astype(float)
        out[f"{col}_a"], out[f"{col}_b"], out[f"{col}_delta"] = va, vb, vb - va
    return out


def _cost_deltas(a: RunFolder, b: RunFolder) -> pd.DataFrame:
    ca = (a.record.get("cost") or {}).get("plan") or {}
    cb = (b.record.get("cost") or {}).get("plan") or {}
    parts = [p for p in COST_PARTS if p in ca or p in cb]
    parts += [p for p in {**ca, **cb} if p not in parts]
    va = np.array([float(ca.get(p) or 0.0) for p in parts])
    vb = np.array([float(cb.get(p) or 0.0) for p in parts])
    return pd.DataFrame(
        {"a": va, "b": vb, "delta": vb - va}, index=pd.Index(parts, name="component")
    )


def _outlet_counts(a: RunFolder, b: RunFolder, sites: gpd.GeoDataFrame) -> pd.DataFrame:
    keys = a.tier_keys
    in_a = sites["tier_a"].value_counts().reindex(keys, fill_value=0)
    in_b = sites["tier_b"].value_counts().reindex(keys, fill_value=0)
    frame = pd.DataFrame(
        {"tier": keys, "tier_name": a.tier_labels, "a": in_a.to_numpy(), "b": in_b.to_numpy()}
    )
    frame["delta"] = frame["b"] - frame["a"]
    for change, col in (("added", "tier_b"), ("removed", "tier_a"), ("retiered", "tier_b")):
        sel = sites.loc[sites["change"] == change, col].value_counts()
        frame[change] = sel.reindex(keys, fill_value=0).to_numpy()
    return frame


def _coverage_change(a: RunFolder, b: RunFolder) -> gpd.GeoDataFrame | None:
    """Demand points whose coverage differs between the plans; None if the demand differs."""
    keys = a.tier_keys
    try:
        da, db = a.demand(keys), b.demand(keys)
    except Exception:  # an older or hand-made plan.gpkg without these columns
        return None
    if len(da) != len(db) or not da["demand_id"].astype(str).is_unique:
        return None
    db = db.set_index(db["demand_id"].astype(str)).reindex(da["demand_id"].astype(str))
    if db["demand_id"].isna().any():
        return None
    parts = []
    for key in keys:
        ca = da[f"covered_{key}"].to_numpy(dtype=float) > 0
        cb = db[f"covered_{key}"].to_numpy(dtype=float) > 0
        w = da[f"weight_{key}"].to_numpy(dtype=float)
        sel = (ca != cb) & (w > 0)
        parts.append(
            gpd.GeoDataFrame(
                {
                    "demand_id": da["demand_id"].to_numpy()[sel],
                    "level": key,
                    "weight": w[sel],
                    "change": np.where(cb[sel], "gained", "lost"),
                },
                geometry=da.geometry.to_numpy()[sel],
                crs=da.crs,
            )
        )
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=da.crs)


def _money(value) -> int | None:
    """An amount in whole units (None stays None: no budget)."""
    if value is None:
        return None
    value = float(value)
    return int(round(value)) if np.isfinite(value) else None
