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

from . import (  # roads: drive times; zones: zone spreading; candidates: generated sites
    candidates,
    classic,  # textbook models: netplan.classic.p_median, ...
    roads,
    zones,
)
from ._errors import (
    CompareError,
    InfeasiblePlanError,
    InputDataError,
    InputFileNotFoundError,
    NetplanError,
    OutputError,
    PlanValidationError,
    ScenarioError,
)
from .compare import Comparison, compare, write_comparison
from .evaluate import Evaluation, baseline_outlets, evaluate
from .inputs import Inputs, NetplanWarning, inputs_from_frames, load_inputs
from .pipeline import RunResult, run, run_scenario, write_run
from .planner import Plan, plan, prepare
from .scenario import Scenario
from .validator import check_plan, validate_plan

__version__ = "0.1.0"

__all__ = [
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
    "run",
    "run_scenario",
    "validate_plan",
    "write_comparison",
    "write_run",
    "zones",
]
