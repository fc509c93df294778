"""netplan: plan tiered service networks with exact optimisation."""

from ._errors import (
    InfeasiblePlanError,
    InputDataError,
    InputFileNotFoundError,
    NetplanError,
    OutputError,
    PlanValidationError,
    ScenarioError,
)
from .inputs import Inputs, NetplanWarning, inputs_from_frames, load_inputs
from .planner import Plan, plan, prepare
from .scenario import Scenario

__version__ = "0.1.0"
