"""NaN, infinity, out-of-range numbers, the ratio rule per family, and unreadable scenario files.

Every case is one exception of the named type whose one line holds the exact fragment; the
ratio rule is tested just under and just over its warning (1e6) and error (1e9) limits.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import yaml
from shapely.geometry import Point

import netplan
from netplan import InputDataError, NetplanWarning, Scenario, ScenarioError
from netplan.scenario.conditioning import Member, ratio_problem

from conftest import DEMO_SCENARIO, write_small_case


def _set(raw: dict, dotted: str, value) -> None:
    """``raw['a']['b'][0]['c'] = value`` for ``dotted = 'a.b.0.c'``."""
    *parents, last = dotted.split(".")
    node = raw
    for part in parents:
        node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
    node[int(last) if last.isdigit() else last] = value


def _scenario_file(tmp_path, changes: dict) -> object:
    path = write_small_case(tmp_path / "c")
    raw = yaml.safe_load(path.read_text())
    for dotted, value in changes.items():
        _set(raw, dotted, value)
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


# --------------------------------------------------------------- scenario values
NAN, INF = float("nan"), float("inf")
SCENARIO_CASES = {
    "level weight NaN": (
        {"objective.level_weights": {"hub": NAN}},
        "objective.level_weights.hub: NaN and infinity are not allowed (got nan)",
    ),
    "level weight 1e300": (
        {"objective.level_weights": {"hub": 1e300}},
        "level weights: the largest non-zero value is 1e+300 times the smallest (1e+300 vs 1), above 1e9",
    ),
    "every level weight 0": (
        {"objective.level_weights": {"hub": 0, "point": 0}},
        "objective.level_weights: every level weighs 0",
    ),
    "budget NaN": (
        {"budget.total": NAN},
        "budget.total: NaN and infinity are not allowed, got nan; give a number, 'baseline' or "
        "'1.1 x baseline', or leave budget.total out for no limit",
    ),
    "budget inf": ({"budget.total": INF}, "budget.total: NaN and infinity are not allowed, got inf"),
    "capex NaN": ({"budget.capex": NAN}, "budget.capex: NaN and infinity are not allowed (got nan)"),
    "horizon 1e308": (
        {"costs.horizon_years": 1e308},
        "costs.horizon_years: must be at most 100, got 1e+308; give the years of operating cost "
        "to count, above 0 and at most 100",
    ),
    "horizon 0": ({"costs.horizon_years": 0}, "costs.horizon_years: must be greater than 0, got 0"),
    "cost NaN": (
        {"costs.direct.hub.open": NAN},
        "costs.direct.hub.open: NaN and infinity are not allowed (got nan)",
    ),
    "cost negative": (
        {"costs.direct.point.close": -1},
        "costs.direct.point.close: must be at least 0, got -1",
    ),
    "mip_rel_gap 2": (
        {"solver.mip_rel_gap": 2},
        "solver.mip_rel_gap: must be less than 1, got 2; the relative gap lies in [0, 1)",
    ),
    "mip_rel_gap 1": ({"solver.mip_rel_gap": 1}, "solver.mip_rel_gap: must be less than 1, got 1"),
    "mip_rel_gap negative": (
        {"solver.mip_rel_gap": -0.1},
        "solver.mip_rel_gap: must be at least 0, got -0.1",
    ),
    "mip_rel_gap NaN": (
        {"solver.mip_rel_gap": NAN},
        "solver.mip_rel_gap: NaN and infinity are not allowed (got nan)",
    ),
    "time_limit 0": (
        {"solver.time_limit": 0},
        "solver.time_limit: must be greater than 0, got 0; give seconds > 0, or leave "
        "solver.time_limit out for no limit",
    ),
    "time_limit -5": ({"solver.time_limit": -5}, "solver.time_limit: must be greater than 0, got -5"),
    "time_limit NaN": (
        {"solver.time_limit": NAN},
        "solver.time_limit: NaN and infinity are not allowed (got nan); give seconds > 0",
    ),
    "time_limit inf": (
        {"solver.time_limit": INF},
        "solver.time_limit: NaN and infinity are not allowed (got inf)",
    ),
    "backend glpk": (
        {"solver.backend": "glpk"},
        "solver.backend: Input should be 'highs' or 'cbc' (got 'glpk')",
    ),
    "reach 1e999 km": (
        {"tiers.0.reach": "1e999 km"},
        "tiers[0].reach: '1e999 km' is not a finite amount",
    ),
    "reach nan km": ({"tiers.0.reach": "nan km"}, "tiers[0].reach: cannot read 'nan km'"),
    "reach beyond the Earth": (
        {"tiers.0.reach": "30000 km"},
        "tiers[0].reach: '30000 km' is longer than any distance a reach can mean; give at most 20037.5 km",
    ),
    "reach ratio above 1e9": (
        {"tiers.1.reach": "0.00001 m"},
        "reaches and linkages (in m): the largest non-zero value is 1.2e+09 times the smallest "
        "(12000 vs 1e-05), above 1e9",
    ),
    "capacity inf": (
        {"capacity": {"per_tier": {"hub": INF}}},
        "capacity.per_tier.hub: NaN and infinity are not allowed (got inf)",
    ),
    "target NaN": (
        {"objective": {"type": "min_cost", "targets": {"point": NAN}}},
        "objective.targets.point: NaN and infinity are not allowed (got nan)",
    ),
    "scenario costs over 1e9": (
        {"costs.direct.hub.open": 5_000_000_005.0},
        "costs: the largest non-zero value is 1e+09 times the smallest (5000000005 vs 5), above 1e9",
    ),
}


@pytest.mark.parametrize("case", list(SCENARIO_CASES))
def test_bad_scenario_number_is_one_scenario_error(tmp_path, case):
    changes, fragment = SCENARIO_CASES[case]
    path = _scenario_file(tmp_path, changes)
    with pytest.raises(ScenarioError) as err:
        Scenario.from_yaml(path)
    message = str(err.value)
    assert len(message.splitlines()) == 1, message
    assert message.startswith(f"{path}: "), message
    assert fragment in message, message


def test_scenario_ratio_names_the_outlying_key(tmp_path):
    path = _scenario_file(tmp_path, {"objective.level_weights": {"hub": 1e300}})
    with pytest.raises(ScenarioError) as err:
        Scenario.from_yaml(path)
    assert (
        "Outlying largest values: objective.level_weights.hub = 1e+300; compared with "
        "level 'point' (default) = 1; fix them (a typo or a wrong unit?), or set values that "
        "should not count to 0"
    ) in str(err.value)


@pytest.mark.parametrize(
    ("changes", "warning"),
    [
        ({"costs.direct.hub.open": 5_000_000.0}, None),  # ratio 1e6 exactly: no warning
        (
            {"costs.direct.hub.open": 5_000_005.0},  # just over 1e6: a warning
            "costs: the largest non-zero value is 1e+06 times the smallest (5000005 vs 5), above 1e6: "
            "the smallest may be lost within the solver's tolerances (about 1e-7 of the largest "
            "coefficient). Outlying largest values: costs.direct.hub.open = 5000005; compared with "
            "costs.direct.point.close = 5; check them",
        ),
        (
            {"costs.direct.hub.open": 5_000_000_000.0},  # 1e9 exactly: a warning, no error
            "costs: the largest non-zero value is 1e+09 times the smallest (5000000000 vs 5), above 1e6",
        ),
        (
            {"objective.level_weights": {"hub": 1, "point": 1e-7}},
            "level weights: the largest non-zero value is 1e+07 times the smallest (1 vs 1e-07), above 1e6",
        ),
    ],
)
def test_scenario_ratio_warning_between_the_limits(tmp_path, changes, warning):
    """Scenario warnings come with the inputs' (printed once, kept in run.json), not on loading."""
    path = _scenario_file(tmp_path, changes)
    with warnings.catch_warnings():
        warnings.simplefilter("error", NetplanWarning)
        scenario = Scenario.from_yaml(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        inputs = netplan.load_inputs(scenario)
    ours = [str(w.message) for w in caught if issubclass(w.category, NetplanWarning)]
    assert ours == inputs.warnings
    if warning is None:
        assert ours == []
    else:
        assert len(ours) == 1 and ours[0].startswith(warning), ours


def test_cost_column_joins_the_scenario_costs_in_one_family(tmp_path):
    """With a cost column the family is checked once, scenario values and column together."""
    path = _scenario_file(tmp_path, {"costs.direct.hub.open": 5_000_005.0})
    _edit(path, "candidates.csv", "open_cost_point", [3], "50")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        inputs = netplan.load_inputs(Scenario.from_yaml(path))
    assert len(inputs.warnings) == 1 and len(caught) == 1
    assert inputs.warnings[0].startswith("costs: the largest non-zero value is 1e+06 times the smallest (5000005 vs 5)")
    assert "compared with costs.direct.point.close = 5" in inputs.warnings[0]


def test_replace_from_dict_and_assignment_raise_scenario_errors(tmp_path):
    scenario = Scenario.from_yaml(write_small_case(tmp_path / "c"))
    with pytest.raises(ScenarioError) as err:
        scenario.replace(solver={**scenario.solver.model_dump(), "time_limit": 0})
    assert str(err.value) == (
        f"{scenario.source}: solver.time_limit: must be greater than 0, got 0; give seconds > 0, "
        "or leave solver.time_limit out for no limit"
    )
    with pytest.raises(ScenarioError, match=r"^scenario: mip_rel_gap: must be less than 1, got 2; the relative gap lies in \[0, 1\)"):
        scenario.solver.mip_rel_gap = 2
    assert scenario.solver.mip_rel_gap == 0  # the refused assignment changed nothing
    with pytest.raises(ScenarioError, match=r"^scenario: a scenario must be a mapping of keys .*got list$"):
        Scenario.from_dict([1, 2])  # type: ignore[arg-type]
    raw = yaml.safe_load(scenario.source.read_text())
    raw["budget"] = {"total": NAN}
    with pytest.raises(ScenarioError, match=r"^scenario: budget\.total: NaN and infinity"):
        Scenario.from_dict(raw, base_dir=scenario.source.parent)


# ------------------------------------------------------------------ scenario files
FILE_CASES = {
    "Latin-1": (
        "name: Zürich\n".encode("latin-1"),
        "line 1: not UTF-8 text (byte 0xfc); save the file as UTF-8",
    ),
    "Latin-1 on line 3": (
        "# plan\ndescription: x\nname: M\xfcnchen\n".encode("latin-1"),
        "line 3: not UTF-8 text (byte 0xfc); save the file as UTF-8",
    ),
    "empty": (b"", "the scenario file is empty; write its keys"),
    "only a comment": (b"# nothing yet\n", "the scenario file is empty"),
    "a list": (
        b"- name: a\n- name: b\n",
        "the file holds a list; a scenario is a mapping of keys",
    ),
    "a number": (b"42\n", "the file holds a single int value; a scenario is a mapping"),
    "syntax error": (
        b"name: a\ntiers: [\n  - key: b\n",
        "line 3: not valid YAML (",
    ),
    "tab indentation": (b"name: a\ntiers:\n\t- key: b\n", "line 3: not valid YAML ("),
    "binary": (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        "a binary file, not a YAML scenario; give the scenario's .yaml text file",
    ),
    "UTF-16": ("name: Zürich\n".encode("utf-16"), "the file is UTF-16 text; save it as UTF-8"),
    "impossible date": (b"name: a\ndate: 2024-13-45\n", "not valid YAML (month must be in 1..12)"),
}


@pytest.mark.parametrize("case", list(FILE_CASES))
def test_unreadable_scenario_file_is_one_line(tmp_path, case):
    data, fragment = FILE_CASES[case]
    path = tmp_path / "scenario.yaml"
    path.write_bytes(data)
    with pytest.raises(ScenarioError) as err:
        Scenario.from_yaml(path)
    message = str(err.value)
    assert len(message.splitlines()) == 1, message
    assert message.startswith(f"{path}"), message
    assert fragment in message, message
    assert path.read_bytes() == data  # the file is never touched


def test_scenario_path_is_a_folder(tmp_path):
    with pytest.raises(ScenarioError) as err:
        Scenario.from_yaml(tmp_path)
    assert str(err.value) == (
        f"{tmp_path}: is a folder, not a scenario file; give the path of the scenario's .yaml file"
    )


def test_utf8_with_bom_loads(tmp_path):
    path = write_small_case(tmp_path / "c")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"name: small", "name: Zürich".encode()))
    assert Scenario.from_yaml(path).name == "Zürich"


