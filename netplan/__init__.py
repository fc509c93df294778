"""netplan: plan tiered service networks with exact optimisation.

Quick start::

    import netplan
    scenario = netplan.Scenario.from_yaml("scenarios/demo.yaml")
    plan = netplan.plan(scenario)                      # exact, lexicographic MILP
    ev = netplan.evaluate(plan.outlets, plan.inputs.demand, scenario)
    ev.level_kpis()

Drive times on OpenStreetMap roads (travel mode ``network``)::

    net = netplan.roads.load_network("roads.osm.bz2")  # offline: .osm/.osm.bz2, .graphml, .osm.pbf
    result = netplan.run("scenarios/liechtenstein.yaml", out="out/li")
"""

from netplan import classic, roads, sweep  # textbook models, drive times, sweeps on Dask
from netplan._errors import (
    CompareError,
    InfeasiblePlanError,
    InputDataError,
    InputFileNotFoundError,
    NetplanError,
    NetplanWarning,
    OutputError,
    PlanValidationError,
    ScenarioError,
)
from netplan._version import __version__
from netplan.compare import Comparison, compare, write_comparison
from netplan.evaluation import Evaluation, baseline_outlets, check_plan, evaluate, validate_plan
from netplan.inputs import Inputs, candidates, inputs_from_frames, load_inputs, zones
from netplan.pipeline import RunResult, run, run_scenario, write_run
from netplan.planner import Plan, plan
from netplan.preparation import prepare
from netplan.present import display as _display  # noqa: F401 - registers reprs and explore()
from netplan.scenario import Scenario

__all__ = [
    "__version__",
    "CompareError",
    "Comparison",
    "Evaluation",
    "InfeasiblePlanError",
    "InputDataError",
    "InputFileNotFoundError",
    "Inputs",
    "NetplanError",
    "NetplanWarning",
    "OutputError",
    "Plan",
    "PlanValidationError",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "baseline_outlets",
    "candidates",
    "check_plan",
    "classic",
    "compare",
    "evaluate",
    "inputs_from_frames",
    "load_inputs",
    "plan",
    "prepare",
    "roads",
    "sweep",
    "run",
    "run_scenario",
    "validate_plan",
    "write_comparison",
    "write_run",
    "zones",
]
