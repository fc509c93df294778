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

``--phases N`` (N >= 2): the same instance planned as an N-phase roadmap (issue 25) through
the library's own path (``prepare``, ``netplan.phasing.roadmap_problem``, the greedy baseline
``roadmap_greedy.greedy_roadmap``, the exact ``roadmap_solve.solve_roadmap`` started from the
greedy roadmap as ``netplan.roadmap.plan_roadmap`` does; the other exact variant,
``final_first``, is not run). The roadmap:

- phases ``phase 1`` .. ``phase N`` of 1 year each, the last one the rest of the single plan's
  5-year horizon (at least 1 year): 1, 1, 3 for N = 3; 1, 4 for N = 2; 1, 1, 1, 2 for N = 4;
- capex per phase: the single plan's capex (open + convert + close of the single plan on this
  instance, solved first with the same options; deterministic: the instance is seeded, HiGHS
  runs with seed 0 and proves the plan optimal at 100 000 customers) split equally over the N
  phases, so no phase alone can pay the single plan's end state; but phase 1 gets at least
  the repair of today's network (below; closing every outlet without support, cascading,
  :func:`repair_capex`) and the later phases split the rest, so every roadmap has a feasible
  start (at 100 000 x 2 000 with 3 phases the equal share is the larger); opex of every phase at most
  today's (``baseline``); no budget of the whole roadmap (the phase limits replace the single
  plan's ``total: baseline``);
- demand: today's weights in every phase but the last, where the north-east quarter of the
  country (x and y above the middle; the demand's ``region`` column ``North-East``, every
  other point ``rest``) grows x 1.4 and every other point x 1.05 (the same points in every
  phase);
- objective ``coverage_years`` (coverage-years, then total cost; no site-id stage, as the
  single plan runs without tie-break here).

Printed per run: build seconds (inputs, coverage, roadmap problem, roadmap model), rows,
columns and non-zeros of the roadmap model, per stage the status, objective, bound, gap and
seconds, the greedy roadmap's coverage-years and seconds, the exact roadmap's coverage-years
(recomputed from its phase tiers) and its gain over greedy, capex spent per phase, peak RSS.

The LP-guided search (``netplan.optimize.lpguided``) does not take part with phases: it is
the first stage of the single plan's ``solve_lexicographic`` on one ``TieredModel`` (and only
above 100 000 merged demand rows), while ``solve_roadmap`` solves the stacked roadmap program
(every phase's model plus the transition and money rows) as one MILP in HiGHS. (At 100 000
customers the single plan does not use it either: 9 375 merged demand rows.)

Today's network of this instance breaks rules of the model (community points without a city
station within 30 km, city stations without a regional centre within 150 km): every roadmap
repairs it in its first phase, within that phase's capex. The line "today's network kept in
every phase" is therefore a reference, not a feasible roadmap, and a greedy roadmap whose
repairs fail is reported as not comparable.
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
LINKAGE_M = {1: 150_000.0, 2: 30_000.0}  # tier -> reach of its support (a higher tier)
HORIZON_YEARS = 5
NORTH_EAST = "North-East"  # the region that grows fastest in the last phase
GROWTH_NORTH_EAST, GROWTH_ALL = 1.4, 1.05


def phase_years(n_phases: int) -> list[float]:
    """Years of each phase: 1 each, the last one the rest of the 5-year horizon (>= 1)."""
    return [1.0] * (n_phases - 1) + [float(max(1, HORIZON_YEARS - (n_phases - 1)))]


def repair_capex(sites: np.ndarray, current: np.ndarray) -> float:
    """What closing today's outlets without support costs, cascading (a city station's
    closing may leave community points without support): the least phase-1 capex of the
    repair-only roadmap, which keeps every rule of this scenario (linkage; closing lowers opex).
    """
    from scipy.spatial import cKDTree

    close = np.array([TIER_COST[k]["close"] for k in ("regional", "city", "community")], float)
    tiers = current.copy()
    while True:
        closed = 0
        for k, reach in LINKAGE_M.items():
            mine = np.flatnonzero(tiers == k)
            higher = sites[(tiers >= 0) & (tiers < k)]
            if len(mine) == 0:
                continue
            far = np.full(len(mine), np.inf)
            if len(higher):
                far = cKDTree(higher).query(sites[mine])[0]
            tiers[mine[far > reach]] = -1
            closed += int(np.sum(far > reach))
        if not closed:
            gone = (current >= 0) & (tiers < 0)
            return float(close[current[gone]].sum())


