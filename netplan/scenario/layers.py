"""Input layers a scenario names: where each file lives and which columns mean what."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from netplan.scenario.base import StrictModel

POLICIES = ("keep", "may_close", "may_retier", "may_retier_or_close")
OWNERSHIPS = ("direct", "partner")


class LayerSpec(StrictModel):
    """Where an input layer lives and which columns mean what."""

    path: Path
    layer: str | None = None
    x: str | None = Field(default=None, description="CSV: column of x / longitude")
    y: str | None = Field(default=None, description="CSV: column of y / latitude")
    crs: str | int | None = Field(
        default=None, description="CRS of a CSV's x/y (default EPSG:4326)"
    )
    id: str | None = None
    name: str | None = None
    region: str | None = None


class PointsSpec(LayerSpec):
    """Points that zone demand is spread onto (e.g. building centroids)."""

    weight: str | None = Field(
        default=None, description="column weighting each point (e.g. footprint_m2); default equal"
    )


class SpreadSpec(StrictModel):
    """Spread zone polygons' weight onto points (netplan.inputs.zones); every zone total is preserved."""

    method: Literal["uniform", "h3", "points"] = "uniform"
    spacing: str = Field(default="250 m", description="uniform: grid spacing")
    resolution: int = Field(default=9, ge=0, le=15, description="h3: H3 resolution")
    points: PointsSpec | None = Field(
        default=None, description="points: the layer to spread onto (zones without any: uniform)"
    )
    small_zones: Literal["fractional", "fewer_points"] = Field(
        default="fractional",
        description="a zone with too few people for a whole person on each point: exact "
        "fractional weights (no point dropped) or whole people on fewer points",
    )


class DemandSpec(LayerSpec):
    """Demand: a point or zone layer (``path``) or a population raster (``raster``), not both."""

    path: Path | None = None  # type: ignore[assignment]
    weight: str | None = Field(
        default=None, description="column with the demand weight of every level"
    )
    weights: dict[str, str | int] | None = Field(
        default=None,
        description="per-level weight columns {level: column}; with a raster, bands {level: band}",
    )
    spread: SpreadSpec | None = Field(
        default=None,
        description="the layer holds zones (polygons): spread their weight onto points",
    )
    raster: Path | None = Field(
        default=None,
        description="a population raster (GeoTIFF or any GDAL raster, any CRS): pixel values are the demand",
    )
    band: int | None = Field(
        default=None, ge=1, description="raster: the band of every level without its own in 'weights' (default 1)"
    )
    cell: str | None = Field(
        default=None,
        description="raster: aggregate pixels to square cells of this size (e.g. '500 m') in the run's projected CRS",
    )
    clip: Literal["regions"] | None = Field(
        default=None,
        description="raster: keep only pixels whose centre lies inside the polygons of the scenario's 'regions' layer",
    )

    def raster_bands(self, levels: list[str]) -> dict[str, int]:
        """The band of each level: its entry in ``weights``, else ``band`` (default 1)."""
        given = self.weights or {}
        return {k: int(given[k]) if k in given else (self.band or 1) for k in levels}


class OutletSpec(LayerSpec):
    tier: str = "tier"
    policy: str | None = "policy"
    default_policy: Literal["keep", "may_close", "may_retier", "may_retier_or_close"] = "may_close"
    ownership: str | None = "ownership"
    default_ownership: Literal["direct", "partner"] = "direct"
    tiers: str | None = Field(
        default=None, description="column listing the tiers a may_retier outlet may take"
    )
    types: dict[str, str] | None = Field(
        default=None,
        description="map values of the 'tier' column (e.g. outlet_type) to tier keys; rows of other values are left out",
    )


class GenerateSpec(StrictModel):
    """Generated candidate sites (netplan.inputs.candidates)."""

    method: Literal["kmeans", "h3"]
    n: int = Field(default=20, ge=1, description="kmeans: number of demand-weighted centres")
    resolution: int = Field(default=8, ge=0, le=15, description="h3: H3 resolution")
    tiers: list[str] | str = Field(description="tiers the generated sites may host")
    seed: int = Field(default=0, ge=0, le=2**32 - 1, description="kmeans: random seed")


class CandidateSpec(LayerSpec):
    path: Path | None = None  # type: ignore[assignment]
    tiers: str | None = Field(
        default="tiers", description="column listing the tiers a site may host ('a;b')"
    )
    ownership: str | None = "ownership"
    default_ownership: Literal["direct", "partner"] = "direct"
    generate: list[GenerateSpec] | None = Field(
        default=None, description="generate sites (k-means, H3) in addition to or instead of a file"
    )


class CompetitorSpec(LayerSpec):
    """Competitor outlets: demand within their reach is discounted where demand weights are formed."""

    reach: str = Field(
        description="a competitor takes demand within this reach (same unit as the tiers)"
    )
    share: float = Field(
        default=0.5, ge=0, le=1, description="share of demand within reach lost to the competitor"
    )
    decay: str | None = Field(
        default=None,
        description="optional distance-decay scale: the share lost is share * exp(-t / decay) within reach",
    )


class RegionSpec(LayerSpec):
    pass
