"""How the command line fails: exit codes, one-line errors, the last-resort handler.

Bad input is one ``error:`` line per problem and exit code 2; anything unexpected is one
``internal error: ..., please report`` line, exit code 70, and the traceback saved to a file
in the system temp folder (never printed).
"""

from __future__ import annotations

import os
import sys
import tempfile
import traceback
from datetime import UTC, datetime
from pathlib import Path

import click
import typer
from rich.markup import escape
from typer.core import TyperGroup
from typer.exceptions import TyperException

from netplan._errors import NetplanError
from netplan.cli.console import err

# exit codes: 2 bad input (one `error:` line), 3 not optimal under --require-optimal,
# 70 internal error (EX_SOFTWARE), 130 interrupted (128 + SIGINT)
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130

# click's own exits and usage errors (typer >= 0.2x vendors click: its BadParameter and friends
# are TyperException; the installed click's are listed too for older typer)
_CLICK_EXCEPTIONS = (click.exceptions.Exit, click.exceptions.Abort, click.ClickException)


def _is_usage_error(exc: BaseException) -> bool:
    # typer >= 0.2x vendors click (typer._click, private): recognise its UsageError by name
    return any(cls.__name__ == "UsageError" for cls in type(exc).__mro__)


class GuardedGroup(TyperGroup):
    """The command group with netplan's last-resort handler around every command.

    It sits inside the click command (not in :func:`netplan.cli.entry.main`), so
    ``typer.testing.CliRunner`` exercises it too: a :class:`NetplanError` that escaped a
    command is one ``error:`` line and exit 2, Ctrl-C exit 130, anything else
    :func:`internal_error` (exit 70).
    """

    def main(self, *args, standalone_mode: bool = True, **kwargs):
        """Click's standalone handling, with a usage error as one ``error:`` line (click and
        typer print a usage block and a boxed message), naming the command's ``--help``."""
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except (TyperException, click.ClickException) as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":  # `netplan` alone: the help text
                exc.show()
                sys.exit(exc.exit_code)
            message = " ".join(exc.format_message().split())  # one line
            ctx = getattr(exc, "ctx", None)
            if ctx is not None and _is_usage_error(exc):
                stop = "" if message.endswith((".", "?", "!")) else "."
                message += f"{stop} See '{ctx.command_path} --help'."
            err.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
            sys.exit(exc.exit_code)
        except (typer.Abort, click.exceptions.Abort):
            err.print("[bold red]interrupted[/]")
            sys.exit(1)
        # non-standalone click returns a command's exit code (an Exit it raised), else its value
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, TyperException, *_CLICK_EXCEPTIONS):
            raise  # typer.Exit from the commands, usage errors: typer/click report them
        except KeyboardInterrupt:
            err.print("[bold red]interrupted:[/] no output was written")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except NetplanError as exc:
            fail(exc)
        except Exception as exc:  # MemoryError, OSError, pydantic's ValidationError, bugs
            internal_error(exc)


def fail(exc: BaseException, code: int = 2) -> None:
    """Print each line of ``exc`` as an ``error:`` line on stderr and exit with ``code``.

    Raises
    ------
    typer.Exit
        Always, with ``code``.
    """
    for line in str(exc).splitlines() or [type(exc).__name__]:
        err.print(f"[bold red]error:[/] {escape(line)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def traceback_path() -> Path:
    """Where :func:`internal_error` saves a traceback: the system temp folder, unique per run."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return Path(tempfile.gettempdir()) / f"netplan-traceback-{stamp}-{os.getpid()}.txt"


def internal_error(exc: BaseException) -> None:
    """One ``internal error`` line naming the saved traceback; exit code 70.

    Raises
    ------
    typer.Exit
        Always, with :data:`EXIT_INTERNAL`.
    """
    path: Path | str = traceback_path()
    try:
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        Path(path).write_text(text, encoding="utf-8")
    except Exception as why:  # the disk may be the very problem: say so, still no traceback
        path = f"nowhere ({type(why).__name__}: could not write {path})"
    message = (str(exc).splitlines() or [""])[0].strip()
    if len(message) > 300:
        message = message[:300] + "..."
    what = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    err.print(
        f"internal error: {what}, please report; traceback saved to {path}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    raise typer.Exit(EXIT_INTERNAL)