# --------------------------------------------------------------------- input data
def _edit(path, name: str, column: str, rows: list[int], value: str) -> None:
    table = pd.read_csv(path.parent / name, dtype=str)
    table.loc[rows, column] = value
    table.to_csv(path.parent / name, index=False)


DATA_CASES = {
    # name: (file, column, rows (0-based), value, fragment)
    "weight inf": (
        "demand.csv", "customers", [4], "inf",
        "demand.csv: row 6: column 'customers' is inf; it must be a finite number >= 0 (1 such rows)",
    ),
    "weight 1e999": (
        "demand.csv", "customers", [4, 7, 10], "1e999",
        "demand.csv: row 6: column 'customers' is inf; it must be a finite number >= 0 (3 such rows: 6, 9, 12)",
    ),
    "weight NaN on many rows": (
        "demand.csv", "customers", list(range(3, 10)), "nan",
        "demand.csv: row 5: column 'customers' is empty or NaN (7 such rows: 5, 6, 7, 8, 9 and 2 more)",
    ),
    "weight -inf": (
        "demand.csv", "customers", [0], "-inf",
        "demand.csv: row 2: column 'customers' is -inf; it must be a finite number >= 0",
    ),
    "cost NaN text": (
        "candidates.csv", "open_cost_point", [3], "NaN",
        "candidates.csv: row 5: column 'open_cost_point' is NaN (1 such rows); leave the cell empty "
        "for the default or give a number",
    ),
    "cost inf": (
        "candidates.csv", "open_cost_point", [3], "inf",
        "candidates.csv: row 5: column 'open_cost_point' is inf; it must be a finite number >= 0",
    ),
    "cost negative": (
        "candidates.csv", "close_cost", [0], "-3",
        "candidates.csv: row 2: column 'close_cost' is -3; it must be a finite number >= 0",
    ),
    "coordinate inf": (
        "demand.csv", "lon", [2], "inf",
        "demand.csv: row 4: coordinates lon='inf', lat=",
    ),
    "coordinate NaN": (
        "outlets.csv", "lat", [0, 1], "nan",
        "are not finite numbers (2 such rows: 2, 3); fill them in or remove the rows",
    ),
    "one customer of weight 1e16": (
        "demand.csv", "customers", [4], "1e16",
        "demand weights (every level): the largest non-zero value is 1e+16 times the smallest "
        "(1e+16 vs 1), above 1e9: the solver's tolerances (about 1e-7 of the largest coefficient) "
        "cannot plan with both. Outlying largest values: ",
    ),
    "one customer of weight 1e300": (
        "demand.csv", "customers", [4], "1e300",
        "demand.csv column 'customers' row 6 (1e+300)",
    ),
    "weight ratio just over 1e9": (
        "demand.csv", "customers", [4, 8], "1000000001",
        "demand.csv column 'customers' rows 6 (1000000001), 10 (1000000001); compared with ",
    ),
    "a tiny weight": (
        "demand.csv", "customers", [7], "1e-12",
        "Outlying smallest values: ",
    ),
    "one cost column value 1e12": (
        "candidates.csv", "open_cost_point", [3], "1e12",
        "costs: the largest non-zero value is 2e+11 times the smallest (1e+12 vs 5), above 1e9",
    ),
}


