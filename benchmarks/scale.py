"""netplan at scale, against spopt and against the plain sparse MILP, on the same seeded instances.

    python benchmarks/scale.py                      # every case, netplan 3 times (HiGHS seeds 0, 1, 2; median)
    python benchmarks/scale.py --cases mclp-5000x500 --spopt   # also time spopt 0.7 (extra 'bench')
    python benchmarks/scale.py --write benchmarks/RESULTS.md

Instances (as in issue 5): uniform demand in a 50 km square, candidate sites uniform, reach
5 km, p = 10 % of the sites, integer weights 1-100, numpy seed 0. ``mclp-5000x500-p30`` has
p = 30: its optimum leaves demand uncovered, so HiGHS must prove it by branching (on the
other two the search's plan meets the "all coverable weight" bound). Each measurement runs in its
own process (spawned), so peak RSS is that run's own.

Columns: netplan's coverage / reduction / build / solve seconds, peak RSS, objective, bound,
gap and rows before -> after merging; the plain sparse MILP (same arrays into HiGHS, no merge,
no start); spopt's build (dense matrix + PuLP model) and solve seconds and objective; the
end-to-end speed-ups and whether the proven optima are equal.

Set covering (``lscp-*``) and p-median (``pmed-*``) cases are hard at these sizes: they run
with time limits and report the best proven gap at 60 s and at 300 s of solver time (the
limit is on the solve; coverage / reduction / build seconds are listed beside it), for
netplan and for spopt (``--spopt``: one run with PuLP's HiGHS and ``timeLimit`` 300, its
incumbent and bound at 60 s read through a HiGHS callback; its peak RSS measured in the
child). netplan's set covering = merge + row / column dominance + HiGHS (one 300 s run, the
60 s figures from the same callback); its p-median = Lagrangian bound and reductions, then
the radius formulation (:func:`netplan.classic.p_median_radius`; a run with limit 60 s and,
unless that one is optimal, one with 300 s, because it may be a loop of re-solves whose
truncated incumbents are not plans). The three-tier national instance is in
``benchmarks/national.py``.

    python benchmarks/scale.py --cases lscp-20000x1000,pmed-5000x500 --spopt
"""

from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import os
import platform
import resource
import signal
import statistics
import sys
import time
from pathlib import Path

import numpy as np

CASES = {
    "mclp-20000x1000": (20_000, 1_000, None),
    "mclp-5000x500": (5_000, 500, None),
    # p = 6 % of the sites: the optimum leaves demand uncovered, so no plan meets the trivial
    # bound and HiGHS has to prove it by branching
    "mclp-5000x500-p30": (5_000, 500, 30),
}
# time-limited cases: model, n, m
LIMITED = {
    "lscp-20000x1000": ("set covering", 20_000, 1_000),
    "pmed-5000x500": ("p-median", 5_000, 500),
    "pmed-2000x200": ("p-median", 2_000, 200),
    "pmed-1000x100": ("p-median", 1_000, 100),
    "lscp-2000x200": ("set covering", 2_000, 200),
    "pmed-300x30": ("p-median", 300, 30),
}
# solver seconds at which set covering and p-median are reported; an environment variable so
# the spawned children see the same (``--limits``)
LIMITS = tuple(float(x) for x in os.environ.get("NETPLAN_SCALE_LIMITS", "60,300").split(","))
SIDE_M = 50_000.0
REACH_M = 5_000.0


