"""A roadmap run: plan the phases, evaluate every phase, validate, write the files.

Files (written atomically, as a single run's): ``roadmap.csv`` (one row per action),
``phases.csv`` (per phase: money against its limits, coverage per level), ``kpis.csv`` (the KPI
rows of today's network and of every phase, with a ``phase`` column), ``plan.gpkg`` (layer
``outlets``: every site open today or in some phase, its tier per phase and
``phase_opened`` / ``phase_changed`` / ``phase_closed``) and ``run.json`` (status, the solver
records, and the coverage-years of the exact roadmap, ``final_first`` and greedy).
``report.html`` (:mod:`netplan.present.roadmap_report`) and ``map.html`` (a layer per phase,
chosen with radio buttons, the KPI box following it: :mod:`netplan.present.roadmap_map`).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from netplan._errors import InfeasiblePlanError, PlanValidationError
from netplan.evaluation.columns import rounded
from netplan.evaluation.kpis import Evaluation, baseline_outlets, evaluate
from netplan.evaluation.roadmap_checks import check_roadmap
from netplan.evaluation.validator import Check
from netplan.optimize.roadmap_infeasibility import explain_roadmap_infeasible
from netplan.optimize.roadmap_model import RoadmapModel
from netplan.roadmap import RoadmapPlan, plan_roadmap
from netplan.scenario import Scenario

FORMAT_VERSION = 1


@dataclass
class RoadmapRun:
    """A planned, evaluated and validated roadmap.

    Attributes
    ----------
    plan : RoadmapPlan
    baseline : Evaluation
        Today's network with today's demand.
    evaluations : list of Evaluation
        Every phase's network with that phase's demand.
    checks : list of Check
    timings : dict
    """

    plan: RoadmapPlan
    baseline: Evaluation
    evaluations: list[Evaluation]
    checks: list[Check]
    timings: dict[str, float] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"RoadmapRun({self.plan.scenario.name!r}, phases={len(self.evaluations)}, status={self.plan.status!r})"

    def explore(self):
        """The roadmap's map (a layer per phase, the key figures following it), inline in
        Jupyter and offline (Leaflet inlined)."""
        from netplan.present.display import roadmap_offline_map

        return roadmap_offline_map(self)

    def kpi_table(self) -> pd.DataFrame:
        """Level and region KPIs of today's network and of every phase, with a ``phase`` column."""
        frames = []
        for name, ev in [
            ("today", self.baseline),
            *zip(self.plan.phase_names, self.evaluations, strict=True),
        ]:
            frame = ev.kpis.copy()
            frame.insert(0, "phase", name)
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)


def run_roadmap(scenario: Scenario, progress=None, prepared=None) -> RoadmapRun:
    """Plan, evaluate and validate the roadmap of a scenario with ``phases``.

    ``prepared`` (inputs with coverage, e.g. shared by a sweep's points) skips loading.

    Raises
    ------
    InfeasiblePlanError
        No roadmap satisfies the rules (or ``final_first``'s end state is unreachable).
    PlanValidationError
        The roadmap found breaks one of its own rules (a solver or netplan bug).
    """
    t0 = time.perf_counter()
    plan = plan_roadmap(scenario, prepared=prepared, progress=progress)
    timings = {"plan": time.perf_counter() - t0}
    if plan.tiers is None:
        last = plan.result.records[-1] if plan.result.records else None
        why = last.message if last is not None and last.message else plan.status
        if plan.status == "infeasible":
            region_names = plan.prepared.region_names
            sources = [
                f"phases[{p}].targets" if phase.targets else "objective.targets"
                for p, phase in enumerate(scenario.phases or [])
            ]
            explained = explain_roadmap_infeasible(
                RoadmapModel(plan.problem), scenario.tier_keys, region_names, target_keys=sources
            )
            if explained:
                raise InfeasiblePlanError(f"{scenario.source or 'scenario'}: phases: {explained}")
        raise InfeasiblePlanError(
            f"{scenario.source or 'scenario'}: phases: no roadmap found ({plan.status}): {why}"
        )
    t0 = time.perf_counter()
    if progress is not None:
        progress("evaluate", "start")
    demand = plan.prepared.inputs.demand
    baseline = evaluate(
        baseline_outlets(plan.prepared.inputs), demand, scenario, plan.today_assignment()
    )
    evaluations = []
    for p, phase in enumerate(plan.problem.phases):
        weighted = demand.copy()
        for level, key in enumerate(scenario.tier_keys):
            weighted[f"weight_{key}"] = phase.weights[:, level]
        # under capacities a phase is judged by its own assignments (covered = assigned)
        evaluations.append(
            evaluate(plan.phase_outlets(p), weighted, scenario, plan.phase_assignment(p))
        )
    checks = check_roadmap(plan, evaluations)
    failed = [c for c in checks if not c.ok]
    if failed:
        raise PlanValidationError(
            "the roadmap breaks its own rules (a solver or netplan bug; please report it): "
            + "; ".join(f"{c.rule}: {c.detail}" for c in failed)
        )
    timings["evaluate"] = time.perf_counter() - t0
    if progress is not None:
        progress("evaluate", "done")
    return RoadmapRun(plan, baseline, evaluations, checks, timings)


