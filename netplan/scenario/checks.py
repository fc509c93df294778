"""Rules across a scenario's sections: tiers, reaches, overrides, costs, counts, targets, travel.

Each check collects every problem as one line (file, key, fix) and raises one
:class:`ScenarioError` with all of them; the ratio rule (:mod:`netplan.scenario.conditioning`)
applies to the scenario's own level weights, reaches and costs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from netplan._errors import ScenarioError, did_you_mean
from netplan.scenario.conditioning import Member, ratio_problem
from netplan.scenario.layers import OWNERSHIPS
from netplan.scenario.phases import phases_problems
from netplan.scenario.siting import siting_problems
from netplan.scenario.tiers import linkage_given
from netplan.travel.units import Quantity, parse_quantity

if TYPE_CHECKING:
    from netplan.scenario.spec import Scenario


def check_semantics(scenario: Scenario, where: str) -> None:
    """Check the rules that span sections of a validated scenario.

    Parameters
    ----------
    scenario : Scenario
        Validated section by section by pydantic.
    where : str
        The file (or ``"scenario"``) each message line starts with.

    Raises
    ------
    ScenarioError
        One line per broken rule: unknown tiers, unreadable or misordered reaches, linkage,
        overrides, costs, capacities, counts, targets, budget, travel and the ratio rule.
    """
    problems: list[str] = []
    keys = [t.key for t in scenario.tiers]
    if not scenario.tiers:
        problems.append(f"{where}: tiers: at least one tier is needed")
    if len(set(keys)) != len(keys):
        problems.append(f"{where}: tiers: tier keys must be unique, got {keys}")
    if scenario.outlets is None and scenario.candidates is None:
        problems.append(
            f"{where}: give 'outlets' (existing network) or 'candidates' (new sites), or both"
        )
    cand = scenario.candidates
    if cand is not None and cand.path is None and not cand.generate:
        problems.append(
            f"{where}: candidates: give a 'path' to a site file or 'generate' entries (kmeans, h3)"
        )
    for i, gen in enumerate((cand.generate or []) if cand is not None else []):
        for tier in gen.tiers if isinstance(gen.tiers, list) else [gen.tiers]:
            if tier not in keys:
                problems.append(
                    f"{where}: candidates.generate[{i}].tiers: unknown tier '{tier}'{did_you_mean(tier, keys)}"
                )
    for value, tier in ((scenario.outlets.types or {}) if scenario.outlets else {}).items():
        if tier not in keys:
            problems.append(
                f"{where}: outlets.types.{value}: unknown tier '{tier}'{did_you_mean(tier, keys)}"
            )
    problems += _demand_source(scenario, where)
    spread = scenario.demand.spread
    if spread is not None:
        if spread.method == "points" and spread.points is None:
            problems.append(
                f"{where}: demand.spread.points: method 'points' needs the points layer, e.g. points: {{path: buildings.gpkg}}"
            )
        try:
            if parse_quantity(spread.spacing, "demand.spread.spacing").dimension != "distance":
                problems.append(
                    f"{where}: demand.spread.spacing: give a distance such as '250 m'"
                )
        except ScenarioError as exc:
            problems.append(f"{where}: {exc}")
    for key in ("reach", "decay"):
        value = getattr(scenario.competitors, key, None) if scenario.competitors else None
        if value is None:
            continue
        try:
            q = parse_quantity(value, f"competitors.{key}")
            unit = "time" if scenario.travel.mode == "network" else "distance"
            if q.dimension != unit:
                problems.append(
                    f"{where}: competitors.{key}: travel mode '{scenario.travel.mode}' needs a {unit} (like the tiers' reach)"
                )
        except ScenarioError as exc:
            problems.append(f"{where}: {exc}")
    for i, tier in enumerate(scenario.tiers):
        try:
            parse_quantity(tier.reach, f"tiers[{i}].reach")
        except ScenarioError as exc:
            problems.append(f"{where}: {exc}")
        if i > 0 and linkage_given(tier):
            try:
                parse_quantity(tier.linkage, f"tiers[{i}].linkage")
            except ScenarioError as exc:
                problems.append(f"{where}: {exc}")
        if i == 0 and tier.linkage is not None:
            problems.append(
                f"{where}: tiers[0].linkage: the highest tier has no higher tier to link to; remove its 'linkage'"
            )
    problems += _linkage_and_reach_order(scenario, where)
    if problems:
        raise ScenarioError("\n".join(problems))
    dims = {q.dimension for q in _all_quantities(scenario)}
    if scenario.travel.mode == "network":
        problems += _network(scenario, where, dims)
    elif dims - {"distance"}:
        problems.append(
            f"{where}: travel.mode '{scenario.travel.mode}' measures distance; give reach and linkage in m or km, "
            "not minutes (or use travel.mode: network for drive times)"
        )
    elif scenario.travel.network is not None:
        problems.append(
            f"{where}: travel.network is only read with travel.mode: network; set the mode or remove the key"
        )
    for i, ov in enumerate(scenario.reach_overrides):
        try:
            k = scenario.tier_index(ov.tier, f"reach_overrides[{i}].tier")
            lvl = scenario.tier_index(ov.level, f"reach_overrides[{i}].level")
            parse_quantity(ov.reach, f"reach_overrides[{i}].reach")
            if k > lvl:
                problems.append(
                    f"{where}: reach_overrides[{i}]: tier '{scenario.tiers[k].key}' is below level '{scenario.tiers[lvl].key}' and never serves it; "
                    "an override needs a tier at or above the level"
                )
        except ScenarioError as exc:
            problems.append(f"{where}: {exc}")
    for owner in OWNERSHIPS:
        for key in getattr(scenario.costs, owner):
            if key not in keys:
                problems.append(
                    f"{where}: costs.{owner}.{key}: unknown tier{did_you_mean(key, keys)}"
                )
    problems += _capacity_and_span(scenario, where, keys)
    problems += siting_problems(scenario, where)
    problems += phases_problems(scenario, where)
    for i, rule in enumerate(scenario.counts):
        try:
            if str(rule.tier) != "any":
                scenario.tier_index(rule.tier, f"counts[{i}].tier")
        except ScenarioError as exc:
            problems.append(f"{where}: {exc}")
        if rule.min is not None and rule.max is not None and rule.min > rule.max:
            problems.append(
                f"{where}: counts[{i}]: min {rule.min} is above max {rule.max}; swap or fix them"
            )
    obj = scenario.objective
    for label, mapping in (
        ("objective.level_weights", obj.level_weights),
        ("objective.targets", obj.targets),
    ):
        for key, value in (mapping or {}).items():
            try:
                scenario.tier_index(key, f"{label}.{key}")
            except ScenarioError as exc:
                problems.append(f"{where}: {exc}")
            if label.endswith("targets") and not 0 <= value <= 1:
                problems.append(
                    f"{where}: {label}.{key}: a target is a share between 0 and 1, got {value}"
                )
            if label.endswith("weights") and value < 0:
                problems.append(
                    f"{where}: {label}.{key}: a level weight must be >= 0, got {value}"
                )
    for region, mapping in (obj.region_targets or {}).items():
        for key, value in mapping.items():
            try:
                scenario.tier_index(key, f"objective.region_targets.{region}.{key}")
            except ScenarioError as exc:
                problems.append(f"{where}: {exc}")
            if not 0 <= value <= 1:
                problems.append(
                    f"{where}: objective.region_targets.{region}.{key}: a target is a share between 0 and 1, got {value}"
                )
    if obj.type == "min_cost" and not obj.targets and not obj.region_targets:
        problems.append(
            f"{where}: objective.targets: min_cost needs coverage targets, e.g. targets: {{{keys[-1]}: 0.95}}"
        )
    if scenario.budget.total is not None and isinstance(scenario.budget.total, str):
        try:
            scenario.budget_factor_of_baseline()
        except ScenarioError as exc:
            problems.append(f"{where}: {exc}")
    elif scenario.budget.total is not None and scenario.budget.total < 0:
        problems.append(f"{where}: budget.total: must be >= 0, got {scenario.budget.total}")
    for key in scenario.demand.weights or {}:
        try:
            scenario.tier_index(key, f"demand.weights.{key}")
        except ScenarioError as exc:
            problems.append(f"{where}: {exc}")
    if scenario.travel.mode in ("planar", "network") and str(scenario.travel.crs).lower() != "auto":
        from pyproj import CRS
        from pyproj.exceptions import CRSError

        try:
            crs = CRS.from_user_input(scenario.travel.crs)
        except CRSError:
            crs = None
            problems.append(
                f"{where}: travel.crs: unknown CRS {scenario.travel.crs!r}; give an EPSG code such as 'EPSG:32632' or 'auto'"
            )
        if crs is not None and not crs.is_projected:
            problems.append(
                f"{where}: travel.crs: {crs.to_string()} is geographic (degrees) and 'planar' travel needs metres; "
                "use a projected CRS such as a UTM zone, 'auto', or travel.mode: haversine"
            )
    if not problems:
        problems += _families(scenario, where)
    if problems:
        raise ScenarioError("\n".join(problems))


def _capacity_and_span(scenario: Scenario, where: str, keys: list[str]) -> list[str]:
    problems = []
    cap = scenario.capacity
    if cap is not None:
        for key, value in cap.per_tier.items():
            if key not in keys:
                problems.append(
                    f"{where}: capacity.per_tier.{key}: unknown tier{did_you_mean(key, keys)}"
                )
            elif not value > 0:
                problems.append(
                    f"{where}: capacity.per_tier.{key}: capacity must be > 0, got {value}"
                )
        for key in cap.levels or []:
            if key not in keys:
                problems.append(
                    f"{where}: capacity.levels: unknown level '{key}'{did_you_mean(key, keys)}"
                )
    for key, value in (scenario.span_of_control or {}).items():
        if key not in keys:
            problems.append(
                f"{where}: span_of_control.{key}: unknown tier{did_you_mean(key, keys)}"
            )
            continue
        if value < 1:
            problems.append(f"{where}: span_of_control.{key}: must be at least 1, got {value}")
        if keys.index(key) == len(keys) - 1:
            problems.append(
                f"{where}: span_of_control.{key}: the lowest tier supports no outlets; remove it"
            )
    if scenario.span_of_control and not any(linkage_given(t) for t in scenario.tiers[1:]):
        problems.append(
            f"{where}: span_of_control needs linkage: give 'linkage' on the supported tiers"
        )
    return problems


def _linkage_and_reach_order(scenario: Scenario, where: str) -> list[str]:
    problems = []
    lower = list(enumerate(scenario.tiers))[1:]
    linked = [(i, t) for i, t in lower if linkage_given(t)]
    if linked:
        i0, t0 = linked[0]
        for i, tier in lower:
            if tier.linkage is None:
                problems.append(
                    f"{where}: tiers[{i}].linkage: missing while tiers[{i0}] ('{t0.key}') has one; give a reach "
                    f"(e.g. '20 km') or 'none' if {tier.key} outlets need no supporting outlet"
                )
    if scenario.reach_order == "decreasing":
        values = []
        for i, tier in enumerate(scenario.tiers):
            try:
                values.append(parse_quantity(tier.reach, f"tiers[{i}].reach").value)
            except ScenarioError:
                return problems  # reported by the reach check
        for i in range(1, len(values)):
            if values[i] > values[i - 1]:
                problems.append(
                    f"{where}: tiers[{i}].reach: {scenario.tiers[i].reach} is longer than the reach of the level above "
                    f"('{scenario.tiers[i - 1].key}', {scenario.tiers[i - 1].reach}); lower levels normally reach less far - "
                    "fix it, or set reach_order: any if that is intended"
                )
    return problems


def cost_members(scenario: Scenario) -> list[Member]:
    """The scenario's cost values, as members of the cost family (netplan.scenario.conditioning).

    Parameters
    ----------
    scenario : Scenario

    Returns
    -------
    list of Member
        One member per cost value of the ``costs.direct`` and ``costs.partner`` tables.
    """
    return [
        Member(f"costs.{owner}.{tier}.{name}", np.array([getattr(cost, name)]))
        for owner in OWNERSHIPS
        for tier, cost in getattr(scenario.costs, owner).items()
        for name in ("open", "operate", "convert", "close")
    ]


def _families(scenario: Scenario, where: str) -> list[str]:
    """Errors of the ratio rule on the scenario's own numbers, one line each."""
    problems = []
    if scenario.objective.type == "max_coverage" and not (scenario.level_weights() > 0).any():
        problems.append(
            f"{where}: objective.level_weights: every level weighs 0, so no plan covers anything of value; "
            "give at least one level a weight above 0"
        )
    errors, _ = family_checks(scenario)
    return problems + [f"{where}: {line}" for line in errors]


