"""Self-contained map pages: Leaflet's JavaScript, CSS and images inlined, nothing loaded.

Leaflet (the npm package ``leaflet``, BSD-2-Clause) is kept in ``netplan/present/_assets``.
A map made here points at two placeholders (:func:`use_inlined_leaflet`) that
:func:`render_offline` replaces with the code itself, its images as data URIs; no jQuery,
Bootstrap or icon fonts are loaded.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import folium

ASSETS = Path(__file__).resolve().parent / "_assets"
LEAFLET_JS = "netplan-inline:leaflet.js"
LEAFLET_CSS = "netplan-inline:leaflet.css"


def use_inlined_leaflet(m: folium.Map) -> folium.Map:
    """Make ``m`` load only Leaflet, from the placeholders :func:`render_offline` fills in.

    Parameters
    ----------
    m : folium.Map

    Returns
    -------
    folium.Map
        ``m`` itself.
    """
    m.default_js = [("leaflet", LEAFLET_JS)]
    m.default_css = [("leaflet_css", LEAFLET_CSS)]
    return m


def _data_uri(path: Path, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"


def render_offline(m: folium.Map) -> str:
    """Render a folium map to one self-contained HTML string (Leaflet inlined, no CDN).

    Parameters
    ----------
    m : folium.Map
        Made with :func:`use_inlined_leaflet` (as every map of netplan is).

    Returns
    -------
    str
        The page.

    Raises
    ------
    RuntimeError
        The page would still load a script or stylesheet from elsewhere.
    """
    page = m.get_root().render()
    js = (ASSETS / "leaflet.js").read_text(encoding="utf-8")
    js = re.sub(r"//# sourceMappingURL=\S+", "", js)
    css = (ASSETS / "leaflet.css").read_text(encoding="utf-8")
    for name in ("layers.png", "layers-2x.png", "marker-icon.png"):
        css = css.replace(f"url(images/{name})", f"url({_data_uri(ASSETS / name, 'image/png')})")
    page = page.replace(f'<script src="{LEAFLET_JS}"></script>', f"<script>{js}</script>")
    page = page.replace(f'<link rel="stylesheet" href="{LEAFLET_CSS}"/>', f"<style>{css}</style>")
    leftover = re.findall(r'<(?:script|link)[^>]+(?:src|href)="(?!data:)[^"]+"', page)
    if leftover:
        raise RuntimeError(f"map still references external assets: {leftover[:3]}")
    return page