@pytest.mark.parametrize("case", list(DATA_CASES))
def test_bad_data_is_one_input_data_error(tmp_path, case):
    name, column, rows, value, fragment = DATA_CASES[case]
    path = write_small_case(tmp_path / "c")
    if column not in pd.read_csv(path.parent / name, nrows=0).columns:
        _edit(path, name, column, [], "")  # add the optional column, empty (= default)
    _edit(path, name, column, rows, value)
    before = {p.name: p.read_bytes() for p in path.parent.iterdir()}
    with pytest.raises(InputDataError) as err:
        netplan.load_inputs(Scenario.from_yaml(path))
    message = str(err.value)
    assert len(message.splitlines()) == 1, message
    assert fragment in message, message
    assert {p.name: p.read_bytes() for p in path.parent.iterdir()} == before


def test_weight_1e16_names_column_and_row(tmp_path):
    path = write_small_case(tmp_path / "c")
    _edit(path, "demand.csv", "customers", [4], "1e16")
    with pytest.raises(InputDataError) as err:
        netplan.load_inputs(Scenario.from_yaml(path))
    ones = (pd.read_csv(path.parent / "demand.csv")["customers"] == 1).to_numpy().nonzero()[0] + 2
    assert (
        f"Outlying largest values: {path.parent / 'demand.csv'} column 'customers' row 6 (1e+16); "
        f"compared with {path.parent / 'demand.csv'} column 'customers' rows {ones[0]} (1), "
        f"{ones[1]} (1), {ones[2]} (1) and {len(ones) - 3} more; fix them"
    ) in str(err.value)


