"""The public API survives the package's layout: README's examples run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import netplan

from conftest import RUN_FILES

README = Path(__file__).resolve().parent.parent / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_readme_from_python_example_runs_on_the_small_case(small_case, tmp_path, monkeypatch):
    (block,) = [b for b in _python_blocks() if "netplan.run_scenario" in b]
    # the README's paths, pointed at the small test case (the demo takes half a minute)
    code = block.replace('"scenarios/demo.yaml"', repr(str(small_case))).replace(
        '"out/mine"', repr(str(tmp_path / "mine"))
    )
    assert code != block
    namespace: dict[str, object] = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - our own README
    plan, result = namespace["plan"], namespace["result"]
    assert plan.status == "optimal"
    assert result.plan.objective == pytest.approx(plan.objective)
    assert sorted(p.name for p in (tmp_path / "mine").iterdir() if not p.name.startswith(".")) == [n for n in RUN_FILES if not n.startswith(".")]


@pytest.mark.parametrize(
    "dotted",
    [
        "Scenario.from_yaml",
        "plan",
        "prepare",
        "evaluate",
        "baseline_outlets",
        "run_scenario",
        "run",
        "write_run",
        "compare",
        "write_comparison",
        "inputs_from_frames",
        "load_inputs",
        "validate_plan",
        "NetplanError",
        "NetplanWarning",
        "roads.load_network",
        "roads.DEFAULT_SPEEDS_KMH",
        "roads.NetworkTravel",
        "classic.LocationData",
        "classic.p_median",
        "classic.p_center",
        "classic.max_covering",
        "classic.set_covering",
        "classic.facility_location",
        "sweep.run_sweep",
        "sweep.budget_axis",
        "sweep.write_sweep",
        "sweep.MAX_POINTS",
        "zones.spread_zones",
        "candidates.generate_candidates",
    ],
)
def test_public_names_stay_where_users_reach_them(dotted):
    obj = netplan
    for part in dotted.split("."):
        obj = getattr(obj, part)
    if callable(obj):  # a function or class of netplan's own, not something re-exported by chance
        assert obj.__module__.startswith("netplan."), obj.__module__
    else:  # the two constants: MAX_POINTS and DEFAULT_SPEEDS_KMH
        assert (dotted, type(obj)) in {
            ("sweep.MAX_POINTS", int),
            ("roads.DEFAULT_SPEEDS_KMH", dict),
        }


def test_package_level_names_are_the_functions_not_the_subpackages():
    # netplan.compare and netplan.evaluate are functions users call, although packages of the
    # same concern exist (netplan/compare/, netplan/evaluation/)
    assert callable(netplan.compare) and netplan.compare.__name__ == "compare"
    assert callable(netplan.evaluate) and netplan.evaluate.__name__ == "evaluate"
