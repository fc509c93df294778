"""Evaluate any set of outlets against demand, independently of the solver.

``evaluate`` recomputes coverage from raw coordinates with its own code path (scipy's
cKDTree on planar metres, or on 3-D unit vectors with chord-to-arc conversion for
``haversine``; drive times over the road graph for ``network``, see :mod:`netplan.roads.network`)
— never from the model's matrices — so it can check a plan as well as
diagnose today's network. The same function evaluates the baseline and the plan, so both
are always compared on the same footing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.spatial import cKDTree
from shapely import LineString

from netplan._display_hooks import show
from netplan._errors import InputDataError
from netplan.evaluation.columns import display_unit, distance_column, to_display
from netplan.evaluation.overlap_kpis import add_capped_counts, capped_kpis
from netplan.scenario import Scenario
from netplan.travel.coverage import REACH_TOLERANCE
from netplan.travel.geometry import (
    EARTH_RADIUS_M,
    point_coords,
    resolve_working_crs,
    weighted_quantiles,
)

QUANTILES = {"p50": 0.5, "p90": 0.9, "p95": 0.95}


@dataclass
class Evaluation:
    """KPIs and layers of one set of outlets.

    Attributes
    ----------
    scenario : Scenario
    outlets : GeoDataFrame
        The evaluated outlets (open ones, plus closed ones for reference if given) with
        ``demand_in_reach`` (demand weight of its own tier's level within its reach),
        ``supporting_outlet``, ``support_distance`` and ``linkage_ok``.
    demand : GeoDataFrame
        Demand with, per level key L: ``covered_L`` (bool), ``n_covering_L`` (outlets able to
        serve it within reach) and ``dist_L`` (distance to the nearest outlet able to serve
        level L, in the scenario's unit).
    kpis : DataFrame
        One row per level (and per region where regions exist; ``region == "all"`` for the
        whole network). Distances are in km (``dist_mean_km``, ``dist_p95_km``, …) for planar
        and haversine travel, drive times in minutes (``time_mean_min``, …) on a road network;
        ``unit`` names it (``"km"`` or ``"min"``).
    """

    scenario: Scenario
    outlets: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame
    kpis: pd.DataFrame
    _pairs: dict[tuple[int, int], sp.coo_matrix] = field(default_factory=dict, repr=False)

    @property
    def open_outlets(self) -> gpd.GeoDataFrame:
        return self.outlets.loc[self.outlets["tier"] != ""]

    def level_kpis(self) -> pd.DataFrame:
        """KPIs per level for the whole network (distances in ``dist_*_km`` or ``time_*_min``)."""
        return self.kpis.loc[self.kpis["region"] == "all"].reset_index(drop=True)

    def region_kpis(self) -> pd.DataFrame:
        """KPIs per region and level (no ``"all"`` rows; empty without regions)."""
        return self.kpis.loc[self.kpis["region"] != "all"].reset_index(drop=True)

    def covered_weight(self) -> np.ndarray:
        """Covered demand weight per level, ``(K,)``."""
        return self.level_kpis()["covered"].to_numpy(dtype=float)

    def gaps(self) -> gpd.GeoDataFrame:
        """Uncovered demand per level: one row per (point, level) with positive weight."""
        return self._layer(lambda key: ~self.demand[f"covered_{key}"], "gap")

    def overlaps(self) -> gpd.GeoDataFrame:
        """Demand covered by two or more outlets, per level, with the count."""
        return self._layer(lambda key: self.demand[f"n_covering_{key}"] >= 2, "overlap")

    def _layer(self, select, kind: str) -> gpd.GeoDataFrame:
        parts = []
        for key in self.scenario.tier_keys:
            w = self.demand[f"weight_{key}"]
            mask = select(key) & (w > 0)
            part = self.demand.loc[mask, ["demand_id", "region", "geometry"]].copy()
            part.insert(1, "level", key)
            part.insert(2, "weight", w[mask].to_numpy())
            part.insert(3, "n_covering", self.demand.loc[mask, f"n_covering_{key}"].to_numpy())
            part.insert(4, "distance", self.demand.loc[mask, f"dist_{key}"].to_numpy())
            parts.append(part)
        frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
        return gpd.GeoDataFrame(frame, geometry="geometry", crs=self.demand.crs)

    def links(self) -> gpd.GeoDataFrame:
        """A line from each supported outlet to its supporting outlet."""
        out = self.open_outlets
        has = out["supporting_outlet"] != ""
        pos = {sid: geom for sid, geom in zip(out["site_id"], out.geometry, strict=True)}
        lines = [
            LineString([g, pos[s]])
            for g, s in zip(out.geometry[has], out["supporting_outlet"][has], strict=True)
        ]
        frame = pd.DataFrame(
            {
                "site_id": out["site_id"][has].to_numpy(),
                "tier": out["tier"][has].to_numpy(),
                "supporting_outlet": out["supporting_outlet"][has].to_numpy(),
                "distance": out["support_distance"][has].to_numpy(),
            }
        )
        return gpd.GeoDataFrame(frame, geometry=lines, crs=self.outlets.crs)

    def broken_links(self) -> gpd.GeoDataFrame:
        """Open outlets whose tier needs support but have no higher-tier outlet within the linkage reach."""
        return self.open_outlets.loc[~self.open_outlets["linkage_ok"]]

    def redundant_outlets(self) -> pd.DataFrame:
        """Outlets whose removal alone loses no covered demand at any level.

        An outlet is redundant if every demand point it covers (with positive weight) at
        every level it serves is also covered by another outlet.
        """
        out = self.open_outlets.reset_index(drop=True)
        n_out = len(out)
        needed = np.zeros(n_out, dtype=bool)
        serves_any = np.zeros(n_out, dtype=bool)
        for (_, level), M in self._pairs.items():
            key = self.scenario.tier_keys[level]
            counts = self.demand[f"n_covering_{key}"].to_numpy()
            w = self.demand[f"weight_{key}"].to_numpy()
            # M rows are outlets (positions in open outlets), columns demand points
            sole = (counts[M.col] == 1) & (w[M.col] > 0)
            needed[M.row[sole]] = True
            serves_any[M.row[w[M.col] > 0]] = True
        frame = out.loc[~needed, ["site_id", "name", "tier"]].copy()
        frame["serves_demand"] = serves_any[~needed]
        return frame.reset_index(drop=True)

    def counts(self) -> pd.DataFrame:
        """Outlets per tier and action (keep, open, retier, close); closed ones under their old tier.

        Without an ``action`` column every listed outlet counts as kept.
        """
        out = self.outlets
        action = out["action"] if "action" in out else pd.Series("keep", index=out.index)
        tier = out["tier"].where(out["tier"] != "", out.get("current_tier", out["tier"]))
        table = pd.crosstab(tier, action)
        return table.reindex(
            index=self.scenario.tier_keys, columns=["keep", "open", "retier", "close"], fill_value=0
        )

    def costs(self) -> pd.DataFrame:
        """Cost by tier and action, from the outlets' ``cost`` column (empty without one)."""
        out = self.outlets
        if "cost" not in out:
            return pd.DataFrame()
        action = out["action"] if "action" in out else pd.Series("keep", index=out.index)
        tier = out["tier"].where(out["tier"] != "", out.get("current_tier", out["tier"]))
        table = out.assign(_tier=tier, _action=action).pivot_table(
            index="_tier", columns="_action", values="cost", aggfunc="sum", fill_value=0.0
        )
        table = table.reindex(
            index=self.scenario.tier_keys,
            columns=["keep", "open", "retier", "close"],
            fill_value=0.0,
        )
        table.index.name, table.columns.name = "tier", "action"
        return table

    def __repr__(self) -> str:
        whole = self.kpis[self.kpis["region"] == "all"] if "region" in self.kpis else self.kpis
        covered = ", ".join(
            f"{r.level}: {r.covered_pct:.1f} %" for r in whole.itertuples() if hasattr(r, "level")
        )
        return (
            f"Evaluation({self.scenario.name!r}, outlets={len(self.outlets)}, "
            f"demand={len(self.demand)}, covered=[{covered}])"
        )

    def _repr_html_(self) -> str:
        return show("evaluation.html", self)

    def explore(self):
        """These outlets, gaps and overlaps on an offline folium map (renders inline in Jupyter)."""
        return show("evaluation.explore", self)

    def summary(self) -> dict[str, object]:
        lv = self.level_kpis()
        return {
            "covered_pct": dict(zip(lv["level"], lv["covered_pct"].round(3), strict=True)),
            "outlets": int(len(self.open_outlets)),
        }


# ---------------------------------------------------------------------- helpers
class _Space:
    """Planar metres, or 3-D unit vectors on the sphere for great-circle distance."""

    def __init__(self, mode: str):
        self.mode = mode

    def embed(self, xy: np.ndarray) -> np.ndarray:
        if self.mode != "haversine":
            return np.asarray(xy, dtype=float)
        lon, lat = np.radians(xy[:, 0]), np.radians(xy[:, 1])
        return np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])

    def to_tree_radius(self, metres: float) -> float:
        if self.mode != "haversine":
            return metres + REACH_TOLERANCE
        angle = min((metres + REACH_TOLERANCE) / EARTH_RADIUS_M, np.pi)
        return 2.0 * np.sin(angle / 2.0)

    def from_tree_distance(self, d: np.ndarray) -> np.ndarray:
        if self.mode != "haversine":
            return d
        return 2.0 * np.arcsin(np.clip(np.asarray(d) / 2.0, 0.0, 1.0)) * EARTH_RADIUS_M


