"""Shared fixtures: the demo region solved once per session, and small scenario files."""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DEMO_SCENARIO = ROOT / "scenarios" / "demo.yaml"
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory):
    """The demo scenario planned, evaluated, validated and written once for the whole session."""
    from netplan.pipeline import run_scenario, write_run
    from netplan.scenario import Scenario

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = run_scenario(Scenario.from_yaml(DEMO_SCENARIO))
    out = tmp_path_factory.mktemp("demo") / "out"
    write_run(result, out)
    return result, out


@pytest.fixture(scope="session")
def demo_run_b(tmp_path_factory):
    """The demo scenario with 1.2 x today's budget, planned and written once (for comparisons)."""
    from netplan.pipeline import run_scenario, write_run
    from netplan.scenario import Scenario

    scenario = Scenario.from_yaml(DEMO_SCENARIO).replace(budget={"total": "1.2 x baseline"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = run_scenario(scenario)
    out = tmp_path_factory.mktemp("demo_b") / "out"
    write_run(result, out)
    return result, out


@pytest.fixture(scope="session")
def demo_compare(demo_run, demo_run_b, tmp_path_factory):
    """``netplan.compare`` of the demo at today's budget (A) and at 1.2 x (B), written once."""
    import netplan

    comparison = netplan.compare(demo_run[1], demo_run_b[1])
    out = tmp_path_factory.mktemp("compare") / "out"
    netplan.write_comparison(comparison, out)
    return comparison, out


# what a run folder holds (netplan run / demo with the default --format gpkg), marker included
RUN_FILES = [
    ".netplan-output",
    "kpis.csv",
    "map.html",
    "outlets.csv",
    "plan.gpkg",
    "plan.xlsx",
    "report.html",
    "run.json",
]

def write_small_case(folder: Path, seed: int = 1, **changes) -> Path:
    """A small two-tier scenario with CSV inputs in ``folder``; ``changes`` update scenario keys."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    lon0, lat0 = 9.50, 47.10
    n, m = 300, 30
    demand = pd.DataFrame(
        {
            "cid": [f"D{i}" for i in range(n)],
            "lon": lon0 + rng.uniform(0, 0.25, n),
            "lat": lat0 + rng.uniform(0, 0.15, n),
            "customers": rng.integers(1, 6, n),
        }
    )
    cand = pd.DataFrame(
        {
            "site": [f"S{i}" for i in range(m)],
            "name": [f"Site {i}" for i in range(m)],
            "lon": lon0 + rng.uniform(0, 0.25, m),
            "lat": lat0 + rng.uniform(0, 0.15, m),
            "tiers": np.where(np.arange(m) < 8, "hub;point", "point"),
        }
    )
    outlets = pd.DataFrame(
        {
            "oid": ["E1", "E2", "E3"],
            "name": ["Hub One", "Point Two", "Point Three"],
            "tier": ["hub", "point", "point"],
            "policy": ["keep", "may_close", "may_retier_or_close"],
            "lon": [lon0 + 0.12, lon0 + 0.05, lon0 + 0.2],
            "lat": [lat0 + 0.07, lat0 + 0.03, lat0 + 0.12],
        }
    )
    demand.to_csv(folder / "demand.csv", index=False)
    cand.to_csv(folder / "candidates.csv", index=False)
    outlets.to_csv(folder / "outlets.csv", index=False)
    scenario = {
        "name": "small",
        "travel": {"mode": "planar", "crs": "auto"},
        "tiers": [
            {"key": "hub", "name": "hub", "reach": "8 km"},
            {"key": "point", "name": "point", "reach": "2 km", "linkage": "12 km"},
        ],
        "demand": {"path": "demand.csv", "id": "cid", "weight": "customers"},
        "outlets": {
            "path": "outlets.csv",
            "id": "oid",
            "name": "name",
            "tier": "tier",
            "policy": "policy",
        },
        "candidates": {"path": "candidates.csv", "id": "site", "name": "name", "tiers": "tiers"},
        "costs": {
            "horizon_years": 2,
            "direct": {
                "hub": {"open": 500, "operate": 100, "convert": 200, "close": 50},
                "point": {"open": 40, "operate": 10, "convert": 20, "close": 5},
            },
        },
        "budget": {"total": "1.5 x baseline"},
        "solver": {"time_limit": 60},
    }
    for key, value in changes.items():
        scenario[key] = value
    path = folder / "scenario.yaml"
    path.write_text(yaml.safe_dump(scenario, sort_keys=False))
    return path


@pytest.fixture
def small_case(tmp_path):
    return write_small_case(tmp_path / "case")


def write_road_case(
    folder: Path,
    network: str | Path,
    *,
    name: str,
    box: tuple[float, float, float, float],
    outlet: tuple[float, float],
    reach: tuple[str, str],
    n_demand: int,
    n_sites: int,
    n_hubs: int,
    seed: int,
    solver: dict,
) -> Path:
    """A two-tier case on drive times: random demand and candidates in ``box`` (west, south,
    east, north; degrees), one kept hub at ``outlet``, reaches ``(hub, point)``; the point's
    linkage is the hub's reach. Returns the scenario file."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    west, south, east, north = box
    pd.DataFrame(
        {
            "cid": [f"D{i}" for i in range(n_demand)],
            "lon": rng.uniform(west, east, n_demand),
            "lat": rng.uniform(south, north, n_demand),
            "customers": rng.integers(1, 6, n_demand),
        }
    ).to_csv(folder / "demand.csv", index=False)
    pd.DataFrame(
        {
            "site": [f"S{i}" for i in range(n_sites)],
            "lon": rng.uniform(west, east, n_sites),
            "lat": rng.uniform(south, north, n_sites),
            "tiers": np.where(np.arange(n_sites) < n_hubs, "hub;point", "point"),
        }
    ).to_csv(folder / "candidates.csv", index=False)
    pd.DataFrame(
        {"oid": ["E1"], "tier": ["hub"], "policy": ["keep"], "lon": [outlet[0]], "lat": [outlet[1]]}
    ).to_csv(folder / "outlets.csv", index=False)
    scenario = {
        "name": name,
        "travel": {
            "mode": "network",
            "network": str(network),
            "crs": "auto",
            "access_speed": 15,
            "max_access": "1 km",
        },
        "tiers": [
            {"key": "hub", "name": "hub", "reach": reach[0]},
            {"key": "point", "name": "point", "reach": reach[1], "linkage": reach[0]},
        ],
        "demand": {"path": "demand.csv", "id": "cid", "weight": "customers"},
        "outlets": {"path": "outlets.csv", "id": "oid", "tier": "tier", "policy": "policy"},
        "candidates": {"path": "candidates.csv", "id": "site", "tiers": "tiers"},
        "costs": {
            "horizon_years": 2,
            "direct": {
                "hub": {"open": 500, "operate": 100, "convert": 200, "close": 50},
                "point": {"open": 40, "operate": 10, "convert": 20, "close": 5},
            },
        },
        "budget": {"total": "1.5 x baseline"},
        "solver": solver,
    }
    path = folder / "scenario.yaml"
    path.write_text(yaml.safe_dump(scenario, sort_keys=False))
    return path


def chromium_path() -> str | None:
    """Debian's Chromium, if installed (browser tests must run when CI=true)."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def on_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def run_with_solver(path, **solver):
    """Plan the scenario at ``path`` with its solver section updated by ``solver``."""
    from netplan.planner import plan
    from netplan.scenario import Scenario

    scenario = Scenario.from_yaml(path)
    scenario = scenario.replace(solver={**scenario.solver.model_dump(), **solver})
    return plan(scenario)
