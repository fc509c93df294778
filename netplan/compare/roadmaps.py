"""Two roadmap runs side by side: per phase and level the coverage, per phase the money, the
coverage-years, and the actions that differ.

Two roadmaps compare when they have the same phases (names, in order), tiers, regions and
distance unit (:func:`netplan.compare.roadmap_runs.check_roadmaps`). Deltas are B − A of the
figures as written and printed (money in whole units, covered % to 2 decimals as phases.csv
holds them), so a line adds up as read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from netplan.compare.roadmap_runs import (
    KIND,
    MONEY,
    RoadmapFolder,
    check_roadmaps,
    read_roadmap,
    text,
)
from netplan.compare.runs import Note

DIFFERENCES = ("phase", "tier", "phase_and_tier", "action", "only_a", "only_b")


def _pct(value: float) -> float:
    return round(float(value), 2) + 0.0


def _whole(value: float) -> float:
    return float(round(float(value))) + 0.0 if np.isfinite(value) else np.nan


@dataclass
class RoadmapComparison:
    """Roadmap B against roadmap A.

    Attributes
    ----------
    a, b : RoadmapFolder
    deltas : DataFrame
        One row per (phase, figure, level), ``today`` first: ``figure`` is ``covered_pct``
        (per level; % of that phase's demand, 2 decimals) or a money figure (``capex``,
        ``capex_budget``, ``opex_per_year``, ``opex_budget``, ``total``; whole units, level
        empty); ``a``, ``b`` and ``delta`` = B − A of those rounded figures (empty where a run
        has no such figure, e.g. no budget).
    actions : DataFrame
        The actions that differ, one row per site and kind of action (open, change of tier,
        close): ``site_id``, ``name``, ``difference`` (one of :data:`DIFFERENCES`), then
        ``phase``, ``action``, ``tier_before``, ``tier`` and ``capex`` of A (``_a``) and B (``_b``).
    same_actions : int
        Actions that are the same in both roadmaps (phase, action and tiers).
    regions : DataFrame
        Per region, phase and level (``today`` first): covered % of A and B as kpis.csv holds
        them (1 decimal) and ``delta`` = B − A of those; empty without regions.
    notes : list of Note
    """

    a: RoadmapFolder
    b: RoadmapFolder
    deltas: pd.DataFrame
    actions: pd.DataFrame
    same_actions: int
    notes: list[Note] = field(default_factory=list)
    regions: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def currency(self) -> str | None:
        """The runs' currency (``scenario.currency`` of run.json), when both name the same one."""
        a, b = ((r.record.get("scenario") or {}).get("currency") for r in (self.a, self.b))
        return a if a == b else None

    @property
    def phase_names(self) -> list[str]:
        return self.a.phase_names

    def coverage_years(self) -> dict[str, dict[str, float | None]]:
        """Coverage-years of each run's own roadmap and of its greedy order, 1 decimal as the
        report prints them, with delta = B − A of those."""
        out = {}
        pairs = {
            "roadmap": (self.a.own_coverage_years, self.b.own_coverage_years),
            "greedy": tuple(
                (r.record.get("coverage_years") or {}).get("greedy") for r in (self.a, self.b)
            ),
        }
        for name, (va, vb) in pairs.items():
            ra = None if va is None else round(float(va), 1) + 0.0
            rb = None if vb is None else round(float(vb), 1) + 0.0
            delta = None if ra is None or rb is None else round(rb - ra, 1) + 0.0
            out[name] = {"a": ra, "b": rb, "delta": delta}
        return out

    def difference_counts(self) -> dict[str, int]:
        """Number of differing actions of each kind (:data:`DIFFERENCES`)."""
        counts = self.actions["difference"].value_counts()
        return {d: int(counts.get(d, 0)) for d in DIFFERENCES}

    def figure(self, phase: str, figure: str, level: str = "") -> pd.Series:
        """The row of ``deltas`` of one phase, figure and level (``a``, ``b``, ``delta``)."""
        d = self.deltas
        rows = d.loc[(d["phase"] == phase) & (d["figure"] == figure) & (d["level"] == level)]
        return rows.iloc[0]

    def summary(self) -> dict[str, object]:
        """What ``compare.json`` holds: per phase its coverage per level and its money, A, B
        and Δ, the coverage-years, the counts of differing actions and the notes."""

        def value(v):
            return None if v is None or (isinstance(v, float) and np.isnan(v)) else v

        phases = []
        for name in ["today", *self.phase_names]:
            rows = self.deltas.loc[self.deltas["phase"] == name]
            years = [float(r.phases.set_index("phase").at[name, "years"]) for r in (self.a, self.b)]
            entry: dict[str, object] = {
                "phase": name,
                "years": {"a": years[0], "b": years[1]},
                "covered_pct": {},
                "money": {},
            }
            for r in rows.itertuples():
                fig = {"a": value(r.a), "b": value(r.b), "delta": value(r.delta)}
                if r.figure == "covered_pct":
                    entry["covered_pct"][r.level] = fig  # type: ignore[index]
                else:  # whole units
                    fig = {k: None if v is None else int(v) for k, v in fig.items()}
                    entry["money"][r.figure] = fig  # type: ignore[index]
            phases.append(entry)
        return {
            "kind": "roadmap",
            "run_a": str(self.a.path),
            "run_b": str(self.b.path),
            "scenario_a": (self.a.record.get("scenario") or {}).get("name"),
            "scenario_b": (self.b.record.get("scenario") or {}).get("name"),
            "currency": self.currency,
            "levels": dict(zip(self.a.tier_keys, self.a.tier_labels, strict=True)),
            "phases": phases,
            "coverage_years": self.coverage_years(),
            "actions": {"same": self.same_actions, **self.difference_counts()},
            "regions": [
                {
                    "region": r.region,
                    "phase": r.phase,
                    "level": r.level,
                    "a": r.a,
                    "b": r.b,
                    "delta": r.delta,
                }
                for r in self.regions.itertuples()
            ],  # fmt: skip
            "notes": list(self.notes),
        }

    def __repr__(self) -> str:
        cy = self.coverage_years()["roadmap"]
        return (
            f"RoadmapComparison({self.a.label} → {self.b.label}: {len(self.phase_names)} phases, "
            f"{len(self.actions)} actions differ, coverage-years Δ {cy['delta']})"
        )


