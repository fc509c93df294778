"""The strict base of every scenario section: unknown keys, NaN and infinity are errors."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from netplan._errors import ScenarioError
from netplan.scenario.text import explain_validation_error


class StrictModel(BaseModel):
    """A scenario section: extra keys forbidden, every assignment validated and explained."""

    # the model that key paths in messages start at: netplan.scenario.spec sets it to Scenario
    # (a section cannot import the model that holds it without an import circle)
    key_root: ClassVar[type[BaseModel] | None] = None

    # allow_inf_nan=False: NaN and infinity are errors in every number of a scenario (a NaN
    # level weight silently dropped its level, a NaN budget made every plan infeasible)
    model_config = ConfigDict(
        extra="forbid", validate_assignment=True, arbitrary_types_allowed=True, allow_inf_nan=False
    )

    def __setattr__(self, name: str, value: Any) -> None:
        # assignment is validated too; its errors are explained like those of a file
        try:
            super().__setattr__(name, value)
        except ValidationError as exc:
            root = StrictModel.key_root or type(self)
            raise ScenarioError("\n".join(explain_validation_error(exc, "scenario", root))) from None
