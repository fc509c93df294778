"""Sites: existing outlets and candidate sites, the tiers each may take, their costs and capacity.

Normalised columns: ``site_id``, ``name``, ``source`` (``outlet`` / ``candidate``),
``current_tier`` (tier key or empty), ``policy`` (``keep``, ``may_close``, ``may_retier``,
``may_retier_or_close``; ``new`` for candidates), ``ownership``, ``region``, ``tiers`` (the
tiers the site may take, ``;``-separated), point geometry.
"""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from netplan._errors import InputDataError, ScenarioError, did_you_mean
from netplan.inputs.columns import (
    RowIds,
    file_row,
    id_column,
    layer_name,
    numeric_column,
    text_column,
)
from netplan.inputs.costs import SiteCosts
from netplan.inputs.locations import layer_points, region_of
from netplan.inputs.readers import require_column
from netplan.scenario import OWNERSHIPS, POLICIES, LayerSpec, Scenario
from netplan.scenario.conditioning import Member

_SPLIT = re.compile(r"[;,|]")


def _parse_tier_list(text: str, scenario: Scenario, where: str) -> np.ndarray:
    mask = np.zeros(scenario.n_tiers, dtype=bool)
    parts = [p.strip() for p in _SPLIT.split(text) if p.strip()]
    if not parts:
        raise InputDataError(
            f"{where}: empty tier list; give the tiers the site may host, e.g. '{';'.join(scenario.tier_keys)}'"
        )
    for part in parts:
        if part.lower() in {"all", "any", "*"}:
            mask[:] = True
            continue
        try:
            mask[scenario.tier_index(part)] = True
        except ScenarioError:
            raise InputDataError(
                f"{where}: unknown tier '{part}'{did_you_mean(part, scenario.tier_keys)}; use {scenario.tier_keys}"
            ) from None
    return mask


