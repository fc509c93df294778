"""netplan's classic models against OR-Library's published optima.

    python benchmarks/orlib.py                    # every instance (pmed1-20 twice, cap71-134)
    python benchmarks/orlib.py --only pmed1,cap71 # a subset
    python benchmarks/orlib.py --only pmed1,pmed2 --radius  # also p-median by the radius formulation

Prints one row per instance and model: published optimum, netplan's optimum, status, gap,
seconds; then ``N of N match``. p-center rows also show the check at the largest distance
below r* (it must be infeasible: p sites cannot cover every vertex). Exits 1 on any mismatch.
Reads the instances from ``../shared/benchmarks/orlib`` beside the checkout (or ``--orlib``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from netplan.classic import LocationData, facility_location, p_center, p_median, p_median_radius
from netplan.classic.orlib import read_cap, read_pmed

# the published optima live with the tests (with their source), not in netplan
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from orlib_optima import PCENTER_RADII, PMED_OPTIMA, UFL_OPTIMA  # noqa: E402

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "orlib"


def rechecked(records) -> str:
    """Solves whose objective disagreed with c·x of their plan and were solved again."""
    n = sum("solver_objective" in r.extra for r in records)
    return f"; {n} solve(s) re-run: solver objective != c·x" if n else ""


def radius_row(name: str, folder: Path) -> dict:
    """p-median of a pmed instance by the truncated radius formulation."""
    inst = read_pmed(folder / f"{name}.txt")
    t0 = time.perf_counter()
    res = p_median_radius(inst.distances, inst.p)
    seconds = time.perf_counter() - t0
    d = res.details
    return {
        "instance": name,
        "model": "p-med rad",
        "size": f"n={len(inst.distances)} p={inst.p}",
        "published": PMED_OPTIMA[name],
        "netplan": res.objective,
        "status": res.status,
        "gap": res.gap,
        "seconds": seconds,
        "match": res.is_optimal
        and abs(res.objective - PMED_OPTIMA[name]) <= 1e-6 * PMED_OPTIMA[name],
        "note": f"{d['levels_kept']} of {d['levels_available']} distinct distances kept, {d['rounds']} rounds"
        + rechecked(res.records),
    }


def rows_for(name: str, folder: Path, radius: bool = False) -> list[dict]:
    path = folder / f"{name}.txt"
    if name.startswith("pmed"):
        extra = [radius_row(name, folder)] if radius else []
        inst = read_pmed(path)
        t0 = time.perf_counter()
        med = p_median(inst.distances, inst.p)
        s_med = time.perf_counter() - t0
        t0 = time.perf_counter()
        cen = p_center(inst.distances, inst.p)
        s_cen = time.perf_counter() - t0
        return [
            {
                "instance": name,
                "model": "p-median",
                "size": f"n={len(inst.distances)} p={inst.p}",
                "published": PMED_OPTIMA[name],
                "netplan": med.objective,
                "status": med.status,
                "gap": med.gap,
                "seconds": s_med,
                "match": med.is_optimal
                and abs(med.objective - PMED_OPTIMA[name]) <= 1e-6 * PMED_OPTIMA[name],
                "note": f"{med.details['sites_after_fixing']} of {len(inst.distances)} sites left after reduced-cost fixing"
                + rechecked(med.records),
            },
            {
                "instance": name,
                "model": "p-center",
                "size": f"n={len(inst.distances)} p={inst.p}",
                "published": PCENTER_RADII[name],
                "netplan": cen.objective,
                "status": cen.status,
                "gap": cen.gap,
                "seconds": s_cen,
                "match": cen.is_optimal
                and cen.objective == PCENTER_RADII[name]
                and cen.details["check_below"] == "infeasible",
                "note": f"radius {cen.details['radius_below']:g}: {cen.details['check_below']} ({len(cen.details['checks'])} covering checks)",
            },
            *extra,
        ]
    inst = read_cap(path)
    data = LocationData.from_matrix(inst.cost, site_cost=inst.fixed_cost)
    t0 = time.perf_counter()
    ufl = facility_location(data)
    seconds = time.perf_counter() - t0
    return [
        {
            "instance": name,
            "model": "UFL",
            "size": f"m={len(inst.fixed_cost)} n={len(inst.demand)}",
            "published": UFL_OPTIMA[name],
            "netplan": ufl.objective,
            "status": ufl.status,
            "gap": ufl.gap,
            "seconds": seconds,
            "match": ufl.is_optimal
            and abs(ufl.objective - UFL_OPTIMA[name]) <= 1e-6 * UFL_OPTIMA[name],
            "note": f"{len(ufl.sites)} warehouses open",
        }
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--orlib", type=Path, default=DEFAULT_DIR, help="folder with the OR-Library files"
    )
    parser.add_argument("--only", default="", help="comma-separated instance names (default: all)")
    parser.add_argument(
        "--radius",
        action="store_true",
        help="also solve each pmed instance's p-median by the radius formulation",
    )
    args = parser.parse_args(argv)
    names = [f"pmed{i}" for i in range(1, 21)] + [
        f"cap{i}" for i in (71, 72, 73, 74, 101, 102, 103, 104, 131, 132, 133, 134)
    ]
    if args.only:
        wanted = set(args.only.split(","))
        unknown = wanted - set(names)
        if unknown:
            print(f"error: unknown instances {sorted(unknown)}", file=sys.stderr)
            return 2
        names = [n for n in names if n in wanted]
    if not args.orlib.is_dir():
        print(
            f"error: {args.orlib}: OR-Library folder not found; put ../shared beside the checkout or pass --orlib",
            file=sys.stderr,
        )
        return 2
    t_all = time.perf_counter()
    header = f"{'instance':<9} {'model':<9} {'size':<14} {'published':>13} {'netplan':>15} {'status':<8} {'gap':>5} {'seconds':>8}  note"
    print(header)
    print("-" * len(header))
    rows = []
    for name in names:
        for row in rows_for(name, args.orlib, args.radius):
            rows.append(row)
            mark = "" if row["match"] else "   <-- MISMATCH"
            print(
                f"{row['instance']:<9} {row['model']:<9} {row['size']:<14} {row['published']:>13,.3f} {row['netplan']:>15,.3f} "
                f"{row['status']:<8} {row['gap']:>5.0e} {row['seconds']:>8.2f}  {row['note']}{mark}",
                flush=True,
            )
    total = time.perf_counter() - t_all
    slowest = max(rows, key=lambda r: r["seconds"])
    matched = sum(r["match"] for r in rows)
    print("-" * len(header))
    print(
        f"total {total:.1f} s; slowest: {slowest['instance']} {slowest['model']} {slowest['seconds']:.1f} s ({slowest['size']})"
    )
    print(f"{matched} of {len(rows)} match")
    return 0 if matched == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
