"""Drivable roads of an OpenStreetMap extract, clipped or whole, as OSM XML for osmnx.

Extracts cut to a bounding box (``osmium extract --bbox``, download services) keep every way
that touches the box with its *full* node list, but drop the nodes outside the box, so osmnx
refuses them ("Some edges missing nodes"). :func:`write_drive_xml` reads any OSM file pyosmium
reads (``.osm.pbf``, ``.osm``, ``.osm.bz2``), keeps the road ways, splits each way that
references missing nodes into its runs of two or more consecutive known nodes (each piece a
new negative way id below any in the file, which no real OSM object has, with the way's
tags), and writes those ways and their nodes, tags unchanged, to OSM XML that
``osmnx.graph_from_xml`` reads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class ExtractSummary:
    """What :func:`write_drive_xml` kept.

    Attributes
    ----------
    ways : int
        Drivable ways in the file.
    clipped_ways : int
        Drivable ways that reference at least one node missing from the file.
    missing_nodes : int
        Distinct nodes referenced by drivable ways but missing from the file.
    pieces : int
        Ways written for the clipped ways (their runs of >= 2 consecutive known nodes).
    written_ways : int
        Ways written in all (whole ways plus pieces).
    """

    ways: int
    clipped_ways: int
    missing_nodes: int
    pieces: int
    written_ways: int


def _runs(present: np.ndarray) -> list[tuple[int, int]]:
    """``(start, stop)`` of each run of >= 2 consecutive True values (stop exclusive)."""
    edges = np.diff(np.concatenate(([0], present.astype(np.int8), [0])))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    keep = stops - starts >= 2
    return list(zip(starts[keep].tolist(), stops[keep].tolist(), strict=True))


def split_at_gaps(refs: np.ndarray, present: np.ndarray) -> list[np.ndarray]:
    """The parts of a way between known nodes: runs of >= 2 consecutive present nodes.

    Parameters
    ----------
    refs : ndarray of int
        The way's node ids, in order.
    present : ndarray of bool
        Whether each node is in the file.

    Returns
    -------
    list of ndarray
        Node ids of each piece. A closed way (first node = last) is opened at a gap first, so a
        run through its closing node stays one piece.
    """
    if present.all():
        return [refs]
    if len(refs) > 2 and refs[0] == refs[-1]:
        # rotate so the sequence starts right after a missing node and does not repeat the closer
        gap = int(np.flatnonzero(~present[:-1])[0])
        order = np.r_[gap + 1 : len(refs) - 1, 0 : gap + 1]
        refs, present = refs[order], present[order]
    return [refs[a:b] for a, b in _runs(present)]


def write_drive_xml(
    src: Path | str, out: Path | str, keep: Callable[[dict[str, str]], bool]
) -> ExtractSummary:
    """Write the ways of ``src`` that ``keep`` accepts, split at missing nodes, to OSM XML.

    Parameters
    ----------
    src : Path or str
        An OSM file pyosmium reads (``.osm.pbf``, ``.osm``, ``.osm.bz2``, ...).
    out : Path or str
        The OSM XML file to write (overwritten).
    keep : callable
        Takes a way's tags, returns whether the way is a road to keep.

    Returns
    -------
    ExtractSummary
        Counts of the ways kept, clipped and split.

    Raises
    ------
    RuntimeError
        pyosmium cannot read ``src`` (truncated, corrupt or not OSM data).
    """
    import osmium

    src_file = _osmium_file(src)
    ways: list[tuple[int, np.ndarray, dict[str, str]]] = []
    for way in osmium.FileProcessor(src_file, osmium.osm.WAY).with_filter(
        osmium.filter.KeyFilter("highway")
    ):
        tags = dict(way.tags)
        if keep(tags):
            refs = np.fromiter((n.ref for n in way.nodes), dtype=np.int64, count=len(way.nodes))
            ways.append((way.id, refs, tags))
    needed = np.unique(np.concatenate([r for _, r, _ in ways])) if ways else np.empty(0, np.int64)

    # only the needed nodes reach Python (the id filter runs in C++); kept as plain copies
    # because pyosmium's objects die with the iteration step
    nodes = [
        osmium.osm.mutable.Node(
            id=node.id,
            location=(node.location.lon, node.location.lat),
            tags=dict(node.tags) if len(node.tags) else {},
        )
        for node in osmium.FileProcessor(_osmium_file(src), osmium.osm.NODE).with_filter(
            osmium.filter.IdFilter(needed.tolist())
        )
    ]
    node_ids = np.fromiter((n.id for n in nodes), dtype=np.int64, count=len(nodes))
    found_ids = np.unique(node_ids)
    missing = np.setdiff1d(needed, found_ids, assume_unique=True)
    # one membership test for all ways, then cut per way (a way is a slice of `flat`)
    flat = np.concatenate([r for _, r, _ in ways]) if ways else np.empty(0, np.int64)
    flat_present = np.isin(flat, found_ids)
    bounds = np.cumsum([0] + [len(r) for _, r, _ in ways])
    out_ways: list[tuple[int, np.ndarray, dict[str, str]]] = []
    clipped = pieces = 0
    # pieces count down from below every kept id: negative ids are never real OSM objects,
    # and files edited in JOSM may already hold some (its new objects)
    base = min([0, *(way_id for way_id, _, _ in ways)])
    for k, (way_id, refs, tags) in enumerate(ways):
        present = flat_present[bounds[k] : bounds[k + 1]]
        if present.all():
            out_ways.append((way_id, refs, tags))
            continue
        clipped += 1
        for part in split_at_gaps(refs, present):
            pieces += 1
            out_ways.append((base - pieces, part, tags))
    used = np.concatenate([r for _, r, _ in out_ways]) if out_ways else np.empty(0, np.int64)
    keep_node = np.isin(node_ids, used)  # not the lone nodes of dropped one-node remnants
    with osmium.SimpleWriter(str(out), overwrite=True) as writer:
        for node in (n for n, k in zip(nodes, keep_node.tolist(), strict=True) if k):
            writer.add_node(node)
        for way_id, refs, tags in out_ways:
            writer.add_way(osmium.osm.mutable.Way(id=way_id, nodes=refs.tolist(), tags=tags))
    written = len(out_ways)
    return ExtractSummary(len(ways), clipped, int(len(missing)), pieces, written)


def _osmium_file(path: Path | str):
    """An ``osmium.io.File`` for ``path``; ``.xml`` / ``.xml.bz2`` are OSM XML too."""
    import osmium

    name = str(path)
    lower = name.lower()
    if lower.endswith(".xml"):
        return osmium.io.File(name, "osm")
    if lower.endswith(".xml.bz2"):
        return osmium.io.File(name, "osm.bz2")
    return osmium.io.File(name)
