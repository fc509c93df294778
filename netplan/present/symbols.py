"""Outlet symbols: the shape and colour of a tier, the mark of an action, as inline SVG."""

from __future__ import annotations

from markupsafe import Markup

from netplan.present.templating import render

TIER_COLOURS = ["#b2182b", "#2166ac", "#1b7837", "#762a83", "#e08214"]
TIER_SHAPES = ["square", "diamond", "circle", "triangle", "circle"]
TIER_SIZES = [22, 18, 14, 13, 12]
ACTION_LABELS = {"keep": "kept", "open": "new", "retier": "re-tiered", "close": "closed"}


def tier_style(k: int) -> tuple[str, str, int]:
    """Colour, shape and size in pixels of the symbol of tier ``k`` (0 = top tier).

    Parameters
    ----------
    k : int
        Position of the tier, top first; beyond the fifth tier the styles repeat.

    Returns
    -------
    colour : str
    shape : str
        ``"square"``, ``"diamond"``, ``"circle"`` or ``"triangle"``.
    size : int
    """
    return (
        TIER_COLOURS[k % len(TIER_COLOURS)],
        TIER_SHAPES[k % len(TIER_SHAPES)],
        TIER_SIZES[min(k, len(TIER_SIZES) - 1)],
    )


def symbol_svg(shape: str, colour: str, size: int, action: str = "keep") -> Markup:
    """Inline SVG of an outlet symbol: the shape and colour say the tier, the mark says the action.

    keep: plain; open (new): a white plus inside; retier: thick dashed outline; close: hollow,
    grey outline with a cross in the tier's colour.

    Parameters
    ----------
    shape : str
        ``"square"``, ``"diamond"``, ``"triangle"``; anything else draws a circle.
    colour : str
        The tier's colour (CSS).
    size : int
        Width and height in pixels.
    action : str
        ``"keep"``, ``"open"``, ``"retier"`` or ``"close"``.

    Returns
    -------
    markupsafe.Markup
        ``<svg>…</svg>``, markup that a template inserts as it is.
    """
    stroke, width, dash, fill = "#1a1a1a", 1.2, False, colour
    if action == "retier":
        width, dash = 2.2, True
    elif action == "close":
        fill, stroke, width = "#ffffff", "#777777", 1.5
    pad = width / 2 + 0.5
    return Markup(
        render(
            "symbol.svg",
            s=size,
            shape=shape,
            action=action,
            colour=colour,
            fill=fill,
            stroke=stroke,
            width=width,
            dash=dash,
            pad=pad,
            inner=size - 2 * pad,
            c=size / 2,
            arm=max(size * 0.26, 2.5),
            mark_width=max(size / 7, 1.8),
        )
    )
