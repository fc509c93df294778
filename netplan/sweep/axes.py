"""Sweep axes: reading swept values (``a:b:n`` or lists) and setting dotted keys on a scenario."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import yaml
from pydantic import ValidationError

from netplan._errors import ScenarioError
from netplan.scenario import Scenario
from netplan.scenario.text import explain_validation_error

# Points of one sweep at most (see :mod:`netplan.sweep`; the CLI's --help says the same).
MAX_POINTS = 1000


@dataclass(frozen=True)
class SweepAxis:
    """One swept scenario key and its values; ``fixed`` keys are set on every point."""

    key: str
    values: tuple[Any, ...]
    fixed: tuple[tuple[str, Any], ...] = ()

    @property
    def column(self) -> str:
        return self.key


def parse_values(text: str, what: str) -> list[Any]:
    """``a:b:n`` (linspace, both ends) or a comma list of YAML scalars.

    Raises
    ------
    ScenarioError
        ``n`` is not a positive integer, or ``a``/``b`` are not numbers.
    """
    text = text.strip()
    parts = text.split(":")
    if len(parts) == 3 and all(p.strip() for p in parts):
        try:
            a, b = float(parts[0]), float(parts[1])
            n = int(parts[2])
        except ValueError:
            raise ScenarioError(
                f"{what}: cannot read {text!r} as FROM:TO:N (start, stop, number of points); e.g. 1e6:10e6:10"
            ) from None
        if n < 1:
            raise ScenarioError(f"{what}: the number of points in {text!r} must be at least 1")
        if n > MAX_POINTS:  # refuse before allocating: 1e8 points would fill the memory
            raise ScenarioError(
                f"{what}: {n} points in {text!r}; a sweep has at most {MAX_POINTS} points at once, split it into several"
            )
        if not (math.isfinite(a) and math.isfinite(b)):
            raise ScenarioError(f"{what}: FROM and TO must be finite numbers, got {text!r}")
        return [float(v) for v in np.linspace(a, b, n)]
    if ":" in text:  # never let YAML read '1:2' as a base-60 number
        raise ScenarioError(
            f"{what}: cannot read {text!r}; give FROM:TO:N (start, stop, number of points) or v1,v2,..."
        )
    items = text.split(",")
    if len(items) > MAX_POINTS:
        raise ScenarioError(
            f"{what}: {len(items)} values; a sweep has at most {MAX_POINTS} points at once, split it into several"
        )
    values = []
    for item in items:
        if not item.strip():
            raise ScenarioError(f"{what}: empty value in {text!r}; give FROM:TO:N or v1,v2,...")
        values.append(yaml.safe_load(item.strip()))
    return values


def budget_axis(text: str) -> SweepAxis:
    """``--budgets``: ``a:b:n`` or a comma list of money; a trailing ``x`` on every value
    means multiples of today's cost (``0.8x:1.4x:7``)."""
    what = "--budgets"
    compact = text.replace(" ", "")
    parts = compact.split(":")
    items = parts[:2] if len(parts) == 3 else compact.split(",")
    relative = [item.endswith("x") for item in items]
    if any(relative) and not all(relative):
        raise ScenarioError(
            f"{what}: write every value as a multiple (0.8x:1.4x:7) or none of them, got {text!r}"
        )
    if all(relative):
        cleaned = re.sub(r"x(?=(:|,|$))", "", compact)
        values = [f"{_number(v, what):g} x baseline" for v in parse_values(cleaned, what)]
    else:
        values = [_number(v, what) for v in parse_values(text, what)]
        for v in values:
            if v < 0:
                raise ScenarioError(f"{what}: a budget must be >= 0, got {v:g}")
    return SweepAxis("budget.total", tuple(values))


def target_axis(text: str, scenario: Scenario) -> SweepAxis:
    """``--targets LEVEL=VALUES``: a ``min_cost`` sweep of one level's coverage target."""
    what = "--targets"
    if "=" not in text:
        raise ScenarioError(f"{what}: write LEVEL=VALUES, e.g. community=0.8:0.95:4 (got {text!r})")
    level, values = text.split("=", 1)
    key = scenario.tiers[scenario.tier_index(level.strip(), f"{what} {level.strip()}")].key
    numbers = [_number(v, what) for v in parse_values(values, f"{what} {key}")]
    for v in numbers:
        if not 0 <= v <= 1:
            raise ScenarioError(
                f"{what} {key}: a target is a share between 0 and 1, got {v:g}; e.g. {key}=0.8:0.95:4"
            )
    return SweepAxis(
        f"objective.targets.{key}", tuple(numbers), fixed=(("objective.type", "min_cost"),)
    )


def key_axis(text: str) -> SweepAxis:
    """``--set KEY=VALUES`` for any scenario key (checked when the points are built)."""
    if "=" not in text:
        raise ScenarioError(
            f"--set: write KEY=VALUES, e.g. solver.mip_rel_gap=0,0.01 (got {text!r})"
        )
    key, values = text.split("=", 1)
    key = key.strip()
    return SweepAxis(key, tuple(parse_values(values, f"--set {key}")))


def _number(value: Any, what: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise ScenarioError(f"{what}: {value!r} is not a number") from None
    if not math.isfinite(number):
        raise ScenarioError(f"{what}: {value!r} is not a finite number")
    return number


def _key_parts(key: str) -> list[str | int]:
    """``counts[0].max`` or ``counts.0.max`` -> ['counts', 0, 'max']."""
    parts: list[str | int] = []
    for piece in re.split(r"\.|(?=\[)", key):
        if not piece:
            continue
        m = re.fullmatch(r"\[(\d+)\]", piece)
        if m:
            parts.append(int(m.group(1)))
        elif piece.isdigit():
            parts.append(int(piece))
        else:
            parts.append(piece)
    return parts


def with_key(scenario: Scenario, key: str, value: Any, where: str = "--set") -> Scenario:
    """A copy of ``scenario`` with the (dotted) ``key`` set to ``value``, validated again.

    Raises
    ------
    ScenarioError
        Unknown key (with a suggestion), bad value, or a rule the new value breaks.
    """
    return with_keys(scenario, [(key, value)], where)


def with_keys(scenario: Scenario, changes: Sequence[tuple[str, Any]], where: str) -> Scenario:
    """A copy of ``scenario`` with several dotted keys set, validated once."""
    data = scenario.model_dump()
    for key, value in changes:
        parts = _key_parts(key)
        if not parts:
            raise ScenarioError(f"{where}: empty key")
        node: Any = data
        for i, part in enumerate(parts[:-1]):
            nxt = node[part] if _has(node, part) else None
            if nxt is None:  # an optional section not given: create it
                nxt = {} if not isinstance(parts[i + 1], int) else []
                if isinstance(node, dict):
                    node[part] = nxt
                else:
                    raise ScenarioError(f"{where}: {key}: no item [{part}] in the scenario")
            node = nxt
        last = parts[-1]
        if isinstance(node, list):
            if not isinstance(last, int) or last >= len(node):
                raise ScenarioError(f"{where}: {key}: no item [{last}] in the scenario")
            node[last] = value
        elif isinstance(node, dict):
            node[last] = value
        else:
            raise ScenarioError(f"{where}: {key}: {parts[:-1]} is a value, not a section")
    try:
        out = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError("\n".join(explain_validation_error(exc, where, Scenario))) from None
    out.source = scenario.source
    out._check_semantics(where)
    return out


def _has(node: Any, part: str | int) -> bool:
    if isinstance(node, dict):
        return part in node
    return isinstance(node, list) and isinstance(part, int) and part < len(node)
