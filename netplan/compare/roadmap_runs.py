"""Reading and checking roadmap run folders, and whether two roadmaps compare.

A roadmap run folder (``netplan run`` on a scenario with ``phases``, written by
:func:`netplan.roadmap_pipeline.write_roadmap`) holds ``run.json`` (``kind: roadmap``),
``phases.csv`` (per phase: money against its limits, covered % per level), ``roadmap.csv``
(one row per action) and ``kpis.csv`` (a ``phase`` column). Two roadmaps compare when they
have the same phases (names, in order), tiers, regions and distance unit; deltas are B − A of
the figures as written and printed (money in whole units, covered % to 2 decimals in the
files), so a line adds up as read (:mod:`netplan.compare.roadmaps`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from netplan._errors import CompareError
from netplan.compare.runs import EDITED, Note, _shown, check_same_tiers_and_regions
from netplan.roadmap_pipeline import FORMAT_VERSION as ROADMAP_FORMAT

ROADMAP_FILES = ("run.json", "phases.csv", "roadmap.csv", "kpis.csv")
MONEY = ("capex", "capex_budget", "opex_per_year", "opex_budget", "total")
# an action's kind: a new site opens once, changes tier at most once, closes at most once,
# so (site, kind) names one action of a roadmap
KIND = {"open": "open", "close": "close", "upgrade": "change", "downgrade": "change"}
HINT = "give a folder written by `netplan run`"


@dataclass
class RoadmapFolder:
    """The parts of a roadmap run folder a comparison reads.

    Attributes
    ----------
    path : Path
    record : dict
        ``run.json``.
    phases : DataFrame
        ``phases.csv``: ``today`` first, then one row per phase.
    actions : DataFrame
        ``roadmap.csv``: one row per action.
    kpis : DataFrame
        ``kpis.csv``, with its ``phase`` column.
    label : str
        The run's name in titles (its folder name by default).
    """

    path: Path
    record: dict
    phases: pd.DataFrame
    actions: pd.DataFrame
    kpis: pd.DataFrame
    label: str = ""

    def __post_init__(self) -> None:
        if not self.label:
            self.label = self.path.name or str(self.path)

    def __repr__(self) -> str:
        return (
            f"RoadmapFolder({self.label!r}, phases={self.phase_names}, actions={len(self.actions)})"
        )

    @property
    def phase_names(self) -> list[str]:
        """The phases in time order (without ``today``)."""
        return [str(p) for p in self.phases["phase"].iloc[1:]]

    @property
    def tier_keys(self) -> list[str]:
        rows = self.kpis.loc[(self.kpis["phase"] == "today") & (self.kpis["region"] == "all")]
        return rows["level"].astype(str).tolist()

    @property
    def tier_labels(self) -> list[str]:
        rows = self.kpis.loc[(self.kpis["phase"] == "today") & (self.kpis["region"] == "all")]
        return rows["level_name"].astype(str).tolist()

    @property
    def regions(self) -> list[str]:
        return sorted(set(self.kpis["region"].astype(str)) - {"all"})

    @property
    def unit(self) -> str:
        return str(self.kpis["unit"].iloc[0]) if len(self.kpis) else ""

    @property
    def own_coverage_years(self) -> float | None:
        """The coverage-years of this run's roadmap (``exact``, or ``final_first`` when that
        was the objective)."""
        figures = self.record.get("coverage_years") or {}
        key = "final_first" if self.record.get("objective") == "final_first" else "exact"
        return figures.get(key)


def run_kind(path: str | Path) -> str:
    """``run.json``'s ``kind`` of a run folder: ``"roadmap"``, ``"plan"`` (no kind: a single
    plan) or whatever else it says.

    A folder that is not a run at all (no or unreadable run.json) is ``"plan"``, for the plan
    reader to refuse with its own message.
    """
    try:
        record = json.loads((Path(path) / "run.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return "plan"
    kind = record.get("kind") if isinstance(record, dict) else None
    return "plan" if kind is None else str(kind)


def read_roadmap(path: str | Path, which: str = "") -> RoadmapFolder:
    """Read a roadmap run folder (``run.json`` of ``kind: roadmap``).

    Parameters
    ----------
    path : str or Path
    which : str
        ``"A"`` or ``"B"``: names the run in a message about its format.

    Raises
    ------
    CompareError
        The folder is missing, is not a roadmap run folder, is of a roadmap format this
        netplan does not read, or one of its files is not what netplan writes.
    """
    path = Path(path)
    if not path.is_dir():
        raise CompareError(f"{path}: no such folder; {HINT}")
    missing = [name for name in ROADMAP_FILES if not (path / name).is_file()]
    if missing:
        raise CompareError(
            f"{path}: not a netplan roadmap run folder (no {', '.join(missing)}); {HINT}"
        )
    try:
        record = json.loads((path / "run.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CompareError(f"{path / 'run.json'}: not readable as JSON ({exc}); {HINT}") from None
    if not isinstance(record, dict) or record.get("kind") != "roadmap":
        raise CompareError(f"{path / 'run.json'}: not a roadmap run record; {HINT}")
    version = record.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise CompareError(
            f"{path / 'run.json'}: field 'format_version' is {_shown(version)}, {EDITED}"
        )
    if version != ROADMAP_FORMAT:
        raise CompareError(
            f"{which or path}: roadmap run.json format {version}; this netplan reads roadmap "
            f"format {ROADMAP_FORMAT}; compare it with the netplan that wrote it or run it again"
        )
    phases = _csv(path / "phases.csv")
    actions = _csv(path / "roadmap.csv")
    kpis = _csv(path / "kpis.csv")
    _check_kpis(kpis, path / "kpis.csv")
    keys = kpis.loc[(kpis["phase"] == "today") & (kpis["region"] == "all"), "level"].tolist()
    _check_phases(phases, keys, path / "phases.csv")
    _check_actions(actions, list(phases["phase"].iloc[1:]), keys, path / "roadmap.csv")
    names = [p.get("name") for p in record.get("phases") or [] if isinstance(p, dict)]
    if names != list(phases["phase"].iloc[1:]):
        raise CompareError(
            f"{path / 'run.json'}: field 'phases' names {_shown(names)}, phases.csv "
            f"{_shown(list(phases['phase'].iloc[1:]))}; {EDITED}"
        )
    if set(kpis["phase"]) != set(phases["phase"]):
        raise CompareError(
            f"{path / 'kpis.csv'}: column 'phase' does not name the phases of phases.csv, {EDITED}"
        )
    for name in ("exact", "final_first", "greedy"):
        value = (record.get("coverage_years") or {}).get(name)
        if value is not None and not _number(value):
            raise CompareError(
                f"{path / 'run.json'}: field 'coverage_years.{name}' is {_shown(value)}, {EDITED}"
            )
    return RoadmapFolder(path, record, phases, actions, kpis)


# read as text whatever they look like: a site id or name of digits stays as written
TEXT_COLUMNS = dict.fromkeys(
    [
        "phase",
        "site_id",
        "name",
        "tier_before",
        "tier_after",
        "action",
        "region",
        "level",
        "level_name",
        "unit",
    ],
    str,
)


def text(values: pd.Series) -> pd.Series:
    """A column as text, empty cells as "" (a column read all empty is float NaN)."""
    return values.astype(object).where(values.notna(), "").astype(str)


def _csv(file: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(file, keep_default_na=False, na_values=[""], dtype=TEXT_COLUMNS)
    except (OSError, ValueError) as exc:
        raise CompareError(f"{file}: not readable as CSV ({exc}); {HINT}") from None


def _number(value: object) -> bool:
    return (
        isinstance(value, int | float) and not isinstance(value, bool) and bool(np.isfinite(value))
    )


def _numeric(frame: pd.DataFrame, col: str, file: Path, empty_ok: bool = True) -> None:
    values = pd.to_numeric(frame[col], errors="coerce")
    bad = (values.isna() & frame[col].notna()) | np.isinf(values.to_numpy(dtype=float))
    if not empty_ok:
        bad |= values.isna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise CompareError(
            f"{file}: row {i + 2}: column '{col}' is {_shown(frame[col].iloc[i])}, {EDITED}"
        )
    frame[col] = values.astype(float)


def _need(frame: pd.DataFrame, columns: list[str], file: Path) -> None:
    absent = [c for c in columns if c not in frame.columns]
    if absent:
        raise CompareError(f"{file}: no column {', '.join(absent[:3])}; {EDITED}")


def _check_kpis(kpis: pd.DataFrame, file: Path) -> None:
    _need(kpis, ["phase", "region", "level", "level_name", "unit", "covered_pct"], file)
    _numeric(kpis, "covered_pct", file, empty_ok=False)
    for col in ("phase", "region", "level", "level_name", "unit"):
        kpis[col] = text(kpis[col])
    if not ((kpis["phase"] == "today") & (kpis["region"] == "all")).any():
        raise CompareError(f"{file}: no row of phase 'today' and region 'all', {EDITED}")


def _check_phases(phases: pd.DataFrame, keys: list[str], file: Path) -> None:
    _need(phases, ["phase", "years", *MONEY, *(f"covered_pct_{k}" for k in keys)], file)
    phases["phase"] = text(phases["phase"])
    if len(phases) < 2 or phases["phase"].iloc[0] != "today":
        raise CompareError(f"{file}: the first row is not 'today' followed by the phases, {EDITED}")
    twice = phases["phase"].duplicated()
    if twice.any():
        i = int(np.flatnonzero(twice.to_numpy())[0])
        raise CompareError(
            f"{file}: row {i + 2}: phase {_shown(phases['phase'].iloc[i])} a second time, {EDITED}"
        )
    for col in ["years", *MONEY]:
        _numeric(phases, col, file)
    for k in keys:
        _numeric(phases, f"covered_pct_{k}", file, empty_ok=False)


def _check_actions(actions: pd.DataFrame, names: list[str], keys: list[str], file: Path) -> None:
    columns = ["phase", "site_id", "name", "tier_before", "tier_after", "action", "capex"]
    _need(actions, columns, file)
    for col in columns[:-1]:
        actions[col] = text(actions[col])
    _numeric(actions, "capex", file)
    for bad, what in (
        (~actions["phase"].isin(names), "a phase that is not in phases.csv"),
        (~actions["action"].isin(list(KIND)), "an action other than open, close, upgrade, downgrade"),
        (~actions["tier_after"].isin([*keys, ""]) | ~actions["tier_before"].isin([*keys, ""]),
         "a tier that is not a level of kpis.csv"),
        (actions.assign(_k=actions["action"].map(KIND)).duplicated(["site_id", "_k"]),
         "a second action of the same kind for a site"),
    ):  # fmt: skip
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise CompareError(f"{file}: row {i + 2}: {what}, {EDITED}")


def check_roadmaps(a: RoadmapFolder, b: RoadmapFolder) -> list[Note]:
    """Raise on roadmaps of different phases, tiers, regions or units; return notes on the rest.

    Parameters
    ----------
    a, b : RoadmapFolder
        Run A and run B, as read by :func:`read_roadmap`.

    Returns
    -------
    list of Note
        Phases of the same name but different years, different objectives, the same scenario
        file content, a roadmap that is not proven optimal.

    Raises
    ------
    CompareError
        Different phase names (or order), tiers, regions, or distance units.
    """
    where = f"cannot compare {a.path} with {b.path}"
    if a.phase_names != b.phase_names:
        raise CompareError(
            f"{where}: different phases (A: {', '.join(a.phase_names)}; B: {', '.join(b.phase_names)}); "
            "compare roadmaps planned with the same phase names, in the same order"
        )
    check_same_tiers_and_regions(a, b, where)
    if a.unit != b.unit:
        raise CompareError(
            f"{where}: A's reach is in {a.unit}, B's in {b.unit}; reach and coverage mean different "
            "things in each, so run both with the same travel mode (travel.mode in the scenario) and compare those"
        )
    notes = []
    years = [
        f"{n} ({ya:g}/{yb:g})"
        for n, ya, yb in zip(
            a.phase_names, a.phases["years"].iloc[1:], b.phases["years"].iloc[1:], strict=True
        )
        if ya != yb
    ]
    if years:
        notes.append(Note("cmprm.note.years", phases="; ".join(years)))
    oa, ob = a.record.get("objective"), b.record.get("objective")
    if oa != ob:
        notes.append(Note("cmprm.note.objective", a=str(oa), b=str(ob)))
    for which, run in (("A", a), ("B", b)):
        status = run.record.get("status")
        if status != "optimal":
            notes.append(Note("cmprm.note.status", which=which, status=str(status)))
    sa = (a.record.get("scenario") or {}).get("sha256")
    if sa and sa == (b.record.get("scenario") or {}).get("sha256"):
        notes.append(Note("cmp.note.same_scenario"))
    return notes
