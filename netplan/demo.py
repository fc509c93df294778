"""The embedded demo region: a fictional, deterministic 80 × 60 km region.

One large city, four towns, villages and thin rural areas (about 20 000 customer points),
25 existing outlets over three tiers — some badly placed, so the baseline shows real gaps
and overlaps — about 400 candidate sites, and three regions. ``write_demo`` regenerates the
files under ``data/demo/`` and ``scenarios/demo.yaml`` byte for byte.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from pyproj import Transformer

SEED = 20261123
WORK_CRS = "EPSG:32632"  # the fictional region is drawn in UTM 32N metres, then stored as lon/lat
ORIGIN = (560_000.0, 5_780_000.0)  # south-west corner
WIDTH, HEIGHT = 80_000.0, 60_000.0

# (name, x km, y km, customers, spread km)
CITY = ("Aldenburg", 30.0, 32.0, 8_000, 4.0)
TOWNS = [
    ("Brenna", 62.0, 45.0, 2_200, 1.8),
    ("Carrow", 66.0, 14.0, 1_900, 1.6),
    ("Dunmere", 12.0, 10.0, 1_600, 1.5),
    ("Eskby", 45.0, 54.0, 1_300, 1.4),
]
N_VILLAGES = 26
N_RURAL = 700
N_CANDIDATES = 400


def _project():
    return Transformer.from_crs(WORK_CRS, "EPSG:4326", always_xy=True)


def _lonlat(xy_km: np.ndarray) -> np.ndarray:
    lon, lat = _project().transform(
        ORIGIN[0] + xy_km[:, 0] * 1000.0, ORIGIN[1] + xy_km[:, 1] * 1000.0
    )
    return np.column_stack([lon, lat])


def _clip(xy: np.ndarray) -> np.ndarray:
    return np.column_stack(
        [np.clip(xy[:, 0], 0.3, WIDTH / 1000 - 0.3), np.clip(xy[:, 1], 0.3, HEIGHT / 1000 - 0.3)]
    )


def settlements(rng: np.random.Generator) -> list[tuple[str, float, float, int, float]]:
    """City, towns and villages: name, x km, y km, customers, spread km."""
    names = [
        "Fennick",
        "Galloway",
        "Harrow",
        "Ilsby",
        "Jessop",
        "Kirkton",
        "Lowen",
        "Marsh",
        "Nettle",
        "Orrin",
        "Pellow",
        "Quarry",
        "Rooke",
        "Selby",
        "Thorne",
        "Upton",
        "Vale",
        "Wick",
        "Yarrow",
        "Zell",
        "Ashby",
        "Birch",
        "Colby",
        "Dale",
        "Elm",
        "Ford",
    ]
    places = [CITY, *TOWNS]
    while len(places) < 1 + len(TOWNS) + N_VILLAGES:
        x, y = rng.uniform(3, 77), rng.uniform(3, 57)
        if all((x - p[1]) ** 2 + (y - p[2]) ** 2 > (p[4] * 2.5 + 3) ** 2 for p in places):
            size = int(rng.integers(90, 330))
            places.append(
                (names[len(places) - 1 - len(TOWNS)], round(x, 2), round(y, 2), size, 0.6)
            )
    return places


def customers(rng: np.random.Generator, places, rural: int = N_RURAL) -> pd.DataFrame:
    parts, kinds = [], []
    for name, x, y, n, spread in places:
        xy = rng.normal([x, y], spread, size=(n, 2))
        parts.append(xy)
        kinds += [name] * n
    parts.append(rng.uniform([0, 0], [WIDTH / 1000, HEIGHT / 1000], size=(rural, 2)))
    kinds += ["rural"] * rural
    xy = _clip(np.vstack(parts))
    weight = np.minimum(1 + rng.poisson(2.0, size=len(xy)), 12)
    lonlat = _lonlat(xy)
    return pd.DataFrame(
        {
            "customer_id": [f"K{i + 1:05d}" for i in range(len(xy))],
            "lon": lonlat[:, 0].round(6),
            "lat": lonlat[:, 1].round(6),
            "customers": weight,
            "settlement": kinds,
        }
    )


def scaled_customers(n: int, seed: int = SEED) -> pd.DataFrame:
    """Customer points of the demo region scaled to ``n`` points (for scale tests and benchmarks).

    The same city, towns and villages as the demo (same seed), each with its share of ``n``
    points, and rural points filling the rest, so the result has exactly ``n`` rows. The
    demo's own customers are ``scaled_customers(21_012)`` only in distribution, not row by row.

    Parameters
    ----------
    n : int
        Number of customer points, at least 1 000.
    seed : int
        Seed of the generator.

    Returns
    -------
    DataFrame
        Columns as ``data/demo/customers.csv``: customer_id, lon, lat, customers, settlement.
    """
    if n < 1_000:
        raise ValueError(f"scaled_customers: n={n}; give at least 1000 points")
    rng = np.random.default_rng(seed)
    places = settlements(rng)
    total = sum(p[3] for p in places) + N_RURAL
    scaled = [(name, x, y, int(round(c * n / total)), s) for name, x, y, c, s in places]
    return customers(rng, scaled, rural=n - sum(p[3] for p in scaled))


def existing_outlets() -> pd.DataFrame:
    """Today's network: 2 regional centres, 7 city stations, 16 community points."""
    rows = [
        # id, name, tier, x km, y km, policy, ownership
        ("O01", "Aldenburg Central", "regional", 30.5, 32.4, "keep", "direct"),
        (
            "O02",
            "Moorfield Depot",
            "regional",
            74.0,
            57.0,
            "may_retier_or_close",
            "direct",
        ),  # remote corner
        ("O03", "Aldenburg North", "city", 30.0, 35.0, "may_close", "direct"),
        ("O04", "Aldenburg Market", "city", 31.2, 31.0, "may_close", "direct"),  # overlaps O01/O03
        ("O05", "Aldenburg West", "city", 26.0, 31.5, "may_retier", "partner"),
        ("O06", "Brenna Station", "city", 62.3, 44.6, "keep", "direct"),
        ("O07", "Dunmere Station", "city", 12.2, 10.3, "may_retier", "direct"),
        ("O08", "Heath Cross", "city", 50.0, 30.0, "may_retier_or_close", "partner"),  # empty heath
        (
            "O09",
            "Kestrel Hill",
            "city",
            5.0,
            55.0,
            "may_retier_or_close",
            "direct",
        ),  # far from everything
        ("O10", "Old Town Point", "community", 30.3, 32.1, "may_close", "partner"),
        ("O11", "Cathedral Point", "community", 30.8, 32.6, "may_close", "partner"),
        ("O12", "Riverside Point", "community", 29.6, 31.8, "may_close", "partner"),
        ("O13", "Station Square Point", "community", 31.0, 31.5, "may_close", "partner"),
        ("O14", "Harbour Point", "community", 33.5, 34.0, "may_close", "partner"),
        ("O15", "Brenna Point", "community", 61.5, 45.5, "may_close", "partner"),
        ("O16", "Carrow Point", "community", 66.2, 14.3, "may_retier_or_close", "partner"),
        ("O17", "Eskby Point", "community", 45.2, 53.6, "may_close", "partner"),
        ("O18", "Dunmere Point", "community", 11.8, 9.8, "may_close", "partner"),
        ("O19", "Mill Lane Point", "community", 40.0, 20.0, "may_close", "partner"),
        ("O20", "Forest Edge Point", "community", 20.0, 50.0, "may_close", "partner"),
        ("O21", "Quarry Road Point", "community", 55.0, 5.0, "may_close", "partner"),
        ("O22", "Aldenburg East Point", "community", 35.0, 30.0, "may_close", "partner"),
        ("O23", "Aldenburg South Point", "community", 29.0, 27.5, "may_close", "partner"),
        ("O24", "Ring Road Point", "community", 27.0, 36.5, "keep", "partner"),
        ("O25", "Lakeside Point", "community", 70.0, 30.0, "may_close", "partner"),
    ]
    frame = pd.DataFrame(
        rows, columns=["outlet_id", "name", "tier", "x", "y", "policy", "ownership"]
    )
    lonlat = _lonlat(frame[["x", "y"]].to_numpy(dtype=float))
    frame["lon"] = lonlat[:, 0].round(6)
    frame["lat"] = lonlat[:, 1].round(6)
    return frame[["outlet_id", "name", "tier", "policy", "ownership", "lon", "lat"]]


