"""The one point where core objects reach the presentation layer: reprs and ``explore()``.

:class:`~netplan.planner.Plan`, :class:`~netplan.evaluation.Evaluation` and
:class:`~netplan.pipeline.RunResult` call :func:`show`; :mod:`netplan.present.display` and
:mod:`netplan.pipeline` register what each hook does when they are imported (``import
netplan`` imports both). So the core never imports the presentation layer, yet Jupyter shows a
plan as a table and ``plan.explore()`` returns its map.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_HOOKS: dict[str, Callable[[Any], Any]] = {}


def register(name: str, function: Callable[[Any], Any]) -> None:
    """Make ``show(name, obj)`` call ``function(obj)`` (the last registration wins)."""
    _HOOKS[name] = function


def show(name: str, obj: Any) -> Any:
    """Run the display hook ``name`` on ``obj``.

    Raises
    ------
    RuntimeError
        When nothing registered ``name``: only possible while ``netplan`` itself is still
        being imported.
    """
    try:
        function = _HOOKS[name]
    except KeyError:
        raise RuntimeError(f"no display registered for {name!r}; import netplan first") from None
    return function(obj)
