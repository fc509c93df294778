"""The ``netplan`` command: the Typer app with its commands, and the process entry point."""

from __future__ import annotations

import signal
import sys
import warnings

import typer

from netplan.cli.compare import compare
from netplan.cli.console import err, show_warning
from netplan.cli.errors import EXIT_INTERRUPTED, GuardedGroup, internal_error
from netplan.cli.run import demo, run
from netplan.cli.sweep import sweep
from netplan.cli.validate import validate

app = typer.Typer(
    cls=GuardedGroup,
    name="netplan",
    help="Plan tiered service networks: where to keep, open, re-tier or close outlets, solved exactly.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# in this order in `netplan --help`
for _command in (demo, run, validate, sweep, compare):
    app.command()(_command)


def _terminate(signum, frame) -> None:
    raise KeyboardInterrupt


def main() -> None:
    """Entry point of the ``netplan`` command."""
    warnings.showwarning = show_warning
    signal.signal(signal.SIGTERM, _terminate)  # clean up like Ctrl-C: no half-written output
    try:
        app()
    except KeyboardInterrupt:
        err.print("[bold red]interrupted[/]")
        sys.exit(EXIT_INTERRUPTED)
    except Exception as exc:  # outside the commands (start-up): the same last resort
        try:
            internal_error(exc)
        except typer.Exit as done:
            sys.exit(done.exit_code)