def load_sites(
    frame: gpd.GeoDataFrame,
    spec: LayerSpec,
    key: str,
    scenario: Scenario,
    crs: CRS,
    regions: gpd.GeoDataFrame | None,
    notes: list[str],
) -> tuple[pd.DataFrame, np.ndarray, dict[str, np.ndarray]]:
    """Existing outlets or candidate sites: the normalised table, allowed tiers, costs.

    Parameters
    ----------
    frame : GeoDataFrame
        The layer as read (or generated candidates).
    spec : LayerSpec
        Its scenario entry (``outlets`` or ``candidates``): columns and defaults.
    key : str
        ``"outlets"`` or ``"candidates"``.
    scenario : Scenario
        Tiers, cost tables and capacities.
    crs : pyproj.CRS
        The working CRS.
    regions : GeoDataFrame, optional
        Region polygons, for rows without a region column.
    notes : list of str
        Warnings are appended here.

    Returns
    -------
    table : GeoDataFrame
        The normalised site columns (see the module docstring), in ``crs``.
    allowed : ndarray (m, K) of bool
        Whether site j may operate as tier k.
    costs : dict
        ``open``, ``operate``, ``convert`` (m, K), ``close`` and ``current`` (m,), the
        ``members`` of the cost family from site columns, and ``capacity`` (m, K).

    Raises
    ------
    InputDataError
        An unknown tier, policy or ownership, a missing column, or a geometry, id, cost or
        capacity that breaks a rule.
    """
    path = layer_name(spec)
    if key == "outlets" and getattr(spec, "types", None):
        frame = _map_types(frame, spec, notes)
    n, n_tiers = len(frame), scenario.n_tiers
    geoms = layer_points(frame, spec, key, notes)
    ids = id_column(frame, spec, key, "O" if key == "outlets" else "C")
    names = text_column(
        frame, spec.name or ("name" if "name" in frame.columns else None), spec, key, "name"
    )
    names = names.where(names != "", ids)
    ownership = text_column(
        frame, getattr(spec, "ownership", None), spec, key, "ownership", spec.default_ownership
    )  # type: ignore[union-attr]
    ownership = ownership.str.lower().where(ownership != "", spec.default_ownership)  # type: ignore[union-attr]
    bad = ~ownership.isin(OWNERSHIPS)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputDataError(
            f"{path}: row {file_row(spec, row)}: ownership '{ownership.iloc[row]}' is not one of {list(OWNERSHIPS)}"
        )
    current = np.full(n, -1, dtype=np.int64)
    allowed = np.zeros((n, n_tiers), dtype=bool)
    if key == "outlets":
        tier_col = require_column(frame, spec.tier, Path(spec.path), key, "tier")  # type: ignore[attr-defined]
        for row, value in enumerate(tier_col.astype(str).str.strip()):
            try:
                current[row] = scenario.tier_index(value)
            except ScenarioError:
                raise InputDataError(
                    f"{path}: row {file_row(spec, row)}: unknown tier '{value}' in column '{spec.tier}'"  # type: ignore[attr-defined]
                    f"{did_you_mean(value, scenario.tier_keys)}; use one of {scenario.tier_keys}"
                ) from None
        policy = text_column(frame, spec.policy, spec, key, "policy", spec.default_policy).str.lower()  # type: ignore[attr-defined]
        policy = policy.where(policy != "", spec.default_policy)  # type: ignore[attr-defined]
        bad = ~policy.isin(POLICIES)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputDataError(
                f"{path}: row {file_row(spec, row)}: policy '{policy.iloc[row]}'{did_you_mean(policy.iloc[row], POLICIES)} is not one of {list(POLICIES)}"
            )
        retier_tiers = text_column(frame, spec.tiers, spec, key, "tiers") if spec.tiers else None  # type: ignore[attr-defined]
        for row in range(n):
            p = policy.iloc[row]
            if p in ("keep", "may_close"):
                allowed[row, current[row]] = True
            elif retier_tiers is not None and retier_tiers.iloc[row]:
                allowed[row] = _parse_tier_list(
                    retier_tiers.iloc[row], scenario, f"{path}: row {file_row(spec, row)}"
                )
                allowed[row, current[row]] = True
            else:
                allowed[row] = True
        source = "outlet"
    else:
        policy = pd.Series(["new"] * n, dtype=object)
        tiers_col = getattr(spec, "tiers", None)
        if tiers_col and tiers_col in frame.columns:
            texts = text_column(frame, tiers_col, spec, key, "tiers")
            cache: dict[str, np.ndarray] = {}
            for row, text in enumerate(texts):
                if text not in cache:
                    cache[text] = _parse_tier_list(text, scenario, f"{path}: row {file_row(spec, row)}")
                allowed[row] = cache[text]
        elif tiers_col and tiers_col != "tiers":
            require_column(frame, tiers_col, Path(spec.path), key, "tiers")
        else:
            allowed[:] = True
        source = "candidate"
    table = pd.DataFrame(
        {
            "site_id": ids.to_numpy(),
            "name": names.to_numpy(),
            "source": source,
            "current_tier": [scenario.tier_keys[t] if t >= 0 else "" for t in current],
            "policy": policy.to_numpy(),
            "ownership": ownership.to_numpy(),
            "region": region_of(frame, geoms, spec, key, regions).to_numpy(),
            "tiers": [
                ";".join(k for k, a in zip(scenario.tier_keys, row, strict=True) if a)
                for row in allowed
            ],
        }
    )
    table = gpd.GeoDataFrame(table, geometry=geoms.to_crs(crs).to_numpy(), crs=crs)
    costs = _site_costs(frame, spec, key, scenario, ownership.to_numpy(), current)
    return table, allowed, costs


def _map_types(frame: gpd.GeoDataFrame, spec: LayerSpec, notes: list[str]) -> gpd.GeoDataFrame:
    """Outlets whose type (the ``tier`` column) is in ``outlets.types``, with the type mapped to its tier."""
    column = spec.tier  # type: ignore[attr-defined]
    values = (
        require_column(frame, column, Path(spec.path), "outlets", "tier").astype(str).str.strip()
    )
    keep = values.isin(list(spec.types)).to_numpy()  # type: ignore[attr-defined]
    if not keep.any():
        raise InputDataError(
            f"{layer_name(spec)}: no outlet has a '{column}' listed in outlets.types {sorted(spec.types)}; "  # type: ignore[attr-defined]
            f"values are {sorted(set(values))[:10]}"
        )
    if not keep.all():
        notes.append(
            f"{layer_name(spec)}: {int((~keep).sum())} outlets of types not in outlets.types left out"
        )
    out = frame.loc[keep].copy()
    out[column] = values[keep].map(spec.types).to_numpy()  # type: ignore[attr-defined]
    return out.reset_index(drop=True)


