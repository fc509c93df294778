"""Compare two runs: sites added, removed and re-tiered, KPI and cost deltas, a map of the differences.

``compare(run_a, run_b)`` reads two folders written by ``netplan run`` (``plan.gpkg``,
``kpis.csv``, ``run.json``) and returns a :class:`Comparison` of plan B against plan A;
``write_comparison`` writes its tables and an offline map (``compare.html``) atomically.
Only the run folders are read — never the scenario or its inputs, which may have moved —
so a comparison works on runs sent by someone else.

Runs are comparable when they plan the same tiers (same keys, same order) for the same
regions. Other differences (demand inputs, today's network, travel unit) are allowed but
reported as notes, because they change what a delta means.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from rich.console import Console

from netplan._errors import CompareError
from netplan.travel.geometry import to_wgs84
from netplan.pipeline import KPI_COLUMNS

RUN_FILES = ("plan.gpkg", "kpis.csv", "run.json")
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
GAINED_COLOURS = ["#e5f5e0", "#a1d99b", "#74c476", "#31a354", "#006d2c"]
LOST_COLOURS = ["#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15"]


# ------------------------------------------------------------------------ reading
@dataclass
class RunFolder:
    """The parts of a run folder a comparison needs.

    Attributes
    ----------
    path : Path
    record : dict
        ``run.json``.
    kpis : DataFrame
        ``kpis.csv``.
    outlets : GeoDataFrame
        Layer ``outlets`` of ``plan.gpkg``: the plan's outlets (``tier`` empty when closed).
    """

    path: Path
    record: dict
    kpis: pd.DataFrame
    outlets: gpd.GeoDataFrame
    label: str = ""

    def __post_init__(self) -> None:
        if not self.label:
            self.label = self.path.name or str(self.path)

    @property
    def tier_keys(self) -> list[str]:
        return self.kpis.loc[self.kpis["region"] == "all", "level"].astype(str).tolist()

    @property
    def tier_labels(self) -> list[str]:
        return self.kpis.loc[self.kpis["region"] == "all", "level_name"].astype(str).tolist()

    @property
    def regions(self) -> list[str]:
        return sorted(set(self.kpis["region"].astype(str)) - {"all"})

    @property
    def unit(self) -> str:
        return str(self.kpis["unit"].iloc[0]) if len(self.kpis) else ""

    def demand(self, keys: list[str]) -> gpd.GeoDataFrame:
        """Layer ``demand`` of ``plan.gpkg``: id, weight and covered flag per level."""
        cols = ["demand_id"] + [f"{p}_{k}" for k in keys for p in ("weight", "covered")]
        return pyogrio.read_dataframe(self.path / "plan.gpkg", layer="demand", columns=cols)


def read_run(path: str | Path) -> RunFolder:
    """Read a run folder written by ``netplan run`` (or ``netplan demo``).

    Raises
    ------
    CompareError
        The folder is missing, is not a run folder, or one of its files is not what
        ``netplan run`` writes.
    """
    path = Path(path)
    hint = "give a folder written by `netplan run` or `netplan demo`"
    if not path.exists():
        raise CompareError(f"{path}: no such folder; {hint}")
    if not path.is_dir():
        raise CompareError(f"{path}: is a file, not a run folder; {hint}")
    missing = [name for name in RUN_FILES if not (path / name).is_file()]
    if missing:
        raise CompareError(f"{path}: not a netplan run folder (no {', '.join(missing)}); {hint}")
    try:
        record = json.loads((path / "run.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CompareError(f"{path / 'run.json'}: not readable as JSON ({exc}); {hint}") from None
    if not isinstance(record, dict) or "netplan_run" not in record or "cost" not in record:
        raise CompareError(f"{path / 'run.json'}: not a netplan run record; {hint}")
    _check_record(record, path / "run.json")
    try:
        kpis = pd.read_csv(path / "kpis.csv", keep_default_na=False, na_values=[""])
    except (OSError, ValueError) as exc:
        raise CompareError(f"{path / 'kpis.csv'}: not readable as CSV ({exc}); {hint}") from None
    needed = ["region", "level", "level_name", "unit"] + [f"{c}_plan" for c in KPI_COLUMNS]
    absent = [c for c in needed if c not in kpis.columns]
    if absent or not (kpis["region"].astype(str) == "all").any():
        what = f"no column {', '.join(absent[:3])}" if absent else "no row of region 'all'"
        raise CompareError(f"{path / 'kpis.csv'}: not a netplan KPI table ({what}); {hint}")
    kpis["region"] = kpis["region"].astype(str)
    _check_kpis(kpis, path / "kpis.csv")
    try:
        layers = {str(name) for name, _ in pyogrio.list_layers(path / "plan.gpkg")}
        if not {"outlets", "demand"} <= layers:
            raise CompareError(
                f"{path / 'plan.gpkg'}: no layer {'outlets' if 'outlets' not in layers else 'demand'}; {hint}"
            )
        outlets = pyogrio.read_dataframe(path / "plan.gpkg", layer="outlets")
    except CompareError:
        raise
    except Exception as exc:  # pyogrio raises its own DataSourceError and friends
        raise CompareError(f"{path / 'plan.gpkg'}: not readable ({exc}); {hint}") from None
    for col in ("site_id", "name", "tier", "action", "current_tier", "region"):
        if col in outlets:
            outlets[col] = outlets[col].fillna("").astype(str)
    _check_outlets(outlets, kpis, path / "plan.gpkg")
    return RunFolder(path, record, kpis, outlets)


# What a comparison reads is checked against what netplan writes: a run folder edited by hand
# must fail with the file and field named, never turn into zeros (a null total cost used to).
EDITED = "not what netplan writes; was the file edited? run `netplan run` again to rewrite it"
KPI_COUNTS = ("demand", "covered", "gap", "overlap", "outlets_serving", "outlets_of_tier")


def _is_number(value: object) -> bool:
    return (
        isinstance(value, int | float) and not isinstance(value, bool) and np.isfinite(value)
    )


def _check_record(record: dict, file: Path) -> None:
    """The run.json fields a comparison uses: cost.plan numbers, budget, scenario, inputs."""
    cost = record.get("cost")
    plan = cost.get("plan") if isinstance(cost, dict) else None
    if not isinstance(plan, dict) or not plan:
        raise CompareError(f"{file}: field 'cost.plan' is {_shown(plan)}, {EDITED}")
    if "total" not in plan:
        raise CompareError(f"{file}: field 'cost.plan.total' is missing, {EDITED}")
    for key, value in plan.items():
        if not _is_number(value):
            raise CompareError(
                f"{file}: field 'cost.plan.{key}' is {_shown(value)}, not a number; {EDITED}"
            )
    for section, fields in (("scenario", ("name", "sha256")), ("budget", ("total",))):
        part = record.get(section, {})
        if not isinstance(part, dict):
            raise CompareError(f"{file}: field '{section}' is {_shown(part)}, {EDITED}")
        for name in fields:
            value = part.get(name)
            ok = value is None or (_is_number(value) if section == "budget" else isinstance(value, str))
            if not ok:
                raise CompareError(f"{file}: field '{section}.{name}' is {_shown(value)}, {EDITED}")
    inputs = record.get("inputs", {})
    if not isinstance(inputs, dict) or not all(
        isinstance(v, dict) and isinstance(v.get("sha256"), str | None) for v in inputs.values()
    ):
        raise CompareError(f"{file}: field 'inputs' is {_shown(inputs)}, {EDITED}")


def _shown(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return "empty"
    text = json.dumps(value) if isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _check_kpis(kpis: pd.DataFrame, file: Path) -> None:
    """kpis.csv: numbers in every KPI column of the plan, counts never empty, one row per level."""
    for col in [f"{c}_plan" for c in KPI_COLUMNS]:
        values = pd.to_numeric(kpis[col], errors="coerce")
        bad = values.isna() & kpis[col].notna()
        if col.removesuffix("_plan") in KPI_COUNTS:
            bad |= values.isna() | (values < 0)
        bad |= np.isinf(values.to_numpy(dtype=float))
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise CompareError(
                f"{file}: row {i + 2}: column '{col}' is {_shown(kpis[col].iloc[i])}, {EDITED}"
            )
        kpis[col] = values
    for col in ("level", "level_name", "unit"):
        kpis[col] = kpis[col].fillna("").astype(str)
    empty = kpis["level"] == ""
    twice = kpis.duplicated(["region", "level"])
    for bad, what in ((empty, "an empty level"), (twice, "a second row of the same region and level")):
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise CompareError(f"{file}: row {i + 2}: {what}, {EDITED}")


def _check_outlets(outlets: gpd.GeoDataFrame, kpis: pd.DataFrame, file: Path) -> None:
    """Layer outlets of plan.gpkg: unique site ids, tiers of the run's levels, numeric costs."""
    for col in ("site_id", "tier"):
        if col not in outlets:
            raise CompareError(f"{file}: layer 'outlets' has no column '{col}', {EDITED}")
    ids = outlets["site_id"]
    for bad, what in ((ids == "", "an empty site_id"), (ids.duplicated(), "a duplicate site_id")):
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise CompareError(f"{file}: layer 'outlets', row {i + 1}: {what} {_shown(ids.iloc[i])}, {EDITED}")
    tiers = set(kpis.loc[kpis["region"] == "all", "level"]) | {""}
    unknown = ~outlets["tier"].isin(tiers)
    if unknown.any():
        i = int(np.flatnonzero(unknown.to_numpy())[0])
        raise CompareError(
            f"{file}: layer 'outlets', row {i + 1}: tier {_shown(outlets['tier'].iloc[i])} is not a level of kpis.csv, {EDITED}"
        )
    if "cost" in outlets:
        cost = pd.to_numeric(outlets["cost"], errors="coerce")
        if (cost.isna() & outlets["cost"].notna()).any() or np.isinf(cost.to_numpy(dtype=float)).any():
            raise CompareError(f"{file}: layer 'outlets': column 'cost' is not a number everywhere, {EDITED}")
        outlets["cost"] = cost


