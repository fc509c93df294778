"""Reading a scenario file and explaining its validation errors, one line each.

Kept apart from :mod:`netplan.scenario` (the models and their rules): every way a file can
fail to be read (folder, binary, not UTF-8, empty, not a mapping, bad YAML) and every pydantic
error becomes one :class:`ScenarioError` line naming the file, the key and the fix.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from netplan._errors import ScenarioError, did_you_mean

MAX_HORIZON_YEARS = 100  # operating cost of more than a century is no planning horizon


# ------------------------------------------------------------------------- reading
def read_yaml_mapping(path: Path) -> dict[str, Any]:
    """The top-level mapping of a YAML scenario file.

    Parameters
    ----------
    path : Path
        An existing file.

    Returns
    -------
    dict

    Raises
    ------
    ScenarioError
        One line naming the file: unreadable, binary, UTF-16 or not UTF-8 (with the line of
        the first bad byte), not valid YAML (with the line), empty, or not a mapping.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(
            f"{path}: cannot read the scenario file ({exc.strerror}); check its permissions"
        ) from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ScenarioError(f"{path}: the file is UTF-16 text; save it as UTF-8")
    if b"\x00" in data:
        raise ScenarioError(
            f"{path}: a binary file, not a YAML scenario; give the scenario's .yaml text file"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        offset = exc.start + (3 if data.startswith(b"\xef\xbb\xbf") else 0)
        line = data[:offset].count(b"\n") + 1
        raise ScenarioError(
            f"{path}: line {line}: not UTF-8 text (byte 0x{data[offset]:02x}); save the file as UTF-8"
        ) from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = str(getattr(exc, "problem", None) or exc).splitlines()[0]
        raise ScenarioError(f"{path}{where}: not valid YAML ({problem}); fix the syntax") from None
    except (ValueError, RecursionError) as exc:  # e.g. an impossible date such as 2024-13-45
        raise ScenarioError(
            f"{path}: not valid YAML ({str(exc).splitlines()[0] or type(exc).__name__}); fix the value"
        ) from None
    if raw is None:
        raise ScenarioError(
            f"{path}: the scenario file is empty; write its keys (name, tiers, demand, ...) as in scenarios/demo.yaml"
        )
    if not isinstance(raw, dict):
        kind = "a list" if isinstance(raw, list) else f"a single {type(raw).__name__} value"
        raise ScenarioError(
            f"{path}: the file holds {kind}; a scenario is a mapping of keys (name:, tiers:, demand:, ...) at the top level"
        )
    return raw


# ------------------------------------------------------------------------- errors
# the fix to suggest where a number is out of range or not finite, by key path
_FIXES = {
    "solver.mip_rel_gap": "the relative gap lies in [0, 1): 0 proves optimality, 0.01 stops within 1 %",
    "solver.time_limit": "give seconds > 0, or leave solver.time_limit out for no limit",
    "costs.horizon_years": f"give the years of operating cost to count, above 0 and at most {MAX_HORIZON_YEARS}",
}
_BOUNDS = {
    "greater_than": ("gt", "greater than"),
    "greater_than_equal": ("ge", "at least"),
    "less_than": ("lt", "less than"),
    "less_than_equal": ("le", "at most"),
}
# a loc part naming the branch of a union (``budget.total.float``), not a key
_BRANCH = re.compile(r"^(str|int|float|bool|none|[a-z-]+\[.*\])$")


def explain_validation_error(exc: ValidationError, where: str, root: type[BaseModel]) -> list[str]:
    """Turn pydantic's errors into one line each: key path, problem, fix.

    Parameters
    ----------
    exc : pydantic.ValidationError
    where : str
        The file (or ``"scenario"``) each line starts with.
    root : type
        The model the key paths start at (for the keys allowed where one is unknown).

    Returns
    -------
    list of str
        One line per problem; the errors of the branches of one union (``float | str``)
        become one line for the key.
    """
    lines: list[str] = []
    union: dict[str, tuple[int, str, list[str]]] = {}  # path -> (line index, shown, messages)
    for err in exc.errors():
        raw_loc = tuple(err["loc"])
        while len(raw_loc) > 1 and isinstance(raw_loc[-1], str) and _BRANCH.match(raw_loc[-1]):
            raw_loc = raw_loc[:-1]
        loc = [str(p) for p in raw_loc]
        path = _format_loc(raw_loc)
        kind = err["type"]
        value = err.get("input")
        shown = repr(value) if not isinstance(value, dict | list) else type(value).__name__
        # an assignment (scenario.solver.mip_rel_gap = 2) reports the key without its parents
        fix = next((v for k, v in _FIXES.items() if k == path or k.endswith("." + path)), "fix the value")
        if len(raw_loc) < len(err["loc"]):  # one branch of a union: one line per key
            if path not in union:
                union[path] = (len(lines), shown, [])
                lines.append("")
            union[path][2].append(err["msg"])
        elif kind == "extra_forbidden":
            allowed = _allowed_keys(loc[:-1], root)
            hint = did_you_mean(loc[-1], allowed)
            lines.append(
                f"{where}: unknown key '{path}'{hint}; allowed here: {', '.join(sorted(allowed))}"
            )
        elif kind == "missing":
            lines.append(
                f"{where}: missing key '{path}'; add it (see scenarios/demo.yaml for an example)"
            )
        elif kind == "finite_number":
            finite_fix = "give a finite number" if fix == "fix the value" else fix
            lines.append(f"{where}: {path}: NaN and infinity are not allowed (got {shown}); {finite_fix}")
        elif kind == "value_error":
            lines.append(f"{where}: {path}: {err['ctx']['error']}")
        elif kind in _BOUNDS:
            name, words = _BOUNDS[kind]
            limit = err["ctx"][name]
            limit = str(int(limit)) if float(limit).is_integer() else f"{limit:g}"
            lines.append(f"{where}: {path}: must be {words} {limit}, got {shown}; {fix}")
        else:
            lines.append(f"{where}: {path}: {err['msg']} (got {shown}); fix the value")
    for path, (index, shown, messages) in union.items():
        first, *rest = dict.fromkeys(messages)  # "Input should be a valid number or a valid string"
        text = first + "".join(" or " + m.removeprefix("Input should be ") for m in rest)
        lines[index] = f"{where}: {path}: {text} (got {shown}); fix the value"
    return lines


def _format_loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _allowed_keys(loc: list[str], root: type[BaseModel]) -> list[str]:
    """Field names of the model at a location of the tree under ``root``."""
    model: Any = root
    for part in loc:
        if part.isdigit():
            continue
        field = model.model_fields.get(part) if hasattr(model, "model_fields") else None
        if field is None:
            return []
        model = _inner_model(field.annotation)
        if model is None:
            return []
    return (
        [k for k in model.model_fields if k != "source"] if hasattr(model, "model_fields") else []
    )


def _inner_model(annotation: Any) -> Any:
    import typing

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None
