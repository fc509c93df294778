"""Read input layers (CSV with coordinates, GeoPackage, GeoJSON, Shapefile, ...) into GeoDataFrames.

Reading is the only place that touches input files, and it only reads them. Every problem
is reported with the file, the row or column, and the fix. A reader takes a path and plain
settings (layer name, coordinate columns, CRS) and the scenario key that names the layer in
messages; it knows neither the scenario nor the input builder (netplan.inputs.build).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from pyproj import CRS
from pyproj.exceptions import CRSError

from netplan._errors import InputDataError, InputFileNotFoundError, did_you_mean

_CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
X_NAMES = ("lon", "lng", "longitude", "x", "long")
Y_NAMES = ("lat", "latitude", "y")


def read_layer(
    path: str | Path,
    key: str,
    *,
    layer: str | None = None,
    x: str | None = None,
    y: str | None = None,
    crs: str | int | None = None,
) -> gpd.GeoDataFrame:
    """Read one input layer as a GeoDataFrame with a CRS.

    Parameters
    ----------
    path : str or Path
        The file: CSV (``.csv``, ``.txt``, ``.tsv``) with coordinate columns, or any vector
        format GDAL reads (GeoPackage, GeoJSON, Shapefile, ...).
    key : str
        Scenario key of the layer (``demand``, ``outlets``, ...), for messages.
    layer : str, optional
        Layer of a multi-layer file.
    x, y : str, optional
        CSV: the coordinate columns (found by name, e.g. ``lon`` / ``lat``, when not given).
    crs : str or int, optional
        CSV: the CRS of ``x`` / ``y`` (default EPSG:4326 longitude/latitude); a vector file:
        its CRS where the file has none.

    Returns
    -------
    GeoDataFrame
        All columns of the file; ``geometry`` set; CRS set. Row order is the file's.

    Raises
    ------
    InputFileNotFoundError
        The file does not exist.
    InputDataError
        The file cannot be read, the layer is unknown or empty, coordinate columns are
        missing or not numeric, or the layer has no CRS.
    """
    path = Path(path)
    if not path.exists():
        raise InputFileNotFoundError(
            f"{path}: {key} file not found; fix '{key}.path' in the scenario"
        )
    if path.suffix.lower() in _CSV_SUFFIXES:
        frame = _read_csv_points(path, key, x, y, crs)
    else:
        frame = _read_vector(path, key, layer, crs)
    if len(frame) == 0:
        raise InputDataError(
            f"{path}: the {key} layer has no rows; give a file with at least one row"
        )
    frame.index = pd.RangeIndex(len(frame))
    return frame


def _read_csv_points(
    path: Path, key: str, x_column: str | None, y_column: str | None, crs: str | int | None
) -> gpd.GeoDataFrame:
    try:
        sep = "\t" if path.suffix.lower() == ".tsv" else ","
        table = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, na_values=[""])
    except pd.errors.EmptyDataError:
        raise InputDataError(
            f"{path}: the {key} file is empty; give a CSV with a header row and data rows"
        ) from None
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputDataError(
            f"{path}: cannot read the {key} CSV ({str(exc).splitlines()[0]}); save it as UTF-8 CSV"
        ) from None
    duplicates = _duplicate_header(path, sep)
    columns = [str(c) for c in table.columns]
    xcol = x_column or _guess(columns, X_NAMES)
    ycol = y_column or _guess(columns, Y_NAMES)
    for axis, col, names in (("x", xcol, X_NAMES), ("y", ycol, Y_NAMES)):
        if col is None:
            raise InputDataError(
                f"{path}: no {axis} coordinate column found in {columns}; name one ({'/'.join(names[:3])}) or set '{key}.{axis}' in the scenario"
            )
        if col not in columns:
            raise InputDataError(
                f"{path}: column '{col}' (from '{key}.{axis}') not found{did_you_mean(col, columns)}; columns are {columns}"
            )
    x = pd.to_numeric(table[xcol], errors="coerce")
    y = pd.to_numeric(table[ycol], errors="coerce")
    bad = np.flatnonzero(
        ~(np.isfinite(x.to_numpy(dtype=float)) & np.isfinite(y.to_numpy(dtype=float)))
    )
    if len(bad):
        row = int(bad[0])
        rows = ", ".join(str(int(i) + 2) for i in bad[:5]) + (
            f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        )
        raise InputDataError(
            f"{path}: row {row + 2}: coordinates {xcol}={table[xcol].iloc[row]!r}, {ycol}={table[ycol].iloc[row]!r} are not finite numbers"
            f" ({len(bad)} such rows: {rows}); fill them in or remove the rows"
        )
    points_crs = _parse_crs(crs, path, key) if crs is not None else CRS.from_epsg(4326)
    frame = gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(x, y), crs=points_crs)
    frame.attrs["duplicate_columns"] = duplicates  # checked by the builder, which knows the columns used
    return frame


def _duplicate_header(path: Path, sep: str) -> list[str]:
    """Names that occur more than once in a CSV's header (pandas renames the copies 'a.1')."""
    import csv

    with open(path, encoding="utf-8-sig", newline="") as fh:
        header = next(csv.reader(fh, delimiter=sep), [])
    names = [h.strip() for h in header]
    return sorted({n for n in names if names.count(n) > 1})


