"""Population rasters as demand (issue 24): netplan.inputs.raster and the ``demand.raster`` keys.

Rasters are generated here with rasterio (EPSG:4326 and the projected EPSG:3035), small enough
that every figure can be recomputed independently: each pixel centre with its own pyproj
call, its cell with a plain loop, the sums with Python's exact ``math.fsum``.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import warnings
from collections import defaultdict
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import yaml
from affine import Affine
from pyproj import CRS, Transformer
from shapely.geometry import Point, box
from typer.testing import CliRunner

import netplan
from netplan._errors import InputDataError, NetplanWarning, ScenarioError
from netplan.cli import app
from netplan.inputs.build import load_inputs
from netplan.inputs.raster import MAX_PIXEL_POINTS, read_raster_demand

from conftest import SHARED, write_small_case

try:
    runner = CliRunner(mix_stderr=False)
except TypeError:
    runner = CliRunner()

UTM = CRS.from_epsg(32632)
ROOT = Path(__file__).resolve().parent.parent


def from_origin(west: float, north: float, xsize: float, ysize: float) -> Affine:
    """rasterio's from_origin without its deprecated ``*`` of two Affines."""
    return Affine(xsize, 0.0, west, 0.0, -ysize, north)


def write_tif(path: Path, bands: np.ndarray, crs, transform, nodata=None, block: int | None = None) -> Path:
    """A GeoTIFF of ``bands`` (B, h, w) or (h, w); tiled with ``block`` x ``block`` tiles if given."""
    bands = bands[None] if bands.ndim == 2 else bands
    profile = {
        "driver": "GTiff", "width": bands.shape[2], "height": bands.shape[1], "count": bands.shape[0],
        "dtype": bands.dtype, "crs": crs, "transform": transform, "nodata": nodata,
    }  # fmt: skip
    if block:
        profile.update(tiled=True, blockxsize=block, blockysize=block)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(bands)
    return path


def centre(t, r: int, c: int) -> tuple[float, float]:
    """The centre of pixel (r, c) by the affine transform's six numbers."""
    return t.a * (c + 0.5) + t.b * (r + 0.5) + t.c, t.d * (c + 0.5) + t.e * (r + 0.5) + t.f


def brute_force_cells(data, transform, src_crs, dst_crs, cell, nodata=None):
    """Cell -> (exact sum, weighted x, weighted y) with a plain loop, one pyproj call per pixel."""
    to = Transformer.from_crs(src_crs, dst_crs, always_xy=True)
    values: dict[tuple[int, int], list[float]] = defaultdict(list)
    xs: dict[tuple[int, int], list[float]] = defaultdict(list)
    ys: dict[tuple[int, int], list[float]] = defaultdict(list)
    for r in range(data.shape[0]):
        for c in range(data.shape[1]):
            v = float(data[r, c])
            if (nodata is not None and v == nodata) or not math.isfinite(v) or v <= 0:
                continue
            px, py = centre(transform, r, c)
            x, y = to.transform(px, py)
            key = (math.floor(x / cell), math.floor(y / cell))
            values[key].append(v)
            xs[key].append(v * x)
            ys[key].append(v * y)
    return {
        k: (math.fsum(values[k]), math.fsum(xs[k]) / math.fsum(values[k]), math.fsum(ys[k]) / math.fsum(values[k]))
        for k in values
    }