def family_checks(scenario: Scenario, costs: bool = True) -> tuple[list[str], list[str]]:
    """The ratio rule (netplan.scenario.conditioning) on the level weights, reaches and costs.

    Parameters
    ----------
    scenario : Scenario
    costs : bool
        Check the scenario's cost tables alone (False when netplan.inputs.build checks them
        together with the sites' cost columns).

    Returns
    -------
    errors, warnings : list of str
        One line per family above 1e9 (errors, raised by validation) and above 1e6
        (warnings, issued by :func:`netplan.load_inputs` and kept in run.json).
    """
    weights = scenario.level_weights()
    given = scenario.objective.level_weights or {}
    level_members = [
        Member(
            f"objective.level_weights.{key}" if key in given else f"level '{key}' (default)",
            np.array([weights[i]]),
        )
        for i, key in enumerate(scenario.tier_keys)
    ]
    reach_members = [
        Member(f"tiers[{i}].reach", np.array([q.value]))
        for i, q in enumerate(parse_quantity(t.reach, "reach") for t in scenario.tiers)
    ]
    reach_members += [
        Member(f"tiers[{i}].linkage", np.array([parse_quantity(t.linkage, "linkage").value]))
        for i, t in enumerate(scenario.tiers)
        if i > 0 and linkage_given(t)
    ]
    reach_members += [
        Member(f"reach_overrides[{i}].reach", np.array([parse_quantity(o.reach, "reach").value]))
        for i, o in enumerate(scenario.reach_overrides)
    ]
    families = [
        ("level weights", level_members, None),
        (f"reaches and linkages (in {scenario.unit})", reach_members, "fix them (a typo or a wrong unit?)"),
    ]
    if costs:
        families.append(("costs", cost_members(scenario), None))
    errors, notes = [], []
    for family, members, fix in families:
        found = ratio_problem(family, members, *([fix] if fix else []))
        if found is not None:
            (errors if found[0] == "error" else notes).append(found[1])
    return errors, notes