def candidates(rng: np.random.Generator, places) -> pd.DataFrame:
    """~400 sites: in the city, in every town and village, and some along rural roads.

    Each site has its own costs: the scenario's defaults times a location factor (city
    centre dearer, countryside cheaper) and a site factor, rounded to 100.
    """
    parts, kind = [], []
    city, towns, villages = places[0], places[1 : 1 + len(TOWNS)], places[1 + len(TOWNS) :]
    parts.append(rng.normal([city[1], city[2]], city[4] * 0.9, size=(110, 2)))
    kind += ["city"] * 110
    for _, x, y, _, spread in towns:
        parts.append(rng.normal([x, y], spread, size=(22, 2)))
        kind += ["town"] * 22
    for _, x, y, _, spread in villages:
        parts.append(rng.normal([x, y], spread * 1.2, size=(6, 2)))
        kind += ["village"] * 6
    n_rest = N_CANDIDATES - sum(len(p) for p in parts)
    parts.append(rng.uniform([1, 1], [WIDTH / 1000 - 1, HEIGHT / 1000 - 1], size=(n_rest, 2)))
    kind += ["rural"] * n_rest
    xy = _clip(np.vstack(parts))
    kind = np.array(kind)
    centres = np.array([[p[1], p[2]] for p in places[: 1 + len(TOWNS)]])
    d_centre = np.min(
        np.hypot(xy[:, None, 0] - centres[None, :, 0], xy[:, None, 1] - centres[None, :, 1]), axis=1
    )
    order = np.argsort(d_centre, kind="stable")
    tiers = np.array(["community"] * len(xy), dtype=object)
    tiers[order[:160]] = "city;community"
    tiers[order[:40]] = "regional;city;community"
    ownership = np.where(rng.random(len(xy)) < 0.5, "partner", "direct")
    location = np.select(
        [kind == "city", kind == "town", kind == "village"], [1.25, 1.1, 0.95], 0.9
    )
    factor = location * rng.uniform(0.85, 1.15, size=len(xy))
    frame = pd.DataFrame(
        {
            "site_id": [f"C{i + 1:03d}" for i in range(len(xy))],
            "name": [f"Site {i + 1}" for i in range(len(xy))],
            "tiers": tiers,
            "ownership": ownership,
        }
    )
    for tier in ("regional", "city", "community"):
        able = np.array([tier in t.split(";") for t in tiers])
        for kind_, table in (("open", OPEN_COST), ("operate", OPERATE_COST)):
            base = np.array([table[o][tier] for o in ownership], dtype=float)
            cost = np.where(able, np.round(base * factor / 100.0) * 100.0, np.nan)
            frame[f"{kind_}_cost_{tier}"] = pd.array(cost, dtype="Float64").astype("Int64")
    lonlat = _lonlat(xy)
    frame["lon"] = lonlat[:, 0].round(6)
    frame["lat"] = lonlat[:, 1].round(6)
    return frame