@pytest.mark.parametrize(
    ("value", "outcome"),
    [
        ("1000000", "none"),  # ratio 1e6 exactly (smallest weight 1): nothing
        ("1000001", "warning"),  # just over 1e6
        ("1000000000", "warning"),  # 1e9 exactly: still only a warning
        ("1000000001", "error"),  # just over 1e9
    ],
)
def test_weight_ratio_just_under_and_over_the_limits(tmp_path, value, outcome):
    path = write_small_case(tmp_path / "c")
    _edit(path, "demand.csv", "customers", [4], value)
    scenario = Scenario.from_yaml(path)
    if outcome == "error":
        with pytest.raises(InputDataError, match=r"^demand weights \(every level\): .* above 1e9: "):
            netplan.load_inputs(scenario)
        return
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        inputs = netplan.load_inputs(scenario)
    ours = [str(w.message) for w in caught if issubclass(w.category, NetplanWarning)]
    assert ours == inputs.warnings
    if outcome == "none":
        assert ours == []
    else:
        assert len(ours) == 1 and ours[0].startswith(
            f"demand weights (every level): the largest non-zero value is {float(value):.3g} times "
            f"the smallest ({float(value):.10g} vs 1), above 1e6: the smallest may be lost"
        ), ours


def test_per_level_weight_column_is_its_own_family(tmp_path):
    path = write_small_case(tmp_path / "c")
    demand = pd.read_csv(path.parent / "demand.csv")
    demand["walk_ins"] = demand["customers"] * 1e12  # its own family: 1e12..5e12 is fine
    demand.to_csv(path.parent / "demand.csv", index=False)
    raw = yaml.safe_load(path.read_text())
    raw["demand"]["weights"] = {"point": "walk_ins"}
    raw["objective"] = {"type": "min_cost", "targets": {"point": 0.5}}  # no combined objective
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    with warnings.catch_warnings():
        warnings.simplefilter("error", NetplanWarning)
        inputs = netplan.load_inputs(Scenario.from_yaml(path))
    assert inputs.weights[:, 1].max() == 5e12
    _edit(path, "demand.csv", "walk_ins", [9], "1")
    with pytest.raises(InputDataError, match=r"^demand weights \(level point\): .*column 'walk_ins' row 11 \(1\)"):
        netplan.load_inputs(Scenario.from_yaml(path))


