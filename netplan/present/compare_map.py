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
from netplan.present.i18n import catalogue, t, translator
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

_CHANGE_STYLE = {  # change -> (symbol action, which plan's tier, layer label key), in layer order
    "added": ("open", "tier_b", "cmp.added_layer"),
    "removed": ("close", "tier_a", "cmp.removed_layer"),
    "retiered": ("retier", "tier_b", "cmp.retiered_layer"),
    "unchanged": ("keep", "tier_b", "cmp.unchanged_layer"),
}


def compare_locale(c: Comparison) -> str:
    """The runs' ``locale`` (run.json), when both runs name the same one; else ``"en"``."""
    a, b = ((r.record.get("scenario") or {}).get("locale", "en") for r in (c.a, c.b))
    return a if a == b and a in ("en", "zh-CN") else "en"


def _action_word(action: str, loc: str) -> str:
    if loc != "en" and action in ("keep", "open", "retier", "close"):
        return t(f"action.{action}", loc)
    return action or "—"


def _site_popup(row: pd.Series, labels: dict[str, str], loc: str = "en") -> str:
    none = t("cmp.no_tier", loc)
    change = row["change"]
    facts = [
        (t("cmp.site", loc), row["site_id"]),
        (t("cmp.change", loc), t(f"change.{change}", loc) if f"change.{change}" in catalogue(loc) else change),
        (t("cmp.tier_a", loc), labels.get(row["tier_a"], none)),
        (t("cmp.tier_b", loc), labels.get(row["tier_b"], none)),
        (t("cmp.action_a", loc), _action_word(row["action_a"], loc)),
        (t("cmp.action_b", loc), _action_word(row["action_b"], loc)),
        (t("map.today_tier", loc), labels.get(row["today"], t("map.new_site", loc))),
        (t("map.region", loc), row["region"]),
        (t("cmp.cost_a", loc), money(row["cost_a"], loc)),
        (t("cmp.cost_b", loc), money(row["cost_b"], loc)),
        (t("cmp.cost_delta", loc), f"{row['cost_delta']:+,.0f}"),
    ]
    shown = [(k, v) for k, v in facts if v != ""]
    return render("compare_popup.html", name=row["name"], facts=shown, locale=loc)


def _panel(c: Comparison) -> str:
    cost, loc = c.cost.loc["total"], compare_locale(c)
    return render(
        "compare_panel.html",
        locale=loc,
        label_a=run_name(c.a),
        label_b=run_name(c.b),
        levels=list(c.kpis.loc[c.kpis["region"] == "all"].itertuples()),
        tiers=list(c.outlets.itertuples()),
        cost_a=format_money(cost["a"], c.currency, loc),
        cost_b=format_money(cost["b"], c.currency, loc),
        cost_delta=format_money(cost["delta"], c.currency, loc, signed=True),
        notes=[note_text(n, loc) for n in c.notes],
    )


def note_text(note: str, locale: str = "en") -> str:
    """A comparison's note in ``locale``: a :class:`netplan.compare.runs.Note` phrased from the
    catalogue, any other text as it is.

    Parameters
    ----------
    note : str
    locale : str
        ``"en"`` or ``"zh-CN"``.

    Returns
    -------
    str
        Plain text (the template escapes it).
    """
    in_locale = getattr(note, "in_locale", None)
    return in_locale(locale) if callable(in_locale) else str(note)


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
        locale=compare_locale(c),
        label_a=run_name(c.a),
        label_b=run_name(c.b),
        level_names=list(c.a.tier_labels),
        regions=region_changes(c),
    )


def _legend(c: Comparison) -> str:
    loc = compare_locale(c)
    tiers = []
    for k, label in enumerate(c.a.tier_labels):
        colour, shape, size = tier_style(k)
        tiers.append({"svg": Markup(symbol_svg(shape, colour, size)), "label": label})
    changes = [
        {"svg": Markup(symbol_svg("circle", "#7f7f7f", 14, action)), "label": t(key, loc)}
        for action, key in (
            ("open", "cmp.added_in_b"),
            ("close", "cmp.removed_in_b"),
            ("retier", "cmp.retiered_in_b"),
            ("keep", "change.unchanged"),
        )
    ]
    ramps = [
        {"colours": GAINED_COLOURS, "label": t("cmp.ramp_gained", loc)},
        {"colours": LOST_COLOURS, "label": t("cmp.ramp_lost", loc)},
    ]
    return render("compare_legend.html", tiers=tiers, changes=changes, ramps=ramps, locale=loc)


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
    loc = compare_locale(c)
    _ = translator(loc)
    m = base_map(*bounds, locale=loc)

    # coverage gained and lost per level, as cells sized to the area (no reach in a run folder)
    keys, labels = c.a.tier_keys, c.a.tier_labels
    shown = largest_change_level(c)
    sites_group = t("cmp.sites_group", loc)
    groups: dict[str, list] = {sites_group: []}
    cov = c.coverage
    if len(cov):
        metric = in_metres(cov)
        x0, y0, x1, y1 = metric.total_bounds
        size = float(np.clip(max(x1 - x0, y1 - y0) / 60.0, 500.0, 5000.0))
    for key, label in zip(keys, labels, strict=True):
        for change, colours, text, what in (
            ("gained", GAINED_COLOURS, t("cmp.gained_layer", loc), t("cmp.gained_what", loc)),
            ("lost", LOST_COLOURS, t("cmp.lost_layer", loc), t("cmp.lost_what", loc)),
        ):
            sel = (
                metric[(metric["level"] == key) & (metric["change"] == change)] if len(cov) else cov
            )
            name = t("cmp.cells_layer", loc, text=text, label=label, value=money(sel["weight"].sum(), loc))
            group = layer_group(m, name, key == shown)
            groups.setdefault(t("cmp.level_group", loc, label=label), []).append(group)
            if len(sel):
                add_cells(
                    group,
                    demand_cells(sel, sel["weight"].to_numpy(), size),
                    colours,
                    lambda v, n, lab=label, w=what: str(snippets.cell_tip(lab, v, w, n, _)),
                    centre,
                )

    # sites by change; symbols keep the tier's shape and colour of webmap
    tier_pos = {k: i for i, k in enumerate(keys)}
    label_of = dict(zip(keys, labels, strict=True))
    for change, (action, tier_col, key) in _CHANGE_STYLE.items():
        text = t(key, loc)
        sel = c.sites.loc[c.sites["change"] == change]
        group = layer_group(m, f"{text} ({len(sel)})", True)
        groups[sites_group].append(group)
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
            popups = [_site_popup(r, label_of, loc) for _, r in part.iterrows()]
            tip_word = text.lower() if loc == "en" else text
            tips = [str(snippets.site_tip(n, tip_word)) for n in part["name"]]
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
    root.header.add_child(Element(str(snippets.title(run_name(c.a), run_name(c.b), _))))
    add_controls(m, m.netplan_base, groups, bounds, locale=loc)
    return m