def _tier_index(values: pd.Series, scenario: Scenario) -> np.ndarray:
    out = np.full(len(values), -1, dtype=np.int64)
    for i, v in enumerate(values.astype(str)):
        if v in ("", "nan", "None"):
            continue
        out[i] = scenario.tier_index(v, "outlets.tier")
    return out


def _demand_weights(demand: pd.DataFrame, scenario: Scenario) -> np.ndarray:
    keys = scenario.tier_keys
    if all(f"weight_{k}" in demand.columns for k in keys):
        return demand[[f"weight_{k}" for k in keys]].to_numpy(dtype=float)
    spec = scenario.demand
    base = (
        demand[spec.weight].to_numpy(dtype=float)
        if spec.weight and spec.weight in demand
        else np.ones(len(demand))
    )
    w = np.tile(base[:, None], (1, len(keys)))
    for level, column in (spec.weights or {}).items():
        w[:, scenario.tier_index(level)] = demand[column].to_numpy(dtype=float)
    return w


def baseline_outlets(inputs) -> gpd.GeoDataFrame:
    """Today's network in the schema of :attr:`netplan.planner.Plan.outlets` (every outlet kept)."""
    sites = inputs.sites
    existing = inputs.current_tier >= 0
    idx = np.flatnonzero(existing)
    t = inputs.current_tier[idx]
    labels = inputs.scenario.tier_labels
    frame = sites.loc[
        existing, ["site_id", "name", "current_tier", "policy", "ownership", "region", "geometry"]
    ].copy()
    frame.insert(2, "tier", frame["current_tier"].to_numpy())
    frame.insert(3, "tier_name", [labels[k] for k in t])
    frame.insert(5, "action", "keep")
    opex = inputs.costs.operate[idx, t]
    frame["capex"] = 0.0
    frame["opex_per_year"] = opex
    frame["cost"] = inputs.costs.horizon_years * opex
    return gpd.GeoDataFrame(frame.reset_index(drop=True), geometry="geometry", crs=inputs.crs)