def write_roadmap(run: RoadmapRun, out: str | Path, overwrite: bool = False) -> Path:
    """Write a roadmap run's files into ``out`` atomically (see the module docstring).

    Returns
    -------
    Path
        The output folder.
    """
    from netplan.outputs.folders import atomic_directory, scenario_paths

    scenario = run.plan.scenario
    with atomic_directory(
        out, overwrite=overwrite, protect=scenario_paths(scenario), kind="run"
    ) as tmp:
        tmp = Path(tmp)
        run.plan.actions().to_csv(tmp / "roadmap.csv", index=False)
        phases = run.plan.phase_table()
        shares = [c for c in phases.columns if c.startswith("covered_pct_")]
        phases[shares] = phases[shares].round(2)  # as kpis.csv's covered_pct
        phases.round(2).to_csv(tmp / "phases.csv", index=False)
        rounded(run.kpi_table()).to_csv(tmp / "kpis.csv", index=False)
        outlets = run.plan.outlets().to_crs(4326)
        outlets.to_file(tmp / "plan.gpkg", layer="outlets", driver="GPKG")
        (tmp / "run.json").write_text(
            json.dumps(_record(run), indent=2, default=_plain), encoding="utf-8"
        )
        from netplan.present.roadmap_report import roadmap_report_html

        (tmp / "report.html").write_text(roadmap_report_html(run), encoding="utf-8")
        from netplan.present.roadmap_map import roadmap_map
        from netplan.present.webmap import save_map

        save_map(roadmap_map(run), tmp / "map.html")
    return Path(out)


def _record(run: RoadmapRun) -> dict:
    plan = run.plan
    limits = [
        {
            "name": lim.name,
            "years": lim.years,
            "capex": lim.capex,
            "opex": lim.opex,
            "total": lim.total,
        }
        for lim in plan.problem.limits
    ]
    records = [r.to_dict() for r in plan.result.records]
    return {
        "format_version": FORMAT_VERSION,
        "kind": "roadmap",
        "scenario": {
            "name": plan.scenario.name,
            "sha256": plan.scenario.content_hash(),
            "locale": plan.scenario.locale,
            "currency": plan.scenario.costs.currency,
        },
        "status": plan.status,
        "objective": plan.objective,
        "phases": limits,
        "carry_over": plan.problem.carry_over,
        "coverage_years": plan.coverage_years(),
        "final_first_end_state": _end_state(plan),
        "final_first_status": plan.final_first_status,
        "stage_values": plan.result.values,
        "solver": records,
        "greedy": {
            "coverage_years": plan.greedy.coverage_years,
            "steps": len(plan.greedy.steps),
            "problems": plan.greedy.problems,
        },  # fmt: skip
        "checks": [c.to_dict() for c in run.checks],
        "timings": run.timings,
    }


def _end_state(plan) -> dict | None:
    """final_first's end state: reachable or not, and the last phase's coverage it reached."""
    ff = plan.other if plan.objective == "coverage_years" else plan.result
    if ff is None:
        return None
    best = ff.unreachable_end_coverage
    return {
        "single_plan_reachable": best is None and ff.status != "unreachable",
        "single_plan_end_coverage": best,
        "reached_end_coverage": ff.values.get("end_coverage"),
    }


def _plain(value):
    if hasattr(value, "item"):
        return value.item()
    return str(value)
