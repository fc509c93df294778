"""netplan at scale, against spopt and against the plain sparse MILP, on the same seeded instances.

    python benchmarks/scale.py                      # every case, netplan 3 times (median)
    python benchmarks/scale.py --cases mclp-5000x500 --spopt   # also time spopt 0.7 (extra 'bench')
    python benchmarks/scale.py --write benchmarks/RESULTS.md

Instances (as in issue 5): uniform demand in a 50 km square, candidate sites uniform, reach
5 km, p = 10 % of the sites, integer weights 1-100, numpy seed 0. Each measurement runs in its
own process (spawned), so peak RSS is that run's own.

Columns: netplan's coverage / reduction / build / solve seconds, peak RSS, objective, bound,
gap and rows before -> after merging; the plain sparse MILP (same arrays into HiGHS, no merge,
no start); spopt's build (dense matrix + PuLP model) and solve seconds and objective; the
end-to-end speed-ups and whether the proven optima are equal.

This is the first step of issue 5: maximal covering only. Set covering, p-median and the
three-tier national instance come next.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np

CASES = {
    "mclp-20000x1000": (20_000, 1_000),
    "mclp-5000x500": (5_000, 500),
}
SIDE_M = 50_000.0
REACH_M = 5_000.0


def instance(n: int, m: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    demand = rng.uniform(0, SIDE_M, size=(n, 2))
    sites = rng.uniform(0, SIDE_M, size=(m, 2))
    weights = rng.integers(1, 101, size=n).astype(float)
    return demand, sites, weights, max(1, m // 10)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def run_netplan(n: int, m: int, merge: bool, greedy_start: bool) -> dict:
    from netplan.classic import LocationData, greedy_max_covering, max_covering
    from netplan.coverage import pairs_within

    demand, sites, weights, p = instance(n, m)
    t0 = time.perf_counter()
    pairs = pairs_within(demand, sites, REACH_M, "planar")
    data = LocationData._build(
        n, m, pairs.demand, pairs.site, pairs.dist, weights, None, None, None, None
    )
    t_cov = time.perf_counter() - t0
    t0 = time.perf_counter()
    start = greedy_max_covering(data, p) if greedy_start else None
    t_heur = time.perf_counter() - t0
    result = max_covering(data, p=p, merge=merge, start=start)
    return {
        "coverage": t_cov,
        "heuristic": t_heur,
        "build": result.timings["build"],
        "solve": result.timings["solve"],
        "total": t_cov + t_heur + result.timings["build"] + result.timings["solve"],
        "objective": result.objective,
        "bound": result.bound,
        "gap": result.gap,
        "status": result.status,
        "rows": f"{result.details['demand_rows']}->{result.details['rows_after_merge']}",
        "peak_mb": _peak_mb(),
    }


def run_spopt(n: int, m: int) -> dict:
    import pulp
    from spopt.locate import MCLP

    demand, sites, weights, p = instance(n, m)
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


def measure(case: str, repeats: int, with_spopt: bool) -> dict:
    n, m = CASES[case]
    runs = [_in_child(run_netplan, n, m, True, True) for _ in range(repeats)]
    median = {
        k: statistics.median(r[k] for r in runs)
        for k in ("coverage", "heuristic", "build", "solve", "total", "peak_mb")
    }
    first = runs[0]
    plain = _in_child(run_netplan, n, m, False, False)
    row = {"case": case, "netplan": {**first, **median}, "plain": plain, "spopt": None}
    if with_spopt:
        try:
            row["spopt"] = _in_child(run_spopt, n, m)
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
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated case names")
    parser.add_argument("--repeats", type=int, default=3, help="netplan runs per case (median)")
    parser.add_argument(
        "--spopt", action="store_true", help="also time spopt (slow: minutes per case)"
    )
    parser.add_argument(
        "--write", type=Path, help="write the table and the machine to this Markdown file"
    )
    args = parser.parse_args(argv)
    rows = []
    for case in args.cases.split(","):
        if case not in CASES:
            print(f"error: unknown case {case!r}; cases are {list(CASES)}", file=sys.stderr)
            return 2
        rows.append(measure(case, args.repeats, args.spopt))
        print(table(rows[-1:]).splitlines()[-1], flush=True)
    text = table(rows)
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
