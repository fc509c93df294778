"""Reading and checking run folders: what a comparison reads, and whether two runs compare.

Only the run folder is read (``plan.gpkg``, ``kpis.csv``, ``run.json``) — never the scenario or
its inputs, which may have moved — and each file is checked against what netplan writes, so a
folder edited by hand fails with the file and field named.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from netplan._errors import CompareError
from netplan.compare.formats import OLD_RUN, format_version, upgrade_kpis
from netplan.evaluation.columns import kpi_columns
from netplan.present.i18n import t

RUN_FILES = ("plan.gpkg", "kpis.csv", "run.json")


class Note(str):
    """A note of a comparison: its English text, which keeps its catalogue key and figures.

    A ``str`` (``Comparison.notes`` and compare.json hold the English words), that the pages
    and the terminal phrase again in the runs' locale with :meth:`in_locale`.

    Parameters
    ----------
    key : str
        A catalogue key, e.g. ``"cmp.note.same_scenario"``.
    **values
        The message's placeholders.
    """

    key: str
    values: dict[str, object]

    def __new__(cls, key: str, /, **values: object) -> Note:
        note = super().__new__(cls, t(key, "en", **values))
        note.key, note.values = key, values
        return note

    def __getnewargs_ex__(self) -> tuple[tuple[str], dict[str, object]]:
        return (self.key,), dict(self.values)  # pickles and copies as a Note

    def in_locale(self, locale: str) -> str:
        """The note in ``locale`` (``"en"`` or ``"zh-CN"``)."""
        return t(self.key, locale, **self.values)


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

    def __repr__(self) -> str:
        return f"RunFolder({self.label!r}, outlets={len(self.outlets)}, kpi rows={len(self.kpis)})"

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


def read_run(path: str | Path, which: str = "") -> RunFolder:
    """Read a run folder written by ``netplan run`` (or ``netplan demo``).

    A folder of run.json format 1 (netplan < 0.2: no ``format_version``, distances in metres
    under ``dist_mean``…) is read with its KPIs converted to this format's columns
    (``dist_mean_km``…, ``time_mean_min``…; see :mod:`netplan.compare.formats`).

    Parameters
    ----------
    path : str or Path
    which : str
        ``"A"`` or ``"B"``: names the run in the message when its format cannot be read.

    Raises
    ------
    CompareError
        The folder is missing, is not a run folder, one of its files is not what
        ``netplan run`` writes, or it was written in a format this netplan cannot read.
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
    if isinstance(record, dict) and record.get("kind") == "roadmap":
        raise CompareError(
            f"{path}: a roadmap run (phases), not a single plan; read it with "
            "netplan.compare.read_roadmap (netplan.compare compares two roadmaps phase by phase)"
        )
    if isinstance(record, dict) and record.get("kind") not in (None, "plan"):
        raise CompareError(
            f"{path / 'run.json'}: kind {_shown(record.get('kind'))} is not a run netplan compare reads "
            "(a single plan or a roadmap); give a folder written by `netplan run`"
        )
    if not isinstance(record, dict) or "netplan_run" not in record or "cost" not in record:
        raise CompareError(f"{path / 'run.json'}: not a netplan run record; {hint}")
    version = format_version(record, path / "run.json", which)
    _check_record(record, path / "run.json")
    try:
        kpis = pd.read_csv(path / "kpis.csv", keep_default_na=False, na_values=[""])
    except (OSError, ValueError) as exc:
        raise CompareError(f"{path / 'kpis.csv'}: not readable as CSV ({exc}); {hint}") from None
    if version == 1:
        upgraded = upgrade_kpis(kpis)
        if upgraded is None:
            raise CompareError(OLD_RUN.format(which=which or path))
        kpis = upgraded
    unit = str(kpis["unit"].iloc[0]) if "unit" in kpis and len(kpis) else "km"
    needed = ["region", "level", "level_name", "unit"] + [f"{c}_plan" for c in kpi_columns(unit)]
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
    unit = str(kpis["unit"].iloc[0]) if len(kpis) else "km"
    for col in [f"{c}_plan" for c in kpi_columns(unit)]:
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


def check_comparable(a: RunFolder, b: RunFolder) -> list[Note]:
    """Raise on runs of different tiers or regions; return notes on other differences.

    Parameters
    ----------
    a, b : RunFolder
        Run A and run B, as read by :func:`read_run`.

    Returns
    -------
    list of Note
        Differences that change what a delta means (demand or today's network inputs), and whether both runs used the same scenario file content
        (English ``str``, each keeping its catalogue key and figures for the pages).

    Raises
    ------
    CompareError
        The runs plan different tiers or different regions, or one measures distance (km:
        planar or haversine travel) and the other drive time (min: a road network).
    """
    where = f"cannot compare {a.path} with {b.path}"
    check_same_tiers_and_regions(a, b, where)
    if a.unit != b.unit:  # km against drive minutes: no delta of distance (or of coverage) means anything
        raise CompareError(f"{where}: {travel_units(a, b)}")
    notes = []
    inputs_a, inputs_b = a.record.get("inputs", {}), b.record.get("inputs", {})
    for key in ("demand", "outlets"):
        ha = (inputs_a.get(key) or {}).get("sha256")
        hb = (inputs_b.get(key) or {}).get("sha256")
        if ha and hb and ha != hb:
            notes.append(Note(f"cmp.note.{key}_inputs", a=ha[:10], b=hb[:10]))
    sa = (a.record.get("scenario") or {}).get("sha256")
    if sa and sa == (b.record.get("scenario") or {}).get("sha256"):
        notes.append(Note("cmp.note.same_scenario"))
    return notes


def check_same_tiers_and_regions(a, b, where: str) -> None:
    """Refuse runs (plans or roadmaps) of other tiers or other regions, in one line naming them.

    Raises
    ------
    CompareError
    """
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


def travel_units(a: RunFolder, b: RunFolder) -> str:
    """Why runs in different units do not compare, and the fix (one line)."""

    def what(run: RunFolder, name: str) -> str:
        mode = (run.record.get("scenario") or {}).get("travel") or "?"
        kind = "drive times" if run.unit == "min" else "distances"
        return f"{name}'s {kind} are in {run.unit} (travel {mode})"

    return (
        f"{what(a, 'A')}, {what(b, 'B')}; reach and coverage mean different things in each, "
        "so run both with the same travel mode (travel.mode in the scenario) and compare those"
    )