def _check_comparable(a: RunFolder, b: RunFolder) -> list[str]:
    """Raise on runs of different tiers or regions; return notes on other differences."""
    where = f"cannot compare {a.path} with {b.path}"
    if a.tier_keys != b.tier_keys:
        raise CompareError(
            f"{where}: different tiers (A: {', '.join(a.tier_keys)}; B: {', '.join(b.tier_keys)}); "
            "compare runs planned with the same tiers"
        )
    if a.regions != b.regions:
        only_a = sorted(set(a.regions) - set(b.regions))
        only_b = sorted(set(b.regions) - set(a.regions))
        raise CompareError(
            f"{where}: different regions (only in A: {', '.join(only_a) or 'none'}; "
            f"only in B: {', '.join(only_b) or 'none'}); compare runs of the same region"
        )
    notes = []
    inputs_a, inputs_b = a.record.get("inputs", {}), b.record.get("inputs", {})
    for key, what in (("demand", "demand"), ("outlets", "today's network")):
        ha = (inputs_a.get(key) or {}).get("sha256")
        hb = (inputs_b.get(key) or {}).get("sha256")
        if ha and hb and ha != hb:
            notes.append(
                f"{what} inputs differ (sha256 {ha[:10]}… vs {hb[:10]}…): deltas mix that change with the change of plan"
            )
    if a.unit != b.unit:
        notes.append(f"distances are in {a.unit} in A and {b.unit} in B: distance deltas mix units")
    sa = (a.record.get("scenario") or {}).get("sha256")
    if sa and sa == (b.record.get("scenario") or {}).get("sha256"):
        notes.append("both runs used the same scenario file content")
    return notes