# -------------------------------------------------------------------------- API
def evaluate(
    outlets: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    scenario: Scenario,
    assignment: pd.DataFrame | None = None,
) -> Evaluation:
    """KPIs, gaps, overlaps and linkage of a set of outlets.

    Parameters
    ----------
    outlets : GeoDataFrame
        Columns ``site_id`` and ``tier`` (tier key, name or number; empty = closed, kept for
        reference but serving nothing); other columns (name, action, cost) are carried along.
    demand : GeoDataFrame
        Demand points with ``weight_<level>`` columns (as in :class:`netplan.inputs.build.Inputs`)
        or the weight columns the scenario names; optional ``region`` and ``demand_id``.
    scenario : Scenario
        Tiers, reach per (tier, level), linkage reach and travel mode.
    assignment : DataFrame, optional
        Under capacities (``scenario.capacity``): ``level``, ``demand_id``, ``site_id``,
        ``share`` (as :attr:`netplan.planner.Plan.assignment`). On the loading levels a point
        counts as covered by its assigned share only (covered = assigned), and each outlet
        gets ``load`` and ``utilisation``. Without it, capacities are ignored (coverage by
        reach alone, as for today's network).

    If ``outlets`` has a ``parent_id`` column (a span of control), that parent is the
    supporting outlet and linkage holds when it is open, of a higher tier and within reach.

    Returns
    -------
    Evaluation
    """
    if outlets.crs is None or demand.crs is None:
        raise InputDataError("evaluate: outlets and demand need a CRS")
    mode = scenario.travel.mode
    crs = resolve_working_crs(mode, scenario.travel.crs, demand.geometry)
    demand = demand.to_crs(crs) if not demand.crs.equals(crs) else demand
    outlets = outlets.to_crs(crs) if not outlets.crs.equals(crs) else outlets
    keys = scenario.tier_keys
    K = len(keys)
    reach = scenario.reach_matrix
    space = _Space(mode)
    weights = _demand_weights(demand, scenario)
    d_xyz = space.embed(point_coords(demand.geometry))
    tiers = _tier_index(outlets["tier"], scenario)
    outlets = outlets.copy()
    open_pos = np.flatnonzero(tiers >= 0)
    o_xyz = space.embed(point_coords(outlets.geometry)) if len(outlets) else np.zeros((0, 3))
    d_tree = cKDTree(d_xyz)
    travel = None
    if mode == "network":  # drive times on the road graph instead of straight lines
        from netplan.roads.network import scenario_travel

        travel = scenario_travel(scenario, crs)

    dem = gpd.GeoDataFrame(
        {
            "demand_id": demand["demand_id"].to_numpy()
            if "demand_id" in demand
            else np.arange(len(demand)).astype(str),
            "region": demand["region"].to_numpy()
            if "region" in demand
            else np.full(len(demand), ""),
        },
        geometry=demand.geometry.to_numpy(),
        crs=crs,
    )
    for i, key in enumerate(keys):
        dem[f"weight_{key}"] = weights[:, i]
    pairs: dict[tuple[int, int], sp.coo_matrix] = {}
    nearest_by_tier = []
    for k in range(K):
        members = open_pos[tiers[open_pos] == k]
        if len(members) and travel is not None:
            nearest_by_tier.append(travel.nearest(d_xyz, o_xyz[members]))
        elif len(members):
            tree = cKDTree(o_xyz[members])
            dist, _ = tree.query(d_xyz, k=1)
            nearest_by_tier.append(space.from_tree_distance(dist))
        else:
            nearest_by_tier.append(np.full(len(dem), np.inf))
    for level, key in enumerate(keys):
        count = np.zeros(len(dem), dtype=np.int64)
        for k in range(level + 1):
            members = open_pos[tiers[open_pos] == k]
            if not len(members):
                continue
            if travel is not None:
                found = travel.pairs(d_xyz, o_xyz[members], reach[k, level])
                rows, cols = found.site, found.demand
            else:
                tree = cKDTree(o_xyz[members])
                found = tree.sparse_distance_matrix(
                    d_tree, space.to_tree_radius(reach[k, level]), output_type="ndarray"
                )
                rows, cols = found["i"].astype(np.int64), found["j"].astype(np.int64)
            np.add.at(count, cols, 1)
            pos_in_open = np.searchsorted(open_pos, members[rows])
            pairs[(k, level)] = sp.coo_matrix(
                (np.ones(len(rows)), (pos_in_open, cols)), shape=(len(open_pos), len(dem))
            )
        dist = (
            np.min(np.vstack(nearest_by_tier[: level + 1]), axis=0)
            if level + 1
            else np.full(len(dem), np.inf)
        )
        dem[f"covered_{key}"] = count > 0
        dem[f"covered_share_{key}"] = (count > 0).astype(float)
        dem[f"n_covering_{key}"] = count
        dem[f"dist_{key}"] = dist
    add_capped_counts(dem, pairs, scenario)  # siting.overlap: outlets of the counted tiers
    in_reach = np.full(len(outlets), np.nan)
    for k in range(K):
        M = pairs.get((k, k))
        if M is None:
            continue
        served = np.zeros(len(open_pos))
        np.add.at(served, M.row, weights[M.col, k])
        members = tiers[open_pos] == k
        in_reach[open_pos[members]] = served[members]
    outlets["demand_in_reach"] = in_reach
    if assignment is not None and scenario.capacity is not None:
        _apply_assignment(dem, outlets, assignment, scenario)
    outlets = _support(outlets, tiers, o_xyz, space, scenario, travel)
    if "parent_id" in outlets.columns:
        outlets = _assigned_support(outlets, tiers, o_xyz, space, scenario, travel)
    kpis = _kpis(dem, outlets, tiers, scenario)
    return Evaluation(scenario=scenario, outlets=outlets, demand=dem, kpis=kpis, _pairs=pairs)