def compare_roadmaps(run_a: str | Path, run_b: str | Path) -> RoadmapComparison:
    """Compare roadmap B against roadmap A from two roadmap run folders.

    Parameters
    ----------
    run_a, run_b : str or Path
        Folders written by ``netplan run`` on scenarios with ``phases``.

    Returns
    -------
    RoadmapComparison

    Raises
    ------
    CompareError
        A folder is not a roadmap run, or the roadmaps have different phases, tiers,
        regions or units.
    """
    a, b = read_roadmap(run_a, "A"), read_roadmap(run_b, "B")
    if a.label == b.label:
        a.label, b.label = (f"{r.path.resolve().parent.name}/{r.path.name}" for r in (a, b))
    notes = check_roadmaps(a, b)
    actions, same = _action_differences(a, b)
    return RoadmapComparison(a, b, _phase_deltas(a, b), actions, same, notes, _region_deltas(a, b))


def _region_deltas(a: RoadmapFolder, b: RoadmapFolder) -> pd.DataFrame:
    keys = ["phase", "region", "level"]
    columns = ["region", "phase", "level", "level_name", "a", "b", "delta"]
    part_a = a.kpis.loc[a.kpis["region"] != "all", [*keys, "level_name", "covered_pct"]]
    part_b = b.kpis.loc[b.kpis["region"] != "all", [*keys, "covered_pct"]]
    merged = part_a.merge(part_b, on=keys, how="inner", suffixes=("_a", "_b"))
    if merged.empty:
        return pd.DataFrame(columns=columns)
    va = merged["covered_pct_a"].map(lambda v: round(float(v), 1) + 0.0)
    vb = merged["covered_pct_b"].map(lambda v: round(float(v), 1) + 0.0)
    out = merged[[*keys, "level_name"]].assign(a=va, b=vb, delta=(vb - va).round(1) + 0.0)
    order = {name: i for i, name in enumerate(["today", *a.phase_names])}
    levels = {k: i for i, k in enumerate(a.tier_keys)}
    return (
        out.assign(_r=out["region"], _p=out["phase"].map(order), _l=out["level"].map(levels))
        .sort_values(["_r", "_p", "_l"])
        .drop(columns=["_r", "_p", "_l"])
        .reset_index(drop=True)[columns]
    )


