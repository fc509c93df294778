"""Read a population raster (any GDAL raster, any CRS) into demand points, window by window.

A reader like :mod:`netplan.inputs.readers`: it takes a path and plain settings (bands, the
target CRS, a cell size, a clip geometry) and knows neither the scenario nor the builder.

The raster is never read whole: windows of whole tile rows (or fixed row strips of an untiled
file) of at most :data:`WINDOW_PIXELS` pixels are read one after the other. In each window
the pixels that are nodata (the band's nodata value or mask), not finite or negative are
dropped and counted; zero pixels are skipped. The centres of the remaining pixels are moved to
the target CRS with one vectorised pyproj call per window and either kept as one point per
pixel or assigned to exactly one cell of a square grid of ``cell`` metres in the target CRS
(cell ``(i, j)`` holds ``i * cell <= x < (i + 1) * cell``, ``j * cell <= y < (j + 1) * cell``).
Sums are float64 throughout, so totals are kept exactly (a raster of integers gives integer
totals); each cell's point is the weighted centre of its pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
from pyproj import CRS, Transformer

from netplan._errors import InputDataError, InputFileNotFoundError

MAX_PIXEL_POINTS = 2_000_000
"""Without a cell size, a raster with more non-zero pixels than this is refused (set ``cell``)."""

WINDOW_PIXELS = 4_194_304
"""Pixels read per window at most (about 16 MB a float32 band); whole tile rows where it fits."""

GDAL_CACHE_MB = 64
"""GDAL's block cache while a raster is read (MB)."""

_KEY_OFFSET = 1 << 30  # cell indices are packed into one int64 key: (i + offset) << 31 | (j + offset)


