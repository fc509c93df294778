"""Candidate sites generated from demand when the planner has no site list.

- ``kmeans``: demand-weighted k-means centres (scikit-learn, fixed seed, so runs repeat);
- ``h3``: the centres of the H3 cells at a resolution that hold demand.

With a road network the sites move to their road point, the nearest point of the nearest
drivable edge (a site must be reachable).
Each generated set carries the tiers its sites may host.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS


def kmeans_sites(xy: np.ndarray, weights: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """Centres of ``n`` demand-weighted k-means clusters, ``(min(n, points), 2)``.

    Parameters
    ----------
    xy : ndarray (m, 2)
        Demand points, metres.
    weights : ndarray (m,)
        Demand weight of each point (points of weight 0 are ignored).
    n : int
        Number of centres.
    seed : int
        Random seed of the k-means start.
    """
    from sklearn.cluster import KMeans

    keep = weights > 0
    pts, w = xy[keep], weights[keep]
    n = int(min(n, len(np.unique(pts, axis=0))))
    if n == 0:
        return np.zeros((0, 2))
    km = KMeans(n_clusters=n, n_init=4, random_state=seed).fit(pts, sample_weight=w)
    return km.cluster_centers_


def h3_sites(xy: np.ndarray, weights: np.ndarray, crs: CRS, resolution: int) -> np.ndarray:
    """Centres of the H3 cells (at ``resolution``) that hold demand, in ``crs``."""
    import h3

    keep = weights > 0
    pts = gpd.GeoSeries(gpd.points_from_xy(xy[keep, 0], xy[keep, 1]), crs=crs).to_crs(4326)
    cells = sorted(
        {h3.latlng_to_cell(lat, lng, resolution) for lng, lat in zip(pts.x, pts.y, strict=True)}
    )
    if not cells:
        return np.zeros((0, 2))
    latlng = np.array([h3.cell_to_latlng(c) for c in cells])
    back = gpd.GeoSeries(gpd.points_from_xy(latlng[:, 1], latlng[:, 0]), crs=4326).to_crs(crs)
    return back.get_coordinates().to_numpy()


def generate_candidates(
    demand_xy: np.ndarray,
    weights: np.ndarray,
    crs: CRS,
    specs: list,
    tier_keys: list[str],
    network=None,
) -> gpd.GeoDataFrame:
    """Candidate sites from the scenario's ``candidates.generate`` entries.

    Parameters
    ----------
    demand_xy : ndarray (m, 2)
        Demand points in ``crs`` (metres).
    weights : ndarray (m,)
        Total demand weight of each point.
    crs : pyproj.CRS
    specs : list of GenerateSpec
        ``method`` (kmeans / h3), ``n`` or ``resolution``, ``tiers``.
    tier_keys : list of str
    network : RoadNetwork, optional
        Move each site onto its road point, the nearest point of the nearest drivable edge
        (:meth:`netplan.roads.network.RoadNetwork.snap`; duplicates within one entry removed).

    Returns
    -------
    GeoDataFrame
        ``id`` (``K1..`` / ``H1..``, numbered per entry), ``tiers`` (``a;b``), point geometry.
    """
    frames = []
    for e, spec in enumerate(specs):
        if spec.method == "kmeans":
            xy = kmeans_sites(demand_xy, weights, spec.n, seed=spec.seed)
        else:
            xy = h3_sites(demand_xy, weights, crs, spec.resolution)
        if network is not None and len(xy):
            road = network.snap(xy).road_xy
            road = road[np.isfinite(road[:, 0])]  # a network with no edge to snap onto
            _, first = np.unique(road, axis=0, return_index=True)
            xy = road[np.sort(first)]
        prefix = ("K" if spec.method == "kmeans" else "H") + (str(e + 1) if len(specs) > 1 else "")
        tiers = spec.tiers if isinstance(spec.tiers, list) else [spec.tiers]
        frames.append(
            pd.DataFrame(
                {
                    "id": [f"{prefix}-{i + 1}" for i in range(len(xy))],
                    "tiers": ";".join(tiers),
                    "x": xy[:, 0],
                    "y": xy[:, 1],
                }
            )
        )
    table = pd.concat(frames, ignore_index=True)
    return gpd.GeoDataFrame(
        table.drop(columns=["x", "y"]), geometry=gpd.points_from_xy(table["x"], table["y"]), crs=crs
    )