# default costs of the scenario, per ownership and tier (written into scenarios/demo.yaml)
COSTS = {
    "direct": {
        "regional": {"open": 2_000_000, "operate": 400_000, "convert": 800_000, "close": 300_000},
        "city": {"open": 400_000, "operate": 120_000, "convert": 150_000, "close": 60_000},
        "community": {"open": 25_000, "operate": 12_000, "convert": 15_000, "close": 8_000},
    },
    "partner": {
        "regional": {"open": 1_800_000, "operate": 380_000, "convert": 700_000, "close": 300_000},
        "city": {"open": 300_000, "operate": 100_000, "convert": 120_000, "close": 50_000},
        "community": {"open": 8_000, "operate": 6_000, "convert": 10_000, "close": 4_000},
    },
}
OPEN_COST = {o: {t: c["open"] for t, c in tiers.items()} for o, tiers in COSTS.items()}
OPERATE_COST = {o: {t: c["operate"] for t, c in tiers.items()} for o, tiers in COSTS.items()}


def _cost_lines() -> str:
    lines = []
    for owner, tiers in COSTS.items():
        lines.append(
            f"  {owner}:"
            + (
                ""
                if owner == "direct"
                else "              # partner-run outlets: cheaper to open and run"
            )
        )
        for tier, c in tiers.items():
            lines.append(
                f"    {tier + ':':<11}{{open: {c['open']}, operate: {c['operate']}, convert: {c['convert']}, close: {c['close']}}}"
            )
    return "\n".join(lines)