@dataclass(frozen=True)
class RasterInfo:
    """What a raster is, read from its header only.

    Attributes
    ----------
    path : Path
    crs : pyproj.CRS
    width, height, count : int
        Columns, rows and bands.
    transform : tuple of 6 float
        The affine pixel-to-CRS transform ``(a, b, c, d, e, f)``: ``x = a*col + b*row + c``,
        ``y = d*col + e*row + f``.
    """

    path: Path
    crs: CRS
    width: int
    height: int
    count: int
    transform: tuple[float, float, float, float, float, float]

    def pixel_centres(self, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """x, y of the centres of pixels (row, col) in the raster's CRS."""
        a, b, c, d, e, f = self.transform
        cc, rr = cols + 0.5, rows + 0.5
        return a * cc + b * rr + c, d * cc + e * rr + f

    def footprint(self) -> tuple[np.ndarray, np.ndarray]:
        """x, y (raster CRS) of the centres of the corner and middle pixels, for the UTM choice."""
        rows = np.array([0, 0, self.height - 1, self.height - 1, self.height // 2], dtype=float)
        cols = np.array([0, self.width - 1, 0, self.width - 1, self.width // 2], dtype=float)
        return self.pixel_centres(rows, cols)


@dataclass
class RasterDemand:
    """Demand points read from a raster.

    Attributes
    ----------
    xy : ndarray (n, 2)
        Points in the target CRS: the weighted centre of each cell, or each pixel's centre.
    weights : ndarray (n, B) float64
        The summed pixel values of each requested band.
    keys : ndarray (n, 2) int64
        Cell indices ``(i, j)`` (x, y) with a cell size, else the pixel's ``(row, col)``.
    kind : {"cell", "pixel"}
    dropped : dict
        Pixel values dropped, by reason: ``nodata``, ``not finite``, ``negative``.
    pixels : int
        Non-zero pixels kept (after the clip).
    clipped : int
        Non-zero pixels left out because their centre lies outside the clip geometry.
    clipped_weight : float
        Their summed value (all bands).
    """

    xy: np.ndarray
    weights: np.ndarray
    keys: np.ndarray
    kind: str
    dropped: dict[str, int] = field(default_factory=dict)
    pixels: int = 0
    clipped: int = 0
    clipped_weight: float = 0.0

    def ids(self) -> np.ndarray:
        """One id per point: ``c<i>_<j>`` for a cell, ``p<row>_<col>`` for a pixel."""
        prefix = "c" if self.kind == "cell" else "p"
        a = self.keys[:, 0].astype(str).astype(object)
        b = self.keys[:, 1].astype(str).astype(object)
        return prefix + a + "_" + b


def _open(path: str | Path):  # -> rasterio.DatasetReader
    import rasterio
    from rasterio.errors import RasterioIOError

    path = Path(path)
    if not path.exists():
        raise InputFileNotFoundError(f"{path}: raster file not found; fix demand.raster")
    try:
        return rasterio.open(path)
    except RasterioIOError:
        raise InputDataError(
            f"{path}: not a raster GDAL can read; give a GeoTIFF (or another GDAL raster) of "
            "population per pixel in demand.raster, or a point layer in demand.path"
        ) from None


def raster_info(path: str | Path) -> RasterInfo:
    """Open a raster's header and check it has a CRS and a north-up or rotated affine grid.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    RasterInfo

    Raises
    ------
    InputFileNotFoundError
        The file does not exist.
    InputDataError
        The file is no raster GDAL reads, or the raster has no CRS or no georeferencing.
    """
    with _open(path) as src:
        if src.crs is None:
            raise InputDataError(
                f"{path}: the raster has no CRS, so its pixels cannot be placed; set it in the file, "
                f"e.g. gdal_edit.py -a_srs EPSG:4326 {Path(path).name}"
            )
        t = src.transform
        if t.is_identity or t.determinant == 0:
            raise InputDataError(
                f"{path}: the raster has no georeferencing (pixel-to-map transform); give a georeferenced raster"
            )
        return RasterInfo(
            path=Path(path),
            crs=CRS.from_user_input(src.crs.to_wkt()),
            width=int(src.width),
            height=int(src.height),
            count=int(src.count),
            transform=(t.a, t.b, t.c, t.d, t.e, t.f),
        )


def pixel_size(info: RasterInfo, crs: CRS) -> tuple[float, float]:
    """The largest pixel extent (width, height) in ``crs`` over the raster's corners and centre.

    Each of five pixels (the four corners and the middle) is transformed by its four corners;
    the extent of that quadrilateral's bounding box along x and y is its size in ``crs``. A
    geographic ``crs`` gives degrees.

    Parameters
    ----------
    info : RasterInfo
    crs : pyproj.CRS

    Returns
    -------
    (float, float)
        The largest width and the largest height found.
    """
    rows = np.array([0, 0, info.height - 1, info.height - 1, info.height // 2], dtype=float)
    cols = np.array([0, info.width - 1, 0, info.width - 1, info.width // 2], dtype=float)
    a, b, c, d, e, f = info.transform
    corner_c = cols[:, None] + np.array([0.0, 1.0, 0.0, 1.0])
    corner_r = rows[:, None] + np.array([0.0, 0.0, 1.0, 1.0])
    x = a * corner_c + b * corner_r + c
    y = d * corner_c + e * corner_r + f
    tx, ty = _transformer(info.crs, crs).transform(x.ravel(), y.ravel())
    tx, ty = np.asarray(tx).reshape(x.shape), np.asarray(ty).reshape(y.shape)
    ok = np.isfinite(tx).all(axis=1) & np.isfinite(ty).all(axis=1)
    if not ok.any():
        return float("nan"), float("nan")
    w = (tx.max(axis=1) - tx.min(axis=1))[ok]
    h = (ty.max(axis=1) - ty.min(axis=1))[ok]
    return float(w.max()), float(h.max())


def _transformer(src: CRS, dst: CRS) -> Transformer | None:
    return Transformer.from_crs(src, dst, always_xy=True)


def _windows(src, max_pixels: int) -> list:
    """Windows of whole block rows (tiles or strips) of at most ``max_pixels`` pixels."""
    from rasterio.windows import Window

    bh, bw = src.block_shapes[0]
    width, height = src.width, src.height
    rows_per = max(bh, (max_pixels // max(width, 1)) // bh * bh)
    cols_per = width if bh * width <= max_pixels else max(bw, (max_pixels // bh) // bw * bw)
    rows_per = rows_per if cols_per == width else bh
    return [
        Window(c, r, min(cols_per, width - c), min(rows_per, height - r))
        for r in range(0, height, rows_per)
        for c in range(0, width, cols_per)
    ]


def read_raster_demand(
    path: str | Path,
    bands: list[int],
    crs: CRS,
    *,
    cell: float | None = None,
    clip: shapely.Geometry | None = None,
    max_points: int = MAX_PIXEL_POINTS,
    window_pixels: int = WINDOW_PIXELS,
) -> RasterDemand:
    """Demand points out of a population raster, read in windows.

    Parameters
    ----------
    path : str or Path
        Any raster GDAL reads, with a CRS.
    bands : list of int
        Bands to read (1-based); each gives one column of ``weights``.
    crs : pyproj.CRS
        Target CRS of the points; with ``cell``, a projected CRS in metres.
    cell : float, optional
        Cell size in metres of ``crs``: aggregate pixels to cells. None: one point per
        non-zero pixel.
    clip : shapely geometry, optional
        In ``crs``: only pixels whose centre lies inside (or on the boundary) are kept.
    max_points : int
        Without ``cell``, refuse more non-zero pixels than this.
    window_pixels : int
        Pixels per window at most.

    Returns
    -------
    RasterDemand
        Points of non-zero weight (a pixel is kept when any band is above 0).

    Raises
    ------
    InputDataError
        Not a raster, no CRS, a band the raster lacks, or too many pixels without ``cell``.
    """
    info = raster_info(path)
    missing = [b for b in bands if not 1 <= b <= info.count]
    if missing:
        raise InputDataError(
            f"{path}: band {missing[0]} does not exist; the raster has {info.count} band"
            f"{'s' if info.count != 1 else ''} (1..{info.count}); fix demand.band or demand.weights"
        )
    same = info.crs == crs
    transformer = None if same else _transformer(info.crs, crs)
    if clip is not None:
        shapely.prepare(clip)
    dropped = {"nodata": 0, "not finite": 0, "negative": 0}
    parts: list[tuple[np.ndarray, ...]] = []
    kept = clipped = 0
    clipped_weight = 0.0
    import rasterio
    from rasterio.errors import RasterioError

    # each tile is read once, so GDAL's block cache (5 % of the RAM by default) would only
    # hold dead tiles: keep it small, the peak memory is then the windows' own
    with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB), _open(path) as src:
        for window in _windows(src, window_pixels):
            try:
                data = src.read(bands, window=window, masked=True)  # (B, h, w)
            except RasterioError as exc:  # a damaged tile or strip: GDAL's reason is the cause
                reason = str(exc.__cause__ or exc).strip().splitlines() or [type(exc).__name__]
                raise InputDataError(
                    f"{path}: rows {window.row_off}-{window.row_off + window.height - 1} cannot be read "
                    f"({reason[0]}); the file is damaged, write it again"
                ) from None
            values = np.ma.getdata(data).astype(np.float64, copy=False)
            mask = np.ma.getmaskarray(data)
            bad_nan = ~np.isfinite(values) & ~mask
            bad_neg = (values < 0) & ~mask & ~bad_nan
            dropped["nodata"] += int(mask.sum())
            dropped["not finite"] += int(bad_nan.sum())
            dropped["negative"] += int(bad_neg.sum())
            usable = ~(mask | bad_nan | bad_neg)
            positive = (usable & (values > 0)).any(axis=0)
            rows, cols = np.nonzero(positive)
            if not len(rows):
                continue
            w = np.where(usable[:, rows, cols], values[:, rows, cols], 0.0).T  # (n, B)
            rows = rows + window.row_off
            cols = cols + window.col_off
            x, y = info.pixel_centres(rows.astype(np.float64), cols.astype(np.float64))
            if transformer is not None:
                x, y = transformer.transform(x, y)
                x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
            if clip is not None:
                inside = shapely.intersects_xy(clip, x, y)
                if not inside.all():
                    clipped += int((~inside).sum())
                    clipped_weight += float(w[~inside].sum())
                    x, y, w, rows, cols = x[inside], y[inside], w[inside], rows[inside], cols[inside]
            kept += len(x)
            if cell is None:
                if kept > max_points:
                    raise InputDataError(
                        f"{path}: more than {max_points:,} non-zero pixels (one demand point each); "
                        "set demand.cell (e.g. '500 m') to aggregate the pixels to cells of a grid"
                    )
                parts.append((np.column_stack([rows, cols]).astype(np.int64), x, y, w))
            else:
                parts.append(_cell_sums(x, y, w, cell))
    return _finish(parts, len(bands), cell, dropped, kept, clipped, clipped_weight)


def _cell_sums(x: np.ndarray, y: np.ndarray, w: np.ndarray, cell: float) -> tuple[np.ndarray, ...]:
    """One window's pixels summed per cell: keys, weight sums and weighted offsets from the cell's corner.

    Offsets are taken from the cell's lower-left corner so that the weighted sums stay small
    (precise) whatever the coordinates' magnitude.
    """
    i = np.floor(x / cell).astype(np.int64)
    j = np.floor(y / cell).astype(np.int64)
    if len(i) and (np.abs(i).max() >= _KEY_OFFSET or np.abs(j).max() >= _KEY_OFFSET):
        raise InputDataError(
            f"demand.cell: {cell:g} m is too small for coordinates up to {max(np.abs(x).max(), np.abs(y).max()):.3g} m"
        )
    # a dense local grid over the window's cells: bincount, no sort, no dict
    i0, j0 = i.min(), j.min()
    nj = int(j.max() - j0) + 1
    local = (i - i0) * nj + (j - j0)
    size = int(local.max()) + 1
    c = w.sum(axis=1)  # a pixel's weight for its cell's centre: every band's value
    dx, dy = x - i * cell, y - j * cell
    sums = np.column_stack(
        [np.bincount(local, weights=w[:, b], minlength=size) for b in range(w.shape[1])]
    )
    cw = np.bincount(local, weights=c, minlength=size)
    sx = np.bincount(local, weights=c * dx, minlength=size)
    sy = np.bincount(local, weights=c * dy, minlength=size)
    n = np.bincount(local, minlength=size)
    used = np.flatnonzero(n)
    ci = used // nj + i0
    cj = used % nj + j0
    keys = ((ci + _KEY_OFFSET) << 31) | (cj + _KEY_OFFSET)
    return keys, sums[used], cw[used], sx[used], sy[used]


def _finish(
    parts: list[tuple[np.ndarray, ...]],
    n_bands: int,
    cell: float | None,
    dropped: dict[str, int],
    kept: int,
    clipped: int,
    clipped_weight: float,
) -> RasterDemand:
    common = {"dropped": dropped, "pixels": kept, "clipped": clipped, "clipped_weight": clipped_weight}
    if not parts:
        empty = np.zeros((0, 2))
        return RasterDemand(
            empty, np.zeros((0, n_bands)), empty.astype(np.int64), "cell" if cell else "pixel", **common
        )
    if cell is None:
        keys = np.vstack([p[0] for p in parts])
        xy = np.column_stack([np.concatenate([p[1] for p in parts]), np.concatenate([p[2] for p in parts])])
        return RasterDemand(xy, np.vstack([p[3] for p in parts]), keys, "pixel", **common)
    keys, inverse = np.unique(np.concatenate([p[0] for p in parts]), return_inverse=True)
    m = len(keys)
    sums = np.vstack([p[1] for p in parts])
    weights = np.column_stack(
        [np.bincount(inverse, weights=sums[:, b], minlength=m) for b in range(n_bands)]
    )
    cw, sx, sy = (
        np.bincount(inverse, weights=np.concatenate([p[k] for p in parts]), minlength=m)
        for k in (2, 3, 4)
    )
    ci = (keys >> 31) - _KEY_OFFSET
    cj = (keys & ((1 << 31) - 1)) - _KEY_OFFSET
    # a cell of only zero-valued usable pixels cannot occur (pixels kept are > 0 in a band);
    # its centre falls back to the cell's middle all the same
    safe = np.where(cw > 0, cw, 1.0)
    ox = np.where(cw > 0, sx / safe, cell / 2)
    oy = np.where(cw > 0, sy / safe, cell / 2)
    xy = np.column_stack([ci * cell + ox, cj * cell + oy])
    return RasterDemand(xy, weights, np.column_stack([ci, cj]), "cell", **common)


def dropped_note(path: str | Path, dropped: dict[str, int]) -> str | None:
    """The one warning on dropped pixel values, or None when none was dropped."""
    total = sum(dropped.values())
    if not total:
        return None
    parts = ", ".join(f"{n:,} {reason}" for reason, n in dropped.items() if n)
    return f"{path}: {total:,} pixel values dropped ({parts}); they count as no demand"