def _apply_assignment(
    dem: gpd.GeoDataFrame, outlets: gpd.GeoDataFrame, assignment: pd.DataFrame, scenario: Scenario
) -> None:
    """Covered = assigned on the loading levels; load and utilisation of each outlet."""
    keys = scenario.tier_keys
    loading = scenario.capacity_levels
    demand_pos = pd.Index(dem["demand_id"]).get_indexer(assignment["demand_id"])
    outlet_pos = pd.Index(outlets["site_id"].astype(str)).get_indexer(
        assignment["site_id"].astype(str)
    )
    if (demand_pos < 0).any() or (outlet_pos < 0).any():
        raise InputDataError(
            "evaluate: the assignment names demand or outlets that are not in the inputs"
        )
    share_all = assignment["share"].to_numpy(dtype=float)
    load = np.zeros(len(outlets))
    for level, key in enumerate(keys):
        if not loading[level]:
            continue
        sel = (assignment["level"] == key).to_numpy()
        share = np.zeros(len(dem))
        np.add.at(share, demand_pos[sel], share_all[sel])
        w = dem[f"weight_{key}"].to_numpy()
        np.add.at(load, outlet_pos[sel], share_all[sel] * w[demand_pos[sel]])
        share = np.minimum(share, 1.0)
        dem[f"covered_share_{key}"] = share
        dem[f"covered_{key}"] = share >= 1.0 - 1e-6
    outlets["load"] = load
    if "capacity" in outlets.columns:
        cap = outlets["capacity"].to_numpy(dtype=float)
        outlets["utilisation"] = np.where(np.isfinite(cap) & (cap > 0), load / cap, np.nan)