def _network(scenario: Scenario, where: str, dims: set[str]) -> list[str]:
    problems = []
    spec = scenario.travel
    if spec.network is None:
        problems.append(
            f"{where}: travel.network: travel.mode 'network' needs a road file, e.g. network: roads.osm.bz2"
        )
    if dims - {"time"}:
        problems.append(
            f"{where}: travel.mode 'network' measures drive time; give reach and linkage in minutes (e.g. '15 min'), not m or km"
        )
    try:
        q = parse_quantity(spec.max_access, "travel.max_access")
        if q.dimension != "distance":
            problems.append(
                f"{where}: travel.max_access: give a distance such as '1 km', got {spec.max_access!r}"
            )
    except ScenarioError as exc:
        problems.append(f"{where}: {exc}")
    for key, value in (spec.speeds or {}).items():
        if not value > 0:
            problems.append(
                f"{where}: travel.speeds.{key}: a speed must be > 0 km/h, got {value}"
            )
    return problems


def _all_quantities(scenario: Scenario) -> list[Quantity]:
    out = [parse_quantity(t.reach, f"tiers[{i}].reach") for i, t in enumerate(scenario.tiers)]
    out += [
        parse_quantity(t.linkage, f"tiers[{i}].linkage")
        for i, t in enumerate(scenario.tiers)
        if linkage_given(t)
    ]
    out += [
        parse_quantity(o.reach, f"reach_overrides[{i}].reach")
        for i, o in enumerate(scenario.reach_overrides)
    ]
    return out