def regions() -> dict:
    """Three regions: West, North-East and South-East, as a GeoJSON FeatureCollection."""
    w, h = WIDTH / 1000, HEIGHT / 1000
    shapes = {
        "West": [(0, 0), (40, 0), (38, 30), (41, 60), (0, 60)],
        "North-East": [(38, 30), (w, 30), (w, h), (41, 60)],
        "South-East": [(40, 0), (w, 0), (w, 30), (38, 30)],
    }
    features = []
    for name, ring in shapes.items():
        pts = _lonlat(np.array(ring + [ring[0]], dtype=float)).round(6)
        features.append(
            {
                "type": "Feature",
                "properties": {"region": name},
                "geometry": {"type": "Polygon", "coordinates": [pts.tolist()]},
            }
        )
    return {"type": "FeatureCollection", "features": features}


DEMO_SCENARIO = """\
# netplan scenario: the embedded demo region (fictional, generated by `python -m netplan.demo`).
# Copy this file to plan your own network; every key is explained in a comment.
name: demo
description: >
  Fictional 80 x 60 km region with one large city, four towns, villages and rural areas.
  Which outlets should we keep, open, re-tier or close to cover the most customers at
  every service level for today's budget?

travel:
  mode: planar          # planar (metres in a projected CRS) or haversine (great circle on lon/lat)
  crs: auto             # planar only: an EPSG code such as EPSG:32632, or auto = local UTM zone

tiers:                  # highest tier first; a tier serves its own level and every level below
  - key: regional       # short id used in the input files and in other keys
    name: regional centre
    reach: 35 km        # reach of the regional service level (full repair, parts, training)
  - key: city
    name: city station
    reach: 10 km        # daily repair and maintenance
    linkage: 50 km      # every city station needs a regional centre within 50 km
  - key: community
    name: community point
    reach: 3 km         # pick-up, drop-off, advice
    linkage: 20 km      # every community point needs a city station or regional centre within 20 km
# reach_overrides:      # optional: reach of one tier for one level, e.g. regional centres
#   - {tier: regional, level: community, reach: 5 km}   # serve community demand within 5 km
# reach_order: decreasing   # default: a level's reach is at most the reach of the level above; 'any' to allow more
# (a supported tier without linkage is an error once another tier has one; write linkage: none if it needs no support)

demand:
  path: ../data/demo/customers.csv   # relative to this file; CSV lon/lat in EPSG:4326, or any vector file
  x: lon
  y: lat
  id: customer_id
  weight: customers     # weight of every level; per-level columns with weights: {community: col}
  # region: region      # a region column; without it, regions come from the regions layer

outlets:                # today's network
  path: ../data/demo/outlets.csv
  x: lon
  y: lat
  id: outlet_id
  name: name
  tier: tier            # tier key, name or number
  policy: policy        # keep | may_close | may_retier | may_retier_or_close
  ownership: ownership  # direct | partner

candidates:             # sites where a new outlet may open
  path: ../data/demo/candidates.csv
  x: lon
  y: lat
  id: site_id
  name: name
  tiers: tiers          # tiers a site may host, ';'-separated
  ownership: ownership

regions:
  path: ../data/demo/regions.geojson
  id: region

costs:                  # per ownership and tier; a site may override with columns such as open_cost_city
  currency: EUR         # ISO 4217 code printed with every cost (leave out for plain numbers)
  horizon_years: 5      # years of operating cost counted in a plan's cost
{cost_lines}

budget:
  total: baseline       # a number, 'baseline' (today's cost over the horizon) or e.g. '1.1 x baseline'
  # capex: 3000000      # optional limit on one-off costs (open + convert + close)
  # opex: 2000000       # optional limit on the yearly operating cost

counts:                 # optional min / max outlets, per tier ('any' = all tiers) and region
  - {tier: regional, min: 1, max: 3}
  - {tier: city, region: West, min: 1}

# capacity:             # optional: an outlet serves at most its capacity (customers); covered = assigned
#   per_tier: {regional: 40000, city: 15000, community: 3000}   # a site column capacity_<tier> overrides
#   levels: [community] # levels whose customers load the outlet serving them (default: every level)
#   single_source: false           # true: each customer point is served whole by one outlet
#   min_utilisation: 0.2           # an open outlet carries at least 20 % of its capacity
# span_of_control:      # optional: each supported outlet is assigned one parent; at most this many per parent
#   regional: 4
#   city: 12

objective:
  type: max_coverage    # max_coverage (within budget and counts) or min_cost (meet targets)
  level_weights: {regional: 1, city: 1, community: 1}
  # targets: {community: 0.95, regional: 1.0}     # min_cost: share of coverable demand per level

solver:
  backend: highs        # highs (default) or cbc (through PuLP)
  time_limit: 120       # seconds for all stages together; a stopped run is reported as time_limit
  mip_rel_gap: 0        # 0 = prove optimality
  threads: 1
  seed: 0
"""


