"""The three-tier model of DESIGN.md on a country-sized clustered instance (issue 5).

    python benchmarks/national.py --customers 100000 --sites 2000      # the smaller case
    python benchmarks/national.py --customers 1000000 --sites 10000    # the national case
    python benchmarks/national.py ... --repeats 3 --time-limit 120 --gap 0.001 --threads 2
    python benchmarks/national.py --customers 100000 --sites 2000 --phases 3 --time-limit 300

Instance (seeded): a 1 000 x 800 km country; customers concentrated in cities and towns
(60 % in 40 cities of lognormal size, 25 % in 400 towns, 15 % rural), integer weights 1-20;
candidate sites drawn from the same pattern, about 3 % of them may host a regional centre and
20 % a city station (300 and 2 000 of 10 000), every site a community point. Today's network:
1 regional centre per 500 sites, 1 city station per 40 and 1 community point per 8, all
``may_retier_or_close``. Reach 100 / 20 / 3 km, linkage 150 / 30 km, planar metres, budget
= today's cost. Objective: maximal weighted coverage of the three levels (weights 1/1/1).

Printed per run: coverage + linkage seconds, model build seconds, solve seconds, peak RSS,
rows and columns of the model, status, objective, bound and gap; then the median of the runs.
Each run is its own process, so peak RSS is that run's own.

``--phases N`` (N >= 2): the same instance planned as an N-phase roadmap (issue 25), in
``benchmarks/national_roadmap.py`` (its docstring: phases of 1, 1, 3 years for N = 3, capex
per phase a share of the single plan's, opex at most today's, growth in the north-east in the
last phase, objective coverage_years; what is printed). The LP-guided search
(``netplan.optimize.lpguided``) does not take part with phases: it is a first stage of the
single plan on one ``TieredModel`` (and only above 100 000 merged demand rows), while
``solve_roadmap`` solves the stacked roadmap program as one MILP in HiGHS.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import signal
import statistics
import sys
import time
import warnings

import numpy as np

WIDTH_M, HEIGHT_M = 1_000_000.0, 800_000.0
CRS = "EPSG:3035"  # metres; the instance is placed in LAEA Europe's coordinate range
ORIGIN = (4_000_000.0, 2_500_000.0)


def _clustered(
    rng: np.random.Generator, n: int, centres: np.ndarray, sizes: np.ndarray, sd: np.ndarray
):
    share = sizes / sizes.sum()
    which = rng.choice(len(centres), size=n, p=share)
    pts = centres[which] + rng.normal(size=(n, 2)) * sd[which, None]
    return pts


def instance(n_customers: int, n_sites: int, seed: int = 0):
    """Demand points, weights, sites, allowed tiers and today's tiers of the clustered country."""
    rng = np.random.default_rng(seed)
    box = np.array([WIDTH_M, HEIGHT_M])
    cities = rng.uniform(0.05, 0.95, size=(40, 2)) * box
    towns = rng.uniform(0.02, 0.98, size=(400, 2)) * box
    city_size = rng.lognormal(0.0, 0.8, size=40)
    town_size = rng.lognormal(0.0, 0.5, size=400)
    city_sd = 4_000 + 6_000 * city_size / city_size.max()
    town_sd = np.full(400, 1_500.0)

    def draw(n: int) -> np.ndarray:
        n_city, n_town = int(0.60 * n), int(0.25 * n)
        pts = np.vstack(
            [
                _clustered(rng, n_city, cities, city_size, city_sd),
                _clustered(rng, n_town, towns, town_size, town_sd),
                rng.uniform(0, 1, size=(n - n_city - n_town, 2)) * box,
            ]
        )
        return np.clip(pts, 0, box)

    demand = draw(n_customers)
    weights = rng.integers(1, 21, size=n_customers).astype(float)
    sites = draw(n_sites)
    order = rng.permutation(n_sites)
    allowed = np.zeros((n_sites, 3), dtype=bool)
    allowed[:, 2] = True
    allowed[order[: int(0.2 * n_sites)], 1] = True
    allowed[order[: max(1, int(0.03 * n_sites))], 0] = True
    # today's network: regional centres on regional-capable sites, city stations on
    # city-capable ones; a site keeps the tiers it may host (about 300 / 2 000 of 10 000)
    current = np.full(n_sites, -1)
    current[order[: max(1, n_sites // 500)]] = 0
    city_today = order[int(0.03 * n_sites) : int(0.03 * n_sites) + n_sites // 40]
    current[city_today] = 1
    free = np.flatnonzero(current < 0)
    current[rng.choice(free, size=n_sites // 8, replace=False)] = 2
    return demand + ORIGIN, weights, sites + ORIGIN, allowed, current


TIER_COST = {
    "regional": {"open": 2_000_000, "operate": 400_000, "convert": 800_000, "close": 300_000},
    "city": {"open": 400_000, "operate": 120_000, "convert": 150_000, "close": 60_000},
    "community": {"open": 25_000, "operate": 12_000, "convert": 15_000, "close": 8_000},
}
SINGLE_TIME_LIMIT = 600.0  # --phases: the single plan behind the budgets, not --time-limit
NORTH_EAST = "North-East"  # the region that grows fastest in the last phase


def scenario(time_limit: float, gap: float, threads: int, phases: list[dict] | None = None):
    """The benchmark's scenario; with ``phases`` the roadmap's (see the module docstring)."""
    from netplan.scenario import Scenario

    tier_cost = TIER_COST
    raw = {
        "name": "national",
        "travel": {"mode": "planar", "crs": CRS},
        "tiers": [
            {"key": "regional", "name": "regional centre", "reach": "100 km"},
            {"key": "city", "name": "city station", "reach": "20 km", "linkage": "150 km"},
            {"key": "community", "name": "community point", "reach": "3 km", "linkage": "30 km"},
        ],
        "demand": {"path": "demand.gpkg", "id": "cid", "weight": "customers"},
        "outlets": {
            "path": "outlets.gpkg",
            "id": "sid",
            "tier": "tier",
            "policy": "policy",
            "tiers": "tiers",
        },
        "candidates": {"path": "candidates.gpkg", "id": "sid", "tiers": "tiers"},
        "costs": {"horizon_years": 5, "direct": tier_cost},
        "budget": {"total": "baseline"},
        "objective": {"type": "max_coverage"},
        "solver": {
            "time_limit": time_limit,
            "mip_rel_gap": gap,
            "threads": threads,
            "tie_break": False,
        },
    }
    if phases:
        raw["demand"]["region"] = "region"
        raw["phases"] = phases
        raw["roadmap"] = {"objective": "coverage_years"}
        del raw["budget"]  # the phase limits replace the single plan's budget
        del raw["costs"]["horizon_years"]  # with phases the horizon is the sum of their years
    return Scenario.from_dict(raw, base_dir=".")


def north_east(xy: np.ndarray) -> np.ndarray:
    """Points (instance coordinates) in the north-east quarter of the country."""
    local = xy - np.asarray(ORIGIN)
    return (local[:, 0] > WIDTH_M / 2) & (local[:, 1] > HEIGHT_M / 2)


def frames(n_customers: int, n_sites: int, seed: int = 0, regions: bool = False):
    """Demand, today's outlets and candidate sites as GeoDataFrames; ``regions`` adds the
    demand's ``region`` column (North-East or rest) that a roadmap's growth names."""
    import geopandas as gpd
    import pandas as pd

    demand, weights, sites, allowed, current = instance(n_customers, n_sites, seed)
    keys = np.array(["regional", "city", "community"])
    dem = gpd.GeoDataFrame(
        {"cid": np.arange(n_customers).astype(str), "customers": weights},
        geometry=gpd.points_from_xy(demand[:, 0], demand[:, 1]),
        crs=CRS,
    )
    if regions:
        dem.insert(2, "region", np.where(north_east(demand), NORTH_EAST, "rest"))
    tiers = [";".join(keys[row]) for row in allowed]
    sid = np.array([f"S{i}" for i in range(n_sites)])
    today = current >= 0
    outlets = gpd.GeoDataFrame(
        {
            "sid": sid[today],
            "tier": keys[current[today]],
            "policy": "may_retier_or_close",
            "tiers": pd.Series(tiers)[today].to_numpy(),
        },
        geometry=gpd.points_from_xy(sites[today, 0], sites[today, 1]),
        crs=CRS,
    )
    cand = gpd.GeoDataFrame(
        {"sid": sid[~today], "tiers": pd.Series(tiers)[~today].to_numpy()},
        geometry=gpd.points_from_xy(sites[~today, 0], sites[~today, 1]),
        crs=CRS,
    )
    return dem, outlets, cand


def _limit(seconds: float | None) -> str:
    return "no limit" if seconds is None else f"{seconds:.1f} s"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_once(n_customers: int, n_sites: int, time_limit: float, gap: float, threads: int) -> dict:
    import netplan
    from netplan.inputs.build import inputs_from_frames

    warnings.simplefilter("ignore")
    sc = scenario(time_limit, gap, threads)
    t0 = time.perf_counter()
    dem, outlets, cand = frames(n_customers, n_sites)
    t_gen = time.perf_counter() - t0
    t0 = time.perf_counter()
    inputs = inputs_from_frames(sc, demand=dem, outlets=outlets, candidates=cand)
    t_load = time.perf_counter() - t0
    peak_load = _peak_mb()
    p = netplan.plan(sc, inputs)
    stage = p.stages[0]
    return {
        "generate": t_gen,
        "load": t_load,
        "coverage": p.timings.get("coverage", 0.0),
        "model": p.timings.get("model", 0.0),
        "solve": p.timings.get("solve", 0.0),
        "peak_mb_load": peak_load,
        "peak_mb": _peak_mb(),
        "status": p.status,
        "objective": stage.objective,
        "bound": stage.bound,
        "gap": stage.gap,
        "reduction": p.reduction,
        "method": stage.message,
        "stages": [(s.stage, s.status, s.seconds, s.time_limit) for s in p.stages],
        "pdlp": (stage.extra.get("pdlp_seconds"), stage.extra.get("pdlp_iterations")),
        "rounds": [
            (r["neighbourhood"], r["free_columns"], r["rows"], r["solve_s"], r["status"], r["best"])
            for r in stage.extra.get("lp_guided_rounds", [])
        ],
        "cut_rounds": [
            (r["cuts"], r["pdlp_s"], r["pdlp_iterations"], r["bound"])
            for r in stage.extra.get("cut_rounds", [])
        ],
    }


def _in_child(fn, *args) -> dict:
    with mp.get_context("spawn").Pool(1) as pool:
        return pool.apply(fn, args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--sites", type=int, default=2_000)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--time-limit", type=float, default=120.0)
    parser.add_argument("--gap", type=float, default=0.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--phases", type=int, default=0, help="plan an N-phase roadmap (N >= 2) instead of one plan"
    )
    parser.add_argument(
        "--single-time-limit", type=float, default=SINGLE_TIME_LIMIT,
        help="with --phases: time limit of the single plan whose capex the phases split",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.phases and args.phases < 2:
        parser.error(f"--phases: a roadmap has at least 2 phases, got {args.phases}")
    # SIGTERM (e.g. pkill) ends the run through SystemExit, so the process pool's exit
    # terminates its worker; by default the worker ran on for minutes beside the next run
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    if args.phases:
        from national_roadmap import main_roadmap  # beside this file (sys.path[0])

        return main_roadmap(args)
    runs = []
    for i in range(args.repeats):
        r = _in_child(run_once, args.customers, args.sites, args.time_limit, args.gap, args.threads)
        runs.append(r)
        print(
            f"run {i + 1}: load {r['load']:.1f} s, coverage {r['coverage']:.1f} s, model {r['model']:.1f} s, "
            f"solve {r['solve']:.1f} s, peak RSS {r['peak_mb']:,.0f} MB (after load {r['peak_mb_load']:,.0f}), "
            f"status {r['status']}, objective {r['objective']:,.0f}, bound {r['bound']:,.0f}, "
            f"gap {r['gap'] if r['gap'] is not None else float('nan'):.2e}",
            flush=True,
        )
        print(f"  model size: {r['reduction']}", flush=True)
        print(f"  method: {r['method']}; PDLP s / iterations: {r['pdlp']}", flush=True)
        print(
            "  stages: "
            + ", ".join(
                f"{name} {status} ({seconds:.1f} s of {_limit(limit)})"
                for name, status, seconds, limit in r["stages"]
            ),
            flush=True,
        )
        for n_cuts, secs, iterations, bound in r["cut_rounds"]:
            print(
                f"  cut round: {n_cuts} linkage-lifted coverage cuts, PDLP {secs:.1f} s / "
                f"{iterations} iterations, bound {bound:,.0f}",
                flush=True,
            )
        for around, free, rows, secs, status, best in r["rounds"]:
            print(
                f"  restricted MIP around the {around}: {free} free site columns, {rows} rows, "
                f"{secs:.1f} s, "
                f"{status}, best plan {best:,.0f}",
                flush=True,
            )
    if len(runs) > 1:
        keys = ("coverage", "model", "solve", "peak_mb", "gap", "objective", "bound")
        med = {k: statistics.median(r[k] for r in runs) for k in keys}
        print(
            f"median of {len(runs)}: coverage {med['coverage']:.1f} s, model {med['model']:.1f} s, "
            f"solve {med['solve']:.1f} s, peak RSS {med['peak_mb']:,.0f} MB, "
            f"objective {med['objective']:,.0f}, bound {med['bound']:,.0f}, gap {med['gap']:.2e}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
