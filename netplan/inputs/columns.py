"""Columns of input layers, read and checked: ids, texts, numbers, rows, families.

Ids must be present and unique (:func:`id_column`); numbers in input columns must be finite
and >= 0 (:func:`numeric_column`); the ratio rule of
:mod:`netplan.scenario.conditioning` applies to the demand weights of each level, to level weight x
demand weight and to the costs; a column named twice is refused when netplan reads it.
Messages name the file, the column and the rows as the user sees them (a CSV counts its
header line).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from netplan._errors import InputDataError
from netplan.inputs.readers import X_NAMES, Y_NAMES, check_duplicate_columns, require_column
from netplan.scenario import LayerSpec, Scenario
from netplan.scenario.conditioning import WARN_RATIO, Member, ratio_problem

_COORD_NAMES = set(X_NAMES) | set(Y_NAMES)


def layer_name(spec: LayerSpec | None) -> str:
    """The layer's file for messages (``"input"`` without a spec)."""
    return str(spec.path) if spec is not None else "input"


def file_row(spec: LayerSpec | None, i: int) -> int:
    """Row number as a person sees it in the file: CSV counts the header line."""
    if spec is not None and Path(spec.path).suffix.lower() in {".csv", ".txt", ".tsv"}:
        return i + 2
    return i + 1


def rows_text(spec: LayerSpec | None, mask: np.ndarray) -> str:
    """``"(3 such rows: 6, 9, 12)"``: how many rows are affected and the first few, as in the file."""
    idx = np.flatnonzero(mask)
    if len(idx) == 1:
        return "(1 such rows)"
    shown = ", ".join(str(file_row(spec, int(i))) for i in idx[:5])
    more = f" and {len(idx) - 5} more" if len(idx) > 5 else ""
    return f"({len(idx)} such rows: {shown}{more})"


class RowIds(Sequence):
    """Row numbers as the user sees them in the file, made only when a message names them."""

    def __init__(self, spec: LayerSpec, n: int) -> None:
        self.spec, self.n = spec, n

    def __getitem__(self, i: int) -> str:  # type: ignore[override]
        return str(file_row(self.spec, int(i)))

    def __len__(self) -> int:
        return self.n


def numeric_column(
    frame: pd.DataFrame,
    column: str,
    spec: LayerSpec,
    key: str,
    setting: str,
    allow_nan: bool = False,
) -> np.ndarray:
    """A numeric, finite, non-negative column; errors name the rows.

    Parameters
    ----------
    frame : DataFrame
        The layer as read.
    column : str
        The column to read.
    spec : LayerSpec
        The layer's scenario entry (its path, for messages and row numbers).
    key, setting : str
        Scenario key of the layer and the setting naming the column, for a missing column.
    allow_nan : bool
        An empty cell means "use the default" and comes back as NaN. The text ``nan`` or an
        infinity is an error either way: NaN and inf are never data.

    Returns
    -------
    ndarray of float

    Raises
    ------
    InputDataError
        Text that is no number, an empty cell (unless ``allow_nan``), ``nan``, an infinity or
        a negative value; the message names the first row and lists the first few.
    """
    raw = require_column(frame, column, Path(spec.path), key, setting)
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    given = ~raw.isna().to_numpy()
    lowered = raw.astype(str).str.strip().str.lower().to_numpy()
    nan_text = given & (lowered == "nan")
    missing = ~given | np.isin(lowered, ["", "na", "n/a", "null", "none"]) | nan_text
    not_number = np.isnan(values) & ~missing
    if not_number.any():
        row = int(np.flatnonzero(not_number)[0])
        raise InputDataError(
            f"{layer_name(spec)}: row {file_row(spec, row)}: column '{column}' holds {raw.iloc[row]!r}, not a number {rows_text(spec, not_number)}; fix the values"
        )
    if allow_nan and nan_text.any():
        row = int(np.flatnonzero(nan_text)[0])
        raise InputDataError(
            f"{layer_name(spec)}: row {file_row(spec, row)}: column '{column}' is NaN {rows_text(spec, nan_text)}; "
            "leave the cell empty for the default or give a number"
        )
    if not allow_nan and np.isnan(values).any():
        row = int(np.flatnonzero(np.isnan(values))[0])
        raise InputDataError(
            f"{layer_name(spec)}: row {file_row(spec, row)}: column '{column}' is empty or NaN {rows_text(spec, np.isnan(values))}; fill it in or remove the rows"
        )
    bad = ~np.isnan(values) & (~np.isfinite(values) | (values < 0))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputDataError(
            f"{layer_name(spec)}: row {file_row(spec, row)}: column '{column}' is {values[row]:g}; it must be a finite number >= 0 {rows_text(spec, bad)}"
        )
    return values