def test_level_weight_times_demand_weight_is_one_family(tmp_path):
    """Level weights 1 and 1e8 (a warning) with weights up to 500 (fine): 5e10 in one objective."""
    path = _scenario_file(tmp_path, {"objective.level_weights": {"hub": 1, "point": 1e8}})
    _edit(path, "demand.csv", "customers", [4], "500")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NetplanWarning)
        scenario = Scenario.from_yaml(path)
        with pytest.raises(InputDataError) as err:
            netplan.load_inputs(scenario)
    assert str(err.value).startswith(
        "coverage objective (level weight x demand weight): the largest non-zero value is 5e+10 "
        "times the smallest (5e+10 vs 1), above 1e9"
    ), str(err.value)
    assert "column 'customers' x level weight 1e+08 (point) row 6 (5e+10)" in str(err.value)


def test_infinite_coordinates_in_a_geopackage(tmp_path):
    """GeoPackage keeps an infinite coordinate (a NaN point it stores as empty: 'empty geometry')."""
    path = write_small_case(tmp_path / "c")
    cand = pd.read_csv(path.parent / "candidates.csv")
    geometry = [Point(x, y) for x, y in zip(cand.lon, cand.lat, strict=True)]
    geometry[2] = Point(np.inf, 47.1)
    gpd.GeoDataFrame(cand, geometry=geometry, crs=4326).to_file(path.parent / "cand.gpkg")
    raw = yaml.safe_load(path.read_text())
    raw["candidates"]["path"] = "cand.gpkg"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    with pytest.raises(InputDataError) as err:
        netplan.load_inputs(Scenario.from_yaml(path))
    assert str(err.value) == (
        f"{path.parent / 'cand.gpkg'}: row 3: coordinates are NaN or infinite (1 such rows); fix or remove the rows"
    )


