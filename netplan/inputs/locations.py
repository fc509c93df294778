"""Where each row of an input layer lies: its point geometry and the region it falls in.

Polygons stand for their representative point (stated in a warning); empty, NaN, infinite,
invalid or out-of-range geometries are refused naming the row and the fix.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from netplan._errors import InputDataError
from netplan.inputs.columns import file_row, layer_name, rows_text, text_column
from netplan.inputs.readers import require_column
from netplan.scenario import LayerSpec


def layer_points(
    frame: gpd.GeoDataFrame, spec: LayerSpec, key: str, notes: list[str]
) -> gpd.GeoSeries:
    """Point geometries of a layer; polygons become their representative point (stated).

    Parameters
    ----------
    frame : GeoDataFrame
        The layer as read, in its own CRS.
    spec : LayerSpec
        The layer's scenario entry (its path, for messages and row numbers).
    key : str
        Scenario key of the layer, for messages.
    notes : list of str
        The note on polygons replaced by points is appended here.

    Returns
    -------
    GeoSeries
        One point per row, in the layer's CRS.

    Raises
    ------
    InputDataError
        An empty, missing, non-finite or invalid geometry, one that is neither point nor
        polygon, or longitude/latitude out of range (with a hint when they look swapped).
    """
    path = layer_name(spec)
    geoms = frame.geometry
    missing = geoms.isna() | geoms.is_empty
    if missing.any():
        row = int(np.flatnonzero(missing.to_numpy())[0])
        raise InputDataError(
            f"{path}: row {file_row(spec, row)}: empty or missing geometry {rows_text(spec, missing.to_numpy())}; fix or remove them"
        )
    kinds = geoms.geom_type
    polygonal = kinds.isin(["Polygon", "MultiPolygon"]).to_numpy()
    other = ~kinds.isin(["Point", "Polygon", "MultiPolygon"]).to_numpy()
    if other.any():
        row = int(np.flatnonzero(other)[0])
        raise InputDataError(
            f"{path}: row {file_row(spec, row)}: {kinds.iloc[row]} geometry where points are required; give points or polygons"
        )
    # a NaN point is merely "invalid" to shapely: name the real problem first
    coords, owner = shapely.get_coordinates(geoms.to_numpy(), return_index=True)
    if not np.isfinite(coords).all():
        bad = np.zeros(len(geoms), dtype=bool)
        bad[owner[~np.isfinite(coords).all(axis=1)]] = True
        row = int(np.flatnonzero(bad)[0])
        raise InputDataError(
            f"{path}: row {file_row(spec, row)}: coordinates are NaN or infinite {rows_text(spec, bad)}; fix or remove the rows"
        )
    invalid = ~geoms.is_valid.to_numpy()
    if invalid.any():
        row = int(np.flatnonzero(invalid)[0])
        raise InputDataError(
            f"{path}: row {file_row(spec, row)}: invalid geometry {rows_text(spec, invalid)}; repair it (e.g. shapely.make_valid)"
        )
    if polygonal.any():
        geoms = geoms.copy()
        geoms[polygonal] = geoms[polygonal].representative_point()
        notes.append(
            f"{path}: {int(polygonal.sum())} {key} polygons replaced by their representative point"
        )
    if frame.crs is not None and CRS.from_user_input(frame.crs).is_geographic:
        x, y = geoms.x.to_numpy(), geoms.y.to_numpy()
        bad = np.flatnonzero((np.abs(x) > 180) | (np.abs(y) > 90))
        if len(bad):
            row = int(bad[0])
            swapped = abs(y[row]) <= 180 and abs(x[row]) <= 90
            hint = (
                "longitude and latitude look swapped; exchange the x and y columns"
                if swapped
                else "the CRS may be wrong; give the layer's real CRS"
            )
            raise InputDataError(
                f"{path}: row {file_row(spec, row)}: coordinates ({x[row]:g}, {y[row]:g}) are outside longitude/latitude range; {hint}"
            )
    return geoms


def region_of(
    frame: pd.DataFrame,
    geoms: gpd.GeoSeries,
    spec: LayerSpec,
    key: str,
    regions: gpd.GeoDataFrame | None,
) -> pd.Series:
    """The region of each row: the layer's ``region`` column, else the region polygon it lies in.

    Parameters
    ----------
    frame : DataFrame
        The layer as read.
    geoms : GeoSeries
        The rows' points (:func:`layer_points`).
    spec : LayerSpec
        The layer's scenario entry (its ``region`` column).
    key : str
        Scenario key of the layer, for messages.
    regions : GeoDataFrame, optional
        Region polygons with column ``region`` (:func:`load_regions`).

    Returns
    -------
    Series of str
        ``""`` for a row in no region, or for every row without a column and regions.
    """
    if spec.region is not None:
        return text_column(frame, spec.region, spec, key, "region")
    if regions is None:
        return pd.Series([""] * len(frame), dtype=object)
    points = gpd.GeoDataFrame(geometry=geoms.to_crs(regions.crs).reset_index(drop=True))
    joined = gpd.sjoin(points, regions[["region", "geometry"]], how="left", predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")]
    return joined["region"].fillna("").astype(str).reset_index(drop=True)


def load_regions(frame: gpd.GeoDataFrame, spec: LayerSpec) -> gpd.GeoDataFrame:
    """Region polygons with their name in column ``region`` (from ``regions.id``, else ``region``).

    Parameters
    ----------
    frame : GeoDataFrame
        The regions layer as read.
    spec : LayerSpec
        Its scenario entry.

    Returns
    -------
    GeoDataFrame
        Columns ``region`` and ``geometry``, in the layer's CRS.

    Raises
    ------
    InputDataError
        No CRS, no name column, or a geometry that is not a polygon.
    """
    if frame.crs is None:
        raise InputDataError(
            f"{layer_name(spec)}: the regions layer has no CRS; set it in the file or give 'regions.crs'"
        )
    column = spec.id or "region"
    ids = require_column(frame, column, Path(spec.path), "regions", "id").astype(str)
    kinds = frame.geometry.geom_type
    if not kinds.isin(["Polygon", "MultiPolygon"]).all():
        row = int(np.flatnonzero(~kinds.isin(["Polygon", "MultiPolygon"]).to_numpy())[0])
        raise InputDataError(
            f"{layer_name(spec)}: row {file_row(spec, row)}: regions must be polygons, got {kinds.iloc[row]}"
        )
    return gpd.GeoDataFrame(
        {"region": ids.to_numpy()}, geometry=frame.geometry.to_numpy(), crs=frame.crs
    )
