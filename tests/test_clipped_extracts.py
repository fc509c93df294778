"""Clipped OpenStreetMap extracts: ways cut by the clip are split at the missing nodes.

A clipped extract is built here from ``../shared``'s Liechtenstein ``.osm.pbf`` the way
``osmium extract -s simple --bbox`` builds one: the nodes inside the box, and every way with at
least one node inside, unchanged (so it references nodes the file does not hold). These tests
need ``../shared`` and fail (never skip) without it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import osmium
import pandas as pd
import pytest
from typer.testing import CliRunner

from netplan import InputDataError, NetplanWarning
from netplan.cli import app
from netplan.roads.extract import split_at_gaps, write_drive_xml
from netplan.roads.network import is_drivable, is_road, read_graph

from conftest import SHARED, write_road_case

PBF = SHARED / "data" / "liechtenstein" / "liechtenstein-latest.osm.pbf"
BBOX = (9.505, 47.125, 9.545, 47.160)  # west, south, east, north: Vaduz and its edge

try:
    runner = CliRunner(mix_stderr=False)
except TypeError:
    runner = CliRunner()


def _clip(src: Path, dst: Path, bbox: tuple[float, float, float, float]) -> None:
    """``osmium extract -s simple``: nodes inside the box, ways touching it with all their refs."""
    west, south, east, north = bbox
    inside: set[int] = set()
    with osmium.SimpleWriter(str(dst), overwrite=True) as writer:
        for obj in osmium.FileProcessor(str(src), osmium.osm.NODE | osmium.osm.WAY):
            if obj.is_node():
                loc = obj.location
                if west <= loc.lon <= east and south <= loc.lat <= north:
                    inside.add(obj.id)
                    writer.add_node(obj)
            elif any(n.ref in inside for n in obj.nodes):
                writer.add_way(obj)


@pytest.fixture(scope="module")
def clipped(tmp_path_factory) -> Path:
    assert PBF.is_file(), f"Liechtenstein extract missing at {PBF} (../shared is required)"
    path = tmp_path_factory.mktemp("clip") / "vaduz.osm.pbf"
    _clip(PBF, path, BBOX)
    return path


def _expected_counts(path: Path, rule=is_drivable) -> tuple[int, int, int, int, set[int]]:
    """Counted straight from the file, in plain Python: drivable ways, those with a missing
    node, the distinct missing nodes, the pieces (runs of >= 2 known nodes) and the node ids."""
    present = {n.id for n in osmium.FileProcessor(str(path), osmium.osm.NODE)}
    ways = clipped_ways = pieces = 0
    missing: set[int] = set()
    for way in osmium.FileProcessor(str(path), osmium.osm.WAY):
        if not rule(dict(way.tags)):
            continue
        ways += 1
        refs = [n.ref for n in way.nodes]
        gone = [r for r in refs if r not in present]
        if not gone:
            continue
        clipped_ways += 1
        missing.update(gone)
        if refs[0] == refs[-1]:  # a closed way: its runs continue through the closing node
            cut = next(i for i, r in enumerate(refs) if r not in present)
            refs = refs[cut + 1 : -1] + refs[: cut + 1]
        run = 0
        for r in [*refs, None]:
            if r is not None and r in present:
                run += 1
                continue
            pieces += run >= 2
            run = 0
    return ways, clipped_ways, len(missing), pieces, present


def test_clipped_pbf_reads_with_one_warning_counting_the_split_ways(clipped):
    ways, clipped_ways, missing, pieces, present = _expected_counts(clipped)
    assert clipped_ways > 10 and pieces > 10  # the box does cut roads
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        graph = read_graph(clipped)
    messages = [str(w.message) for w in caught if issubclass(w.category, NetplanWarning)]
    assert messages == [
        f"{clipped}: clipped extract: {clipped_ways} of {ways} drivable ways reference "
        f"{missing} nodes not in the file; kept their parts between known nodes "
        f"(split into {pieces} pieces)"
    ]
    # every edge runs between nodes the file holds, and so does every bend of its geometry
    assert set(graph.nodes) <= present
    assert all(u in present and v in present for u, v in graph.edges())
    assert graph.number_of_edges() > 300
    located = {
        (round(n.location.lon, 7), round(n.location.lat, 7))
        for n in osmium.FileProcessor(str(clipped), osmium.osm.NODE)
    }
    bends = {
        (round(x, 7), round(y, 7))
        for _, _, d in graph.edges(data=True)
        if "geometry" in d
        for x, y in d["geometry"].coords
    }
    assert len(bends) > 1000 and bends <= located
    # the pieces carry new negative way ids, the whole ways their own
    osmids = {
        i
        for _, _, d in graph.edges(data=True)
        for i in (d["osmid"] if isinstance(d["osmid"], list) else [d["osmid"]])
    }
    assert min(osmids) < 0 < max(osmids)


def test_the_written_extract_holds_whole_ways_and_distinct_pieces(clipped, tmp_path):
    ways, clipped_ways, missing, pieces, present = _expected_counts(clipped)
    out = tmp_path / "drive.osm"
    summary = write_drive_xml(clipped, out, is_drivable)
    assert (summary.ways, summary.clipped_ways, summary.missing_nodes, summary.pieces) == (
        ways,
        clipped_ways,
        missing,
        pieces,
    )
    ways_out = osmium.FileProcessor(str(out), osmium.osm.WAY)
    written = {w.id: [n.ref for n in w.nodes] for w in ways_out}
    assert len(written) == ways - clipped_ways + pieces  # ids distinct
    assert sorted(i for i in written if i < 0) == list(range(-pieces, 0))
    refs = {r for nodes in written.values() for r in nodes}
    assert refs <= present
    assert {n.id for n in osmium.FileProcessor(str(out), osmium.osm.NODE)} == refs


def _plan_case(folder: Path, network: Path) -> Path:
    """A small two-tier plan inside the clipped box, on drive times."""
    return write_road_case(
        folder, network, name="clipped", box=(9.515, 47.132, 9.535, 47.152),  # inside BBOX
        outlet=(9.5215, 47.1410), reach=("6 min", "2 min"), n_demand=120, n_sites=12, n_hubs=4,
        seed=3, solver={"time_limit": 60, "mip_rel_gap": 0},
    )  # fmt: skip


def test_clipped_extract_validates_and_plans_to_a_proven_optimum(clipped, tmp_path):
    ways, clipped_ways, missing, pieces, _ = _expected_counts(clipped)
    scenario = _plan_case(tmp_path / "case", clipped)
    warning = (
        f"warning: {clipped}: clipped extract: {clipped_ways} of {ways} drivable ways reference "
        f"{missing} nodes not in the file; kept their parts between known nodes "
        f"(split into {pieces} pieces)"
    )
    # validate in a real process: the clip is one warning line on stderr, printed once
    checked = subprocess.run(
        [sys.executable, "-m", "netplan.cli", "validate", str(scenario)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "400"},
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    lines = [x for x in checked.stderr.splitlines() if "clipped extract" in x]
    assert lines == [warning], checked.stderr
    out = tmp_path / "out"
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        result = runner.invoke(app, ["run", str(scenario), "--out", str(out)])
    assert result.exit_code == 0, result.stdout + result.stderr
    run = json.loads((out / "run.json").read_text())
    stages = run["solver"]["stages"]
    assert [s["status"] for s in stages] == ["optimal"] * len(stages)
    kpis = pd.read_csv(out / "kpis.csv")
    total = pd.read_csv(tmp_path / "case" / "demand.csv")["customers"].sum()
    assert np.allclose(kpis[kpis["region"] == "all"]["demand_plan"], total)
    assert set(kpis["unit"]) == {"min"}
    # the split roads carry drive times: most people are within 6 min of the kept hub (91 % when
    # written; the exact share depends on snapping, which is not this test's subject)
    hub = kpis[(kpis["region"] == "all") & (kpis["level"] == "hub")].iloc[0]
    assert hub["covered_pct_plan"] > 50
    # run.json keeps the clip among its warnings, also when the network comes from the
    # process's cache (a second run reads no file, so nothing warns while reading)
    note = warning.removeprefix("warning: ")
    assert note in run["warnings"]
    again = runner.invoke(app, ["run", str(scenario), "--out", str(tmp_path / "again")])
    assert again.exit_code == 0, again.stdout + again.stderr
    assert note in json.loads((tmp_path / "again" / "run.json").read_text())["warnings"]


def _osm_xml(
    path: Path,
    way_nodes: list[int],
    node_ids: list[int],
    tags: str,
    extra: dict[int, list[int]] | None = None,
) -> Path:
    """OSM XML with these nodes (on a diagonal), way 7 and the ``extra`` ways, all with ``tags``."""
    nodes = "\n".join(
        f'  <node id="{i}" version="1" lat="{47.14 + 0.001 * i:.7f}" lon="{9.52 + 0.001 * i:.7f}"/>'
        for i in node_ids
    )
    body = []
    for way_id, refs in {7: way_nodes, **(extra or {})}.items():
        nds = "".join(f'<nd ref="{r}"/>' for r in refs)
        body.append(f'  <way id="{way_id}" version="1">{nds}{tags}</way>')
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">\n'
        + nodes
        + "\n"
        + "\n".join(body)
        + "\n</osm>\n"
    )
    return path


def test_a_way_missing_its_middle_node_becomes_two_pieces(tmp_path):
    tags = '<tag k="highway" v="residential"/><tag k="name" v="Gap Street"/>'
    src = _osm_xml(tmp_path / "gap.osm", [1, 2, 3, 4, 5], [1, 2, 4, 5], tags)
    out = tmp_path / "drive.osm"
    summary = write_drive_xml(src, out, is_road)
    counts = (summary.ways, summary.clipped_ways, summary.missing_nodes, summary.pieces)
    assert counts == (1, 1, 1, 2)
    written = [
        (w.id, [n.ref for n in w.nodes], dict(w.tags))
        for w in osmium.FileProcessor(str(out), osmium.osm.WAY)
    ]
    assert written == [
        (-1, [1, 2], {"highway": "residential", "name": "Gap Street"}),
        (-2, [4, 5], {"highway": "residential", "name": "Gap Street"}),
    ]
    with pytest.warns(NetplanWarning) as caught:
        graph = read_graph(src)
    assert [str(w.message) for w in caught] == [
        f"{src}: clipped extract: 1 of 1 drivable ways reference 1 node not in the file; "
        "kept their parts between known nodes (split into 2 pieces)"
    ]
    assert set(graph.nodes) <= {1, 2, 4, 5} and graph.number_of_edges() == 2  # osmnx keeps one


def test_split_at_gaps_runs_and_closed_ways():
    refs = np.array([1, 2, 3, 4, 5, 6, 7])
    present = np.array([True, True, False, True, False, True, True])
    # node 4 alone (between two gaps) is no piece
    assert [p.tolist() for p in split_at_gaps(refs, present)] == [[1, 2], [6, 7]]
    ring = np.array([1, 2, 3, 4, 5, 1])  # a roundabout cut at node 3: one piece through node 1
    assert [p.tolist() for p in split_at_gaps(ring, ring != 3)] == [[4, 5, 1, 2]]
    assert [p.tolist() for p in split_at_gaps(refs, np.ones(7, bool))] == [refs.tolist()]


def test_a_truncated_pbf_names_the_cause_and_the_fix(tmp_path):
    bad = tmp_path / "cut.osm.pbf"
    bad.write_bytes(PBF.read_bytes()[:300_000])
    with pytest.raises(InputDataError) as err:
        read_graph(bad)
    assert str(err.value) == (
        f"{bad}: cannot read this .osm.pbf (PBF error: unexpected EOF); the file may be "
        "truncated or not OSM data: download it again or check it with `osmium fileinfo`"
    )


def test_an_extract_without_roads_says_so(tmp_path):
    src = _osm_xml(
        tmp_path / "paths.osm", [1, 2, 3], [1, 2, 3], '<tag k="highway" v="footway"/>'
    )
    pbf = tmp_path / "paths.osm.pbf"
    with osmium.SimpleWriter(str(pbf)) as writer:
        for obj in osmium.FileProcessor(str(src)):
            writer.add(obj)
    for path in (src, pbf):
        with pytest.raises(InputDataError) as err:
            read_graph(path)
        assert str(err.value) == (
            f"{path}: no drivable roads (highway=* ways open to cars) in this extract; give an "
            "extract that covers the study area with its roads (e.g. from Geofabrik or BBBike, "
            "or `osmium extract --bbox` of a larger one)"
        )


def test_an_unknown_extension_lists_the_accepted_ones(tmp_path):
    shp = tmp_path / "roads.shp"
    shp.write_text("x")
    with pytest.raises(InputDataError) as err:
        read_graph(shp)
    assert str(err.value) == (
        f"{shp}: unknown road network format; give .osm.pbf, .osm, .osm.bz2, .xml, .xml.bz2 "
        "or .graphml"
    )


def test_pieces_take_ids_below_negative_ids_already_in_the_file(tmp_path):
    """A file edited in JOSM holds new objects with negative ids: the pieces go below them."""
    tags = '<tag k="highway" v="service"/>'
    src = _osm_xml(tmp_path / "josm.osm", [1, 2, 3, 4, 5], [1, 2, 4, 5, 8, 9], tags, {-4: [8, 9]})
    out = tmp_path / "drive.osm"
    write_drive_xml(src, out, is_road)
    written = osmium.FileProcessor(str(out), osmium.osm.WAY)
    assert {w.id: [n.ref for n in w.nodes] for w in written} == {-4: [8, 9], -5: [1, 2], -6: [4, 5]}


def test_an_extract_cut_so_tightly_no_road_keeps_two_nodes_says_so(tmp_path):
    src = _osm_xml(tmp_path / "tight.osm", [1, 2, 3], [2], '<tag k="highway" v="primary"/>')
    with pytest.raises(InputDataError) as err:
        read_graph(src)
    assert str(err.value) == (
        f"{src}: no drivable roads (highway=* ways open to cars) in this extract (1 drivable way "
        "cut by the clip, none with 2 nodes in the file); give an extract that covers the study "
        "area with its roads (e.g. from Geofabrik or BBBike, or `osmium extract --bbox` of a "
        "larger one)"
    )


def test_the_same_clip_as_osm_xml_is_split_by_the_xml_rule(clipped, tmp_path):
    """.osm.bz2 of the same clip: road types kept (access tags as given), split the same way."""
    xml = tmp_path / "vaduz.osm.bz2"
    with osmium.SimpleWriter(str(xml)) as writer:
        for obj in osmium.FileProcessor(str(clipped)):
            writer.add(obj)
    ways, clipped_ways, missing, pieces, present = _expected_counts(xml, is_road)
    assert ways > _expected_counts(clipped)[0]  # the XML rule keeps the access-restricted ways
    with pytest.warns(NetplanWarning) as caught:
        graph = read_graph(xml)
    assert [str(w.message) for w in caught] == [
        f"{xml}: clipped extract: {clipped_ways} of {ways} drivable ways reference "
        f"{missing} nodes not in the file; kept their parts between known nodes "
        f"(split into {pieces} pieces)"
    ]
    assert set(graph.nodes) <= present


def test_cli_stops_on_a_truncated_extract_with_one_line_and_no_output(clipped, tmp_path):
    bad = tmp_path / "cut.osm.pbf"
    bad.write_bytes(clipped.read_bytes()[: clipped.stat().st_size // 2])
    scenario = _plan_case(tmp_path / "case", bad)
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(scenario), "--out", str(out)])
    assert result.exit_code == 2
    assert sum(x.startswith("error:") for x in result.stderr.splitlines()) == 1, result.stderr
    text = " ".join(result.stderr.split())  # rich may wrap the line
    message = text[text.index("error: ") :]
    assert message == (
        f"error: {bad}: cannot read this .osm.pbf (PBF error: unexpected EOF); the file may be "
        "truncated or not OSM data: download it again or check it with `osmium fileinfo`"
    ), result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert not out.exists()
