"""A static picture of the plan for report.html: outlets by tier and action, uncovered demand.

matplotlib only (no tiles, no network): drawn in the working CRS (metres) with equal axes,
returned as a small PNG ``data:`` URI so the report stays one self-contained file.
"""

from __future__ import annotations

import base64
import io

import numpy as np

from netplan.present.i18n import t
from netplan.present.markup import mpl_text

ACTION_COLOURS = {"keep": "#4c8c4a", "open": "#1f6fb2", "retier": "#d08a1b", "close": "#b23a3a"}
TIER_MARKERS = ["s", "D", "o", "^", "v"]  # highest tier first
TIER_SYMBOLS = ["■", "◆", "●", "▲", "▼"]  # the same shapes as text, for the key in the page
TIER_SIZES = [110, 60, 26, 18, 14]
GAP_COLOUR = "#e07a7a"


def plan_image(result, dpi: int = 90, locale: str = "en") -> tuple[str, list[tuple[str, str, str]]]:
    """The plan as a PNG data URI: outlets (marker = tier, colour = action), uncovered demand.

    Uncovered demand is shown at the lowest (most local) service level, sized by weight. In
    English the legend is drawn below the map; in zh-CN the image holds no text at all (no CJK
    font on a bare machine) and the legend comes back as a key for the page to show.

    Parameters
    ----------
    result : netplan.pipeline.RunResult
    dpi : int
        Resolution; 90 keeps the demo's image near 50 kB.
    locale : str
        ``"en"`` or ``"zh-CN"``.

    Returns
    -------
    tuple of (str, list of (symbol, colour, text))
        ``"data:image/png;base64,…"`` and the key for the page (empty in English).
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    scenario = result.scenario
    keys, labels = scenario.tier_keys, scenario.tier_labels
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    demand = result.evaluation.demand
    low = keys[-1]
    xy = np.column_stack([demand.geometry.x, demand.geometry.y])
    ax.scatter(xy[:, 0], xy[:, 1], s=1.5, color="#c9ced3", linewidths=0, zorder=1)
    gap = ~demand[f"covered_{low}"].to_numpy(dtype=bool) & (demand[f"weight_{low}"].to_numpy() > 0)
    if gap.any():
        w = demand[f"weight_{low}"].to_numpy()[gap]
        size = 4 + 30 * np.sqrt(w / max(float(w.max()), 1e-12))
        ax.scatter(xy[gap, 0], xy[gap, 1], s=size, color=GAP_COLOUR, alpha=0.6, linewidths=0, zorder=2)
    outlets = result.plan.outlets
    tier = outlets["tier"].where(outlets["tier"] != "", outlets["current_tier"])
    for k, key in enumerate(keys):
        for action, colour in ACTION_COLOURS.items():
            sel = (tier == key) & (outlets["action"] == action)
            if not sel.any():
                continue
            pts = outlets.loc[sel].geometry
            closed = action == "close"
            ax.scatter(
                pts.x,
                pts.y,
                marker="x" if closed else TIER_MARKERS[k % 5],
                s=TIER_SIZES[min(k, 4)],
                color=colour,
                **({"linewidths": 1.5} if closed else {"edgecolors": "white", "linewidths": 0.6}),
                zorder=4 - min(k, 2) + 3,
            )
    acts = [a for a in ACTION_COLOURS if (outlets["action"] == a).any()]
    not_covered = t("report.not_covered", locale, label=labels[-1])
    key = [(TIER_SYMBOLS[k % 5], "#555", label) for k, label in enumerate(labels)]
    key += [("✕" if a == "close" else "●", ACTION_COLOURS[a], t(f"action_done.{a}", locale)) for a in acts]
    key.append(("●", GAP_COLOUR, not_covered))
    if locale == "en":
        handles = [
            Line2D([], [], ls="", marker=TIER_MARKERS[k % 5], color="#555", label=mpl_text(label))
            for k, label in enumerate(labels)
        ]
        handles += [
            Line2D([], [], ls="", marker="x" if a == "close" else "o", color=ACTION_COLOURS[a],
                   label=t(f"action_done.{a}", locale))
            for a in acts
        ]  # fmt: skip
        handles.append(Line2D([], [], ls="", marker="o", color=GAP_COLOUR, label=mpl_text(not_covered)))
        # below the map, not on it: a legend inside hides outlets (and is unreadable on a phone)
        ax.legend(handles=handles, fontsize=8, frameon=False, loc="upper center",
                  bbox_to_anchor=(0.5, -0.01), ncol=3)  # fmt: skip
        key = []
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_color("#ccc")
    crs = getattr(result.plan.inputs, "crs", None)
    if crs is not None and crs.is_projected:  # metres: a scale bar; on lon/lat, none
        bar = _scale_bar(ax, with_text=locale == "en")
        if locale != "en":
            key.append(("━", "#333", t("report.scale", locale, km=f"{bar / 1000:g}")))
    raw = io.BytesIO()
    fig.savefig(raw, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    from PIL import Image  # matplotlib's own dependency

    # a palette of 128 colours keeps the picture and halves the bytes of the report
    buffer = io.BytesIO()
    Image.open(raw).convert("RGB").quantize(colors=128, method=Image.Quantize.MAXCOVERAGE).save(buffer, format="png", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii"), key


def _scale_bar(ax, with_text: bool = True) -> float:
    """A round length near a fifth of the width at the bottom left (axes in metres); its metres."""
    x0, x1 = ax.get_xlim()
    bar = 10 ** np.floor(np.log10(max((x1 - x0) / 5, 1.0)))  # a round length near a fifth
    y0 = ax.get_ylim()[0]
    ax.plot([x0 + bar * 0.2, x0 + bar * 1.2], [y0, y0], color="#333", lw=2)
    if with_text:
        ax.text(x0 + bar * 0.7, y0, f"{bar / 1000:g} km", ha="center", va="bottom", fontsize=7)
    return float(bar)