def test_nan_coordinates_in_memory_are_named(tmp_path):
    path = write_small_case(tmp_path / "c")
    scenario = Scenario.from_yaml(path)
    demand = pd.read_csv(scenario.demand.path)
    frame = gpd.GeoDataFrame(demand, geometry=gpd.points_from_xy(demand.lon, demand.lat), crs=4326)
    frame.loc[3, "geometry"] = Point(np.inf, 47.1)
    cand = pd.read_csv(scenario.candidates.path)
    sites = gpd.GeoDataFrame(cand, geometry=gpd.points_from_xy(cand.lon, cand.lat), crs=4326)
    with pytest.raises(InputDataError) as err:
        netplan.inputs_from_frames(scenario.replace(outlets=None), demand=frame, candidates=sites)
    assert str(err.value) == (
        f"{scenario.demand.path}: row 5: coordinates are NaN or infinite (1 such rows); fix or remove the rows"
    )


# ------------------------------------------------------------- duplicate columns
def _duplicate(path, name: str, column: str) -> None:
    text = (path.parent / name).read_text().splitlines()
    lines = [text[0] + f",{column}"] + [line + ",x" for line in text[1:]]
    (path.parent / name).write_text("\n".join(lines) + "\n")


def test_duplicate_column_netplan_reads_is_an_error(tmp_path):
    path = write_small_case(tmp_path / "c")
    _duplicate(path, "demand.csv", "customers")
    with pytest.raises(InputDataError) as err:
        netplan.load_inputs(Scenario.from_yaml(path))
    assert str(err.value) == (
        f"{path.parent / 'demand.csv'}: column 'customers' occurs more than once in the demand layer "
        "and netplan reads it; rename or remove the extra copies"
    )


def test_duplicate_column_netplan_does_not_read_is_a_warning(tmp_path):
    path = write_small_case(tmp_path / "c")
    _duplicate(path, "candidates.csv", "notes")
    _duplicate(path, "candidates.csv", "notes")
    with pytest.warns(NetplanWarning) as caught:
        inputs = netplan.load_inputs(Scenario.from_yaml(path))
    expected = (
        f"{path.parent / 'candidates.csv'}: columns occurring more than once in the candidates layer: "
        "'notes'; netplan does not read them (the first copy is kept)"
    )
    assert [str(w.message) for w in caught] == [expected]
    assert inputs.warnings == [expected]


# ------------------------------------------------------------------- demo stays clean
def test_demo_loads_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error", NetplanWarning)
        inputs = netplan.load_inputs(Scenario.from_yaml(DEMO_SCENARIO))
    assert inputs.warnings == []


# ------------------------------------------------------------------ the rule itself
def test_ratio_rule_ignores_zeros_and_blanks():
    values = np.array([0.0, np.nan, 1.0, 1e9, 0.0])
    assert ratio_problem("w", [Member("m", values, [str(i) for i in range(5)])])[0] == "warning"
    assert ratio_problem("w", [Member("m", np.array([0.0, 0.0, 7.0]))]) is None
    kind, line = ratio_problem("w", [Member("a", np.array([2.0])), Member("b", np.array([2e9 + 1]))])
    assert kind == "error"
    assert line.startswith("w: the largest non-zero value is 1e+09 times the smallest (2000000001 vs 2), above 1e9")