# ------------------------------------------------------------------ round trips
def test_round_trip_epsg4326_integer_raster_to_cells(tmp_path):
    rng = np.random.default_rng(3)
    data = rng.integers(0, 50, (37, 53)).astype(np.int32)
    data[rng.random(data.shape) < 0.3] = 0
    data[:2, :] = -1  # nodata
    transform = from_origin(9.48, 47.27, 0.003, 0.002)  # 3 ms of arc: about 230 x 220 m here
    path = write_tif(tmp_path / "pop.tif", data, "EPSG:4326", transform, nodata=-1, block=16)
    # small windows: the 16 x 16 tiles are read one row of tiles at a time, cells span windows
    found = read_raster_demand(path, [1], UTM, cell=1000.0, window_pixels=16 * 53)
    want = brute_force_cells(data, transform, "EPSG:4326", UTM, 1000.0, nodata=-1)
    got = {tuple(k): i for i, k in enumerate(found.keys.tolist())}
    assert set(got) == set(want) and len(got) == len(found.xy)  # each pixel in exactly one cell
    for key, (total, cx, cy) in want.items():
        i = got[key]
        assert found.weights[i, 0] == total  # integer sums, exact
        assert found.xy[i] == pytest.approx([cx, cy], abs=1e-6)  # the weighted centre
        assert key[0] * 1000 <= found.xy[i, 0] < key[0] * 1000 + 1000
        assert key[1] * 1000 <= found.xy[i, 1] < key[1] * 1000 + 1000
    total = found.weights[:, 0].sum()
    assert total == int(data[data > 0].sum()) and float(total).is_integer()
    assert found.dropped == {"nodata": 2 * 53, "not finite": 0, "negative": 0}
    assert found.pixels == int((data > 0).sum()) and found.kind == "cell"
    assert found.ids()[0].startswith("c")


def test_round_trip_projected_float_raster_counts_nodata_nan_and_negatives(tmp_path):
    rng = np.random.default_rng(4)
    data = rng.gamma(0.6, 20.0, (40, 30)).astype(np.float32)
    data[rng.random(data.shape) < 0.4] = 0
    data[0, :5] = -99999  # nodata
    data[5, 5:8] = np.nan
    data[9, 1] = np.inf
    data[7, :4] = -3.5
    transform = from_origin(4_280_050.0, 2_630_000.0, 100.0, 100.0)  # EPSG:3035, Liechtenstein
    path = write_tif(tmp_path / "pop.tif", data, "EPSG:3035", transform, nodata=-99999)
    found = read_raster_demand(path, [1], UTM, cell=500.0, window_pixels=30 * 3)
    assert found.dropped == {"nodata": 5, "not finite": 4, "negative": 4}
    want = brute_force_cells(data, transform, "EPSG:3035", UTM, 500.0, nodata=-99999)
    got = {tuple(k): i for i, k in enumerate(found.keys.tolist())}
    assert set(got) == set(want)
    for key, (total, cx, cy) in want.items():
        assert found.weights[got[key], 0] == pytest.approx(total, rel=1e-15)
        assert found.xy[got[key]] == pytest.approx([cx, cy], abs=1e-6)
    good = data[np.isfinite(data) & (data > 0)].astype(np.float64)
    assert found.weights.sum() == pytest.approx(math.fsum(good.tolist()), rel=1e-15)


def test_without_cell_one_point_per_pixel_at_its_centre(tmp_path):
    data = np.array([[0, 2, 0], [5, 0, 0], [0, 0, 7]], dtype=np.uint16)
    transform = from_origin(9.5, 47.2, 0.01, 0.01)
    path = write_tif(tmp_path / "pop.tif", data, "EPSG:4326", transform)
    found = read_raster_demand(path, [1], UTM)
    to = Transformer.from_crs(4326, UTM, always_xy=True)
    want = {(0, 1): 2, (1, 0): 5, (2, 2): 7}
    assert sorted(map(tuple, found.keys.tolist())) == sorted(want)
    for (r, c), xy, w in zip(found.keys.tolist(), found.xy, found.weights[:, 0], strict=True):
        assert w == want[(r, c)]
        assert xy == pytest.approx(to.transform(9.5 + 0.01 * (c + 0.5), 47.2 - 0.01 * (r + 0.5)), abs=1e-6)
    assert sorted(found.ids()) == ["p0_1", "p1_0", "p2_2"]
    assert MAX_PIXEL_POINTS == 2_000_000
    with pytest.raises(InputDataError) as err:
        read_raster_demand(path, [1], UTM, max_points=2)
    assert str(err.value) == (
        f"{path}: more than 2 non-zero pixels (one demand point each); set demand.cell "
        "(e.g. '500 m') to aggregate the pixels to cells of a grid"
    )


