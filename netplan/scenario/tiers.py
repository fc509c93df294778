"""Tiers with their reach and linkage, reach overrides, and how travel is measured."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator

from netplan.scenario.base import StrictModel
from netplan.travel.units import parse_quantity


class TierSpec(StrictModel):
    """One tier of the network, highest first in the scenario's ``tiers`` list."""

    key: str = Field(description="short id used in files and other keys, e.g. 'regional'")
    name: str | None = Field(default=None, description="display name, e.g. 'regional centre'")
    reach: Any = Field(description="reach of the service level this tier introduces, e.g. '35 km'")
    linkage: Any = Field(
        default=None,
        description="a tier-k outlet (k >= 2) needs an outlet of a higher tier within this reach; "
        "'none' = no support needed",
    )

    @field_validator("key")
    @classmethod
    def _key_is_simple(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_\-]*", v):
            raise ValueError(
                f"tier key {v!r} must start with a letter and hold only letters, digits, '_' or '-'"
            )
        return v

    @property
    def label(self) -> str:
        return self.name or self.key


def linkage_given(tier: TierSpec) -> bool:
    """A linkage reach is set (``linkage: none`` states that the tier needs no support)."""
    return tier.linkage is not None and str(tier.linkage).strip().lower() != "none"


class ReachOverride(StrictModel):
    """Reach of one tier for one service level, overriding the level's own reach."""

    tier: str | int
    level: str | int
    reach: Any


class TravelSpec(StrictModel):
    mode: Literal["planar", "haversine", "network"] = "planar"
    crs: str | int = Field(
        default="auto",
        description="planar / network: metric CRS (EPSG code) or 'auto' (local UTM)",
    )
    network: Path | None = Field(
        default=None,
        description="network: road file (.osm, .osm.bz2, .graphml, .osm.pbf), relative to the scenario file",
    )
    speeds: dict[str, float] | None = Field(
        default=None,
        description="network: km/h per OSM highway type for ways without maxspeed (overrides the defaults)",
    )
    default_speed: float = Field(
        default=30.0, gt=0, description="network: km/h of a highway type in no speed table"
    )
    access_speed: float = Field(
        default=15.0,
        gt=0,
        description="network: km/h of the straight leg between a point and its road point",
    )
    max_access: str = Field(
        default="1 km",
        description="network: a point farther than this from the road network is unreachable",
    )

    @property
    def max_access_metres(self) -> float:
        return parse_quantity(self.max_access, "travel.max_access").value
