"""The whole run: plan, evaluate the plan and today's network, validate, write outputs.

``run_scenario`` is what ``netplan run`` and ``netplan demo`` call; analysts can call it
from Python too. Outputs go to a temporary folder beside the target and are renamed into
place at the end, so a failed or interrupted run leaves nothing half-written.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from netplan._display_hooks import register, show
from netplan._errors import OutputError
from netplan.evaluation.columns import OPTIONAL_KPIS, kpi_columns
from netplan.evaluation.kpis import Evaluation, baseline_outlets, evaluate
from netplan.evaluation.validator import Check, validate_plan
from netplan.planner import Plan, plan
from netplan.preparation import prepare
from netplan.scenario import Scenario

Progress = Callable[[str, str], None]


@dataclass
class RunResult:
    """Everything a run produced.

    Attributes
    ----------
    plan : Plan
    evaluation : Evaluation
        KPIs and layers of the plan.
    baseline : Evaluation
        KPIs and layers of today's network.
    checks : list of Check
        The independent validator's checks (all passed, or the run would have failed).
    timings : dict
        Seconds per stage: load, coverage, model, solve (and each solver stage), evaluate, write.
    """

    plan: Plan
    evaluation: Evaluation
    baseline: Evaluation
    checks: list[Check]
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def scenario(self) -> Scenario:
        return self.plan.scenario

    def _repr_html_(self) -> str:
        return show("run.html", self)

    def __repr__(self) -> str:
        # short: the dataclass repr printed every frame (kilobytes per run)
        kpis = self.evaluation.kpis
        whole = kpis[kpis["region"] == "all"] if "region" in kpis else kpis
        covered = ", ".join(
            f"{r.level}: {r.covered_pct:.1f} %" for r in whole.itertuples() if hasattr(r, "level")
        )
        return (
            f"RunResult({self.scenario.name!r}, plan={self.plan!r}, covered=[{covered}], "
            f"checks={len(self.checks)}, seconds={sum(self.timings.values()):.1f})"
        )

    def explore(self):
        """The run's map (as map.html) as a folium map that renders inline in Jupyter, offline."""
        return show("run.explore", self)

    def kpi_table(self) -> pd.DataFrame:
        """One row per region and level: baseline, plan and delta of every KPI.

        Distances in km (``dist_mean_km_plan``, …) or drive times in minutes
        (``time_mean_min_plan``, …), as the column names say; unrounded.
        """
        return compare_kpis(self.baseline.kpis, self.evaluation.kpis, self.scenario.name)


def compare_kpis(baseline: pd.DataFrame, planned: pd.DataFrame, scenario_name: str) -> pd.DataFrame:
    """Baseline, plan and delta of each KPI, one row per (region, level).

    Distances carry their unit in the column name (``dist_mean_km_plan``,
    ``time_p95_min_delta``; see :mod:`netplan.evaluation.columns`); values are unrounded
    (kpis.csv holds them rounded, :func:`netplan.evaluation.columns.rounded`).
    """
    keys = ["region", "level", "level_name", "unit"]
    columns = kpi_columns(str(planned["unit"].iloc[0]) if len(planned) else "km")
    columns += [c for c in OPTIONAL_KPIS if c in baseline and c in planned]  # overlap caps
    merged = baseline[keys + columns].merge(
        planned[keys + columns], on=keys, suffixes=("_baseline", "_plan")
    )
    out = merged[keys].copy()
    out.insert(0, "scenario", scenario_name)
    for col in columns:
        out[f"{col}_baseline"] = merged[f"{col}_baseline"]
        out[f"{col}_plan"] = merged[f"{col}_plan"]
        out[f"{col}_delta"] = merged[f"{col}_plan"] - merged[f"{col}_baseline"]
    return out


def run_scenario(scenario: Scenario, progress: Progress | None = None) -> RunResult:
    """Plan, evaluate and validate a scenario (nothing is written; see :func:`write_run`).

    Raises
    ------
    NetplanError
        On bad input, an infeasible scenario, or a plan that fails validation.
    """
    prep = prepare(scenario, progress=progress)
    result_plan = plan(scenario, progress=progress, prepared=prep)
    t0 = time.perf_counter()
    _tell(progress, "evaluate", "start")
    demand = prep.inputs.demand
    evaluation = evaluate(result_plan.outlets, demand, scenario, assignment=result_plan.assignment)
    baseline = evaluate(baseline_outlets(prep.inputs), demand, scenario)
    checks = validate_plan(result_plan, evaluation)
    _tell(progress, "evaluate", "done")
    timings = dict(result_plan.timings)
    timings["evaluate"] = time.perf_counter() - t0
    return RunResult(result_plan, evaluation, baseline, checks, timings)