def test_large_integer_totals_stay_integer(tmp_path):
    # values past float32's 2**24: read as float64 and summed exactly
    data = np.full((20, 20), 2**40 + 3, dtype=np.int64)
    data[::3] = 16_777_217
    path = write_tif(tmp_path / "pop.tif", data, "EPSG:3035", from_origin(4_280_000, 2_630_000, 100, 100))
    found = read_raster_demand(path, [1], UTM, cell=1000.0, window_pixels=40)
    total = found.weights[:, 0].sum()
    assert total == float(int(data.sum())) and float(total).is_integer()


def test_clip_keeps_pixels_whose_centre_lies_in_a_region(tmp_path):
    rng = np.random.default_rng(5)
    data = rng.integers(1, 9, (24, 24)).astype(np.int32)
    transform = from_origin(4_280_000.0, 2_630_000.0, 100.0, 100.0)
    path = write_tif(tmp_path / "pop.tif", data, "EPSG:3035", transform)
    # a triangle in UTM over part of the raster
    to = Transformer.from_crs(3035, UTM, always_xy=True)
    x0, y0 = to.transform(4_280_000.0, 2_630_000.0 - 2400)
    x1, y1 = to.transform(4_282_400.0, 2_630_000.0)
    from shapely.geometry import Polygon

    tri = Polygon([(x0, y0), (x1, y0), (x0, y1)])
    found = read_raster_demand(path, [1], UTM, clip=tri)
    inside = []
    for r in range(24):
        for c in range(24):
            x, y = to.transform(*centre(transform, r, c))
            if tri.intersects(Point(x, y)):
                inside.append((r, c))
    assert sorted(map(tuple, found.keys.tolist())) == sorted(inside)
    assert 100 < len(inside) < 24 * 24 - 100
    assert found.clipped == 24 * 24 - len(inside)
    assert found.clipped_weight + found.weights.sum() == int(data.sum())


# --------------------------------------------------------------- through a scenario
def _raster_case(tmp_path: Path, demand: dict, data=None, crs="EPSG:4326", **changes) -> Path:
    """The small two-tier case with its demand replaced by a raster over the same area."""
    scenario = write_small_case(tmp_path / "case", **changes)
    if data is None:
        rng = np.random.default_rng(7)
        data = rng.integers(0, 30, (60, 100)).astype(np.int32)
        data[rng.random(data.shape) < 0.5] = 0
    transform = from_origin(9.5, 47.25, 0.0025, 0.0025) if crs == "EPSG:4326" else None
    write_tif(scenario.parent / "pop.tif", data, crs, transform)
    raw = yaml.safe_load(scenario.read_text())
    raw["demand"] = demand
    scenario.write_text(yaml.safe_dump(raw, sort_keys=False))
    return scenario


def test_scenario_raster_cells_flow_into_demand_with_one_warning(tmp_path):
    rng = np.random.default_rng(8)
    data = rng.integers(0, 30, (60, 100)).astype(np.float32)
    data[:3] = np.nan
    data[10, :7] = -1
    scenario = _raster_case(tmp_path, {"raster": "pop.tif", "cell": "1 km"}, data=data)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        inputs = load_inputs(netplan.Scenario.from_yaml(scenario))
    notes = [str(w.message) for w in caught if issubclass(w.category, NetplanWarning)]
    assert notes == [
        f"{scenario.parent / 'pop.tif'}: 307 pixel values dropped (300 not finite, 7 negative); they count as no demand"
    ]
    good = data[np.isfinite(data) & (data > 0)]
    assert inputs.weights.sum(axis=0).tolist() == [float(good.sum())] * 2
    assert inputs.crs == UTM and inputs.demand["demand_id"].is_unique
    assert inputs.demand["demand_id"].str.fullmatch(r"c\d+_\d+").all()