def _assigned_support(
    outlets: gpd.GeoDataFrame,
    tiers: np.ndarray,
    xyz: np.ndarray,
    space: _Space,
    scenario: Scenario,
    travel=None,
) -> gpd.GeoDataFrame:
    """Supporting outlet = the assigned parent; linkage holds if it is open, higher and within reach."""
    link = scenario.linkage_reach
    ids = outlets["site_id"].astype(str).to_numpy()
    pos = pd.Index(ids).get_indexer(outlets["parent_id"].astype(str))
    has = pos >= 0
    distance = np.full(len(outlets), np.nan)
    if travel is not None:  # drive time from the supported outlet to its parent
        distance[has] = travel.times(xyz[has], xyz[pos[has]])
    else:
        distance[has] = space.from_tree_distance(np.linalg.norm(xyz[pos[has]] - xyz[has], axis=1))
    parent_tier = np.where(has, tiers[np.maximum(pos, 0)], -1)
    reach = np.where(tiers >= 0, link[np.maximum(tiers, 0)], np.nan)
    needs = (tiers >= 1) & np.isfinite(reach)
    ok = has & (parent_tier >= 0) & (parent_tier < tiers) & (distance <= reach + REACH_TOLERANCE)
    outlets["supporting_outlet"] = np.where(has, outlets["parent_id"].astype(str), "")
    outlets["support_distance"] = distance
    outlets["linkage_ok"] = ~needs | ok
    return outlets