def run_of_plan(result_plan: Plan) -> RunResult:
    """A :class:`RunResult` of an existing plan: evaluated and validated as a run does."""
    demand = result_plan.inputs.demand
    scenario = result_plan.scenario
    evaluation = evaluate(result_plan.outlets, demand, scenario, assignment=result_plan.assignment)
    baseline = evaluate(baseline_outlets(result_plan.inputs), demand, scenario)
    checks = validate_plan(result_plan, evaluation)
    return RunResult(result_plan, evaluation, baseline, checks, dict(result_plan.timings))


def run(
    scenario: Scenario | str | Path,
    out: str | Path | None = None,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> RunResult:
    """Plan a scenario file (or object) and, with ``out``, write its outputs: ``netplan run`` from Python.

    Parameters
    ----------
    scenario : Scenario, str or Path
        A scenario or the path of its YAML file.
    out : str or Path, optional
        Output folder (written atomically); nothing is written without it.
    overwrite : bool
        Replace a non-empty output folder netplan wrote (see :func:`write_run`).

    Returns
    -------
    RunResult
    """
    if not isinstance(scenario, Scenario):
        scenario = Scenario.from_yaml(scenario)
    if out is not None:  # refuse an unusable folder before spending time on the plan
        from netplan.outputs.folders import check_output_dir, scenario_paths

        check_output_dir(out, overwrite, protect=scenario_paths(scenario))
    result = run_scenario(scenario, progress=progress)
    if out is not None:
        write_run(result, out, overwrite=overwrite, progress=progress)
    return result


def write_run(
    result: RunResult,
    out: str | Path,
    overwrite: bool = False,
    progress: Progress | None = None,
    formats: tuple[str, ...] = ("gpkg",),
) -> Path:
    """Write the outputs of a run into ``out`` atomically (see :mod:`netplan.outputs.folders`).

    ``out`` gets a marker file; ``overwrite`` replaces only a folder netplan wrote, and never
    one that is or holds the scenario file or one of its inputs. ``formats`` (``"gpkg"``,
    ``"parquet"``): plan.gpkg always, GeoParquet files too with ``"parquet"``.

    Raises
    ------
    OutputError
        ``out`` cannot be written or must not be replaced (see :func:`netplan.outputs.folders.check_output_dir`).
    """
    from netplan.outputs.folders import MARKER, atomic_directory, scenario_paths
    from netplan.outputs.writer import write_outputs

    t0 = time.perf_counter()
    _tell(progress, "write", "start")
    failed = None
    protect = scenario_paths(result.plan.scenario)
    with atomic_directory(out, overwrite=overwrite, protect=protect, kind="run") as tmp:
        result.timings["write"] = 0.0
        try:
            write_outputs(result, tmp, started=t0, formats=formats)
        except Exception as exc:
            # a page that cannot be rendered must not lose the finished plan: keep the data files
            failed = _html_failure(tmp, exc)
            for child in Path(tmp).iterdir():
                # keep a map written before the report failed, and the marker that makes a
                # killed run's leftover recognisable as netplan's
                if child.name not in failed.written and child.name != MARKER:
                    child.unlink()
            write_outputs(result, tmp, started=t0, html=False, formats=formats)
    result.timings["write"] = time.perf_counter() - t0
    _tell(progress, "write", "done")
    if failed is not None:
        raise failed
    return Path(out)


class PartialOutputError(OutputError):
    """The plan's data files were written but a page (map.html, report.html) was not."""

    def __init__(self, message: str, written: list[str]):
        super().__init__(message)
        self.written = written


def _html_failure(folder: Path, exc: Exception) -> PartialOutputError:
    """The error to report when rendering a page failed; re-raise anything else."""
    names = {p.name for p in Path(folder).iterdir()}
    if not {"plan.gpkg", "kpis.csv"} <= names or "run.json" in names:
        raise exc  # not a page: the data files themselves failed
    # the map (webmap.py) is written before the report: a complete map.html means the report failed
    in_map = any(Path(f.filename).name == "webmap.py" for f in traceback.extract_tb(exc.__traceback__))
    page = "report.html" if "map.html" in names and not in_map else "map.html"
    data = [n for n in ("plan.gpkg", "kpis.csv", "outlets.csv", "plan.xlsx") if n in names]
    parquet = sorted(n for n in names if n.endswith(".parquet"))  # --format gpkg,parquet
    written = data + parquet + ["run.json"] + (["map.html"] if page == "report.html" else [])
    said = data + (["plan_*.parquet"] if parquet else []) + written[len(data) + len(parquet) :]
    why = f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0]}".rstrip(": ")
    return PartialOutputError(
        f"{page} could not be written ({why}); {', '.join(said)} were written", written
    )


def _tell(progress: Progress | None, step: str, state: str) -> None:
    if progress is not None:
        progress(step, state)


# Plan.explore() shows what a run would: the plan evaluated against today's network.
register("plan.explore", lambda p: show("run.explore", run_of_plan(p)))