def test_scenario_per_level_bands_and_clip_to_regions(tmp_path):
    rng = np.random.default_rng(9)
    data = rng.integers(1, 10, (2, 60, 100)).astype(np.int32)
    scenario = write_small_case(tmp_path / "case")
    write_tif(scenario.parent / "pop.tif", data, "EPSG:4326", from_origin(9.5, 47.25, 0.0025, 0.0025))
    # two regions covering the western 40 columns only
    regions = gpd.GeoDataFrame(
        {"rname": ["north", "south"]},
        geometry=[box(9.5, 47.175, 9.6, 47.25), box(9.5, 47.10, 9.6, 47.175)],
        crs=4326,
    )
    regions.to_file(scenario.parent / "regions.gpkg")
    raw = yaml.safe_load(scenario.read_text())
    raw["demand"] = {"raster": "pop.tif", "weights": {"hub": 2}, "clip": "regions"}
    raw["regions"] = {"path": "regions.gpkg", "id": "rname"}
    scenario.write_text(yaml.safe_dump(raw, sort_keys=False))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        inputs = load_inputs(netplan.Scenario.from_yaml(scenario))
    west = data[:, :, :40]  # pixel centres 9.50125 .. 9.59875: inside; column 40 starts at 9.6
    assert len(inputs.demand) == 60 * 40
    assert inputs.demand["weight_hub"].sum() == west[1].sum()
    assert inputs.demand["weight_point"].sum() == west[0].sum()
    by_region = inputs.demand.groupby("region")["weight_point"].sum()
    assert by_region.to_dict() == {"north": west[0, :30].sum(), "south": west[0, 30:].sum()}
    clip_notes = [str(w.message) for w in caught if "demand.clip" in str(w.message)]
    assert clip_notes == [
        f"{scenario.parent / 'pop.tif'}: demand.clip: {60 * 60:,} non-zero pixels (value "
        f"{int(data[:, :, 40:].sum()):,}) lie outside the regions layer and are left out"
    ]


def test_netplan_run_end_to_end_on_a_raster(tmp_path):
    scenario = _raster_case(tmp_path, {"raster": "pop.tif", "cell": "500 m"})
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(scenario), "--out", str(out)])
    assert result.exit_code == 0, result.stderr + result.stdout
    run = json.loads((out / "run.json").read_text())
    assert run["inputs"]["demand.raster"]["path"].endswith("pop.tif")
    assert len(run["inputs"]["demand.raster"]["sha256"]) == 64
    assert run["solver"]["status"] == "optimal"
    with rasterio.open(scenario.parent / "pop.tif") as src:
        total = float(src.read(1).astype(np.float64).sum())
    kpis = pd.read_csv(out / "kpis.csv")
    assert kpis.loc[kpis["region"] == "all", "demand_plan"].tolist() == [total, total]
    demand = gpd.read_file(out / "plan.gpkg", layer="demand")
    assert demand[["weight_hub", "weight_point"]].sum().tolist() == [total, total]
    assert demand["demand_id"].str.fullmatch(r"c\d+_\d+").all()
    # each 500 m cell's point lies inside its own cell (ids carry the cell's indices)
    ij = demand["demand_id"].str.extract(r"c(\d+)_(\d+)").astype(int).to_numpy()
    xy = np.column_stack([demand.geometry.x, demand.geometry.y])
    assert ((ij * 500 <= xy) & (xy < ij * 500 + 500)).all()


def test_validate_lists_the_raster_with_its_demand_points(tmp_path):
    scenario = _raster_case(tmp_path, {"raster": "pop.tif", "cell": "1 km"})
    result = runner.invoke(app, ["validate", str(scenario)])
    assert result.exit_code == 0, result.stderr
    inputs = load_inputs(netplan.Scenario.from_yaml(scenario))
    row = next(line for line in result.stdout.splitlines() if "demand.raster" in line)
    assert row.split("│")[2].strip() == str(len(inputs.demand))