# ----------------------------------------------------------------------- compare
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
        Differences between the runs that change what a delta means.
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
    def changed(self) -> gpd.GeoDataFrame:
        """Sites added, removed or re-tiered."""
        return self.sites.loc[self.sites["change"].isin(CHANGES)].reset_index(drop=True)

    def change_counts(self) -> dict[str, int]:
        """Number of sites added, removed and re-tiered."""
        counts = self.sites["change"].value_counts()
        return {c: int(counts.get(c, 0)) for c in CHANGES}

    def summary(self) -> dict[str, object]:
        """The headline figures (what ``compare.json`` holds)."""
        lv = self.kpis.loc[self.kpis["region"] == "all"]
        return {
            "run_a": str(self.a.path),
            "run_b": str(self.b.path),
            "scenario_a": (self.a.record.get("scenario") or {}).get("name"),
            "scenario_b": (self.b.record.get("scenario") or {}).get("name"),
            "sites": self.change_counts(),
            "cost": {k: float(v) for k, v in self.cost["delta"].items()},
            "cost_a": float(self.cost.loc["total", "a"]),
            "cost_b": float(self.cost.loc["total", "b"]),
            "budget_a": (self.a.record.get("budget") or {}).get("total"),
            "budget_b": (self.b.record.get("budget") or {}).get("total"),
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


def compare(run_a: str | Path, run_b: str | Path) -> Comparison:
    """Compare plan B against plan A from two run folders.

    Parameters
    ----------
    run_a, run_b : str or Path
        Folders written by ``netplan run`` (``plan.gpkg``, ``kpis.csv``, ``run.json``).

    Returns
    -------
    Comparison
        Tables of sites added / removed / re-tiered, KPI deltas per level and region, cost
        deltas and outlets per tier; deltas are B − A.

    Raises
    ------
    CompareError
        A folder is not a run folder, or the runs plan different tiers or regions.
    """
    a, b = read_run(run_a), read_run(run_b)
    if a.label == b.label:  # e.g. two "out" folders: name them by their parents too
        a.label, b.label = (f"{r.path.resolve().parent.name}/{r.path.name}" for r in (a, b))
    notes = _check_comparable(a, b)
    sites = _site_table(a, b)
    coverage = _coverage_change(a, b)
    if coverage is None:
        notes.append("the runs' demand points differ: no map of coverage gained and lost")
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
    plan_cols = [f"{c}_plan" for c in KPI_COLUMNS]
    left = a.kpis[keys + ["level_name", "unit"] + plan_cols]
    right = b.kpis[keys + plan_cols]
    merged = left.merge(right, on=keys, how="left", suffixes=("_a", "_b"), sort=False)
    out = merged[keys + ["level_name", "unit"]].copy()
    for col in KPI_COLUMNS:
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


# ---------------------------------------------------------------------- writing
def write_comparison(
    comparison: Comparison, out: str | Path, overwrite: bool = False
) -> dict[str, Path]:
    """Write a comparison's tables and map into ``out``, atomically.

    Files: ``sites.csv`` (sites added, removed, re-tiered), ``kpi_deltas.csv`` (per region
    and level), ``cost.csv``, ``outlets.csv`` (per tier), ``compare.json`` (headline figures
    and notes) and ``compare.html`` (the offline map of the differences).

    Returns
    -------
    dict
        Paths written, by name: sites, kpi_deltas, cost, outlets, summary, map.

    Raises
    ------
    OutputError
        ``out`` exists and is not empty (without ``overwrite``), is or holds run A or B, was
        not written by netplan, or cannot be written.
    """
    from netplan.outputs.folders import atomic_directory
    from netplan.outputs.writer import _jsonable
    from netplan.present.webmap import save_map

    out = Path(out)
    names = ["sites.csv", "kpi_deltas.csv", "cost.csv", "outlets.csv", "compare.json"]
    runs = [("run A", comparison.a.path), ("run B", comparison.b.path)]  # never replaced
    with atomic_directory(out, overwrite=overwrite, protect=runs, kind="compare") as tmp:
        changed = comparison.changed
        xy = changed.geometry
        table = pd.DataFrame(changed.drop(columns="geometry"))
        table["lon"], table["lat"] = xy.x.round(6), xy.y.round(6)
        csv = {"index": False, "float_format": "%.10g", "lineterminator": "\n"}
        table.to_csv(tmp / names[0], **csv)
        comparison.kpis.to_csv(tmp / names[1], **csv)
        comparison.cost.reset_index().to_csv(tmp / names[2], **csv)
        comparison.outlets.to_csv(tmp / names[3], **csv)
        (tmp / names[4]).write_text(
            json.dumps(_jsonable(comparison.summary()), indent=2) + "\n", encoding="utf-8"
        )
        save_map(compare_map(comparison), tmp / "compare.html")
    keys = ["sites", "kpi_deltas", "cost", "outlets", "summary"]
    return {**{k: out / n for k, n in zip(keys, names, strict=True)}, "map": out / "compare.html"}


# -------------------------------------------------------------------------- map
_CHANGE_STYLE = {  # change -> (symbol action, which plan's tier, layer label)
    "added": ("open", "tier_b", "Added in B"),
    "removed": ("close", "tier_a", "Removed in B"),
    "retiered": ("retier", "tier_b", "Re-tiered in B"),
    "unchanged": ("keep", "tier_b", "Unchanged"),
}


def _site_popup(row: pd.Series, labels: dict[str, str]) -> str:
    from netplan.present.formats import money as _money
    from netplan.present.markup import html_text as _esc

    facts = [
        ("Site", row["site_id"]),
        ("Change", {"retiered": "re-tiered"}.get(row["change"], row["change"])),
        ("Tier in A", labels.get(row["tier_a"], "closed / none")),
        ("Tier in B", labels.get(row["tier_b"], "closed / none")),
        ("Action in A", row["action_a"] or "—"),
        ("Action in B", row["action_b"] or "—"),
        ("Today", labels.get(row["today"], "new site")),
        ("Region", row["region"]),
        ("Cost A", _money(row["cost_a"])),
        ("Cost B", _money(row["cost_b"])),
        ("Cost Δ", f"{row['cost_delta']:+,.0f}"),
    ]
    rows = "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(v)}</td></tr>" for k, v in facts if v != "")
    return f'<div class="np-popup"><b>{_esc(row["name"])}</b><table>{rows}</table></div>'