def _support(
    outlets: gpd.GeoDataFrame,
    tiers: np.ndarray,
    xyz: np.ndarray,
    space: _Space,
    scenario: Scenario,
    travel=None,
) -> gpd.GeoDataFrame:
    """Nearest open higher-tier outlet within the linkage reach (ties by site id)."""
    link = scenario.linkage_reach
    supporting = np.full(len(outlets), "", dtype=object)
    distance = np.full(len(outlets), np.nan)
    ok = np.ones(len(outlets), dtype=bool)
    ids = outlets["site_id"].astype(str).to_numpy()
    for k in range(1, scenario.n_tiers):
        lower = np.flatnonzero(tiers == k)
        if not len(lower) or not np.isfinite(link[k]):
            continue
        upper = np.flatnonzero((tiers >= 0) & (tiers < k))
        if not len(upper):
            ok[lower] = False
            continue
        if travel is not None:  # drive time from the supported outlet to the supporting one
            p = travel.pairs(xyz[lower], xyz[upper], link[k])
            table = pd.DataFrame(
                {"row": lower[p.demand], "up": upper[p.site], "d": p.dist, "id": ids[upper[p.site]]}
            )
            table = table[table["row"] != table["up"]].sort_values(["row", "d", "id"])
            best = table.drop_duplicates("row")
            ok[lower] = False
            ok[best["row"].to_numpy()] = True
            supporting[best["row"].to_numpy()] = best["id"].to_numpy()
            distance[best["row"].to_numpy()] = best["d"].to_numpy()
            continue
        tree = cKDTree(xyz[upper])
        near = tree.query_ball_point(xyz[lower], r=space.to_tree_radius(link[k]))
        for row, cand in zip(lower, near, strict=True):
            cand = [c for c in cand if upper[c] != row]
            if not cand:
                ok[row] = False
                continue
            d = space.from_tree_distance(np.linalg.norm(xyz[upper[cand]] - xyz[row], axis=1))
            order = sorted(range(len(cand)), key=lambda i: (d[i], ids[upper[cand[i]]]))
            best = cand[order[0]]
            supporting[row] = ids[upper[best]]
            distance[row] = d[order[0]]
    outlets["supporting_outlet"] = supporting
    outlets["support_distance"] = distance
    outlets["linkage_ok"] = ok | (tiers < 0)
    return outlets


def _kpis(
    dem: gpd.GeoDataFrame, outlets: gpd.GeoDataFrame, tiers: np.ndarray, scenario: Scenario
) -> pd.DataFrame:
    keys, labels = scenario.tier_keys, scenario.tier_labels
    unit = scenario.unit

    def col(stat: str) -> str:
        return distance_column(stat, unit)

    rows = []
    regions = ["all"] + sorted(set(dem["region"]) - {""})
    out_region = (
        outlets["region"].astype(str).to_numpy() if "region" in outlets else np.full(len(tiers), "")
    )
    serving_tier = tiers >= 0
    for region in regions:
        in_region = (
            np.ones(len(dem), dtype=bool)
            if region == "all"
            else (dem["region"] == region).to_numpy()
        )
        in_out_region = (
            np.ones(len(tiers), dtype=bool) if region == "all" else (out_region == region)
        )
        for level, key in enumerate(keys):
            w = dem[f"weight_{key}"].to_numpy()[in_region]
            share = dem[f"covered_share_{key}"].to_numpy()[in_region]
            count = dem[f"n_covering_{key}"].to_numpy()[in_region]
            dist = dem[f"dist_{key}"].to_numpy()[in_region]
            total = float(w.sum())
            cov = float((w * share).sum())
            over = float(w[count >= 2].sum())
            finite = np.isfinite(dist)
            q = weighted_quantiles(dist, w, list(QUANTILES.values()))
            row = {
                "region": region,
                "level": key,
                "level_name": labels[level],
                "demand": total,
                "covered": cov,
                "covered_pct": 100.0 * cov / total if total else np.nan,
                "gap": total - cov,
                "gap_pct": 100.0 * (total - cov) / total if total else np.nan,
                "overlap": over,
                "overlap_pct": 100.0 * over / total if total else np.nan,
                col("mean"): to_display(float(np.average(dist[finite], weights=w[finite])), unit)
                if w[finite].sum() > 0
                else np.nan,
                **{
                    col(name): to_display(value, unit)
                    for name, value in zip(QUANTILES, q, strict=True)
                },
                col("max"): to_display(float(dist[finite & (w > 0)].max()), unit)
                if (finite & (w > 0)).any()
                else np.nan,
                "outlets_serving": int((serving_tier & (tiers <= level) & in_out_region).sum()),
                "outlets_of_tier": int((serving_tier & (tiers == level) & in_out_region).sum()),
                "unit": display_unit(unit),
            }
            rows.append(row | capped_kpis(dem, key, in_region))
    return pd.DataFrame(rows)
