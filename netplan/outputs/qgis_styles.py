"""QGIS layer styles stored in plan.gpkg, so the file opens in QGIS styled as the map.

QGIS reads a GeoPackage's ``layer_styles`` table (its own schema) and applies the row marked
``useAsDefault`` of each layer when the layer is added. Each style here is a QML document
built with :mod:`xml.etree.ElementTree` (names from the scenario are escaped by it) with the
map's colours and symbols (:mod:`netplan.present.symbols`, :mod:`netplan.present.map_cells`):
the tier's colour and shape, the action's mark (new: a white cross; re-tiered: a dashed thick
outline; closed: hollow grey with a cross in the tier's colour).
"""

from __future__ import annotations

import sqlite3
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from netplan.present.map_cells import GAP_COLOURS, OVERLAP_COUNT_COLOURS, OVERLAP_COUNT_LABELS
from netplan.present.symbols import ACTION_LABELS, tier_style

QGIS_VERSION = "3.28.0-Firenze"
STYLE_NAME = "netplan"

LAYER_STYLES_DDL = """
CREATE TABLE IF NOT EXISTS layer_styles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    f_table_catalog TEXT(256),
    f_table_schema TEXT(256),
    f_table_name TEXT(256),
    f_geometry_column TEXT(256),
    styleName TEXT(30),
    styleQML TEXT,
    styleSLD TEXT,
    useAsDefault BOOLEAN,
    description TEXT,
    owner TEXT(30),
    ui TEXT(30),
    update_time DATETIME DEFAULT CURRENT_TIMESTAMP
)
"""


def _rgba(colour: str, alpha: float = 1.0) -> str:
    """``#rrggbb`` as QGIS's ``r,g,b,a``."""
    c = colour.lstrip("#")
    r, g, b = (int(c[i : i + 2], 16) for i in (0, 2, 4))
    return f"{r},{g},{b},{round(255 * alpha)}"


def _options(parent: ET.Element, values: dict[str, object]) -> None:
    opt = ET.SubElement(parent, "Option", type="Map")
    for name, value in values.items():
        ET.SubElement(opt, "Option", name=name, type="QString", value=str(value))


def _symbol(symbols: ET.Element, name: str, kind: str, layers: list[tuple[str, dict]]) -> None:
    sym = ET.SubElement(
        symbols, "symbol", type=kind, name=name, alpha="1", clip_to_extent="1", force_rhr="0"
    )
    for cls, values in layers:
        lay = ET.SubElement(
            sym, "layer", {"class": cls, "enabled": "1", "pass": "0", "locked": "0"}
        )
        _options(lay, values)


def _marker(shape: str, fill: str, stroke: str, width: float, size: float, dash: bool = False):
    return (
        "SimpleMarker",
        {
            "name": shape,
            "color": fill,
            "outline_color": stroke,
            "outline_style": "dash" if dash else "solid",
            "outline_width": width,
            "outline_width_unit": "Pixel",
            "size": size,
            "size_unit": "Pixel",
        },
    )


def outlet_symbol(k: int, action: str, grey: bool = False) -> list[tuple[str, dict]]:
    """Symbol layers of an outlet of tier ``k`` with ``action``, as on the map.

    Parameters
    ----------
    k : int
        Tier position, top first.
    action : str
        ``keep``, ``open``, ``retier`` or ``close``.
    grey : bool
        Today's network: the tier's shape in grey.

    Returns
    -------
    list of (class, options)
    """
    colour, shape, size = tier_style(k)
    fill = _rgba("#9e9e9e" if grey else colour)
    if action == "close":
        return [
            _marker(shape, _rgba("#ffffff"), _rgba("#777777"), 1.5, size),
            _marker("cross2", _rgba(colour), _rgba(colour), 2.0, size * 0.55),
        ]
    if action == "retier":
        return [_marker(shape, fill, _rgba("#1a1a1a"), 2.2, size, dash=True)]
    layers = [_marker(shape, fill, _rgba("#1a1a1a"), 1.2, size)]
    if action == "open":
        layers.append(_marker("cross", _rgba("#ffffff"), _rgba("#ffffff"), 2.0, size * 0.55))
    return layers


