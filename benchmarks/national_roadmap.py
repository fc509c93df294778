"""``benchmarks/national.py --phases N``: the national instance as an N-phase roadmap (issue 25).

    python benchmarks/national.py --customers 100000 --sites 2000 --phases 3 --time-limit 120
    python benchmarks/national.py --customers 100000 --sites 2000 --phases 3 --time-limit 300

The same instance as the single plan of ``national.py``, planned through the library's own
path: ``prepare``, ``netplan.phasing.roadmap_problem``, the greedy baseline
``roadmap_greedy.greedy_roadmap``, the exact ``roadmap_solve.solve_roadmap`` started from the
greedy roadmap when it keeps every rule, as ``netplan.roadmap.plan_roadmap`` does (the other
exact variant, ``final_first``, is not run). The roadmap:

- phases ``phase 1`` .. ``phase N`` of 1 year each, the last one the rest of the single plan's
  5-year horizon (at least 1 year): 1, 1, 3 for N = 3; 1, 4 for N = 2; 1, 1, 1, 2 for N = 4;
- capex per phase: the single plan's capex (open + convert + close of the single plan on this
  instance, solved first with the same gap and threads and its own time limit,
  ``--single-time-limit``, 600 s by default, not ``--time-limit``; deterministic: the instance
  is seeded, HiGHS runs with seed 0 and proves the plan optimal at 100 000 customers in
  45-52 s; a single plan not proven optimal is flagged in the output) split equally over the N
  phases, so no phase alone can pay the single plan's end state; but phase 1 gets at least
  the repair of today's network (below; closing every outlet without support, cascading,
  :func:`repair_capex`) and the later phases split the rest, so every roadmap has a feasible
  start (at 100 000 x 2 000 with 3 phases the equal share is the larger); opex of every phase
  at most today's (``baseline``); no budget of the whole roadmap (the phase limits replace the
  single plan's ``total: baseline``);
- demand: today's weights in every phase but the last, where the north-east quarter of the
  country (x and y above the middle; the demand's ``region`` column ``North-East``, every
  other point ``rest``) grows x 1.4 and every other point x 1.05 (the same points in every
  phase);
- objective ``coverage_years`` (coverage-years, then total cost; no site-id stage, as the
  single plan runs without tie-break here).

Printed per run: the single plan solved for the capex, the repair's cost, the phases' limits;
build seconds (inputs, coverage, roadmap problem, roadmap model), rows, columns and non-zeros
of the roadmap model; the greedy roadmap's coverage-years (in all and per phase), seconds and
problems; per stage the status, objective, bound, gap and seconds; the exact roadmap's
coverage-years (recomputed from its phase tiers, in all and per phase), its gain over greedy
(absolute and %), capex spent per phase; peak RSS.

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
import statistics
import time
import warnings

import numpy as np
from national import (
    NORTH_EAST,
    SINGLE_TIME_LIMIT,
    TIER_COST,
    _in_child,
    _limit,
    _peak_mb,
    frames,
    instance,
    scenario,
)

LINKAGE_M = {1: 150_000.0, 2: 30_000.0}  # tier -> reach of its support (a higher tier)
HORIZON_YEARS = 5
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


def run_roadmap(
    n_customers: int,
    n_sites: int,
    n_phases: int,
    time_limit: float,
    gap: float,
    threads: int,
    single_time_limit: float = SINGLE_TIME_LIMIT,
) -> dict:
    """The single plan (for the phases' capex), then the N-phase roadmap: greedy and exact.

    The single plan runs with ``single_time_limit`` whatever ``time_limit`` is, so the
    phases' budgets (and the roadmap) do not depend on the roadmap's time limit as long as
    the single plan is proven optimal within it (45-52 s at 100 000 x 2 000).

    Returns
    -------
    dict
        Seconds of each step, model size, the single plan's capex, the stage records, the
        coverage-years of greedy and exact, capex per phase, peak RSS, and the tiers (see
        :func:`print_roadmap`).
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
    single_sc = scenario(single_time_limit, gap, threads)
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
        # a SystemExit would end the pool's worker instead of coming back to the parent
        raise RuntimeError("the single plan spends no capex: no budget to split over phases")

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
        f"{s['status']}"
        + ("" if s["status"] == "optimal" else " (not proven: the budgets below depend on where it stopped)")
        + f", coverage {s['objective']:,.0f}, capex {s['capex']:,.0f}, opex {s['opex_per_year']:,.0f} a year; "
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



def main_roadmap(args: argparse.Namespace) -> int:
    """``national.py --phases N``: the header, then each run in its own process."""
    years = ", ".join(f"{y:g}" for y in phase_years(args.phases))
    print(
        f"roadmap of {args.phases} phases ({years} years) on {args.customers:,} customers x "
        f"{args.sites:,} sites; time limit {args.time_limit:g} s for all stages, gap "
        f"{args.gap:g}, {args.threads} threads; objective coverage_years; the single plan behind "
        f"the budgets: time limit {args.single_time_limit:g} s\n"
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
            args.threads, args.single_time_limit,
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
