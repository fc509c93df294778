"""The command line's consoles (results on stdout, messages on stderr) and its warning printer."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from netplan._errors import NetplanWarning

# emoji=False: a name such as "Nord :x:" must print as written, not as an emoji
out = Console(emoji=False)
err = Console(stderr=True, emoji=False)

# every warning printed as it was raised, so a command's summary does not print it twice
SHOWN_WARNINGS: set[str] = set()


def show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings as one ``warning:`` line on stderr; netplan's own without a source location.

    Installed as :func:`warnings.showwarning` by :func:`netplan.cli.entry.main`.
    """
    SHOWN_WARNINGS.add(str(message))
    if issubclass(category, NetplanWarning):
        err.print(f"[yellow]warning:[/] {escape(str(message))}", soft_wrap=True)
    else:
        err.print(
            f"[yellow]warning:[/] {escape(str(message))} ({category.__name__}, {escape(str(filename))}:{lineno})",
            soft_wrap=True,
        )
