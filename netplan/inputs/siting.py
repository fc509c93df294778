"""Exclusion zones of the siting rules: read, buffered in metres, and applied to the sites.

Each ``siting.exclusions`` rule is a polygon layer (read by :mod:`netplan.inputs.readers`)
or ``near: outlets`` (today's outlets), reprojected to a projected CRS (the run's working
CRS, or the local UTM zone for haversine travel) and grown by ``buffer`` metres. No *new*
site (a candidate, not one of today's outlets) may open as a tier of the rule inside: those
``allowed[site, tier]`` become False before coverage is built. Today's outlets inside stay
allowed and are reported (the diagnosis of today's network). A point on a zone's edge is
inside.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

from netplan._errors import InputDataError
from netplan.inputs.readers import read_layer
from netplan.scenario import Scenario
from netplan.scenario.siting import buffer_value
from netplan.travel.geometry import point_coords

# shapely's buffer resolution (segments per quarter circle): a disc of 1 km is within 1.2 m
# of the true circle; the validator uses the same polygons
QUAD_SEGS = 32


@dataclass
class ExclusionZone:
    """One exclusion rule's buffered zones in a projected CRS, and what it removed.

    Attributes
    ----------
    label : str
        Scenario key, ``siting.exclusions[i]``.
    source : str
        The file's name, or ``near outlets``.
    tiers : ndarray of int
        Tier indices concerned.
    buffer_m : float
    crs : pyproj.CRS
        Projected CRS of ``raw`` and ``zones``.
    raw : ndarray of shapely geometries
        The polygons as drawn (``near: outlets``: today's outlets as points).
    zones : ndarray of shapely geometries
        ``raw`` grown by ``buffer_m``.
    owner : ndarray of int or None
        ``near: outlets``: the site index of each zone (an outlet is not inside its own).
    removed : int
        (site, tier) options removed from new sites.
    new_sites_inside : int
    """

    label: str
    source: str
    tiers: np.ndarray
    buffer_m: float
    crs: CRS
    raw: np.ndarray
    zones: np.ndarray
    owner: np.ndarray | None = None
    removed: int = 0
    new_sites_inside: int = 0
    _tree: shapely.STRtree | None = field(default=None, repr=False)

    def locate(
        self, xy: np.ndarray, from_crs: CRS, sites: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Which points lie inside a zone (point in polygon), and how near the rule they are.

        Parameters
        ----------
        xy : ndarray (n, 2)
            Point coordinates in ``from_crs`` (x, y order, as :func:`point_coords`).
        from_crs : pyproj.CRS
        sites : ndarray (n,) of int, optional
            Site index of each point: with ``near: outlets`` an outlet's own zone is skipped.

        Returns
        -------
        inside : ndarray of bool
        distance : ndarray of float
            Metres to the nearest zone as drawn (``near: outlets``: to the nearest other
            outlet) among the zones containing the point; NaN outside.
        zone : ndarray of int
            Index of that zone (-1 outside).
        """
        n = len(xy)
        inside = np.zeros(n, dtype=bool)
        distance = np.full(n, np.nan)
        zone = np.full(n, -1, dtype=np.int64)
        if n == 0 or len(self.zones) == 0:
            return inside, distance, zone
        pts = gpd.GeoSeries(gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=from_crs)
        pts = np.asarray(pts.to_crs(self.crs).values)
        if self._tree is None:
            self._tree = shapely.STRtree(self.zones)
        p, z = self._tree.query(pts, predicate="intersects")
        if self.owner is not None and sites is not None:
            own = self.owner[z] == np.asarray(sites)[p]
            p, z = p[~own], z[~own]
        d = shapely.distance(pts[p], self.raw[z])
        order = np.lexsort((d, p))
        p, z, d = p[order], z[order], d[order]
        first = np.ones(len(p), dtype=bool)
        first[1:] = p[1:] != p[:-1]
        inside[p[first]] = True
        distance[p[first]] = d[first]
        zone[p[first]] = z[first]
        return inside, distance, zone

    def summary(self) -> dict[str, object]:
        """The figures run.json states for the rule."""
        return {
            "rule": self.label,
            "source": self.source,
            "tiers": [int(t) for t in self.tiers],
            "buffer_m": self.buffer_m,
            "zones": int(len(self.zones)),
            "new_sites_inside": int(self.new_sites_inside),
            "site_tier_options_removed": int(self.removed),
        }


def zone_crs(crs: CRS, sites: gpd.GeoSeries) -> CRS:
    """The projected CRS buffers are drawn in: the working CRS, or the sites' UTM zone."""
    if crs.is_projected:
        return crs
    return gpd.GeoSeries(sites, crs=crs).estimate_utm_crs()


def read_zones(
    path, key: str, layer: str | None, crs: CRS, file_crs: str | int | None = None
) -> np.ndarray:
    """The polygons of an exclusion layer in ``crs`` (other geometries are left out).

    Raises
    ------
    InputDataError
        The layer has no polygon (naming ``key`` and the geometry types found).
    """
    frame = read_layer(path, key, layer=layer, crs=file_crs)
    geoms = frame.geometry
    poly = geoms.notna() & ~geoms.is_empty & geoms.geom_type.isin(["Polygon", "MultiPolygon"])
    if not poly.any():
        found = sorted(set(geoms.dropna().geom_type)) or ["no geometry"]
        raise InputDataError(
            f"{key}.path: {path} has no polygons (found {', '.join(found)}); give a polygon layer of the areas to keep new outlets out of"
        )
    zones = frame.loc[poly].geometry
    if zones.crs.is_geographic:
        x0, y0, x1, y1 = zones.total_bounds
        if not (-360 <= x0 and x1 <= 360 and -90 <= y0 and y1 <= 90):
            raise InputDataError(
                f"{key}.path: {path} has coordinates outside longitude/latitude ({x0:.0f}, {y0:.0f} .. {x1:.0f}, {y1:.0f}) "
                f"for its CRS {zones.crs.to_string()}; store the file's true CRS in it (GeoJSON is always EPSG:4326) or use a GeoPackage"
            )
    # a self-crossing ring (common in hand-drawn layers) would make point-in-polygon raise
    return shapely.make_valid(np.asarray(zones.to_crs(crs).values))


def apply_exclusions(
    scenario: Scenario,
    sites: gpd.GeoDataFrame,
    allowed: np.ndarray,
    current_tier: np.ndarray,
    frames: list[np.ndarray | None] | None = None,
) -> list[ExclusionZone]:
    """Read, buffer and apply every exclusion rule: ``allowed`` is changed in place.

    Parameters
    ----------
    scenario : Scenario
    sites : GeoDataFrame
        All sites in the working CRS (today's outlets first).
    allowed : ndarray (m, K) of bool
        Tiers each site may take; new sites inside a zone lose the rule's tiers.
    current_tier : ndarray (m,)
        Today's tier (-1 = a new site).
    frames : list, optional
        Polygons per rule already in hand (None entries are read from the rule's path).

    Returns
    -------
    list of ExclusionZone
    """
    rules = scenario.siting.exclusions if scenario.siting else []
    if not rules:
        return []
    crs = zone_crs(sites.crs, sites.geometry)
    xy = point_coords(sites.geometry)
    existing = current_tier >= 0
    keys = scenario.tier_keys
    out = []
    for i, rule in enumerate(rules):
        key = f"siting.exclusions[{i}]"
        tiers = np.array(
            sorted(keys.index(t) for t in rule.tiers) if rule.tiers else range(len(keys)),
            dtype=np.int64,
        )
        buffer = buffer_value(rule)
        owner = None
        if rule.near == "outlets":
            owner = np.flatnonzero(existing)
            raw = np.asarray(sites.geometry.iloc[owner].to_crs(crs).values)
            source = "near outlets"
        else:
            given = frames[i] if frames is not None and i < len(frames) else None
            raw = given if given is not None else read_zones(rule.path, key, rule.layer, crs, rule.crs)
            source = rule.path.name
        zones = shapely.buffer(raw, buffer, quad_segs=QUAD_SEGS) if buffer > 0 else raw
        zone = ExclusionZone(key, source, tiers, buffer, crs, raw, zones, owner)
        new = np.flatnonzero(~existing)
        inside, _, _ = zone.locate(xy[new], sites.crs, new)
        hit = new[inside]
        block = allowed[np.ix_(hit, tiers)]
        zone.removed = int(block.sum())
        zone.new_sites_inside = int(len(hit))
        allowed[np.ix_(hit, tiers)] = False
        out.append(zone)
    return out
