"""Build the 100 m population raster of scenarios/liechtenstein_raster.yaml (never kept in the repo).

The 11 municipalities' population (36 838 people, OpenStreetMap 2015, in ``../shared``) is
spread over the buildings by footprint exactly as ``scenarios/liechtenstein.yaml`` does
(:func:`netplan.inputs.zones.spread_zones`, method ``points``), and the spread points are
summed into 100 m pixels of UTM zone 32N (EPSG:32632) aligned to multiples of 100 m. The
GeoTIFF is float64 (fractional people per pixel, the total kept to the last digit), deflate,
0 where nobody lives.

The file is written beside the checkout, ``../netplan-cache/liechtenstein-2015_population_100m.tif``
(the path the scenario reads), or where ``--out`` says. Data © OpenStreetMap contributors,
ODbL: the raster is derived from them and stays under that licence.

Run: ``python scenarios/make_liechtenstein_raster.py [--out path.tif]``.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
from pyproj import CRS

from netplan.inputs.zones import spread_zones

ROOT = Path(__file__).resolve().parent.parent
GPKG = ROOT.parent / "shared" / "data" / "liechtenstein" / "liechtenstein-2015_demo.gpkg"
DEFAULT_OUT = ROOT.parent / "netplan-cache" / "liechtenstein-2015_population_100m.tif"
PIXEL = 100.0
UTM32 = CRS.from_epsg(32632)


def build(out: Path, gpkg: Path = GPKG, pixel: float = PIXEL) -> float:
    """Write the raster; return its float64 total (36 838 people up to rounding)."""
    import rasterio
    from affine import Affine

    zones = gpd.read_file(gpkg, layer="zones")
    buildings = gpd.read_file(gpkg, layer="buildings")
    points, _ = spread_zones(
        zones, "population", "points", UTM32, spacing=250.0, points=buildings,
        point_weight="footprint_m2", id_column="name",
    )  # fmt: skip
    x, y = points.geometry.x.to_numpy(), points.geometry.y.to_numpy()
    w = points["weight"].to_numpy(dtype=np.float64)
    col = np.floor(x / pixel).astype(np.int64)
    row = np.floor(y / pixel).astype(np.int64)
    c0, r1 = col.min(), row.max()  # upper-left pixel: smallest column, largest row (north)
    width, height = int(col.max() - c0) + 1, int(r1 - row.min()) + 1
    grid = np.zeros((height, width), dtype=np.float64)
    np.add.at(grid, (r1 - row, col - c0), w)
    out.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(
        out, "w", driver="GTiff", width=width, height=height, count=1, dtype="float64",
        crs="EPSG:32632", transform=Affine(pixel, 0.0, c0 * pixel, 0.0, -pixel, (r1 + 1) * pixel),
        compress="deflate",
    ) as dst:  # fmt: skip
        dst.write(grid, 1)
        dst.update_tags(source="OpenStreetMap 2015 (ODbL), municipalities spread over buildings")
    return math.fsum(grid.ravel().tolist())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"default {DEFAULT_OUT}")
    parser.add_argument("--gpkg", type=Path, default=GPKG, help="the Liechtenstein layers")
    args = parser.parse_args()
    total = build(args.out, args.gpkg)
    print(f"{args.out}: 100 m population raster, total {total:,.6f} people")


if __name__ == "__main__":
    main()