def id_column(frame: pd.DataFrame, spec: LayerSpec, key: str, prefix: str) -> pd.Series:
    """The layer's row ids, stripped text: from ``spec.id``, else an ``id`` column, else numbered.

    Parameters
    ----------
    frame : DataFrame
        The layer as read.
    spec : LayerSpec
        The layer's scenario entry (its ``id`` column and path).
    key : str
        Scenario key of the layer, for messages.
    prefix : str
        Ids made when the layer has none: ``<prefix>1``, ``<prefix>2``, ...

    Returns
    -------
    Series of str

    Raises
    ------
    InputDataError
        The id column is missing, or an id is empty or given twice.
    """
    column = spec.id
    if column is None:
        column = "id" if "id" in frame.columns else None
    if column is None:
        return pd.Series([f"{prefix}{i + 1}" for i in range(len(frame))], dtype=object)
    raw = require_column(frame, column, Path(spec.path), key, "id")
    ids = raw.astype(str).str.strip()
    blank = raw.isna().to_numpy() | (ids == "").to_numpy()
    if blank.any():
        row = int(np.flatnonzero(blank)[0])
        raise InputDataError(
            f"{layer_name(spec)}: row {file_row(spec, row)}: empty id in column '{column}'; give every row an id"
        )
    dup = ids.duplicated(keep="first").to_numpy()
    if dup.any():
        row = int(np.flatnonzero(dup)[0])
        raise InputDataError(
            f"{layer_name(spec)}: row {file_row(spec, row)}: duplicate id '{ids.iloc[row]}' in column '{column}' ({int(dup.sum())} duplicates); ids must be unique"
        )
    return ids.reset_index(drop=True).astype(object)


def text_column(
    frame: pd.DataFrame,
    column: str | None,
    spec: LayerSpec,
    key: str,
    setting: str,
    default: str = "",
) -> pd.Series:
    """A text column, stripped, empty cells as ``default``.

    Parameters
    ----------
    frame : DataFrame
        The layer as read.
    column : str, optional
        The column; None gives ``default`` on every row.
    spec : LayerSpec
        The layer's scenario entry (its path, for messages).
    key, setting : str
        Scenario key of the layer and the setting naming the column, for a missing column.
    default : str
        The value of empty cells, and of every row when an optional column (``policy``,
        ``ownership``, ``name``, ``tiers`` under its default name) is absent.

    Returns
    -------
    Series of str

    Raises
    ------
    InputDataError
        A column named in the scenario is missing.
    """
    if column is None:
        return pd.Series([default] * len(frame), dtype=object)
    if column not in frame.columns:
        if setting in {"policy", "ownership", "name", "tiers"} and column == setting:
            return pd.Series(
                [default] * len(frame), dtype=object
            )  # optional column under its default name
        require_column(frame, column, Path(spec.path), key, setting)
    return (
        frame[column]
        .astype(object)
        .where(frame[column].notna(), default)
        .astype(str)
        .str.strip()
        .reset_index(drop=True)
    )


def apply_ratio_rule(family: str, members: list[Member], notes: list[str]) -> str | None:
    """Raise on a ratio above 1e9 (netplan.scenario.conditioning); note and return a warning above 1e6."""
    found = ratio_problem(family, members)
    if found is None:
        return None
    if found[0] == "error":
        raise InputDataError(found[1])
    notes.append(found[1])
    return found[1]