# keys of a point or zone layer that mean nothing for a raster, and the raster's own keys
_LAYER_ONLY = ("weight", "spread", "layer", "x", "y", "crs", "id", "name", "region")
_RASTER_ONLY = ("band", "cell", "clip")


def _demand_source(scenario: Scenario, where: str) -> list[str]:
    """``demand``: a layer (``path``) or a raster (``raster``), each with its own keys.

    ``clip: regions`` means the polygons of the scenario's ``regions`` layer (every row).
    """
    spec = scenario.demand
    if spec.raster is None:
        problems = [] if spec.path is not None else [
            f"{where}: demand: give 'path' (a point or zone layer) or 'raster' (a population raster)"
        ]
        problems += [
            f"{where}: demand.{key}: only read with demand.raster; remove it or give a raster"
            for key in _RASTER_ONLY
            if getattr(spec, key) is not None
        ]
        problems += [
            f"{where}: demand.weights.{level}: give a column name, got the number {column}"
            for level, column in (spec.weights or {}).items()
            if isinstance(column, int)
        ]
        return problems
    if spec.path is not None:
        return [
            f"{where}: demand: give either 'path' (a point or zone layer) or 'raster' (a population raster), not both"
        ]
    problems = []
    for key in _LAYER_ONLY:
        if getattr(spec, key) is None:
            continue
        fix = (
            "a raster's pixel values are the weight; remove 'weight' (choose the band with 'band' or 'weights: {level: band}')"
            if key == "weight"
            else "it belongs to a point or zone layer (demand.path); remove it"
        )
        problems.append(f"{where}: demand.{key}: not used with demand.raster; {fix}")
    for level, band in (spec.weights or {}).items():
        if isinstance(band, int) and band >= 1 or isinstance(band, str) and band.isdigit() and int(band) >= 1:
            continue
        problems.append(
            f"{where}: demand.weights.{level}: with demand.raster give a band number (1, 2, ...), got {band!r}"
        )
    if spec.cell is not None:
        try:
            if parse_quantity(spec.cell, "demand.cell").dimension != "distance":
                problems.append(f"{where}: demand.cell: give a distance such as '500 m'")
            elif parse_quantity(spec.cell, "demand.cell").value <= 0:
                problems.append(f"{where}: demand.cell: must be above 0 m, e.g. '500 m'")
        except ScenarioError as exc:
            problems.append(f"{where}: {exc}")
    if spec.clip == "regions" and scenario.regions is None:
        problems.append(
            f"{where}: demand.clip: 'regions' keeps the pixels inside the polygons of the scenario's "
            "'regions' layer, and it has none; add 'regions' or remove 'clip'"
        )
    return problems