def test_haversine_cells_are_laid_in_the_rasters_utm_zone(tmp_path):
    scenario = _raster_case(
        tmp_path, {"raster": "pop.tif", "cell": "1 km"}, travel={"mode": "haversine"}
    )
    inputs = load_inputs(netplan.Scenario.from_yaml(scenario))
    assert inputs.crs.to_epsg() == 4326
    with rasterio.open(scenario.parent / "pop.tif") as src:
        data = src.read(1)
        t = src.transform
    want = brute_force_cells(data, t, "EPSG:4326", UTM, 1000.0)
    back = Transformer.from_crs(UTM, 4326, always_xy=True)
    got = dict(zip(inputs.demand["demand_id"], zip(inputs.demand.geometry.x, inputs.demand.geometry.y, strict=True), strict=True))
    assert set(got) == {f"c{i}_{j}" for i, j in want}
    weight = dict(zip(inputs.demand["demand_id"], inputs.weights[:, 0], strict=True))
    for (i, j), (w, cx, cy) in want.items():
        assert got[f"c{i}_{j}"] == pytest.approx(back.transform(cx, cy), abs=1e-9)
        assert weight[f"c{i}_{j}"] == pytest.approx(w, rel=1e-12)
    assert inputs.weights[:, 0].sum() == data.sum()


# ------------------------------------------------------------------ bad input
def _not_a_raster(folder: Path) -> None:
    (folder / "pop.tif").write_text("id,lon,lat\n1,9.5,47.1\n")


def _no_crs(folder: Path) -> None:
    with rasterio.open(
        folder / "pop.tif", "w", driver="GTiff", width=4, height=4, count=1, dtype="int32",
        transform=from_origin(9.5, 47.2, 0.01, 0.01),
    ) as dst:  # fmt: skip
        dst.write(np.ones((1, 4, 4), dtype=np.int32))


BAD = [
    ("not-a-raster", {"raster": "pop.tif"}, _not_a_raster,
     "{folder}/pop.tif: not a raster GDAL can read; give a GeoTIFF (or another GDAL raster) of "
     "population per pixel in demand.raster, or a point layer in demand.path"),
    ("no-crs", {"raster": "pop.tif"}, _no_crs,
     "{folder}/pop.tif: the raster has no CRS, so its pixels cannot be placed; set it in the file, "
     "e.g. gdal_edit.py -a_srs EPSG:4326 pop.tif"),
    # 0.0025 deg: 189.5 m east-west at 47.10 N, 278.0 m north-south; the pixels' bounding box in
    # UTM 32N is a little larger, turned by the grid convergence (0.55 deg at 9.75 E)
    ("cell-below-pixel", {"raster": "pop.tif", "cell": "150 m"}, None,
     "{folder}/pop.tif: demand.cell: 150 m is smaller than a pixel of the raster (up to 192.4 x 279.6 m "
     "in EPSG:32632); give a cell of at least 280 m, or leave out 'cell' for one point per pixel"),
    ("raster-and-path", {"raster": "pop.tif", "path": "demand.csv"}, None,
     "{folder}/scenario.yaml: demand: give either 'path' (a point or zone layer) or 'raster' (a "
     "population raster), not both"),
    ("weight-with-raster", {"raster": "pop.tif", "weight": "customers"}, None,
     "{folder}/scenario.yaml: demand.weight: not used with demand.raster; a raster's pixel values "
     "are the weight; remove 'weight' (choose the band with 'band' or 'weights: {{level: band}}')"),
    ("missing-band", {"raster": "pop.tif", "band": 3}, None,
     "{folder}/pop.tif: band 3 does not exist; the raster has 1 band (1..1); fix demand.band or demand.weights"),
    ("cell-in-minutes", {"raster": "pop.tif", "cell": "5 min"}, None,
     "{folder}/scenario.yaml: demand.cell: give a distance such as '500 m'"),
    ("cell-without-raster", {"path": "demand.csv", "cell": "1 km"}, None,
     "{folder}/scenario.yaml: demand.cell: only read with demand.raster; remove it or give a raster"),
    ("clip-without-regions", {"raster": "pop.tif", "clip": "regions"}, None,
     "{folder}/scenario.yaml: demand.clip: 'regions' keeps the pixels inside the polygons of the "
     "scenario's 'regions' layer, and it has none; add 'regions' or remove 'clip'"),
]  # fmt: skip