def _panel(c: Comparison) -> str:
    from netplan.present.formats import money as _money
    from netplan.present.markup import html_text as _esc

    lv = c.kpis.loc[c.kpis["region"] == "all"]
    rows = "".join(
        f'<tr><td>{_esc(r.level_name)}</td><td class="num">{r.covered_pct_a:.1f}</td>'
        f'<td class="num">{r.covered_pct_b:.1f}</td><td class="num">{r.covered_pct_delta:+.1f}</td></tr>'
        for r in lv.itertuples()
    )
    tiers = "".join(
        f'<tr><td>{_esc(r.tier_name)}</td><td class="num">{r.a}</td><td class="num">{r.b}</td>'
        f'<td class="num">{r.added}</td><td class="num">{r.removed}</td><td class="num">{r.retiered}</td></tr>'
        for r in c.outlets.itertuples()
    )
    cost = c.cost.loc["total"]
    notes = "".join(f'<div class="np-solver">Note: {_esc(n)}</div>' for n in c.notes)
    return f"""
<div id="np-kpi" class="np-panel">
  <div class="np-title">A: {_esc(c.a.label)} → B: {_esc(c.b.label)}</div>
  <table class="np-kpi-table">
    <tr><th>Coverage %</th><th>A</th><th>B</th><th>Δ</th></tr>
    {rows}
  </table>
  <div class="np-cost">Cost: {_money(cost["a"])} → <b>{_money(cost["b"])}</b> (Δ {cost["delta"]:+,.0f})</div>
  <table class="np-kpi-table">
    <tr><th>Outlets</th><th>A</th><th>B</th><th>added</th><th>removed</th><th>re-tiered</th></tr>
    {tiers}
  </table>
  {notes}
</div>"""