def check_weight_families(
    weights: np.ndarray,
    spec: LayerSpec,
    scenario: Scenario,
    notes: list[str],
    point_ids: list[str] | None,
) -> None:
    """The ratio rule on the demand weights of each level and on level weight x demand weight.

    The second family applies to ``max_coverage`` only, where every level's coefficients meet
    in one objective; its warning is left out when a column or the level weights have been
    warned about already (its error never is).

    Parameters
    ----------
    weights : ndarray (n, K)
        Demand weight of each row (before zero-weight rows are dropped) and level.
    spec : LayerSpec
        The demand layer's entry (columns ``weight`` / ``weights``, path).
    scenario : Scenario
    notes : list of str
        Warnings are appended here.
    point_ids : list of str, optional
        Ids of the points zones were spread onto (rows are then points, not file rows).

    Raises
    ------
    InputDataError
        A family whose largest non-zero value is more than 1e9 times its smallest.
    """
    keys = scenario.tier_keys
    columns: list[str | None] = [spec.weight] * len(keys)
    for level, column in (spec.weights or {}).items():
        columns[scenario.tier_index(level)] = column
    if point_ids is not None:
        ids: Sequence[str] = point_ids
        # one label for all: the zones' weight column, spread onto points named <zone>-<n>
        label, noun = f"{layer_name(spec)} column '{scenario.demand.weight}' spread onto", "point"
    else:
        ids, label, noun = RowIds(spec, len(weights)), f"{layer_name(spec)} column '{{}}'", "row"
    warned = False
    for column in dict.fromkeys(c for c in columns if c is not None):
        levels = [k for k, c in zip(keys, columns, strict=True) if c == column]
        which = "every level" if len(levels) == len(keys) else "level " + ", ".join(levels)
        values = weights[:, columns.index(column)]
        member = Member(label.format(column), values, ids, noun)
        warned |= apply_ratio_rule(f"demand weights ({which})", [member], notes) is not None
    if scenario.objective.type != "max_coverage":
        return
    level_weight = scenario.level_weights()
    pairs = {
        (columns[i], float(level_weight[i])): i for i in range(len(keys)) if level_weight[i] > 0
    }
    if len(pairs) < 2:
        return  # one column at one level weight: the check above said it all
    members = [
        Member(
            f"{label.format(column) if column else '(weight 1)'} x level weight {w:g} ({keys[i]})",
            w * weights[:, i],
            ids,
            noun,
        )
        for (column, w), i in pairs.items()
    ]
    found = ratio_problem("coverage objective (level weight x demand weight)", members)
    if found is not None and found[0] == "error":
        raise InputDataError(found[1])
    positive = level_weight[level_weight > 0]
    warned |= positive.max() / positive.min() > WARN_RATIO  # the level weights' own warning
    if found is not None and not warned:
        notes.append(found[1])


def duplicate_columns_note(
    frame: pd.DataFrame, spec: LayerSpec, key: str, scenario: Scenario
) -> str | None:
    """Columns named more than once: an error when netplan reads one, else a warning line.

    Duplicates come from the CSV header (pandas renames copies to ``name.1``, kept in
    ``frame.attrs["duplicate_columns"]`` by netplan.inputs.readers) or from a frame given in memory.
    A column netplan reads is any column a scenario setting names, a default column name
    (id, name, region, tier, tiers, policy, ownership), a cost or capacity column of a tier,
    or a coordinate column found by name.
    """
    names = set(frame.attrs.get("duplicate_columns", []))
    names |= {str(c) for c in frame.columns[frame.columns.duplicated()]}
    if not names:
        return None
    used = {"id", "name", "region", "tier", "tiers", "policy", "ownership", "close_cost"}
    for setting in ("x", "y", "id", "name", "region", "weight", "tier", "policy", "ownership", "tiers"):
        value = getattr(spec, setting, None)
        if isinstance(value, str):
            used.add(value)
    used |= set((getattr(spec, "weights", None) or {}).values())
    for tier in scenario.tier_keys:
        used |= {f"open_cost_{tier}", f"operate_cost_{tier}", f"convert_cost_{tier}", f"capacity_{tier}"}
    if spec.x is None or spec.y is None:  # coordinates found by name (lon, lat, x, y, ...)
        used |= {n for n in names if n.lower() in _COORD_NAMES}
    return check_duplicate_columns(sorted(names), used, layer_name(spec), key)