def write_demo(root: str | Path) -> dict[str, Path]:
    """Generate the demo region under ``root/data/demo`` and ``root/scenarios/demo.yaml``.

    Parameters
    ----------
    root : str or Path
        Folder that receives ``data/demo/`` and ``scenarios/``.

    Returns
    -------
    dict
        Paths written, by name.
    """
    root = Path(root)
    rng = np.random.default_rng(SEED)
    places = settlements(rng)
    cust = customers(rng, places)
    cand = candidates(rng, places)
    out = existing_outlets()
    data = root / "data" / "demo"
    data.mkdir(parents=True, exist_ok=True)
    (root / "scenarios").mkdir(parents=True, exist_ok=True)
    paths = {
        "customers": data / "customers.csv",
        "outlets": data / "outlets.csv",
        "candidates": data / "candidates.csv",
        "regions": data / "regions.geojson",
        "scenario": root / "scenarios" / "demo.yaml",
    }
    cust.to_csv(paths["customers"], index=False, lineterminator="\n")
    out.to_csv(paths["outlets"], index=False, lineterminator="\n")
    cand.to_csv(paths["candidates"], index=False, lineterminator="\n")
    paths["regions"].write_text(json.dumps(regions(), indent=1) + "\n", encoding="utf-8")
    paths["scenario"].write_text(
        DEMO_SCENARIO.replace("{cost_lines}", _cost_lines()), encoding="utf-8"
    )
    return paths


def repo_scenario() -> Path | None:
    """``scenarios/demo.yaml`` of the source checkout this package runs from, if present."""
    path = Path(__file__).resolve().parent.parent / "scenarios" / "demo.yaml"
    return (
        path
        if path.is_file() and (path.parent.parent / "data" / "demo" / "customers.csv").is_file()
        else None
    )


if __name__ == "__main__":  # python -m netplan.demo [ROOT]
    import sys

    written = write_demo(
        sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent
    )
    for name, path in written.items():
        print(f"{name}: {path}")