def _site_costs(
    frame: pd.DataFrame,
    spec: LayerSpec,
    key: str,
    scenario: Scenario,
    ownership: np.ndarray,
    current: np.ndarray,
) -> dict[str, np.ndarray]:
    n, keys = len(frame), scenario.tier_keys
    out = {name: np.zeros((n, len(keys))) for name in ("open", "operate", "convert")}
    close_default = np.zeros((n, len(keys)))
    for owner in OWNERSHIPS:
        rows = ownership == owner
        table = getattr(scenario.costs, owner)
        for t, tier in enumerate(keys):
            cost = table.get(tier) or scenario.costs.direct.get(tier)
            if cost is None:
                continue
            out["open"][rows, t] = cost.open
            out["operate"][rows, t] = cost.operate
            out["convert"][rows, t] = cost.convert
            close_default[rows, t] = cost.close
    members = []  # the site columns' part of the cost family (netplan.scenario.conditioning)
    for name in ("open", "operate", "convert"):
        for t, tier in enumerate(keys):
            column = f"{name}_cost_{tier}"
            if column in frame.columns:
                values = numeric_column(frame, column, spec, key, column, allow_nan=True)
                out[name][:, t] = np.where(np.isnan(values), out[name][:, t], values)
                members.append(Member(f"{layer_name(spec)} column '{column}'", values, RowIds(spec, n)))
    close = np.where(current >= 0, close_default[np.arange(n), np.maximum(current, 0)], 0.0)
    if "close_cost" in frame.columns:
        values = numeric_column(frame, "close_cost", spec, key, "close_cost", allow_nan=True)
        close = np.where(np.isnan(values), close, values)
        members.append(Member(f"{layer_name(spec)} column 'close_cost'", values, RowIds(spec, n)))
    return {
        **out,
        "members": members,
        "close": close,
        "current": current,
        "capacity": _site_capacity(frame, spec, key, scenario),
    }


def _site_capacity(
    frame: pd.DataFrame, spec: LayerSpec, key: str, scenario: Scenario
) -> np.ndarray:
    """Capacity (demand weight) per site and tier: the scenario's ``capacity.per_tier``,
    overridden by a site column ``capacity_<tier>``; inf = unlimited."""
    n, keys = len(frame), scenario.tier_keys
    out = np.full((n, len(keys)), np.inf)
    if scenario.capacity is None:
        return out
    for t, tier in enumerate(keys):
        if tier in scenario.capacity.per_tier:
            out[:, t] = scenario.capacity.per_tier[tier]
        column = f"capacity_{tier}"
        if column in frame.columns:
            values = numeric_column(frame, column, spec, key, column, allow_nan=True)
            if (values[~np.isnan(values)] <= 0).any():
                row = int(np.flatnonzero(values <= 0)[0])
                raise InputDataError(
                    f"{layer_name(spec)}: row {file_row(spec, row)}: {column} must be > 0 (leave it blank for the tier's default)"
                )
            out[:, t] = np.where(np.isnan(values), out[:, t], values)
    return out


def stack_costs(parts: list[dict[str, np.ndarray]], horizon: float) -> SiteCosts:
    """The costs of every site layer, in the order given, as one :class:`SiteCosts`.

    Parameters
    ----------
    parts : list of dict
        The costs of each layer as :func:`load_sites` returns them.
    horizon : float
        Years of operating cost counted (``costs.horizon_years``).

    Returns
    -------
    SiteCosts
    """
    return SiteCosts(
        open=np.vstack([p["open"] for p in parts]),
        operate=np.vstack([p["operate"] for p in parts]),
        convert=np.vstack([p["convert"] for p in parts]),
        close=np.concatenate([p["close"] for p in parts]),
        current_tier=np.concatenate([p["current"] for p in parts]),
        horizon_years=horizon,
    )
