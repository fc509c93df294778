"""Population raster at country scale: a 20 000 x 20 000 float32 GeoTIFF aggregated to 1 km cells.

Issue 24's target: a country at 100 m (deflate, 512 x 512 tiles) aggregated to 1 km cells of
the run's projected CRS in at most 60 s and 4 GB peak memory on 2 cores.

The raster is generated once (not timed) and cached in ``benchmarks/`` of the system's temp
folder, e.g. ``/tmp/benchmarks/`` (``--cache`` to move it; never in the repo): EPSG:3035 (ETRS89 LAEA Europe), 100 m pixels, 2 000 km
square. About 40 % of it is nodata (outside the "country", an irregular blob); inside, most
pixels are 0 and people live in clusters: a coarse 1 km density field of 60 cities and 2 000
towns (Gaussian kernels, log-normal sizes) decides where a 100 m pixel is inhabited and how
many people live there. Seed 0; the file is about 0.1-0.3 GB.

The timed part is :func:`netplan.inputs.raster.read_raster_demand` with the run's CRS UTM 32N
(EPSG:32632), so every pixel centre is transformed, and ``cell=1000``: windows read one after
the other, pixel centres transformed with pyproj, assigned to cells, summed in float64. It
runs in a child process so that its peak RSS (``ru_maxrss``) is that of the aggregation alone
(plus the imports), never the generator's.

Run: ``python benchmarks/raster.py`` (``--size 4000`` for a quick trial).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

TARGET_SECONDS = 60.0
TARGET_BYTES = 4 * 1024**3
PIXEL = 100.0
ORIGIN = (3_300_000.0, 4_200_000.0)  # upper-left corner in EPSG:3035


def generate(path: Path, size: int, seed: int = 0) -> dict[str, float]:
    """Write the raster strip by strip (never the whole array); return its exact total."""
    import rasterio
    from affine import Affine
    from rasterio.windows import Window

    rng = np.random.default_rng(seed)
    coarse = max(size // 10, 1)  # the 1 km density field
    yy, xx = np.mgrid[0:coarse, 0:coarse] / coarse
    # the country: an irregular blob (sum of a few low-frequency waves), 60 % of the square
    blob = (
        np.hypot(xx - 0.5, yy - 0.5)
        + 0.06 * np.sin(7 * xx + 1.3) * np.cos(5 * yy + 0.4)
        + 0.04 * np.sin(13 * yy + 2.0)
    )
    land = blob < np.quantile(blob, 0.6)
    density = np.zeros((coarse, coarse))
    for n, scale_km, size_mu in ((60, 8.0, 3.0), (2000, 1.5, 1.0)):
        cx, cy = rng.uniform(0.1, 0.9, n) * coarse, rng.uniform(0.1, 0.9, n) * coarse
        mass = rng.lognormal(size_mu, 1.0, n)
        for x0, y0, m in zip(cx, cy, mass, strict=True):
            r = int(4 * scale_km) + 1
            i0, i1 = max(int(y0) - r, 0), min(int(y0) + r + 1, coarse)
            j0, j1 = max(int(x0) - r, 0), min(int(x0) + r + 1, coarse)
            gy, gx = np.mgrid[i0:i1, j0:j1]
            density[i0:i1, j0:j1] += m * np.exp(-((gx - x0) ** 2 + (gy - y0) ** 2) / (2 * scale_km**2))
    density[~land] = 0
    # share of a 1 km cell's 100 m pixels inhabited, and people per inhabited pixel
    share = np.clip(0.08 + density / (density.max() / 3 + 1e-12), 0, 0.9)
    share[~land] = 0
    profile = {
        "driver": "GTiff", "width": size, "height": size, "count": 1, "dtype": "float32",
        "crs": "EPSG:3035", "transform": Affine(PIXEL, 0.0, ORIGIN[0], 0.0, -PIXEL, ORIGIN[1]), "nodata": -99999.0,
        "tiled": True, "blockxsize": 512, "blockysize": 512, "compress": "deflate",
        "BIGTIFF": "YES",
    }  # fmt: skip
    total = 0.0
    inhabited = 0
    tmp = path.with_suffix(".part.tif")
    step = coarse / size
    with rasterio.open(tmp, "w", **profile) as dst:
        for r0 in range(0, size, 512):
            h = min(512, size - r0)
            ci = np.minimum(((np.arange(r0, r0 + h) + 0.5) * step).astype(int), coarse - 1)
            cj = np.minimum(((np.arange(size) + 0.5) * step).astype(int), coarse - 1)
            p = share[np.ix_(ci, cj)]
            dens = density[np.ix_(ci, cj)]
            on = rng.random((h, size)) < p
            people = np.zeros((h, size), dtype=np.float32)
            k = int(on.sum())
            people[on] = (rng.lognormal(1.5, 1.0, k) * (1 + dens[on] / 50)).astype(np.float32)
            people[~land[np.ix_(ci, cj)]] = profile["nodata"]
            total += float(people[on].astype(np.float64).sum())
            inhabited += k
            dst.write(people, 1, window=Window(0, r0, size, h))
    tmp.rename(path)
    return {"total": total, "inhabited": inhabited}


def measure(path: Path, cell: float) -> dict[str, float]:
    """The timed aggregation (run in a fresh process: its ru_maxrss is the peak)."""
    from pyproj import CRS

    from netplan.inputs.raster import read_raster_demand

    start = time.perf_counter()
    found = read_raster_demand(path, [1], CRS.from_epsg(32632), cell=cell)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux
    return {
        "seconds": seconds,
        "peak_bytes": peak,
        "cells": len(found.xy),
        "pixels": found.pixels,
        "total": float(found.weights[:, 0].sum()),
        "nodata": found.dropped["nodata"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=20_000, help="pixels per side (default 20000)")
    parser.add_argument("--cell", type=float, default=1000.0, help="cell size in metres")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "benchmarks")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure is not None:
        print(json.dumps(measure(args.measure, args.cell)))
        return
    args.cache.mkdir(parents=True, exist_ok=True)
    path = args.cache / f"population_{args.size}.tif"
    meta = path.with_suffix(".json")
    if not (path.exists() and meta.exists()):
        print(f"generating {path} (not timed) ...", flush=True)
        start = time.perf_counter()
        facts = generate(path, args.size)
        facts["generate_seconds"] = time.perf_counter() - start
        meta.write_text(json.dumps(facts))
    facts = json.loads(meta.read_text())
    print(
        f"raster {args.size} x {args.size} float32, {path.stat().st_size / 1e9:.2f} GB on disk, "
        f"{facts['inhabited']:,} inhabited pixels, total {facts['total']:,.1f} (generated in "
        f"{facts.get('generate_seconds', float('nan')):.0f} s)",
        flush=True,
    )
    load = os.getloadavg()[0]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    out = subprocess.run(
        [sys.executable, __file__, "--measure", str(path), "--cell", str(args.cell)],
        check=True, capture_output=True, text=True, env=env,
    )  # fmt: skip
    got = json.loads(out.stdout.strip().splitlines()[-1])
    print(
        f"aggregated to {args.cell:g} m cells: {got['seconds']:.1f} s "
        f"({got['seconds'] / TARGET_SECONDS:.2f} x the {TARGET_SECONDS:.0f} s target), "
        f"peak RSS {got['peak_bytes'] / 1024**3:.2f} GiB ({got['peak_bytes'] / TARGET_BYTES:.2f} x the 4 GiB target); "
        f"{got['pixels']:,} pixels -> {got['cells']:,} cells, {got['nodata']:,} nodata; total "
        f"{got['total']:,.1f} (generator's float64 sum {facts['total']:,.1f}, difference "
        f"{got['total'] - facts['total']:.3g}); load average before: {load:.2f}"
    )


if __name__ == "__main__":
    main()
