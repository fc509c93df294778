"""The pages' templates: each compiles, escapes every name (braces too), refuses unknown names,
and ships with the package."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

import jinja2
import pytest
from markupsafe import Markup

from netplan.present.map_layers import tips
from netplan.present.symbols import symbol_svg
from netplan.present.templating import TEMPLATES, environment, macros, render

ROOT = Path(__file__).resolve().parent.parent
NAME = "<img src=x onerror=alert(1)> \"' {{ 7*7 }} {% if 1 %}{# x #}"
ESCAPED = (
    "&lt;img src=x onerror=alert(1)&gt; &quot;&#x27; &#123;&#123; 7*7 &#125;&#125; "
    "&#123;% if 1 %&#125;&#123;# x #&#125;"
)


def test_every_template_compiles():
    names = environment().list_templates()
    assert sorted(names) == sorted(p.name for p in TEMPLATES.iterdir())
    assert {"report.html", "display.html", "map_panels.html", "map_tips.html"} <= set(names)
    for name in names:
        assert environment().get_template(name).name == name


def test_names_are_escaped_braces_too():
    """No jinja2 pass after ours (branca renders map fragments again) can read code in a name."""
    assert str(tips().gap_tip(NAME, "1,234", 7)) == f"{ESCAPED}: 1,234 uncovered demand (7 points)"
    assert str(tips().outlet_tip(NAME, "kept")) == f"{ESCAPED} · kept"
    assert str(tips().outlet_popup(NAME, [("Site", NAME), ("Region", None)])) == (
        f'<div class="np-popup"><b>{ESCAPED}</b><table><tr><th>Site</th><td>{ESCAPED}</td></tr>'
        "<tr><th>Region</th><td></td></tr></table></div>"
    )
    tip = tips().overlap_tip(NAME, "90", 4, [("2", "60"), ("4+", "30")], 5)
    assert str(tip) == (
        f"{ESCAPED}: 90 demand covered 2+ times (4 points)<br>by 2 outlets: 60 · by 4+ outlets: 30"
        " (at most 5 outlets)"
    )
    # rendered again as a template (what branca does), the text stays text
    assert jinja2.Template(str(tips().region_tip(NAME))).render() == f"Region {ESCAPED}"


def test_markup_goes_in_as_it_is():
    svg = symbol_svg("square", "#b2182b", 22, "open")
    assert isinstance(svg, Markup) and svg.startswith("<svg ")
    legend = str(macros("map_panels.html").legend([(svg, NAME)], [], ["#fff"], [("#000", "2")]))
    assert f"<div>{svg} {ESCAPED}</div>" in legend


def test_a_missing_name_is_an_error():
    with pytest.raises(jinja2.UndefinedError, match="'scenario' is undefined"):
        render("report.html")
    with pytest.raises(jinja2.UndefinedError, match="parameter 'name' was not provided"):
        macros("map_panels.html").title()  # a macro called without its argument


def test_the_templates_ship_with_the_package():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = project["tool"]["setuptools"]["package-data"]["netplan"]
    for path in TEMPLATES.iterdir():
        inside = path.relative_to(ROOT / "netplan").as_posix()
        assert any(fnmatch.fnmatch(inside, p) for p in patterns), inside
    assert any(d.startswith("jinja2>=") for d in project["project"]["dependencies"])