def instance(n: int, m: int, seed: int = 0, p: int | None = None):
    rng = np.random.default_rng(seed)
    demand = rng.uniform(0, SIDE_M, size=(n, 2))
    sites = rng.uniform(0, SIDE_M, size=(m, 2))
    weights = rng.integers(1, 101, size=n).astype(float)
    return demand, sites, weights, max(1, m // 10) if p is None else p


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def run_netplan(
    n: int, m: int, merge: bool, start: str, seed: int = 0, p: int | None = None
) -> dict:
    """netplan's MCLP (``merge``: merge + site dominance + HiGHS presolve off, as measured
    best; without: the plain sparse MILP with HiGHS defaults). ``start``: ``search``
    (netplan's default: greedy + iterated 1-swap search), ``greedy`` (greedy + one 1-swap
    descent) or ``none``."""
    from netplan.classic import LocationData, greedy_max_covering, max_covering
    from netplan.optimize.records import SolverOptions
    from netplan.travel.coverage import pairs_within

    demand, sites, weights, p = instance(n, m, p=p)
    t0 = time.perf_counter()
    pairs = pairs_within(demand, sites, REACH_M, "planar")
    data = LocationData._build(
        n, m, pairs.demand, pairs.site, pairs.dist, weights, None, None, None, None
    )
    t_cov = time.perf_counter() - t0
    t0 = time.perf_counter()
    given = {"search": "search", "none": None}.get(start)
    if start == "greedy":
        given = greedy_max_covering(data, p)
    t_heur = time.perf_counter() - t0
    # HiGHS's MIP presolve costs more than it saves on the merged model (3000 x 300: 22 s
    # without it, 34 s with it)
    options = SolverOptions(highs_presolve=not merge, seed=seed)
    result = max_covering(data, p=p, merge=merge, start=given, dominance=merge, options=options)
    t_heur += result.timings.get("start", 0.0)  # the search, or the start's 1-swap descent
    return {
        "coverage": t_cov,
        "heuristic": t_heur,
        "build": result.timings["build"],
        "solve": result.timings["solve"],
        "total": t_cov + t_heur + result.timings["build"] + result.timings["solve"],
        "objective": result.objective,
        "start_objective": result.details["start_objective"],
        "bound": result.bound,
        "gap": result.gap,
        "status": result.status,
        "rows": f"{result.details['demand_rows']}->{result.details['rows_after_merge']}"
        + (f", {result.details['sites_fixed_closed']} sites fixed closed" if merge else ""),
        "peak_mb": _peak_mb(),
    }


def run_spopt(n: int, m: int, p: int | None = None) -> dict:
    import pulp
    from spopt.locate import MCLP

    demand, sites, weights, p = instance(n, m, p=p)
    t0 = time.perf_counter()
    cost = np.hypot(*(demand[:, None, :] - sites[None, :, :]).transpose(2, 0, 1))
    model = MCLP.from_cost_matrix(cost, weights, service_radius=REACH_M, p_facilities=p)
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    model.solve(pulp.HiGHS(msg=False, gapRel=0.0))
    solve = time.perf_counter() - t0
    objective = float(pulp.value(model.problem.objective))
    return {
        "build": build,
        "solve": solve,
        "total": build + solve,
        "objective": objective,
        "peak_mb": _peak_mb(),
    }


def _in_child(fn, *args) -> dict:
    ctx = mp.get_context("spawn")
    with ctx.Pool(1) as pool:
        return pool.apply(fn, args)


class _Snapshots:
    """HiGHS MIP callback: the incumbent and bound last seen at or before each limit (solver seconds)."""

    def __init__(self, limits=LIMITS):
        self.limits = limits
        self.at: dict[float, tuple[float, float]] = {}

    def __call__(self, callback_type, message, out, data_in, user_data) -> None:
        for limit in self.limits:
            if out.running_time <= limit:
                self.at[limit] = (float(out.mip_primal_bound), float(out.mip_dual_bound))

    def row(self, limit: float, sense: str = "min") -> dict:
        primal, dual = self.at.get(limit, (math.inf, -math.inf))
        if sense == "max":
            primal, dual = -primal, -dual
        return {"objective": primal, "bound": dual, "gap": _gap(primal, dual)}


def _gap(objective: float, bound: float) -> float:
    if not (math.isfinite(objective) and math.isfinite(bound)):
        return math.inf
    return abs(objective - bound) / max(abs(objective), 1e-9)


def _with_snapshots(snaps: _Snapshots):
    """Make every HiGHS model netplan builds in this process report to ``snaps``."""
    import highspy

    import netplan.optimize.highs as solver

    original = solver.highs_model

    def patched(lp, options=None, relax=False):
        h = original(lp, options, relax)
        h.setCallback(snaps, None)
        h.startCallback(highspy.cb.HighsCallbackType.kCallbackMipInterrupt)
        return h

    solver.highs_model = patched


def _data(n: int, m: int, all_pairs: bool):
    from netplan.classic import LocationData
    from netplan.travel.coverage import pairs_within

    demand, sites, weights, p = instance(n, m)
    radius = 1e12 if all_pairs else REACH_M
    pairs = pairs_within(demand, sites, radius, "planar")
    data = LocationData._build(
        n, m, pairs.demand, pairs.site, pairs.dist, weights, None, None, None, None
    )
    return data, p


def run_netplan_limited(model: str, n: int, m: int, limit: float) -> dict:
    """One time-limited netplan run; set covering also snapshots every limit up to ``limit``."""
    from netplan.classic import p_median_radius, set_covering
    from netplan.optimize.records import SolverOptions

    t0 = time.perf_counter()
    data, p = _data(n, m, all_pairs=model == "p-median")
    t_cov = time.perf_counter() - t0
    options = SolverOptions(time_limit=limit)
    out: dict = {"coverage": t_cov, "pairs": len(data.demand)}
    if model == "set covering":
        snaps = _Snapshots(tuple(x for x in LIMITS if x <= limit))
        _with_snapshots(snaps)
        res = set_covering(data, options=options)
        red = res.details["reduction"]
        out["reduction"] = (
            f"rows {res.details['demand_rows']}->{res.details['rows_after_merge']} (merge)"
            f"->{red['rows_after']}, sites {red['columns_before']}->{red['columns_after']}"
        )
        out["prep"] = res.timings["reduction"] + res.timings["build"]
        final = {"objective": res.objective, "bound": res.bound, "gap": res.gap}
        # the final figures hold at every limit the solve ended before (the callback may not
        # fire after the proof)
        out["at"] = {x: final if res.timings["solve"] <= x else snaps.row(x) for x in snaps.limits}
        out["at"][limit] = final
    else:
        res = p_median_radius(data, p, options=options)
        d = res.details
        out["reduction"] = (
            f"Lagrangian bound {d['lagrangian_bound']:,.0f} ({d['lagrangian_iterations']} steps), "
            f"{d['sites_fixed_closed']} sites fixed closed, {d['levels_kept']} of "
            f"{d['levels_available']} distances kept, {d['model_rows']} rows, {d['rounds']} rounds"
        )
        # heuristic + Lagrangian bound and reductions + model build
        out["prep"] = res.timings["heuristic"] + res.timings["lagrangian"] + res.timings["build"]
        out["at"] = {limit: {"objective": res.objective, "bound": res.bound, "gap": res.gap}}
    out["status"] = res.status
    out["solve"] = res.timings["solve"]
    out["peak_mb"] = _peak_mb()
    return out


def run_spopt_limited(model: str, n: int, m: int, limit: float) -> dict:
    """spopt 0.7 on the same instance: dense cost matrix, its PuLP model, HiGHS with timeLimit."""
    import highspy
    import pulp
    from spopt.locate import LSCP, PMedian

    demand, sites, weights, p = instance(n, m)
    t0 = time.perf_counter()
    cost = np.hypot(*(demand[:, None, :] - sites[None, :, :]).transpose(2, 0, 1))
    if model == "set covering":
        cost = cost[(cost <= REACH_M).any(axis=1)]  # only coverable demand, as netplan
        problem = LSCP.from_cost_matrix(cost, service_radius=REACH_M)
    else:
        problem = PMedian.from_cost_matrix(cost, weights, p_facilities=p)
    build = time.perf_counter() - t0
    snaps = _Snapshots(LIMITS)
    solver = pulp.HiGHS(
        msg=False,
        gapRel=0.0,
        timeLimit=limit,
        callbackTuple=(snaps, None),
        callbacksToActivate=[highspy.cb.HighsCallbackType.kCallbackMipInterrupt],
    )
    t0 = time.perf_counter()
    problem.problem.solve(solver)  # not problem.solve: that raises unless proven optimal
    solve = time.perf_counter() - t0
    h = problem.problem.solverModel
    info = h.getInfo()
    optimal = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    final = {
        "objective": float(info.objective_function_value)
        if info.primal_solution_status == 2
        else math.inf,
        "bound": float(info.mip_dual_bound),
    }
    final["gap"] = 0.0 if optimal else _gap(final["objective"], final["bound"])
    at = {x: final if solve <= x else snaps.row(x) for x in LIMITS}
    at[limit] = final
    return {
        "build": build,
        "solve": solve,
        "status": "optimal" if optimal else h.modelStatusToString(h.getModelStatus()),
        "at": at,
        "peak_mb": _peak_mb(),
    }


def measure_limited(case: str, with_spopt: bool) -> dict:
    model, n, m = LIMITED[case]
    if model == "set covering":
        net = _in_child(run_netplan_limited, model, n, m, LIMITS[-1])
    else:  # a loop of re-solves: one run per limit (the first one may already be optimal)
        first = _in_child(run_netplan_limited, model, n, m, LIMITS[0])
        net = first
        if first["status"] != "optimal":
            net = _in_child(run_netplan_limited, model, n, m, LIMITS[-1])
            net["at"] = {**first["at"], **net["at"]}
        else:
            net["at"][LIMITS[-1]] = first["at"][LIMITS[0]]
        net["first"] = first
    row = {"case": case, "model": model, "netplan": net, "spopt": None}
    if with_spopt:
        try:
            row["spopt"] = _in_child(run_spopt_limited, model, n, m, LIMITS[-1])
        except ImportError:
            print("spopt not installed: pip install -e '.[bench]'", file=sys.stderr)
    return row


def _cell(at: dict, limit: float) -> str:
    r = at.get(limit)
    if r is None or not math.isfinite(r["objective"]):
        return "no plan"
    bound = f"{r['bound']:,.0f}" if math.isfinite(r["bound"]) else "-"
    gap = f"{100 * r['gap']:.2f} %" if math.isfinite(r["gap"]) else "-"
    return f"{r['objective']:,.0f} / {bound} / {gap}"


def limited_table(rows: list[dict]) -> str:
    head = [
        "case", "netplan reduction", "netplan coverage / prep s",
        f"netplan at {LIMITS[0]:g} s: objective / bound / gap", f"netplan at {LIMITS[-1]:g} s",
        "netplan status, solve s", "netplan peak RSS MB", "spopt build s",
        f"spopt at {LIMITS[0]:g} s", f"spopt at {LIMITS[-1]:g} s", "spopt status, solve s",
        "spopt peak RSS MB",
    ]  # fmt: skip
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        a, s = r["netplan"], r["spopt"]
        cells = [
            r["case"],
            a["reduction"],
            f"{a['coverage']:.2f} / {a['prep']:.2f}",
            _cell(a["at"], LIMITS[0]),
            _cell(a["at"], LIMITS[-1]),
            f"{a['status']}, {a['solve']:.1f}",
            f"{a['peak_mb']:.0f}",
        ]
        if s is None:
            cells += ["not run"] * 5
        else:
            cells += [
                f"{s['build']:.1f}",
                _cell(s["at"], LIMITS[0]),
                _cell(s["at"], LIMITS[-1]),
                f"{s['status']}, {s['solve']:.1f}",
                f"{s['peak_mb']:.0f}",
            ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def measure(case: str, repeats: int, with_spopt: bool, start: str = "search") -> dict:
    n, m, p = CASES[case]
    # each repeat with another HiGHS random seed: on a fixed seed HiGHS explores the same tree,
    # so repeats would only measure timer noise; the seed is what makes solve times vary
    runs = [_in_child(run_netplan, n, m, True, start, seed, p) for seed in range(repeats)]
    for seed, r in enumerate(runs):
        print(
            f"  {case} netplan seed {seed}: start {r['heuristic']:.2f} s ({r['start_objective']:,.0f}), "
            f"solve {r['solve']:.2f} s, total {r['total']:.2f} s, objective {r['objective']:,.0f}",
            flush=True,
        )
    median = {
        k: statistics.median(r[k] for r in runs)
        for k in ("coverage", "heuristic", "build", "solve", "total", "peak_mb")
    }
    first = runs[0]
    plain = _in_child(run_netplan, n, m, False, "none", 0, p)
    row = {"case": case, "netplan": {**first, **median}, "plain": plain, "spopt": None}
    if with_spopt:
        try:
            row["spopt"] = _in_child(run_spopt, n, m, p)
        except ImportError:
            print("spopt not installed: pip install -e '.[bench]'", file=sys.stderr)
    return row


def table(rows: list[dict]) -> str:
    head = [
        "case", "netplan coverage / heuristic / build / solve s", "netplan total s (median)",
        "peak RSS MB", "rows before -> after merge", "objective", "bound", "gap",
        "plain MILP total s", "spopt build / solve s", "spopt objective",
        "speed-up vs plain", "speed-up vs spopt", "optima equal",
    ]  # fmt: skip
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        a, b, s = r["netplan"], r["plain"], r["spopt"]
        equal = abs(a["objective"] - b["objective"]) <= 1e-6 * max(1.0, abs(b["objective"]))
        spopt_times, spopt_obj, spopt_speed = "not run", "-", "-"
        if s is not None:
            equal &= abs(a["objective"] - s["objective"]) <= 1e-6 * max(1.0, abs(s["objective"]))
            spopt_times = f"{s['build']:.1f} / {s['solve']:.1f}"
            spopt_obj = f"{s['objective']:,.0f}"
            spopt_speed = f"{s['total'] / a['total']:.1f}x"
        cells = [
            r["case"],
            f"{a['coverage']:.2f} / {a['heuristic']:.2f} / {a['build']:.2f} / {a['solve']:.2f}",
            f"{a['total']:.2f}",
            f"{a['peak_mb']:.0f}",
            a["rows"],
            f"{a['objective']:,.0f}",
            f"{a['bound']:,.0f}",
            f"{a['gap']:.1e}",
            f"{b['total']:.2f} ({b['status']})",
            spopt_times,
            spopt_obj,
            f"{b['total'] / a['total']:.1f}x",
            spopt_speed,
            "yes" if equal else "NO",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--cases",
        default=",".join([*CASES, "lscp-20000x1000", "pmed-5000x500"]),
        help=f"comma-separated case names: {', '.join([*CASES, *LIMITED])}",
    )
    parser.add_argument("--repeats", type=int, default=3, help="netplan runs per case (median)")
    parser.add_argument(
        "--spopt", action="store_true", help="also time spopt (slow: minutes per case)"
    )
    parser.add_argument(
        "--write", type=Path, help="write the table and the machine to this Markdown file"
    )
    parser.add_argument(
        "--start",
        choices=["search", "greedy", "none"],
        default="search",
        help="MCLP start for netplan: its iterated 1-swap search (default, as the library "
        "does), the greedy plan after one 1-swap descent, or none",
    )
    parser.add_argument(
        "--limits", help="solver seconds for the time-limited cases, e.g. 60,300 (the default)"
    )
    args = parser.parse_args(argv)
    # SIGTERM (e.g. pkill) ends the run through SystemExit, so the process pool's exit
    # terminates its worker; by default the worker ran on for minutes beside the next run
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    if args.limits:
        os.environ["NETPLAN_SCALE_LIMITS"] = args.limits
        global LIMITS
        LIMITS = tuple(float(x) for x in args.limits.split(","))
    rows, limited = [], []
    for case in args.cases.split(","):
        if case in CASES:
            rows.append(measure(case, args.repeats, args.spopt, args.start))
            print(table(rows[-1:]).splitlines()[-1], flush=True)
        elif case in LIMITED:
            limited.append(measure_limited(case, args.spopt))
            print(limited_table(limited[-1:]).splitlines()[-1], flush=True)
        else:
            known = list(CASES) + list(LIMITED)
            print(f"error: unknown case {case!r}; cases are {known}", file=sys.stderr)
            return 2
    parts = ([table(rows)] if rows else []) + ([limited_table(limited)] if limited else [])
    text = "\n\n".join(parts)
    print(text)
    if args.write:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
        header = (
            f"# netplan at scale\n\nMachine: {os.cpu_count()} cores, {mem:.1f} GiB, {platform.platform()}, "
            f"Python {platform.python_version()}.\n\nCommand: `python benchmarks/scale.py {' '.join(argv or sys.argv[1:])}`\n\n"
        )
        args.write.write_text(header + text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
