"""Progress display of the command line: one rich line per pipeline step, on stderr."""

from __future__ import annotations

import math

from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from netplan.cli.console import err
from netplan.optimize.progress import SolveProgress, subscribe, unsubscribe


def step_label(step: str, locale: str = "en") -> str:
    """A pipeline step's line label in ``locale``: ``"solve:cost"`` → ``"solve: cost"``
    (``"求解：费用"`` in zh-CN), from the catalogue keys ``step.*``; an unknown step as it is.

    Parameters
    ----------
    step : str
        The step name the pipeline reports (``"load"``, ``"solve:coverage"``, ...).
    locale : str
        ``"en"`` or ``"zh-CN"``.

    Returns
    -------
    str
    """
    from netplan.present.i18n import catalogue, t  # when a run starts: `--help` stays light

    key = "step." + step.replace(":", ".")
    return t(key, locale) if key in catalogue(locale) else step


def solve_text(p: SolveProgress, locale: str = "en") -> str:
    """A running solve in ``locale``'s words: ``0:00:12 · 最优解 164,375 · 界 164,375 · 间隙 0.0 %``
    (the English line is :meth:`SolveProgress.text`).

    Parameters
    ----------
    p : SolveProgress
    locale : str
        ``"en"`` or ``"zh-CN"``.

    Returns
    -------
    str
    """
    from netplan.present.i18n import t

    whole = int(p.elapsed)
    parts = [f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"]
    for key, value in (("best", p.incumbent), ("bound", p.bound)):
        if math.isfinite(value):
            parts.append(t(f"step.{key}", locale, value=f"{value:,.0f}"))
    if math.isfinite(p.gap):
        parts.append(t("step.gap", locale, value=f"{100 * p.gap:.1f}"))
    return " · ".join(parts)


class Steps:
    """Rich progress lines, one per pipeline step: the ``progress(step, state)`` callback of
    :func:`netplan.pipeline.run_scenario` and :func:`netplan.pipeline.write_run`."""

    def __init__(self, progress: Progress, locale: str = "en"):
        self.progress = progress
        self.locale = locale  # the scenario's: the step labels' language
        self.tasks: dict[str, int] = {}
        self.solving: str | None = None  # the solve step whose line shows the solver's progress
        self._token = None

    def __call__(self, step: str, state: str) -> None:
        label = step_label(step, self.locale)
        if state == "start":
            self.tasks[step] = self.progress.add_task(label, total=1)
            if step.startswith("solve:"):
                self._stop_watching()
                self.solving = step
                self._token = subscribe(self.solver_progress)
        elif step in self.tasks:
            if step == self.solving:
                self._stop_watching()
            self.progress.update(self.tasks[step], completed=1, description=f"[green]✓[/] {label}")

    def solver_progress(self, p: SolveProgress) -> None:
        """Show a running solve on its stage's line: ``solve: cost 0:00:12 · best 164,375 ·
        bound 164,375 · gap 0.0 %`` (called from the solver's thread; rich is thread-safe)."""
        step = self.solving
        if step is None or step not in self.tasks:
            return
        label = step_label(step, self.locale)
        live = p.text() if self.locale == "en" else solve_text(p, self.locale)
        self.progress.update(self.tasks[step], description=f"{label} [dim]{live}[/]")

    def _stop_watching(self) -> None:
        if self._token is not None:
            unsubscribe(self._token)
            self._token = None
        self.solving = None


def step_progress() -> Progress:
    """The progress display :class:`Steps` writes to (stderr, kept on screen when done)."""
    return Progress(
        SpinnerColumn(finished_text=" "),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    )


def sweep_progress() -> Progress:
    """The progress bar of ``netplan sweep``: points solved of the points asked for."""
    from rich.progress import BarColumn, MofNCompleteColumn

    return Progress(
        SpinnerColumn(finished_text=" "),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
    )