def _fill(colour: str, alpha: float, stroke: str, width: float, dash: bool = False):
    return (
        "SimpleFill",
        {
            "color": _rgba(colour, alpha),
            "style": "solid" if alpha > 0 else "no",
            "outline_color": _rgba(stroke),
            "outline_style": "dash" if dash else "solid",
            "outline_width": width,
            "outline_width_unit": "Pixel",
        },
    )


def _line(colour: str, width: float, dash: bool = False):
    return (
        "SimpleLine",
        {
            "line_color": _rgba(colour),
            "line_width": width,
            "line_width_unit": "Pixel",
            "line_style": "dash" if dash else "solid",
        },
    )


def _quote(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _document(renderer: ET.Element) -> str:
    root = ET.Element("qgis", version=QGIS_VERSION, styleCategories="Symbology")
    root.append(renderer)
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + ET.tostring(
        root, encoding="unicode"
    )


def _rules(rules: list[tuple[str, str, str, list[tuple[str, dict]]]]) -> ET.Element:
    """A rule-based renderer: (filter expression, label, symbol type, symbol layers) each."""
    renderer = ET.Element(
        "renderer-v2", type="RuleRenderer", symbollevels="0", enableorderby="0", forceraster="0"
    )
    root = ET.SubElement(renderer, "rules", key="root")
    symbols = ET.SubElement(renderer, "symbols")
    for i, (expr, label, kind, layers) in enumerate(rules):
        ET.SubElement(root, "rule", key=f"r{i}", filter=expr, symbol=str(i), label=label)
        _symbol(symbols, str(i), kind, layers)
    return renderer


def _single(kind: str, layers: list[tuple[str, dict]]) -> ET.Element:
    renderer = ET.Element(
        "renderer-v2", type="singleSymbol", symbollevels="0", enableorderby="0", forceraster="0"
    )
    _symbol(ET.SubElement(renderer, "symbols"), "0", kind, layers)
    return renderer


def _graduated(attr: str, edges: list[float], colours: list[str], alpha: list[float]) -> ET.Element:
    renderer = ET.Element(
        "renderer-v2",
        type="graduatedSymbol",
        attr=attr,
        graduatedMethod="GraduatedColor",
        symbollevels="0",
        enableorderby="0",
        forceraster="0",
    )
    ranges = ET.SubElement(renderer, "ranges")
    symbols = ET.SubElement(renderer, "symbols")
    for i in range(len(edges) - 1):
        lo, hi = edges[i], edges[i + 1]
        ET.SubElement(
            ranges,
            "range",
            lower=f"{lo:.6g}",
            upper=f"{hi:.6g}",
            symbol=str(i),
            label=f"{lo:,.0f} – {hi:,.0f}",
            render="true",
        )
        _symbol(symbols, str(i), "fill", [_fill(colours[i], alpha[i], colours[i], 0.5)])
    return renderer


def log_edges(values: np.ndarray, n: int) -> list[float]:
    """Class edges on a logarithmic scale between the smallest and largest value (as the map).

    Parameters
    ----------
    values : ndarray
    n : int
        Number of classes.

    Returns
    -------
    list of float
        ``n + 1`` increasing edges, the first at or below the smallest value and the last at
        or above the largest.
    """
    values = np.asarray(values, dtype=float)
    if len(values) == 0:
        return [float(i) for i in range(n + 1)]
    lo, hi = np.log10(max(values.min(), 1e-9)), np.log10(max(values.max(), 1e-9))
    if hi - lo < 1e-12:
        hi = lo + 1e-6
    edges = [float(10 ** (lo + (hi - lo) * i / n)) for i in range(n + 1)]
    edges[0], edges[-1] = min(edges[0], float(values.min())), max(edges[-1], float(values.max()))
    return edges


def layer_qml(layer, scenario) -> str:
    """The QML style of one layer of :func:`netplan.outputs.layers.run_layers`.

    Parameters
    ----------
    layer : netplan.outputs.layers.Layer
    scenario : Scenario
        Tier keys and names.

    Returns
    -------
    str
        A QGIS style document (``<qgis>`` with its ``renderer-v2``).
    """
    keys, labels = scenario.tier_keys, scenario.tier_labels
    kind = layer.kind
    if kind in ("outlets", "baseline_outlets"):
        rules = []
        for k, (key, label) in enumerate(zip(keys, labels, strict=True)):
            if kind == "baseline_outlets":
                expr = f'"tier" = {_quote(key)}'
                rules.append((expr, f"{label} (today)", "marker", outlet_symbol(k, "keep", True)))
                continue
            for action in ("keep", "retier", "open"):
                expr = f'"tier" = {_quote(key)} AND "action" = {_quote(action)}'
                rules.append(
                    (expr, f"{label}: {ACTION_LABELS[action]}", "marker", outlet_symbol(k, action))
                )
        if kind == "outlets":
            for k, (key, label) in enumerate(zip(keys, labels, strict=True)):
                expr = f'"action" = \'close\' AND "current_tier" = {_quote(key)}'
                rules.append((expr, f"{label}: closed", "marker", outlet_symbol(k, "close")))
        return _document(_rules(rules))
    if kind == "demand":
        last = keys[-1]
        rules = [
            (f'"covered_{last}" = 1', f"covered ({labels[-1]})", "marker",
             [_marker("circle", _rgba("#4d4d4d", 0.6), _rgba("#4d4d4d", 0.0), 0, 3)]),
            (f'"covered_{last}" = 0', f"not covered ({labels[-1]})", "marker",
             [_marker("circle", _rgba("#de2d26", 0.8), _rgba("#de2d26", 0.0), 0, 3)]),
        ]  # fmt: skip
        return _document(_rules(rules))
    if kind == "links":
        return _document(_single("line", [_line("#444444", 1.5, dash=True)]))
    if kind == "gap_cells":
        n = len(GAP_COLOURS)
        alpha = [0.3 + 0.45 * i / max(n - 1, 1) for i in range(n)]
        edges = log_edges(layer.frame["uncovered"].to_numpy(), n)
        return _document(_graduated("uncovered", edges, GAP_COLOURS, alpha))
    if kind == "overlap_cells":
        rules = [
            (f'"covering_class" = {_quote(lab)}', f"covered by {lab} outlets", "fill",
             [_fill(colour, 0.5, colour, 0.5)])
            for lab, colour in zip(OVERLAP_COUNT_LABELS, OVERLAP_COUNT_COLOURS, strict=True)
        ]  # fmt: skip
        return _document(_rules(rules))
    if kind == "reach_areas":
        rules = [
            (f'"tier" = {_quote(key)}', f"reach: {label}", "fill",
             [_fill(tier_style(k)[0], 0.08, tier_style(k)[0], 1.0)])
            for k, (key, label) in enumerate(zip(keys, labels, strict=True))
        ]  # fmt: skip
        return _document(_rules(rules))
    # regions
    return _document(_single("fill", [_fill("#ffffff", 0.35, "#555555", 1.5, dash=True)]))


def write_styles(path: str | Path, layers, scenario) -> None:
    """Store one default QGIS style per layer in the GeoPackage's ``layer_styles`` table.

    The table has QGIS's schema and is registered in ``gpkg_contents`` as an attributes
    table, as QGIS itself does when it saves a style into a GeoPackage.

    Parameters
    ----------
    path : str or Path
        An existing GeoPackage holding the layers.
    layers : list of netplan.outputs.layers.Layer
    scenario : Scenario
    """
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    con = sqlite3.connect(str(path))
    try:
        con.execute(LAYER_STYLES_DDL)
        con.execute(
            "INSERT OR REPLACE INTO gpkg_contents (table_name, data_type, identifier, last_change)"
            " VALUES ('layer_styles', 'attributes', 'layer_styles', ?)",
            (now,),
        )
        geom = dict(con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns"))
        rows = [
            (
                "",
                "",
                layer.name,
                geom.get(layer.name, "geom"),
                STYLE_NAME,
                layer_qml(layer, scenario),
                "",
                1,
                f"netplan: {layer.name}, as on the map",
                "",
                None,
                now,
            )
            for layer in layers
        ]
        con.executemany(
            "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name,"
            " f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, owner,"
            " ui, update_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        con.commit()
    finally:
        con.close()