def phase_capex(n_phases: int, capex_total: float, repair: float = 0.0) -> list[float]:
    """Capex limit of each phase: ``capex_total`` split equally, except that phase 1 gets at
    least ``repair`` (then the others split what is left, never below 0)."""
    share = capex_total / n_phases
    if repair <= share:
        return [share] * n_phases
    return [repair] + [max(capex_total - repair, 0.0) / (n_phases - 1)] * (n_phases - 1)


def phases_spec(n_phases: int, capex_total: float, repair: float = 0.0) -> list[dict]:
    """The ``phases`` key of an N-phase roadmap: capex by :func:`phase_capex`, today's opex as
    every phase's opex limit, growth in the north-east in the last phase."""
    out = []
    capex = phase_capex(n_phases, capex_total, repair)
    for i, years in enumerate(phase_years(n_phases)):
        phase = {
            "name": f"phase {i + 1}",
            "years": years,
            "budget": {"capex": capex[i], "opex": "baseline"},
        }
        if i == n_phases - 1:
            phase["growth"] = {NORTH_EAST: GROWTH_NORTH_EAST, "all": GROWTH_ALL}
        out.append(phase)
    return out


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


def run_roadmap(
    n_customers: int, n_sites: int, n_phases: int, time_limit: float, gap: float, threads: int
) -> dict:
    """The single plan (for the phases' capex), then the N-phase roadmap: greedy and exact.

    Returns
    -------
    dict
        Seconds of each step, model size, the single plan's capex, the stage records, the
        coverage-years of greedy and exact, capex per phase, peak RSS (see :func:`main`).
    """
    import netplan
    from netplan.inputs.build import inputs_from_frames
    from netplan.optimize.records import SolverOptions
    from netplan.optimize.roadmap_greedy import greedy_roadmap
    from netplan.optimize.roadmap_model import RoadmapModel
    from netplan.optimize.roadmap_solve import coverage_years, phase_money, solve_roadmap
    from netplan.phasing import roadmap_problem
    from netplan.preparation import prepare

    warnings.simplefilter("ignore")
    out: dict = {}
    t0 = time.perf_counter()
    dem, outlets, cand = frames(n_customers, n_sites, regions=True)
    out["generate"] = time.perf_counter() - t0
    out["north_east_share"] = float((dem["region"] == NORTH_EAST).mean())
    # the single plan of the benchmark (no region column, no phases): its capex is split
    t0 = time.perf_counter()
    single_sc = scenario(time_limit, gap, threads)
    single_inputs = inputs_from_frames(
        single_sc, demand=dem.drop(columns="region"), outlets=outlets, candidates=cand
    )
    single = netplan.plan(single_sc, single_inputs)
    cost = single.cost()
    out["single"] = {
        "seconds": time.perf_counter() - t0,
        "status": single.status,
        "objective": single.stages[0].objective,
        "capex": cost["capex"],
        "opex_per_year": cost["opex_per_year"],
    }
    del single, single_inputs
    if cost["capex"] <= 0:
        raise SystemExit("the single plan spends no capex: no budget to split over phases")

    _, _, site_xy, _, current = instance(n_customers, n_sites)
    out["repair"] = repair_capex(site_xy, current)
    sc = scenario(time_limit, gap, threads, phases_spec(n_phases, cost["capex"], out["repair"]))
    t0 = time.perf_counter()
    inputs = inputs_from_frames(sc, demand=dem, outlets=outlets, candidates=cand)
    out["load"] = time.perf_counter() - t0
    prep = prepare(sc, inputs)
    out["coverage"] = prep.timings.get("coverage", 0.0)
    t0 = time.perf_counter()
    problem = roadmap_problem(prep, sc)
    out["problem"] = time.perf_counter() - t0
    out["limits"] = [(lim.name, lim.years, lim.capex, lim.opex) for lim in problem.limits]
    out["peak_mb_problem"] = _peak_mb()
    # the model is built here once to time and size it; solve_roadmap builds its own again
    t0 = time.perf_counter()
    model = RoadmapModel(problem)
    out["model"] = time.perf_counter() - t0
    out["peak_mb_model"] = _peak_mb()
    lp = model.lp
    out["size"] = {
        "rows": lp.A.shape[0],
        "columns": lp.A.shape[1],
        "nonzeros": lp.A.nnz,
        "integer": int(lp.integer.sum()),
        "transition_rows": model.n_transition_rows,
        "phase_rows": [mdl.lp.A.shape[0] for mdl in model.models],
        "phase_y": [mdl.ny for mdl in model.models],
    }
    t0 = time.perf_counter()
    greedy = greedy_roadmap(problem)
    out["greedy"] = {
        "seconds": time.perf_counter() - t0,
        "coverage_years": greedy.coverage_years,
        "steps": len(greedy.steps),
        "problems": list(greedy.problems),
        "capex": [m["capex"] for m in phase_money(problem, greedy.tiers)],
        "per_phase": _per_phase(problem, greedy.tiers),
    }
    start = None if greedy.problems else greedy.tiers
    if start is not None:  # solve_roadmap takes the start only when it keeps every row
        x = model.x_from_phase_tiers(start)
        out["start_violation"] = None if x is None else float(lp.max_violation(x))
    today = np.tile(problem.phases[0].costs.current_tier, (problem.n_phases, 1))
    x = model.x_from_phase_tiers(today)  # today's network may break the rules (linkage)
    if x is not None:
        ax = lp.A @ x
        out["today_violation"] = int(np.sum((ax < lp.row_lo - 1e-6) | (ax > lp.row_hi + 1e-6)))
    out["today_coverage_years"] = coverage_years(problem, today)
    out["today_per_phase"] = _per_phase(problem, today)
    del model, lp, x
    spec = sc.solver
    options = SolverOptions(
        backend=spec.backend, time_limit=spec.time_limit, mip_rel_gap=spec.mip_rel_gap,
        threads=spec.threads, seed=spec.seed,
    )  # fmt: skip
    t0 = time.perf_counter()
    result = solve_roadmap(problem, options, tie_break=spec.tie_break, start_tiers=start)
    out["solve"] = time.perf_counter() - t0
    out["status"] = result.status
    out["stages"] = [
        (r.stage, r.status, r.objective, r.bound, r.gap, r.seconds, r.time_limit, r.message)
        for r in result.records
    ]
    out["exact"] = None if result.tiers is None else coverage_years(problem, result.tiers)
    out["exact_per_phase"] = None if result.tiers is None else _per_phase(problem, result.tiers)
    out["exact_capex"] = (
        None if result.tiers is None else [m["capex"] for m in phase_money(problem, result.tiers)]
    )
    # for checks from outside: site ids in the tiers' order, the roadmaps' (P, m) tiers
    out["site_ids"] = prep.inputs.sites["site_id"].astype(str).tolist()
    out["greedy_tiers"] = greedy.tiers
    out["tiers"] = result.tiers
    out["peak_mb"] = _peak_mb()
    return out