def test_infinite_building_weight_for_spreading_zones(tmp_path):
    """A point weight of the zones' spreading (e.g. footprint) is data too: inf is an error."""
    from shapely.geometry import box

    path = write_small_case(tmp_path / "c")
    zones = gpd.GeoDataFrame({"zone": ["Z1"], "pop": [1000]}, geometry=[box(9.5, 47.1, 9.75, 47.25)], crs=4326)
    zones.to_file(path.parent / "zones.gpkg")
    pd.DataFrame(
        {"lon": [9.55, 9.6, 9.7], "lat": [47.15, 47.2, 47.22], "footprint": ["120", "inf", "80"]}
    ).to_csv(path.parent / "buildings.csv", index=False)
    raw = yaml.safe_load(path.read_text())
    raw["demand"] = {
        "path": "zones.gpkg",
        "weight": "pop",
        "spread": {"method": "points", "points": {"path": "buildings.csv", "weight": "footprint"}},
    }
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    with pytest.raises(InputDataError) as err:
        netplan.load_inputs(Scenario.from_yaml(path))
    assert str(err.value) == (
        f"{path.parent / 'buildings.csv'}: row 3: column 'footprint' is inf; it must be a finite number >= 0 (1 such rows)"
    )


def test_spread_demand_names_the_points_of_the_outlying_zone(tmp_path):
    from shapely.geometry import box

    path = write_small_case(tmp_path / "c")
    zones = gpd.GeoDataFrame(
        {"zone": ["Big", "Small"], "pop": [5_000_000_000, 1]},
        geometry=[box(9.5, 47.1, 9.6, 47.25), box(9.6, 47.1, 9.75, 47.25)],
        crs=4326,
    )
    zones.to_file(path.parent / "zones.gpkg")
    pd.DataFrame({"lon": [9.55, 9.7], "lat": [47.15, 47.2], "footprint": [100, 100]}).to_csv(
        path.parent / "buildings.csv", index=False
    )
    raw = yaml.safe_load(path.read_text())
    raw["demand"] = {
        "path": "zones.gpkg",
        "id": "zone",
        "weight": "pop",
        "spread": {"method": "points", "points": {"path": "buildings.csv", "weight": "footprint"}},
    }
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    with pytest.raises(InputDataError) as err:
        netplan.load_inputs(Scenario.from_yaml(path))
    assert str(err.value).startswith(
        "demand weights (every level): the largest non-zero value is 5e+09 times the smallest "
        "(5000000000 vs 1), above 1e9"
    ), str(err.value)
    zones_file = path.parent / "zones.gpkg"
    assert (
        f"Outlying largest values: {zones_file} column 'pop' spread onto point Big-1 (5000000000); "
        f"compared with {zones_file} column 'pop' spread onto point Small-1 (1)"
    ) in str(err.value)


@pytest.mark.parametrize(
    ("spread", "fragment"),
    [
        (
            {"method": "uniform", "spacing": "1 m"},
            "demand.spread: about 363,588,048 points from demand.spread.spacing (1 m), more than "
            "10,000,000; use a larger spacing",
        ),
        ({"method": "h3", "resolution": 15}, "points from demand.spread.resolution (15), more than 10,000,000; use a lower resolution"),
    ],
)
def test_too_fine_spreading_is_refused_before_it_exhausts_memory(tmp_path, spread, fragment):
    from shapely.geometry import box

    path = write_small_case(tmp_path / "c")
    zones = gpd.GeoDataFrame({"zone": ["Z1"], "pop": [1000]}, geometry=[box(9.5, 47.1, 9.75, 47.27)], crs=4326)
    zones.to_file(path.parent / "zones.gpkg")
    raw = yaml.safe_load(path.read_text())
    raw["demand"] = {"path": "zones.gpkg", "weight": "pop", "spread": spread}
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    with pytest.raises(InputDataError) as err:
        netplan.load_inputs(Scenario.from_yaml(path))
    assert fragment in str(err.value), str(err.value)
    assert len(str(err.value).splitlines()) == 1


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"solver.seed": 2**40}, "solver.seed: must be at most 2147483646, got 1099511627776"),
        ({"solver.seed": -1}, "solver.seed: must be at least 0, got -1"),
        ({"solver.threads": 10**6}, "solver.threads: must be at most 256, got 1000000"),
    ],
)
def test_solver_integers_in_the_solver_range(tmp_path, changes, fragment):
    with pytest.raises(ScenarioError) as err:
        Scenario.from_yaml(_scenario_file(tmp_path, changes))
    assert fragment in str(err.value), str(err.value)


