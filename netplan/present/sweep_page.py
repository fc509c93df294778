"""The presentation of a sweep: its curve (``sweep.png``) and its HTML summary in a notebook.

Takes a :class:`netplan.sweep.SweepResult` without importing the sweep package (it sits above
the presentation layer). The HTML is the jinja2 template ``templates/sweep_summary.html``,
autoescaped: the swept keys are escaped as HTML text by
:func:`netplan.present.markup.html_text`; the table is pandas' own (escaped) ``to_html``.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from markupsafe import Markup

from netplan.present.markup import mpl_text
from netplan.present.templating import render

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from netplan.sweep import SweepResult


def sweep_html(result: SweepResult) -> str:
    """The sweep as HTML for a notebook: a line of headline figures and the table of points.

    Parameters
    ----------
    result : SweepResult

    Returns
    -------
    str
        The ``error`` column only when a point has an error.
    """
    table = result.table
    cols = [c for c in table.columns if c not in ("error",) or table["error"].any()]
    return render(
        "sweep_summary.html",
        keys=", ".join(result.keys),
        points=len(table),
        failed=int((table["status"] == "failed").sum()),
        seconds=result.seconds,
        workers=result.workers or "no",
        cost=result.baseline["cost"],
        coverage=result.baseline["coverage_pct"],
        # pandas escapes the cells itself (to_html(escape=True))
        table=Markup(
            table[cols].to_html(index=False, float_format=lambda v: f"{v:,.4g}", na_rep="")
        ),
    )


def sweep_figure(result: SweepResult) -> Figure:
    """The curve as a matplotlib figure: coverage per level and weighted, baseline and knees.

    Parameters
    ----------
    result : SweepResult

    Returns
    -------
    matplotlib.figure.Figure
        Coverage per level and weighted against the budget (or the plan's cost), today's
        network as stars, knees circled and failed points as dotted lines. Drawn without
        pyplot (no backend switched, no figure left open); it shows itself as a PNG when it
        is a notebook cell's value, whatever the kernel's matplotlib backend.
    """
    from matplotlib.ticker import FuncFormatter

    t = result.table
    ok = t["status"] != "failed"
    t_ok = t[ok].sort_values(result.x)
    fig = ShownFigure(figsize=(8, 4.8), dpi=110)
    ax = fig.subplots()
    colours = ["#b2182b", "#2166ac", "#1b7837", "#762a83", "#e08214"]
    keys = result.scenario.tier_keys
    labels = result.scenario.tier_labels
    for k, (key, label) in enumerate(zip(keys, labels, strict=True)):
        c = colours[k % len(colours)]
        ax.plot(
            t_ok[result.x],
            t_ok[f"covered_pct_{key}"],
            "-o",
            ms=3.5,
            color=c,
            lw=1.2,
            label=mpl_text(label),
        )
        ax.plot(
            [result.baseline["cost"]],
            [result.baseline[f"covered_pct_{key}"]],
            marker="*",
            ms=11,
            color=c,
            mec="black",
            mew=0.6,
            ls="none",
        )
    ax.plot(
        t_ok[result.x],
        t_ok["coverage_pct"],
        "-",
        color="black",
        lw=2.2,
        label="weighted coverage",
    )
    ax.plot(
        [result.baseline["cost"]],
        [result.baseline["coverage_pct"]],
        marker="*",
        ms=15,
        color="gold",
        mec="black",
        ls="none",
        label="today's network (stars: weighted, per level)",
    )
    knees = t_ok[t_ok["knee"]]
    if len(knees):
        ax.plot(
            knees[result.x],
            knees["coverage_pct"],
            "o",
            ms=13,
            mfc="none",
            mec="#d6604d",
            mew=2,
            label=f"knee (next step buys < {result.knee_threshold:g} × average)",
        )
    failed = t[~ok]
    if len(failed) and result.x in failed and failed[result.x].notna().any():
        for xv in failed[result.x].dropna():
            ax.axvline(xv, color="grey", ls=":", lw=1)
    xlabel = "budget.total" if result.x == "budget" else "plan cost"
    ax.set_xlabel(f"{xlabel} (over {result.scenario.costs.horizon_years:g} years)")
    ax.set_ylabel("covered demand (%)")
    ax.xaxis.set_major_formatter(FuncFormatter(_money_tick(ax.get_xlim())))
    ax.grid(alpha=0.3)
    swept = "" if result.keys == ["budget.total"] else f" (sweep of {', '.join(result.keys)})"
    ax.set_title(mpl_text(f"{result.scenario.name}: coverage by {xlabel}{swept}"), fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def _shown_figure_class():
    from matplotlib.figure import Figure

    class _ShownFigure(Figure):
        """A figure that a notebook shows as PNG (``_repr_png_``), without pyplot."""

        def _repr_png_(self) -> bytes:
            buffer = io.BytesIO()
            self.savefig(buffer, format="png")
            return buffer.getvalue()

    return _ShownFigure


def ShownFigure(**kwargs):  # noqa: N802  (a class, built on first use: matplotlib loads lazily)
    """A :class:`matplotlib.figure.Figure` with ``_repr_png_`` (see :func:`sweep_figure`)."""
    global _SHOWN
    if _SHOWN is None:
        _SHOWN = _shown_figure_class()
    return _SHOWN(**kwargs)


_SHOWN = None


def _money_tick(limits: tuple[float, float]):
    """Tick labels that stay short: 12 M, 350 k or 1,200 (long figures overlap)."""
    top = max(abs(limits[0]), abs(limits[1]))
    if top >= 1e6:
        return lambda v, _: f"{v / 1e6:g} M"
    if top >= 1e4:
        return lambda v, _: f"{v / 1e3:g} k"
    return lambda v, _: f"{v:,.0f}"