def _phase_deltas(a: RoadmapFolder, b: RoadmapFolder) -> pd.DataFrame:
    rows = []
    label_of = dict(zip(a.tier_keys, a.tier_labels, strict=True))
    pa, pb = a.phases.set_index("phase"), b.phases.set_index("phase")
    for name in ["today", *a.phase_names]:
        for key in a.tier_keys:
            va, vb = (
                _pct(pa.at[name, f"covered_pct_{key}"]),
                _pct(pb.at[name, f"covered_pct_{key}"]),
            )
            rows.append((name, "covered_pct", key, label_of[key], va, vb, round(vb - va, 2) + 0.0))
        for col in MONEY:
            va, vb = _whole(pa.at[name, col]), _whole(pb.at[name, col])
            if np.isnan(va) and np.isnan(vb):
                continue  # neither run has it: today's capex, a budget neither phase has
            rows.append((name, col, "", "", va, vb, vb - va))
    return pd.DataFrame(rows, columns=["phase", "figure", "level", "level_name", "a", "b", "delta"])


def _action_differences(a: RoadmapFolder, b: RoadmapFolder) -> tuple[pd.DataFrame, int]:
    cols = ["phase", "action", "tier_before", "tier_after", "capex", "name"]

    def keyed(run: RoadmapFolder) -> pd.DataFrame:
        frame = run.actions.assign(kind=run.actions["action"].map(KIND))
        return frame.set_index(["site_id", "kind"])[cols]

    merged = keyed(a).merge(
        keyed(b), how="outer", left_index=True, right_index=True, suffixes=("_a", "_b")
    )
    in_a, in_b = merged["action_a"].notna(), merged["action_b"].notna()
    phase_diff = merged["phase_a"] != merged["phase_b"]
    tier_diff = merged["tier_after_a"] != merged["tier_after_b"]
    action_diff = (merged["action_a"] != merged["action_b"]) | (
        merged["tier_before_a"] != merged["tier_before_b"]
    )
    difference = np.select(
        [~in_b, ~in_a, phase_diff & tier_diff, phase_diff, tier_diff, action_diff],
        ["only_a", "only_b", "phase_and_tier", "phase", "tier", "action"],
        "",
    )
    order = {name: i for i, name in enumerate(a.phase_names)}
    first = np.fmin(
        merged["phase_a"].map(order).astype(float), merged["phase_b"].map(order).astype(float)
    )
    table = pd.DataFrame(
        {
            "site_id": merged.index.get_level_values("site_id"),
            "name": text(merged["name_a"].where(in_a, merged["name_b"])).to_numpy(),
            "difference": difference,
            **{f"{c}_{w}": merged[f"{src}_{w}"].to_numpy()
               for w in ("a", "b")
               for c, src in (("phase", "phase"), ("action", "action"), ("tier_before", "tier_before"),
                              ("tier", "tier_after"), ("capex", "capex"))},
            "_first": first.to_numpy(),
            "_kind": merged.index.get_level_values("kind"),
        }
    )  # fmt: skip
    same = int((table["difference"] == "").sum())
    table = table.loc[table["difference"] != ""]
    kind_order = table["_kind"].map({"open": 0, "change": 1, "close": 2})
    table = (
        table.assign(_k=kind_order)
        .sort_values(["_first", "site_id", "_k"], kind="stable")
        .drop(columns=["_first", "_kind", "_k"])
        .reset_index(drop=True)
    )
    for w in ("a", "b"):
        for c in ("phase", "action", "tier_before", "tier"):
            table[f"{c}_{w}"] = text(table[f"{c}_{w}"])
        table[f"capex_{w}"] = table[f"capex_{w}"].astype(float).round()
    return table, same
