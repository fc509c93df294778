"""Siting rules of a scenario: spacing between outlets, excluded land, caps on overlap.

```yaml
siting:
  spacing:        # no two open outlets whose tiers are BOTH in `tiers` closer than `min`
    - {tiers: [community], min: 2 km}
    - {tiers: [city, regional], min: 8 km, between_existing: enforce}
  exclusions:     # no NEW outlet of `tiers` (default all) inside; buffers always in metres
    - {path: protected.gpkg, buffer: 200 m}
    - {near: outlets, buffer: 1 km, tiers: [community]}
  overlap:        # cap on the share of a level's covered demand within reach of 2+ outlets
    community: {max_share: 0.15, tiers: [community]}
```

``spacing.min`` is in the scenario's travel metric: a distance for planar and haversine
travel, a drive time on a road network (a pair's time is the shorter of its two directions).
``between_existing: exempt`` (the default) leaves pairs of today's outlets alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field, model_validator

from netplan._errors import ScenarioError, did_you_mean
from netplan.scenario.base import StrictModel
from netplan.travel.units import Quantity, parse_quantity

if TYPE_CHECKING:
    from netplan.scenario.spec import Scenario


class SpacingRule(StrictModel):
    """No two open outlets whose tiers are both in ``tiers`` closer than ``min``."""

    tiers: list[str] = Field(min_length=1, description="tier keys the rule concerns")
    min: str | float = Field(description="least distance (or drive time on roads) between two such outlets")
    between_existing: Literal["exempt", "enforce"] = Field(
        default="exempt",
        description="pairs of two of today's outlets: left alone (exempt) or held to the rule",
    )


class ExclusionRule(StrictModel):
    """No new outlet of ``tiers`` inside polygons of ``path`` (or near today's outlets),
    grown by ``buffer`` metres."""

    path: Path | None = Field(default=None, description="a polygon layer (any vector format)")
    layer: str | None = Field(default=None, description="layer of a multi-layer file")
    crs: str | int | None = Field(default=None, description="CRS of a file that has none")
    near: Literal["outlets"] | None = Field(
        default=None, description="'outlets': around today's outlets (AccessMod's rule)"
    )
    buffer: str | float = Field(default="0 m", description="grows the zones; a distance, e.g. '200 m'")
    tiers: list[str] | None = Field(default=None, description="tiers concerned (default: all)")

    @model_validator(mode="after")
    def _one_source(self) -> ExclusionRule:
        if (self.path is None) == (self.near is None):
            raise ValueError("give exactly one of 'path' (a polygon file) or 'near: outlets'")
        return self


class OverlapRule(StrictModel):
    """At most ``max_share`` of a level's covered demand within reach of two or more open
    outlets whose tiers are in ``tiers``."""

    max_share: float = Field(ge=0, le=1, description="a share of the level's covered demand, 0..1")
    tiers: list[str] | None = Field(
        default=None, description="tiers counted (default: every tier serving the level)"
    )


class SitingSpec(StrictModel):
    """The ``siting`` section: spacing, exclusions, overlap caps (all optional)."""

    spacing: list[SpacingRule] = Field(default_factory=list)
    exclusions: list[ExclusionRule] = Field(default_factory=list)
    overlap: dict[str, OverlapRule] = Field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.spacing or self.exclusions or self.overlap)


def spacing_quantity(rule: SpacingRule, i: int) -> Quantity:
    """``min`` of spacing rule ``i`` as a quantity (raises ScenarioError naming the key)."""
    return parse_quantity(rule.min, f"siting.spacing[{i}].min")


def siting_problems(scenario: Scenario, where: str) -> list[str]:
    """Every broken siting rule of a validated scenario, one message line each.

    Unknown tiers; a spacing ``min`` that is zero or in the wrong unit for the travel mode
    (distance for planar / haversine, minutes on a road network); a buffer that is not a
    distance; an overlap cap on an unknown level or counting a tier that does not serve it;
    ``near: outlets`` without an ``outlets`` layer.
    """
    siting = scenario.siting
    if siting is None:
        return []
    keys = [t.key for t in scenario.tiers]
    problems: list[str] = []

    def unknown(tiers: list[str] | None, key: str) -> None:
        for tier in tiers or []:
            if tier not in keys:
                problems.append(f"{where}: {key}: unknown tier '{tier}'{did_you_mean(tier, keys)}")

    on_roads = scenario.travel.mode == "network"
    for i, rule in enumerate(siting.spacing):
        key = f"siting.spacing[{i}]"
        unknown(rule.tiers, f"{key}.tiers")
        if _is_zero(rule.min):
            problems.append(
                f"{where}: {key}.min: must be more than 0, got {rule.min!r}; give a distance such as '2 km' (or drop the rule)"
            )
            continue
        try:
            q = spacing_quantity(rule, i)
        except ScenarioError as exc:
            problems.append(f"{where}: {exc}")
            continue
        if on_roads and q.dimension != "time":
            problems.append(
                f"{where}: {key}.min: travel.mode 'network' measures drive time; give the spacing in minutes (e.g. '5 min'), not {rule.min!r}"
            )
        elif not on_roads and q.dimension != "distance":
            problems.append(
                f"{where}: {key}.min: travel.mode '{scenario.travel.mode}' measures distance; give the spacing as a distance (e.g. '2 km'), not {rule.min!r}"
            )
    for i, rule in enumerate(siting.exclusions):
        key = f"siting.exclusions[{i}]"
        unknown(rule.tiers, f"{key}.tiers")
        if not _is_zero(rule.buffer):  # zero: the zones as drawn
            try:
                q = parse_quantity(rule.buffer, f"{key}.buffer")
                if q.dimension != "distance":
                    problems.append(
                        f"{where}: {key}.buffer: buffers are distances in metres or km (e.g. '200 m'), not {rule.buffer!r}"
                    )
            except ScenarioError as exc:
                problems.append(f"{where}: {exc}")
        if rule.near == "outlets" and scenario.outlets is None:
            problems.append(f"{where}: {key}.near: 'outlets' needs an 'outlets' layer (today's network)")
    for level, rule in siting.overlap.items():
        key = f"siting.overlap.{level}"
        if level not in keys:
            problems.append(f"{where}: {key}: unknown level '{level}'{did_you_mean(level, keys)}")
            continue
        unknown(rule.tiers, f"{key}.tiers")
        lower = [t for t in rule.tiers or [] if t in keys and keys.index(t) > keys.index(level)]
        if lower:
            problems.append(
                f"{where}: {key}.tiers: {', '.join(lower)} cannot serve level '{level}' (a tier serves its own level and the levels below it)"
            )
    return problems


def _is_zero(text: str | float) -> bool:
    """``0``, ``"0"`` or ``"0 m"``: an amount of nothing (``parse_quantity`` refuses it)."""
    head = str(text).strip().split(" ")[0].rstrip("abcdefghijklmnopqrstuvwxyz")
    try:
        return float(head) == 0.0
    except ValueError:
        return False


def buffer_value(rule: ExclusionRule) -> float:
    """The exclusion's buffer in metres (0 without one); the scenario checked it."""
    return 0.0 if _is_zero(rule.buffer) else parse_quantity(rule.buffer, "buffer").value


def overlap_tiers(scenario: Scenario, level: str) -> list[int]:
    """Tier indices counted by the overlap cap at ``level`` (default: every tier serving it)."""
    keys = scenario.tier_keys
    rule = scenario.siting.overlap[level] if scenario.siting else None
    if rule is None or rule.tiers is None:
        return list(range(keys.index(level) + 1))
    return sorted(keys.index(t) for t in rule.tiers)
