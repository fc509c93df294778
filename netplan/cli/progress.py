"""Progress display of the command line: one rich line per pipeline step, on stderr."""

from __future__ import annotations

from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from netplan.cli.console import err
from netplan.optimize.progress import SolveProgress, subscribe, unsubscribe

STEP_LABELS = {
    "load": "load inputs",
    "coverage": "coverage (in-reach pairs)",
    "model": "build model",
    "solve:coverage": "solve: coverage",
    "solve:cost": "solve: cost",
    "solve:distance": "solve: distance tie-break",
    "solve:site_id": "solve: site-id tie-break",
    "evaluate": "evaluate plan and today's network",
    "write": "write outputs",
}


class Steps:
    """Rich progress lines, one per pipeline step: the ``progress(step, state)`` callback of
    :func:`netplan.pipeline.run_scenario` and :func:`netplan.pipeline.write_run`."""

    def __init__(self, progress: Progress):
        self.progress = progress
        self.tasks: dict[str, int] = {}
        self.solving: str | None = None  # the solve step whose line shows the solver's progress
        self._token = None

    def __call__(self, step: str, state: str) -> None:
        label = STEP_LABELS.get(step, step)
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
        label = STEP_LABELS.get(step, step)
        self.progress.update(self.tasks[step], description=f"{label} [dim]{p.text()}[/]")

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
