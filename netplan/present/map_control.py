"""The layer control grouped by what a layer shows, and the panels' fit: collapsible, clear of outlets.

:class:`GroupedLayers` is folium's own ``GroupedLayerControl`` with the base layers added and
its JavaScript and CSS inlined from ``_assets`` (see :mod:`netplan.present.offline`) instead of
a CDN. :class:`FitPanels` makes every panel collapsible (collapsed at load below 600 px
width) and fits the data into the part of the map that the panels leave free.
"""

from __future__ import annotations

import folium
from branca.element import MacroElement
from folium.plugins import GroupedLayerControl
from folium.template import Template

from netplan.present.i18n import t
from netplan.present.markup import html_text, script_json
from netplan.present.offline import INLINE

#: Below this page width the panels start collapsed.
NARROW_PX = 600


class GroupedLayers(GroupedLayerControl):
    """folium's grouped layer control with base layers, loaded offline.

    Parameters
    ----------
    base : list of folium layers
        The exclusive base layers (radio buttons), in order.
    groups : dict of str to list of folium layers
        Group name (plain text, escaped here) → its overlay layers (check boxes).
    exclusive : tuple of str
        Groups whose layers are radio buttons (one shown at a time).
    """

    default_js = [("leaflet.groupedlayercontrol", INLINE + "leaflet.groupedlayercontrol.js")]
    default_css = [("leaflet.groupedlayercontrol_css", INLINE + "leaflet.groupedlayercontrol.css")]

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.control.groupedLayers(
                {
                {%- for key, val in this.base_layers.items() %}
                    {{ key|tojson }}: {{ val }},
                {%- endfor %}
                },
                {
                {%- for group_name, overlays in this.grouped_overlays.items() %}
                    {{ group_name|tojson }}: {
                    {%- for key, val in overlays.items() %}
                        {{ key|tojson }}: {{ val }},
                    {%- endfor %}
                    },
                {%- endfor %}
                },
                {{ this.options|tojavascript }},
            ).addTo({{ this._parent.get_name() }});
            {%- for val in this.layers_untoggle %}
            {{ val }}.remove();
            {%- endfor %}
        {% endmacro %}
        """
    )

    def __init__(self, base: list, groups: dict[str, list], exclusive: tuple[str, ...] = ()):
        groups = {html_text(name): layers for name, layers in groups.items() if layers}
        super().__init__(groups, exclusive_groups=False, collapsed=False, position="topright")
        if exclusive:  # radio buttons: one layer of each such group at a time (a roadmap's phase)
            self.options["exclusiveGroups"] = [html_text(name) for name in exclusive]
        self.base_layers = {}
        for layer in base:
            self.base_layers[layer.layer_name] = layer.get_name()
            layer.control = False
            if not layer.show:
                self.layers_untoggle.add(layer.get_name())


class FitPanels(MacroElement):
    """Collapsible panels, and the data fitted clear of them.

    Every ``.np-panel`` and the layer control get a toggle button; below :data:`NARROW_PX`
    they start collapsed (``np-collapsed``), as do panels marked ``np-start-collapsed``. The
    view then fits ``bounds`` with padding that keeps every panel off the data: per panel the
    cheaper of a strip on its side or on its top/bottom edge, the combination that allows the
    largest zoom. A padding that leaves no room is dropped (Leaflet's zoom would be NaN), and a
    map without size (hidden container) keeps its initial view.
    """

    _template = Template(
        """
{% macro script(this, kwargs) %}
(function () {
    var map = {{ this._parent.get_name() }};
    var box = map.getContainer();
    var narrow = window.innerWidth < {{ this.narrow }};
    function toggler(panel, title) {
        var button = document.createElement('button');
        button.type = 'button';
        button.className = 'np-toggle';
        button.textContent = title;
        button.title = {{ this.show_hide }};
        button.addEventListener('click', function (e) {
            e.preventDefault(); e.stopPropagation();
            var closed = panel.classList.toggle('np-collapsed');
            button.setAttribute('aria-expanded', closed ? 'false' : 'true');
        });
        panel.insertBefore(button, panel.firstChild);
        if (narrow || panel.classList.contains('np-start-collapsed')) {
            panel.classList.add('np-collapsed');
        }
        button.setAttribute('aria-expanded', panel.classList.contains('np-collapsed') ? 'false' : 'true');
        L.DomEvent.disableClickPropagation(panel);
        L.DomEvent.disableScrollPropagation(panel);
    }
    document.querySelectorAll('.np-panel').forEach(function (p) {
        toggler(p, p.getAttribute('data-title') || {{ this.panel_word }});
    });
    box.querySelectorAll('.leaflet-control-layers').forEach(function (p) {
        p.classList.add('np-layers');
        toggler(p, {{ this.layers_title }});
    });
    var size = map.getSize();
    if (!(size.x > 0 && size.y > 0)) { return; }
    var outer = box.getBoundingClientRect();
    var rects = [];
    var chosen = Array.prototype.slice.call(document.querySelectorAll('.np-panel'))
        .concat(Array.prototype.slice.call(box.querySelectorAll('.leaflet-control-layers, .leaflet-control-zoom')));
    chosen.forEach(function (p) {
        var r = p.getBoundingClientRect();
        if (r.width <= 0 || r.height <= 0) { return; }
        var x0 = Math.max(0, r.left - outer.left), x1 = Math.min(size.x, r.right - outer.left);
        var y0 = Math.max(0, r.top - outer.top), y1 = Math.min(size.y, r.bottom - outer.top);
        if (x1 <= x0 || y1 <= y0) { return; }
        rects.push([x0, y0, x1, y1]);
    });
    var m = {{ this.margin }};
    var bounds = L.latLngBounds({{ this.bounds }});
    var best = null;
    for (var mask = 0; mask < (1 << rects.length); mask++) {
        var pad = [m, m, m, m];  // left, top, right, bottom
        rects.forEach(function (r, i) {
            var vertical = (mask >> i) & 1;
            if (!vertical) {
                if (r[0] + r[2] < size.x) { pad[0] = Math.max(pad[0], r[2] + m); }
                else { pad[2] = Math.max(pad[2], size.x - r[0] + m); }
            } else {
                if (r[1] + r[3] < size.y) { pad[1] = Math.max(pad[1], r[3] + m); }
                else { pad[3] = Math.max(pad[3], size.y - r[1] + m); }
            }
        });
        var free = [size.x - pad[0] - pad[2], size.y - pad[1] - pad[3]];
        if (free[0] < 40 || free[1] < 40) { continue; }
        var zoom = map.getBoundsZoom(bounds, false, L.point(pad[0] + pad[2], pad[1] + pad[3]));
        if (!isFinite(zoom)) { continue; }
        var score = zoom + 1e-6 * Math.min(free[0], free[1]);
        if (best === null || score > best.score) { best = {score: score, pad: pad}; }
    }
    var pad = best === null ? [m, m, m, m] : best.pad;
    map.fitBounds(bounds, {paddingTopLeft: [pad[0], pad[1]], paddingBottomRight: [pad[2], pad[3]]});
})();
{% endmacro %}
"""
    )

    def __init__(
        self,
        bounds: tuple[float, float, float, float],
        layers_title: str = "Layers",
        margin: int = 14,
        locale: str = "en",
    ):
        super().__init__()
        self._name = "FitPanels"
        minx, miny, maxx, maxy = (float(v) for v in bounds)
        self.bounds = script_json([[miny, minx], [maxy, maxx]])
        self.layers_title = script_json(layers_title)
        self.show_hide = script_json(t("map.show_hide", locale))
        self.panel_word = script_json(t("map.panel", locale))
        self.margin = int(margin)  # half the largest outlet symbol, and a little air
        self.narrow = NARROW_PX


def add_controls(
    m: folium.Map,
    base: list,
    groups: dict[str, list],
    bounds: tuple[float, float, float, float],
    locale: str = "en",
    exclusive: tuple[str, ...] = (),
) -> None:
    """Add the grouped layer control and the panels' fit to ``m`` (after every layer).

    Parameters
    ----------
    m : folium.Map
    base : list of folium layers
        The base layers (see :func:`netplan.present.webmap.base_map`).
    groups : dict of str to list of folium layers
        Group name → overlays; empty groups are left out.
    bounds : tuple of float
        The data's (minx, miny, maxx, maxy) in degrees.
    locale : str
        ``"en"`` or ``"zh-CN"``: the panels' button words.
    exclusive : tuple of str
        Groups shown as radio buttons (see :class:`GroupedLayers`).
    """
    GroupedLayers(base, groups, exclusive).add_to(m)
    FitPanels(bounds, layers_title=t("map.layers", locale), locale=locale).add_to(m)