# ------------------------------------------------------------------------ fuzzing
FUZZ_KEYS = [
    "name", "tiers.0.reach", "tiers.1.reach", "tiers.1.linkage", "tiers.0.key",
    "budget.total", "budget.capex", "budget.opex", "costs.horizon_years",
    "costs.direct.hub.open", "costs.direct.point.operate", "objective.level_weights",
    "objective.type", "solver.time_limit", "solver.mip_rel_gap", "solver.backend",
    "solver.threads", "solver.seed", "travel.mode", "travel.crs", "counts",
    "capacity", "reach_overrides", "demand.weight", "span_of_control",
]  # fmt: skip
FUZZ_VALUES = [
    float("nan"), float("inf"), -float("inf"), -1, 0, 1e308, 1e-308, 2**70, "", "abc",
    "1e999 km", "nan km", "-5 km", [], {}, None, True, {"hub": float("nan")},
    [{"tier": "hub", "min": float("nan")}], {"per_tier": {"hub": -1}},
]  # fmt: skip


def _finite_everywhere(value) -> bool:
    if isinstance(value, float):
        return np.isfinite(value)
    if isinstance(value, dict):
        return all(_finite_everywhere(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite_everywhere(v) for v in value)
    return True


def test_fuzzed_scenario_values_load_finite_or_raise_a_scenario_error(tmp_path):
    """Any value at any of these keys: a ScenarioError line, or a scenario whose numbers are finite."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    path = write_small_case(tmp_path / "c")
    base = yaml.safe_load(path.read_text())

    @settings(
        max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
    )
    @given(st.lists(st.tuples(st.sampled_from(FUZZ_KEYS), st.sampled_from(FUZZ_VALUES)), min_size=1, max_size=3))
    def check(changes):
        raw = yaml.safe_load(yaml.safe_dump(base))
        for dotted, value in changes:
            _set(raw, dotted, value)
        try:
            scenario = Scenario.from_dict(raw, base_dir=path.parent)
        except ScenarioError as exc:
            assert str(exc).strip()
            assert "Traceback" not in str(exc)
            return
        assert _finite_everywhere(scenario.model_dump(mode="python"))
        assert np.isfinite(scenario.reach_matrix[~np.isnan(scenario.reach_matrix)]).all()

    check()


def test_competitor_discount_that_leaves_1e_minus_9_of_a_weight(tmp_path):
    """share 1 with a long decay: a customer 0.1 mm from a competitor keeps ~1e-9 of its weight."""
    path = write_small_case(tmp_path / "c")
    demand = pd.read_csv(path.parent / "demand.csv")
    pd.DataFrame({"lon": [demand.lon[0] + 1e-9], "lat": [demand.lat[0]]}).to_csv(
        path.parent / "competitors.csv", index=False
    )
    raw = yaml.safe_load(path.read_text())
    raw["competitors"] = {"path": "competitors.csv", "reach": "1 km", "share": 1, "decay": "100 km"}
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NetplanWarning)
        with pytest.raises(InputDataError) as err:
            netplan.load_inputs(Scenario.from_yaml(path))
    message = str(err.value)
    assert message.startswith("demand weights of level hub after the competitors' discount: "), message
    assert "Outlying smallest values: weight_hub after the discount demand point D0 (" in message
    assert message.endswith(
        "the discount (competitors.share 1) leaves almost nothing of the demand nearest to a "
        "competitor; give a share below 1, e.g. 0.99"
    ), message
