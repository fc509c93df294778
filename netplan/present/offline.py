"""Self-contained map pages: Leaflet's JavaScript, CSS and images inlined, nothing loaded.

Leaflet (the npm package ``leaflet``, BSD-2-Clause) and the grouped layer control that
``folium.plugins.GroupedLayerControl`` loads from a CDN (the npm package
``leaflet-groupedlayercontrol`` 0.6.1, MIT) are kept in ``netplan/present/_assets``. A map made
here points at placeholders ``netplan-inline:<file>`` (:func:`use_inlined_leaflet`,
:data:`INLINE`) that :func:`render_offline` replaces with the file itself, Leaflet's images as
data URIs; no jQuery, Bootstrap or icon fonts are loaded.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import folium

ASSETS = Path(__file__).resolve().parent / "_assets"
INLINE = "netplan-inline:"
LEAFLET_JS = INLINE + "leaflet.js"
LEAFLET_CSS = INLINE + "leaflet.css"


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
    page = re.sub(
        rf'<script src="{INLINE}([\w.-]+)"></script>',
        lambda g: f"<script>{_asset_js(g.group(1))}</script>",
        page,
    )
    page = re.sub(
        rf'<link rel="stylesheet" href="{INLINE}([\w.-]+)"/>',
        lambda g: f"<style>{_asset_css(g.group(1))}</style>",
        page,
    )
    leftover = re.findall(r'<(?:script|link)[^>]+(?:src|href)="(?!data:)[^"]+"', page)
    if leftover:
        raise RuntimeError(f"map still references external assets: {leftover[:3]}")
    return page


def _asset_js(name: str) -> str:
    js = (ASSETS / name).read_text(encoding="utf-8")
    return re.sub(r"//# sourceMappingURL=\S+", "", js)


def _asset_css(name: str) -> str:
    css = (ASSETS / name).read_text(encoding="utf-8")
    for image in ("layers.png", "layers-2x.png", "marker-icon.png"):
        css = css.replace(f"url(images/{image})", f"url({_data_uri(ASSETS / image, 'image/png')})")
    return css