def _per_phase(problem, tiers: np.ndarray) -> list[float]:
    """Years x level-weighted covered demand of each phase (they sum to the coverage-years)."""
    from netplan.optimize.roadmap_model import RoadmapProblem
    from netplan.optimize.roadmap_solve import coverage_years

    return [
        coverage_years(RoadmapProblem([phase], [lim]), t[None, :])
        for phase, lim, t in zip(problem.phases, problem.limits, tiers, strict=True)
    ]


def _money(values: list[float] | None) -> str:
    return "none" if values is None else " / ".join(f"{v:,.0f}" for v in values)


def _gap(value: float | None) -> str:
    return "nan" if value is None or not np.isfinite(value) else f"{value:.2e}"


def print_roadmap(i: int, r: dict) -> None:
    """The figures of one roadmap run (see :func:`run_roadmap`)."""
    s, size, g = r["single"], r["size"], r["greedy"]
    print(
        f"run {i + 1}: generate {r['generate']:.1f} s; single plan (for the capex) {s['seconds']:.1f} s, "
        f"{s['status']}, coverage {s['objective']:,.0f}, capex {s['capex']:,.0f}, opex {s['opex_per_year']:,.0f} a year; "
        f"repair of today's network (closing, cascading) {r['repair']:,.0f}",
        flush=True,
    )
    print(
        "  phases: "
        + "; ".join(
            f"{name} {years:g} y, capex <= {capex:,.0f}, opex <= {opex:,.0f} a year"
            for name, years, capex, opex in r["limits"]
        )
        + f"; North-East {100 * r['north_east_share']:.1f} % of the demand points",
        flush=True,
    )
    print(
        f"  build: inputs {r['load']:.1f} s, coverage {r['coverage']:.1f} s, roadmap problem "
        f"{r['problem']:.1f} s, roadmap model {r['model']:.1f} s; peak RSS after problem "
        f"{r['peak_mb_problem']:,.0f} MB, after model {r['peak_mb_model']:,.0f} MB",
        flush=True,
    )
    print(
        f"  roadmap model: {size['rows']:,} rows ({size['transition_rows']:,} transition and money, "
        f"phases {' / '.join(f'{n:,}' for n in size['phase_rows'])}), {size['columns']:,} columns "
        f"({size['integer']:,} integer; coverage y per phase {' / '.join(f'{n:,}' for n in size['phase_y'])}), "
        f"{size['nonzeros']:,} non-zeros",
        flush=True,
    )
    start = r.get("start_violation")
    start_text = (
        "not offered (greedy breaks a rule)" if "start_violation" not in r
        else "not usable (extension columns)" if start is None
        else f"max row violation {start:.1e} ({'used' if start <= 1e-6 else 'rejected'})"
    )  # fmt: skip
    print(
        f"  greedy: {g['seconds']:.1f} s, {g['steps']} steps, coverage-years {g['coverage_years']:,.0f} "
        f"(per phase {_money(g['per_phase'])}), "
        f"capex per phase {_money(g['capex'])}; problems: {'; '.join(g['problems']) or 'none'}; "
        f"as the exact solve's start: {start_text}",
        flush=True,
    )
    for stage, status, obj, bound, gap, secs, limit, message in r["stages"]:
        print(
            f"  stage {stage}: {status}, objective {obj:,.0f}, bound {bound:,.0f}, gap {_gap(gap)}, "
            f"{secs:.1f} s of {_limit(limit)}" + (f" ({message})" if message else ""),
            flush=True,
        )
    exact, greedy_cy = r["exact"], g["coverage_years"]
    if exact is None:
        gain = "no roadmap found"
    else:
        gain = f"{exact - greedy_cy:+,.0f} ({100 * (exact - greedy_cy) / max(greedy_cy, 1e-9):+.3f} %)"
        if g["problems"]:
            gain += " (not like for like: the greedy roadmap breaks rules or money limits)"
    tv = r.get("today_violation")
    today_text = "" if not tv else f", breaks {tv:,} rows of the roadmap model: reference only"
    print(
        f"  exact roadmap: {r['status']}, solve {r['solve']:.1f} s (its own model build included), "
        f"coverage-years {'none' if exact is None else f'{exact:,.0f}'} (per phase "
        f"{_money(r['exact_per_phase'])}), gain over greedy {gain}; "
        f"capex per phase {_money(r['exact_capex'])}; today's network kept in every phase: "
        f"{r['today_coverage_years']:,.0f} (per phase {_money(r['today_per_phase'])}){today_text}; "
        f"peak RSS {r['peak_mb']:,.0f} MB",
        flush=True,
    )


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
    args = parser.parse_args(argv)
    if args.phases and args.phases < 2:
        parser.error(f"--phases: a roadmap has at least 2 phases, got {args.phases}")
    # SIGTERM (e.g. pkill) ends the run through SystemExit, so the process pool's exit
    # terminates its worker; by default the worker ran on for minutes beside the next run
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    if args.phases:
        return _main_roadmap(args)
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


