"""What people open: the offline HTML map, the report page and inline Jupyter displays.

Nothing in the core imports this package; it plugs its renderers into the core's display
hooks (:mod:`netplan._display_hooks`) when it is imported, which ``import netplan`` does.

The markup of every page is in ``templates/`` (jinja2, autoescaped; loaded by
:mod:`~netplan.present.templating`). The map: :mod:`~netplan.present.webmap` assembles it from
:mod:`~netplan.present.map_layers` (outlets, regions, reach areas, links),
:mod:`~netplan.present.map_cells` (gaps and overlaps) and :mod:`~netplan.present.map_panels`
(KPI box, legend), drawn with :mod:`~netplan.present.symbols` in the coordinates of
:mod:`~netplan.present.map_coords`; :mod:`~netplan.present.offline` inlines Leaflet.
:mod:`~netplan.present.report` writes report.html, :mod:`~netplan.present.display` the Jupyter
reprs; :mod:`~netplan.present.markup` and :mod:`~netplan.present.formats` say how text and
numbers are written.
"""

from netplan.present.display import (
    evaluation_html,
    evaluation_map,
    offline_map,
    plan_html,
    run_html,
)
from netplan.present.markup import html_text, mpl_text, script_json
from netplan.present.offline import render_offline
from netplan.present.report import report_html
from netplan.present.webmap import plan_map, save_map

__all__ = [
    "evaluation_html",
    "evaluation_map",
    "html_text",
    "mpl_text",
    "offline_map",
    "plan_html",
    "plan_map",
    "render_offline",
    "report_html",
    "run_html",
    "save_map",
    "script_json",
]
