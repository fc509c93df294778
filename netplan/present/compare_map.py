"""The map of a comparison (``compare.html``): sites that changed, coverage gained and lost.

The page's panels, popups and tooltips are jinja2 templates (``templates/compare_*.html``)
rendered with autoescaping: every run label, tier name, site name and note is escaped as HTML
text by :func:`netplan.present.markup.html_text`, braces included (branca renders each page
fragment as a jinja2 template a second time). This module takes a
:class:`netplan.compare.Comparison` but does not import the compare package (it sits above the
presentation layer).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import folium
import numpy as np
import pandas as pd
from markupsafe import Markup

from netplan.present.formats import format_money, money
from netplan.present.map_cells import add_cells, demand_cells
from netplan.present.map_control import add_controls
from netplan.present.map_coords import data_view, in_metres
from netplan.present.map_layers import BIND, layer_group, points_geojson
from netplan.present.map_panels import MAP_STYLE
from netplan.present.symbols import symbol_svg, tier_style
from netplan.present.templating import macros, render
from netplan.present.webmap import base_map

if TYPE_CHECKING:
    from netplan.compare import Comparison

GAINED_COLOURS = ["#e5f5e0", "#a1d99b", "#74c476", "#31a354", "#006d2c"]
LOST_COLOURS = ["#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15"]

_CHANGE_STYLE = {  # change -> (symbol action, which plan's tier, layer label), in layer order
    "added": ("open", "tier_b", "Added in B"),
    "removed": ("close", "tier_a", "Removed in B"),
    "retiered": ("retier", "tier_b", "Re-tiered in B"),
    "unchanged": ("keep", "tier_b", "Unchanged"),
}


def _site_popup(row: pd.Series, labels: dict[str, str]) -> str:

    facts = [
        ("Site", row["site_id"]),
        ("Change", {"retiered": "re-tiered"}.get(row["change"], row["change"])),
        ("Tier in A", labels.get(row["tier_a"], "closed / none")),
        ("Tier in B", labels.get(row["tier_b"], "closed / none")),
        ("Action in A", row["action_a"] or "—"),
        ("Action in B", row["action_b"] or "—"),
        ("Today", labels.get(row["today"], "new site")),
        ("Region", row["region"]),
        ("Cost A", money(row["cost_a"])),
        ("Cost B", money(row["cost_b"])),
        ("Cost Δ", f"{row['cost_delta']:+,.0f}"),
    ]
    shown = [(k, v) for k, v in facts if v != ""]
    return render("compare_popup.html", name=row["name"], facts=shown)


def _panel(c: Comparison) -> str:
    cost = c.cost.loc["total"]
    return render(
        "compare_panel.html",
        label_a=run_name(c.a),
        label_b=run_name(c.b),
        levels=list(c.kpis.loc[c.kpis["region"] == "all"].itertuples()),
        tiers=list(c.outlets.itertuples()),
        cost_a=format_money(cost["a"], c.currency),
        cost_b=format_money(cost["b"], c.currency),
        cost_delta=format_money(cost["delta"], c.currency, signed=True),
        notes=c.notes,
    )


def run_name(run) -> str:
    """A run's name for titles: the scenario's name, and the run's label when it differs.

    Parameters
    ----------
    run : netplan.compare.runs.Run

    Returns
    -------
    str
        e.g. ``demo (out_a)``, or ``demo`` when the run folder is called ``demo``.
    """
    name = str((run.record.get("scenario") or {}).get("name") or "")
    if not name or name == run.label:
        return run.label
    return f"{name} ({run.label})"


def largest_change_level(c: Comparison) -> str:
    """The level (tier key) whose coverage changes most between A and B, in absolute points.

    Parameters
    ----------
    c : Comparison

    Returns
    -------
    str
        The tier key; the most local level on a tie (or when nothing changes).
    """
    rows = c.kpis.loc[c.kpis["region"] == "all", ["level", "covered_pct_delta"]]
    keys = list(rows["level"].astype(str))
    change = np.abs(rows["covered_pct_delta"].to_numpy(dtype=float))
    best = np.flatnonzero(change == change.max())  # ties: the last (most local) level
    return keys[int(best[-1])]


def region_changes(c: Comparison) -> list[dict]:
    """Per region: coverage per level in A and B with the change, and the sites that changed.

    Parameters
    ----------
    c : Comparison

    Returns
    -------
    list of dict
        One per region (sorted by name): ``region``, ``levels`` (list of dicts with
        ``level_name``, ``a``, ``b``, ``delta`` in %), ``added``, ``removed``, ``retiered``.
    """
    kpis = c.kpis.loc[c.kpis["region"] != "all"]
    sites = c.sites
    out = []
    for region in sorted(set(kpis["region"].astype(str))):
        rows = kpis.loc[kpis["region"].astype(str) == region]
        here = sites.loc[sites["region"].astype(str) == region, "change"]
        out.append(
            {
                "region": region,
                "levels": [
                    {
                        "level_name": r.level_name,
                        "a": r.covered_pct_a,
                        "b": r.covered_pct_b,
                        "delta": r.covered_pct_delta,
                    }
                    for r in rows.itertuples()
                ],
                "added": int((here == "added").sum()),
                "removed": int((here == "removed").sum()),
                "retiered": int((here == "retiered").sum()),
            }
        )
    return out


def _region_panel(c: Comparison) -> str:
    return render(
        "compare_regions.html",
        label_a=run_name(c.a),
        label_b=run_name(c.b),
        level_names=list(c.a.tier_labels),
        regions=region_changes(c),
    )


def _legend(c: Comparison) -> str:

    tiers = []
    for k, label in enumerate(c.a.tier_labels):
        colour, shape, size = tier_style(k)
        tiers.append({"svg": Markup(symbol_svg(shape, colour, size)), "label": label})
    changes = [
        {"svg": Markup(symbol_svg("circle", "#7f7f7f", 14, action)), "label": text}
        for action, text in (
            ("open", "added in B"),
            ("close", "removed in B"),
            ("retier", "re-tiered in B"),
            ("keep", "unchanged"),
        )
    ]
    ramps = [
        {"colours": GAINED_COLOURS, "label": "covered in B, not in A"},
        {"colours": LOST_COLOURS, "label": "covered in A, not in B"},
    ]
    return render("compare_legend.html", tiers=tiers, changes=changes, ramps=ramps)


def compare_map(c: Comparison) -> folium.Map:
    """The map of the differences: sites added, removed, re-tiered, and coverage gained and lost.

    Parameters
    ----------
    c : Comparison
        From :func:`netplan.compare`.

    Returns
    -------
    folium.Map
        Render with :func:`netplan.present.webmap.save_map` for a self-contained, offline page.
    """
    from branca.element import Element

    snippets = macros("compare_snippets.html")
    # longitudes unwrapped around the data's centre: runs across the antimeridian draw as one
    centre, bounds = data_view(c.sites.geometry, c.coverage.geometry)
    m = base_map(*bounds)

    # coverage gained and lost per level, as cells sized to the area (no reach in a run folder)
    keys, labels = c.a.tier_keys, c.a.tier_labels
    shown = largest_change_level(c)
    groups: dict[str, list] = {"Sites: B against A": []}
    cov = c.coverage
    if len(cov):
        metric = in_metres(cov)
        x0, y0, x1, y1 = metric.total_bounds
        size = float(np.clip(max(x1 - x0, y1 - y0) / 60.0, 500.0, 5000.0))
    for key, label in zip(keys, labels, strict=True):
        for change, colours, text in (
            ("gained", GAINED_COLOURS, "Covered in B only"),
            ("lost", LOST_COLOURS, "Covered in A only"),
        ):
            sel = (
                metric[(metric["level"] == key) & (metric["change"] == change)] if len(cov) else cov
            )
            group = layer_group(m, f"{text}: {label} ({money(sel['weight'].sum())})", key == shown)
            groups.setdefault(f"{label}: coverage A → B", []).append(group)
            if len(sel):
                what = text[0].lower() + text[1:]
                add_cells(
                    group,
                    demand_cells(sel, sel["weight"].to_numpy(), size),
                    colours,
                    lambda v, n, lab=label, w=what: str(snippets.cell_tip(lab, v, w, n)),
                    centre,
                )

    # sites by change; symbols keep the tier's shape and colour of webmap
    tier_pos = {k: i for i, k in enumerate(keys)}
    label_of = dict(zip(keys, labels, strict=True))
    for change, (action, tier_col, text) in _CHANGE_STYLE.items():
        sel = c.sites.loc[c.sites["change"] == change]
        group = layer_group(m, f"{text} ({len(sel)})", True)
        groups["Sites: B against A"].append(group)
        for tier, part in sel.groupby(tier_col, sort=False):
            k = tier_pos.get(tier, 0)
            colour, shape, size_px = tier_style(k)
            if change == "unchanged":
                colour = "#8c8c8c"
            icon = folium.DivIcon(
                html=symbol_svg(shape, colour, size_px, action),
                icon_size=(size_px, size_px),
                icon_anchor=(size_px // 2, size_px // 2),
                class_name="np-icon",
            )
            popups = [_site_popup(r, label_of) for _, r in part.iterrows()]
            tips = [str(snippets.site_tip(n, text.lower())) for n in part["name"]]
            folium.GeoJson(
                points_geojson(part, popups, tips, centre),
                marker=folium.Marker(icon=icon),
                on_each_feature=BIND,
                name=None,
                control=False,
            ).add_to(group)

    root = m.get_root()
    root.header.add_child(Element(MAP_STYLE))
    root.html.add_child(Element(_panel(c)))
    root.html.add_child(Element(_legend(c)))
    root.html.add_child(Element(_region_panel(c)))
    root.header.add_child(Element(str(snippets.title(run_name(c.a), run_name(c.b)))))
    add_controls(m, m.netplan_base, groups, bounds)
    return m
