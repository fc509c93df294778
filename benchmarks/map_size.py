"""Size and build time of map.html for 100 000 customers (issue 7: below ~15 MB, responsive).

    python benchmarks/map_size.py                 # demo plan evaluated on 100 000 customers
    python benchmarks/map_size.py --full          # plan 100 000 customers end to end (slower)
    python benchmarks/map_size.py --browser       # also open the map in Chromium, offline

The customers are the demo region scaled up (``netplan.demo.scaled_customers``, seeded):
the same city, towns and villages with five times the points. Without ``--full`` the demo
plan (21 012 customers) is solved once and the plan and today's network are evaluated on
the 100 000 points — the map only depends on the evaluations. With ``--full`` the scenario
is planned on the 100 000 points (same outlets, candidates, costs and budget).

Prints the number of customers, map.html size in MB, features per kind, the seconds to
evaluate and to build and render the map and, with ``--browser``, the seconds Chromium
takes to load the page and to pan it.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def scaled_scenario(n: int, folder: Path):
    """The demo scenario with its customers replaced by ``n`` scaled points (a copy in ``folder``)."""
    import yaml

    from netplan.demo import scaled_customers
    from netplan.scenario import Scenario

    data = ROOT / "data" / "demo"
    scaled_customers(n).to_csv(folder / "customers.csv", index=False)
    doc = yaml.safe_load((ROOT / "scenarios" / "demo.yaml").read_text())
    doc["demand"]["path"] = str(folder / "customers.csv")
    for key, name in (("outlets", "outlets.csv"), ("candidates", "candidates.csv")):
        doc[key]["path"] = str(data / name)
    doc["regions"]["path"] = str(data / "regions.geojson")
    path = folder / "scenario.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return Scenario.from_yaml(path)


def result_on(demand_scenario, plan_result):
    """A RunResult of ``plan_result``'s plan evaluated on another scenario's demand."""
    from netplan.evaluation.kpis import baseline_outlets, evaluate
    from netplan.inputs.build import load_inputs
    from netplan.pipeline import RunResult

    demand = load_inputs(demand_scenario).demand
    scenario = plan_result.scenario
    ev = evaluate(plan_result.plan.outlets, demand, scenario)
    base = evaluate(baseline_outlets(plan_result.plan.inputs), demand, scenario)
    return RunResult(plan_result.plan, ev, base, plan_result.checks), len(demand)


def features(page: str) -> dict[str, int]:
    return {
        "polygons": len(re.findall(r'"type": "Polygon"', page)),
        "lines": len(re.findall(r'"type": "LineString"', page)),
        "points": len(re.findall(r'"type": "Point"', page)),
    }


def browse(path: Path) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
            ],
        )
        page = b.new_context(viewport={"width": 1400, "height": 900}, offline=True).new_page()
        t0 = time.perf_counter()
        page.goto(path.as_uri())
        page.wait_for_selector(".leaflet-control-layers")
        load = time.perf_counter() - t0
        t0 = time.perf_counter()
        page.mouse.move(700, 450)
        page.mouse.down()
        for step in range(1, 21):
            page.mouse.move(700 - 15 * step, 450 - 8 * step)
        page.mouse.up()
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => r()))")
        pan = time.perf_counter() - t0
        b.close()
    return {"load_s": load, "pan_20_moves_s": pan}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--full", action="store_true", help="plan the scaled region end to end")
    parser.add_argument("--browser", action="store_true", help="time loading and panning")
    parser.add_argument("--out", type=Path, default=None, help="keep map.html in this folder")
    args = parser.parse_args(argv)

    from netplan.pipeline import run_scenario
    from netplan.present.offline import render_offline
    from netplan.present.webmap import plan_map
    from netplan.scenario import Scenario

    warnings.simplefilter("ignore")
    folder = Path(tempfile.mkdtemp(prefix="netplan-mapsize-"))
    scenario = scaled_scenario(args.customers, folder)
    t0 = time.perf_counter()
    if args.full:
        result = run_scenario(scenario)
        n = len(result.plan.inputs.demand)
        label = "planned end to end"
    else:
        result, n = result_on(
            scenario, run_scenario(Scenario.from_yaml(ROOT / "scenarios" / "demo.yaml"))
        )
        label = "demo plan evaluated"
    t_eval = time.perf_counter() - t0
    t0 = time.perf_counter()
    page = render_offline(plan_map(result))
    t_map = time.perf_counter() - t0
    out = (args.out or folder) / "map.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    size = out.stat().st_size
    print(f"customers: {n:,} ({label})")
    print(f"map.html: {size / 1e6:.2f} MB  ({out})")
    print("features: " + ", ".join(f"{k} {v:,}" for k, v in features(page).items()))
    print(f"seconds: plan/evaluate {t_eval:.1f}, build + render map {t_map:.1f}")
    if args.browser:
        timing = browse(out)
        print("chromium: " + ", ".join(f"{k} {v:.2f}" for k, v in timing.items()))
    if size > 15_000_000:
        print("map.html is above 15 MB", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