def check_duplicate_columns(
    names: list[str], used: set[str], path: Path | str, key: str
) -> str | None:
    """Refuse a duplicated column that netplan reads; describe the others for a warning.

    Parameters
    ----------
    names : list of str
        Column names that occur more than once in the layer.
    used : set of str
        Columns netplan reads from the layer (ids, weights, tiers, coordinates, costs, ...).
    path : Path or str
        The file, for messages.
    key : str
        Scenario key of the layer.

    Returns
    -------
    str or None
        The warning for duplicated columns netplan does not read (only the first copy is
        kept), or None when there are none.

    Raises
    ------
    InputDataError
        A column netplan reads occurs more than once: which copy is meant is unknown.
    """
    clash = sorted(set(names) & used)
    if clash:
        raise InputDataError(
            f"{path}: column '{clash[0]}' occurs more than once in the {key} layer and netplan reads it; "
            "rename or remove the extra copies"
        )
    if names:
        listed = ", ".join(f"'{n}'" for n in names)
        return f"{path}: columns occurring more than once in the {key} layer: {listed}; netplan does not read them (the first copy is kept)"
    return None


def _read_vector(
    path: Path, key: str, layer: str | None, crs: str | int | None
) -> gpd.GeoDataFrame:
    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(path)]
    except Exception as exc:  # pyogrio raises DataSourceError and friends
        raise InputDataError(
            f"{path}: cannot open the {key} file ({str(exc).splitlines()[0]}); give a GeoPackage, GeoJSON, Shapefile or CSV"
        ) from None
    if layer is not None and layer not in layers:
        raise InputDataError(
            f"{path}: no layer '{layer}'{did_you_mean(layer, layers)}; layers are {layers}; fix '{key}.layer'"
        )
    if layer is None and len(layers) > 1:
        raise InputDataError(
            f"{path}: the file holds several layers {layers}; choose one with '{key}.layer'"
        )
    try:
        frame = gpd.read_file(path, layer=layer, engine="pyogrio")
    except Exception as exc:
        raise InputDataError(
            f"{path}: cannot read the {key} layer ({str(exc).splitlines()[0]})"
        ) from None
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.isna().all():
        raise InputDataError(
            f"{path}: the {key} layer has no geometry; give a spatial layer or a CSV with coordinates"
        )
    if frame.crs is not None and str(frame.crs.name).startswith("Undefined"):
        # older GDAL reads a GeoPackage written without a CRS as "Undefined geographic SRS"
        frame = frame.set_crs(None, allow_override=True)
    if frame.crs is None:
        if crs is None:
            raise InputDataError(
                f"{path}: the {key} layer has no CRS; set it in the file or give '{key}.crs' (e.g. 'EPSG:4326')"
            )
        frame = frame.set_crs(_parse_crs(crs, path, key))
    return frame


def _parse_crs(value: str | int, path: Path, key: str) -> CRS:
    try:
        return CRS.from_user_input(value)
    except CRSError:
        raise InputDataError(
            f"{path}: '{key}.crs' {value!r} is not a known CRS; give an EPSG code such as 'EPSG:4326'"
        ) from None


def _guess(columns: list[str], names: tuple[str, ...]) -> str | None:
    lowered = {c.lower(): c for c in columns}
    for name in names:
        if name in lowered:
            return lowered[name]
    return None


def require_column(
    frame: pd.DataFrame, column: str, path: Path, key: str, setting: str
) -> pd.Series:
    """Return ``frame[column]`` or raise naming the closest existing column."""
    if column not in frame.columns:
        cols = [str(c) for c in frame.columns if c != "geometry"]
        raise InputDataError(
            f"{path}: column '{column}' (from '{key}.{setting}') not found{did_you_mean(column, cols)}; columns are {cols}"
        )
    return frame[column]


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes (recorded in run.json)."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