def _main_roadmap(args: argparse.Namespace) -> int:
    years = ", ".join(f"{y:g}" for y in phase_years(args.phases))
    print(
        f"roadmap of {args.phases} phases ({years} years) on {args.customers:,} customers x "
        f"{args.sites:,} sites; time limit {args.time_limit:g} s for all stages, gap "
        f"{args.gap:g}, {args.threads} threads; objective coverage_years\n"
        f"capex per phase: the single plan's capex / {args.phases}, phase 1 at least the repair "
        f"of today's network and the others the rest; opex of every phase <= "
        f"today's; last phase: North-East x {GROWTH_NORTH_EAST:g}, all others x {GROWTH_ALL:g}\n"
        "LP-guided search: off with phases (it is a first stage of the single plan on one "
        "TieredModel; solve_roadmap solves the stacked roadmap program as one MILP in HiGHS)",
        flush=True,
    )
    runs = []
    for i in range(args.repeats):
        r = _in_child(
            run_roadmap, args.customers, args.sites, args.phases, args.time_limit, args.gap,
            args.threads,
        )  # fmt: skip
        runs.append(r)
        print_roadmap(i, r)
    if len(runs) > 1:
        done = [r for r in runs if r["exact"] is not None]
        gaps = [r["stages"][0][4] for r in runs]
        print(
            f"median of {len(runs)}: roadmap model {statistics.median(r['model'] for r in runs):.1f} s, "
            f"greedy {statistics.median(r['greedy']['seconds'] for r in runs):.1f} s, "
            f"solve {statistics.median(r['solve'] for r in runs):.1f} s, "
            f"coverage-years gap {_gap(statistics.median(gaps))}, "
            f"exact coverage-years "
            + (f"{statistics.median(r['exact'] for r in done):,.0f}" if done else "none")
            + f", peak RSS {statistics.median(r['peak_mb'] for r in runs):,.0f} MB"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
