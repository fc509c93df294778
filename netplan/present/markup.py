"""Escaping user-given text for the place it lands in on a page.

Tier names, the scenario name, site ids and names, regions, folder names and column values are
free text and may hold markup (``<img src=x onerror=...>``), a script end (``</script>``),
quotes or template syntax. Each insertion point has its own rule:

- HTML text and attribute values: :func:`html_text` (``& < > " '``, and ``{ }``: folium's
  branca renders every page fragment as a jinja2 template a second time, so a name holding
  ``{{ … }}`` would be *run* as Python-reachable template code while the map is built —
  ``{{ cycler.__init__.__globals__.os… }}`` reaches the os module). The page templates
  (:mod:`netplan.present.templating`) escape every inserted value with it.
- Text that Leaflet renders as HTML — layer-control labels, tooltips, popups, the KPI box and
  the legend: :func:`html_text` as well; folium then JSON-encodes the string with ``<``, ``>``,
  ``&`` and ``'`` as ``\\u00XX`` escapes, so no ``</script>`` or ``<!--`` ends up in a script.
- JSON written into a ``<script>`` by netplan itself: :func:`script_json`.
- Labels drawn by matplotlib: :func:`mpl_text` (``$`` would start mathtext).
"""

from __future__ import annotations

import html
import json
import math

# braces: no jinja2 pass over the page may find template code in a name
_HTML_BRACES = str.maketrans({"{": "&#123;", "}": "&#125;"})
# characters that would end or confuse an inline <script> (or a JS string) if left raw
_SCRIPT_ESCAPES = str.maketrans(
    {
        "<": "\\u003c",
        ">": "\\u003e",
        "&": "\\u0026",
        "'": "\\u0027",
        "\u2028": "\\u2028",
        "\u2029": "\\u2029",
    }
)


def html_text(value: object) -> str:
    """``value`` as HTML text, safe in element content and in quoted attribute values.

    Parameters
    ----------
    value : object
        Any value; ``None`` and non-finite floats give ``""``.

    Returns
    -------
    str
        ``str(value)`` with ``& < > " ' { }`` replaced by character references (the braces so
        that no jinja2 pass over the page can read template code in it).
    """
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return html.escape(str(value), quote=True).translate(_HTML_BRACES)


def script_json(obj: object) -> str:
    """``obj`` as JSON that is safe inside an inline ``<script>`` element.

    ``<``, ``>``, ``&``, ``'`` and the line separators U+2028/U+2029 become ``\\u``-escapes
    (four hex digits), so neither ``</script>`` nor ``<!--`` can appear, and the text is a valid
    JavaScript expression.

    Parameters
    ----------
    obj : object
        Anything :func:`json.dumps` accepts (NaN and infinity are refused).

    Returns
    -------
    str
    """
    text = json.dumps(obj, ensure_ascii=False, allow_nan=False)
    return text.translate(_SCRIPT_ESCAPES)


def mpl_text(value: object) -> str:
    """``value`` as a matplotlib label that is drawn literally.

    ``$`` is escaped (a pair would start mathtext: ``$\\x$`` even fails to draw), and a
    leading ``_`` gets a space in front (legends leave out labels starting with ``_``).
    """
    text = str(value).replace("$", r"\$")
    return " " + text if text.startswith("_") else text
