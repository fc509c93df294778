"""The jinja2 templates of the pages: one environment, every inserted value escaped by default.

The markup of report.html, of the Jupyter displays and of the map's panels, popups and
tooltips lives in ``netplan/present/templates``. Each ``{{ value }}`` is HTML-escaped unless
it is markup already (a macro's output, an SVG chart or symbol), with
:func:`netplan.present.markup.html_text`, which escapes ``{ }`` too: folium's branca renders
every map fragment as a jinja2 template a second time, and a name holding ``{{ … }}`` must
reach that pass as text.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from netplan.present.formats import cell, compact, money
from netplan.present.i18n import translator
from netplan.present.markup import html_text

TEMPLATES = Path(__file__).resolve().parent / "templates"


def _escaped(value: Any) -> Markup:
    """Every ``{{ value }}``: markup as it is, anything else as escaped text (``None`` → "")."""
    if hasattr(value, "__html__"):
        return Markup(value)
    return Markup(html_text(value))


@functools.cache
def environment() -> Environment:
    """The jinja2 environment of netplan's pages (autoescape on, undefined names an error)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        finalize=_escaped,
        auto_reload=False,  # the templates ship with the package; no stat per render
    )
    env.globals["_en"] = translator("en")  # the macros' default catalogue (``_=_en``)
    env.filters.update(
        cell=cell,
        compact=compact,
        money=money,
        signed_money=lambda v: f"{v:+,.0f}",
        fixed1=lambda v: f"{v:.1f}",
        signed1=lambda v: f"{v:+.1f}",
    )
    return env


def render(name: str, /, **context: Any) -> str:
    """Render the template ``name`` of ``netplan/present/templates`` with ``context``.

    Parameters
    ----------
    name : str
        File name inside the templates folder, e.g. ``"report.html"``.
    **context
        The template's variables; a name the template uses but the context lacks raises
        :class:`jinja2.UndefinedError`. ``locale`` (default ``"en"``) chooses the message
        catalogue: the template reads it as ``locale`` and its labels as ``_("key")``.

    Returns
    -------
    str
        The rendered markup.
    """
    context.setdefault("locale", "en")
    context["_"] = translator(context["locale"])
    return environment().get_template(name).render(**context)


def macros(name: str) -> Any:
    """The macros of template ``name`` as callables returning markup (e.g. one tooltip each).

    Parameters
    ----------
    name : str
        File name inside the templates folder that defines ``{% macro %}`` blocks.

    Returns
    -------
    module
        ``macros("map_tips.html").gap_tip(label, value, points)`` renders one macro.
    """
    return environment().get_template(name).module
