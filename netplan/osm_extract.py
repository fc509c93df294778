"""Drivable roads of an OpenStreetMap extract, clipped or whole, as OSM XML for osmnx.

Extracts cut to a bounding box (``osmium extract --bbox``, download services) keep every way
that touches the box with its *full* node list, but drop the nodes outside the box, so osmnx
refuses them ("Some edges missing nodes"). :func:`write_drive_xml` reads any OSM file pyosmium
reads (``.osm.pbf``, ``.osm``, ``.osm.bz2``), keeps the drivable ways, splits each way that
references missing nodes into its runs of two or more consecutive known nodes (each piece a
new negative way id, which no real OSM object has, with the way's tags), and writes those
ways and their nodes, tags unchanged, to OSM XML that ``osmnx.graph_from_xml`` reads.
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

    clipped = pieces = written = 0
    with osmium.SimpleWriter(str(out), overwrite=True) as writer:
        found = []
        nodes = osmium.FileProcessor(_osmium_file(src), osmium.osm.NODE).with_filter(
            osmium.filter.IdFilter(needed.tolist())
        )
        for node in nodes:  # only the needed nodes reach Python (the filter runs in C++)
            writer.add_node(node)
            found.append(node.id)
        found_ids = np.unique(np.asarray(found, dtype=np.int64))
        missing = np.setdiff1d(needed, found_ids, assume_unique=True)
        # one membership test for all ways, then cut per way (a way is a slice of `flat`)
        flat = np.concatenate([r for _, r, _ in ways]) if ways else np.empty(0, np.int64)
        flat_present = np.isin(flat, found_ids, assume_unique=False)
        bounds = np.cumsum([0] + [len(r) for _, r, _ in ways])
        next_id = -1
        for k, (way_id, refs, tags) in enumerate(ways):
            present = flat_present[bounds[k] : bounds[k + 1]]
            if present.all():
                writer.add_way(osmium.osm.mutable.Way(id=way_id, nodes=refs.tolist(), tags=tags))
                written += 1
                continue
            clipped += 1
            for part in split_at_gaps(refs, present):
                writer.add_way(osmium.osm.mutable.Way(id=next_id, nodes=part.tolist(), tags=tags))
                next_id -= 1
                pieces += 1
                written += 1
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