def _legend(c: Comparison) -> str:
    from netplan.present.markup import html_text as _esc
    from netplan.present.symbols import symbol_svg
    from netplan.present.symbols import tier_style as _tier_style

    items = []
    for k, label in enumerate(c.a.tier_labels):
        colour, shape, size = _tier_style(k)
        items.append(f"<div>{symbol_svg(shape, colour, size)} {_esc(label)}</div>")
    for action, text in (
        ("open", "added in B"),
        ("close", "removed in B"),
        ("retier", "re-tiered in B"),
        ("keep", "unchanged"),
    ):
        items.append(f"<div>{symbol_svg('circle', '#7f7f7f', 14, action)} {text}</div>")
    for colours, text in (
        (GAINED_COLOURS, "covered in B, not in A"),
        (LOST_COLOURS, "covered in A, not in B"),
    ):
        ramp = "".join(f'<span style="background:{x}"></span>' for x in colours)
        items.append(f'<div class="np-ramp">{ramp} demand {text}, per cell</div>')
    return f'<div id="np-legend" class="np-panel">{"".join(items)}</div>'


def compare_map(c: Comparison) -> folium.Map:
    """The map of the differences: sites added, removed, re-tiered, and coverage gained and lost.

    Parameters
    ----------
    c : Comparison

    Returns
    -------
    folium.Map
        Render with :func:`netplan.present.webmap.save_map` for a self-contained, offline page.
    """
    from branca.element import Element

    from netplan.present.formats import money as _money
    from netplan.present.map_cells import add_cells as _add_cells
    from netplan.present.map_cells import demand_cells as _cells
    from netplan.present.map_coords import data_view, in_metres
    from netplan.present.map_layers import BIND as _BIND
    from netplan.present.map_layers import layer_group
    from netplan.present.map_layers import points_geojson as _points_geojson
    from netplan.present.map_panels import MAP_STYLE as _CSS
    from netplan.present.markup import html_text as _esc
    from netplan.present.symbols import symbol_svg
    from netplan.present.symbols import tier_style as _tier_style
    from netplan.present.webmap import FitData, base_map

    # longitudes unwrapped around the data's centre: runs across the antimeridian draw as one
    centre, bounds = data_view(c.sites.geometry, c.coverage.geometry)
    m = base_map(*bounds)

    # coverage gained and lost per level, as cells sized to the area (no reach in a run folder)
    keys, labels = c.a.tier_keys, c.a.tier_labels
    cov = c.coverage
    if len(cov):
        metric = in_metres(cov)
        x0, y0, x1, y1 = metric.total_bounds
        size = float(np.clip(max(x1 - x0, y1 - y0) / 60.0, 500.0, 5000.0))
    for level, (key, label) in enumerate(zip(keys, labels, strict=True)):
        for change, colours, text in (
            ("gained", GAINED_COLOURS, "Covered in B only"),
            ("lost", LOST_COLOURS, "Covered in A only"),
        ):
            sel = (
                metric[(metric["level"] == key) & (metric["change"] == change)] if len(cov) else cov
            )
            group = layer_group(
                m, f"{text}: {label} ({_money(sel['weight'].sum())})", level == len(keys) - 1
            )
            if len(sel):
                what = text[0].lower() + text[1:]
                html_label = _esc(label)
                _add_cells(
                    group,
                    _cells(sel, sel["weight"].to_numpy(), size),
                    colours,
                    lambda v, n, lab=html_label, w=what: f"{lab}: {v} demand {w} ({n} points)",
                    centre,
                )

    # sites by change; symbols keep the tier's shape and colour of webmap
    tier_pos = {k: i for i, k in enumerate(keys)}
    label_of = dict(zip(keys, labels, strict=True))
    for change in (*CHANGES, "unchanged"):
        action, tier_col, text = _CHANGE_STYLE[change]
        sel = c.sites.loc[c.sites["change"] == change]
        group = layer_group(m, f"{text} ({len(sel)})", True)
        for tier, part in sel.groupby(tier_col, sort=False):
            k = tier_pos.get(tier, 0)
            colour, shape, size_px = _tier_style(k)
            if change == "unchanged":
                colour = "#8c8c8c"
            icon = folium.DivIcon(
                html=symbol_svg(shape, colour, size_px, action),
                icon_size=(size_px, size_px),
                icon_anchor=(size_px // 2, size_px // 2),
                class_name="np-icon",
            )
            popups = [_site_popup(r, label_of) for _, r in part.iterrows()]
            tips = [f"{_esc(n)} · {text.lower()}" for n in part["name"]]
            folium.GeoJson(
                _points_geojson(part, popups, tips, centre),
                marker=folium.Marker(icon=icon),
                on_each_feature=_BIND,
                name=None,
                control=False,
            ).add_to(group)

    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    FitData(bounds).add_to(m)
    root = m.get_root()
    root.header.add_child(Element(_CSS))
    root.html.add_child(Element(_panel(c)))
    root.html.add_child(Element(_legend(c)))
    root.header.add_child(
        Element(f"<title>netplan · compare {_esc(c.a.label)} → {_esc(c.b.label)}</title>")
    )
    return m


# ---------------------------------------------------------------------- console
def print_summary(c: Comparison, console: Console) -> None:
    """Print the headline of a comparison with rich: coverage, cost and sites that changed."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"A: {escape(c.a.label)} → B: {escape(c.b.label)}", title_justify="left")
    for col in ("level", "covered % A", "covered % B", "Δ", "overlap % Δ", "mean dist Δ"):
        table.add_column(col, justify="left" if col == "level" else "right")
    scale, unit = (1000.0, "km") if c.a.unit == "m" else (1.0, "min")
    for r in c.kpis.loc[c.kpis["region"] == "all"].itertuples():
        table.add_row(
            escape(r.level_name),
            f"{r.covered_pct_a:.1f}",
            f"{r.covered_pct_b:.1f}",
            f"{r.covered_pct_delta:+.1f}",
            f"{r.overlap_pct_delta:+.1f}",
            f"{r.dist_mean_delta / scale:+.2f} {unit}",
        )
    console.print(table)
    cost = c.cost.loc["total"]
    console.print(f"cost: A {cost['a']:,.0f} → B {cost['b']:,.0f} (Δ {cost['delta']:+,.0f})")
    counts = c.change_counts()
    console.print(
        f"sites: {counts['added']} added, {counts['removed']} removed, {counts['retiered']} re-tiered"
    )
    for r in c.outlets.itertuples():
        console.print(f"  {escape(r.tier_name)}: {r.a} → {r.b} ({r.delta:+d})")
    for note in c.notes:
        console.print(f"[yellow]note:[/] {escape(note)}", soft_wrap=True)