@pytest.mark.parametrize("demand, setup, message", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_raster_input_is_one_line_exit_2(tmp_path, demand, setup, message):
    scenario = _raster_case(tmp_path, demand)
    if setup is not None:
        setup(scenario.parent)
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(scenario), "--out", str(out)])
    assert "Traceback" not in result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == ["error: " + message.format(folder=scenario.parent)], result.stderr
    assert result.exit_code == 2
    assert not out.exists()


def test_a_damaged_raster_is_one_line_naming_the_rows(tmp_path):
    rng = np.random.default_rng(11)
    path = write_tif(tmp_path / "pop.tif", rng.random((256, 256)).astype(np.float32), "EPSG:3035",
                     from_origin(4e6, 3e6, 100, 100), block=64)  # fmt: skip
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])  # tiles of the lower half lost
    with pytest.raises(InputDataError) as err:
        read_raster_demand(path, [1], UTM, cell=1000.0)
    assert re.fullmatch(
        rf"{re.escape(str(path))}: rows \d+-\d+ cannot be read \(.+\); the file is damaged, write it again",
        str(err.value),
    ), str(err.value)


def test_raster_keys_are_checked_by_the_library_too(tmp_path):
    scenario = _raster_case(tmp_path, {"raster": "pop.tif", "weights": {"hub": "people"}})
    with pytest.raises(ScenarioError, match=r"demand.weights.hub: with demand.raster give a band number \(1, 2, ...\), got 'people'"):
        netplan.Scenario.from_yaml(scenario)


# ------------------------------------------------------- rasterio beside pyogrio
_GDAL_PAIR = """
import importlib, json, sys
import numpy as np
for name in sys.argv[1].split(","):  # the order the two bundled GDALs are loaded in
    importlib.import_module(name)
import geopandas as gpd, pyogrio, rasterio
from rasterio.transform import from_origin
from shapely.geometry import Point
path = sys.argv[2]
with rasterio.open(path + ".tif", "w", driver="GTiff", width=3, height=2, count=1, dtype="int32",
                   crs="EPSG:3035", transform=from_origin(4e6, 3e6, 100, 100)) as dst:
    dst.write(np.arange(6, dtype="int32").reshape(1, 2, 3))
gpd.GeoDataFrame({"a": [1, 2]}, geometry=[Point(0, 0), Point(1, 1)], crs=3035).to_file(
    path + ".gpkg", engine="pyogrio")
with rasterio.open(path + ".tif") as src:
    total, crs = int(src.read(1).sum()), src.crs.to_epsg()
back = pyogrio.read_dataframe(path + ".gpkg")
print(json.dumps([total, crs, back["a"].tolist(), back.crs.to_epsg()]))
"""


@pytest.mark.parametrize("order", ["rasterio,pyogrio", "pyogrio,rasterio"])
def test_rasterio_and_pyogrio_bundled_gdals_live_in_one_process(tmp_path, order):
    result = subprocess.run(
        [sys.executable, "-c", _GDAL_PAIR, order, str(tmp_path / "t")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [15, 3035, [1, 2], 3035]


# ------------------------------------------------------------------ the example
def test_liechtenstein_raster_example_keeps_36838_people(tmp_path):
    gpkg = SHARED / "data" / "liechtenstein" / "liechtenstein-2015_demo.gpkg"
    assert gpkg.exists(), f"the Liechtenstein data are needed at {gpkg} (see scenarios/liechtenstein_raster.yaml)"
    out = tmp_path / "li.tif"
    result = subprocess.run(
        [sys.executable, str(ROOT / "scenarios" / "make_liechtenstein_raster.py"), "--out", str(out)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    with rasterio.open(out) as src:
        assert src.crs.to_epsg() == 32632 and src.res == (100.0, 100.0)
        data = src.read(1, masked=True).astype(np.float64)
    assert math.fsum(data.compressed().tolist()) == pytest.approx(36838, abs=1e-6)
    found = read_raster_demand(out, [1], UTM, cell=500.0)
    assert found.weights.sum() == pytest.approx(36838, abs=1e-6)
