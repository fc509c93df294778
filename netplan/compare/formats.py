"""Run folders of earlier formats: which format a run.json is, and the KPIs of format 1 converted.

run.json format 1 (netplan < 0.2) has no ``format_version``, stores absolute paths and names
distance KPIs without a unit (``dist_mean_plan`` in metres, or minutes on a road network,
with ``unit`` ``m`` or ``min``). Format 2 names them with the unit users see
(``dist_mean_km_plan``, ``time_mean_min_plan``; ``unit`` ``km`` or ``min``). A comparison
reads only the KPIs, costs and outlets of a run, so a format-1 folder converts; one that
cannot (its KPI table lacks the distance columns) is refused with :data:`OLD_RUN`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from netplan._errors import CompareError
from netplan.evaluation.columns import DIST_STATS, display_unit, distance_column, to_display
from netplan.outputs.writer import FORMAT_VERSION

OLD_RUN = "{which}: written by netplan < 0.2 (run.json format 1); run it again with this netplan"
NEWER_RUN = (
    "{which}: written by a newer netplan (run.json format {version}; this netplan reads "
    "formats 1 to {known}); compare it with that netplan or update this one"
)


def format_version(record: dict, file: Path, which: str = "") -> int:
    """The run.json format of ``record``: its ``format_version``, or 1 without one.

    Raises
    ------
    CompareError
        ``format_version`` is not a positive whole number, or is newer than this netplan writes.
    """
    version = record.get("format_version", 1)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise CompareError(
            f"{file}: field 'format_version' is {version!r}, not what netplan writes; "
            "was the file edited? run `netplan run` again to rewrite it"
        )
    if version > FORMAT_VERSION:
        raise CompareError(
            NEWER_RUN.format(which=which or file.parent, version=version, known=FORMAT_VERSION)
        )
    return version


def upgrade_kpis(kpis: pd.DataFrame) -> pd.DataFrame | None:
    """A format-1 kpis.csv with its distance columns as format 2 names and units them.

    ``dist_<stat>_<part>`` in metres becomes ``dist_<stat>_km_<part>`` in km (in minutes,
    ``time_<stat>_min_<part>``) for each part baseline, plan and delta; ``unit`` becomes
    ``km`` or ``min``. Returns None when the table is not a format-1 KPI table (no ``unit``
    of ``m`` or ``min``, or no ``dist_<stat>_plan`` column).
    """
    if "unit" not in kpis or not len(kpis):
        return None
    units = set(kpis["unit"].astype(str))
    if len(units) != 1 or not units <= {"m", "min"}:
        return None
    unit = units.pop()
    if any(f"dist_{stat}_plan" not in kpis for stat in DIST_STATS):
        return None
    out = kpis.copy()
    names = {}
    for stat in DIST_STATS:
        for part in ("baseline", "plan", "delta"):
            old = f"dist_{stat}_{part}"
            if old not in out:
                continue
            values = pd.to_numeric(out[old], errors="coerce")
            if not (values.isna() & out[old].notna()).any():  # text stays, for the check to name
                out[old] = to_display(values.astype(float), unit)
            names[old] = f"{distance_column(stat, unit)}_{part}"
    out = out.rename(columns=names)
    out["unit"] = display_unit(unit)
    return out
