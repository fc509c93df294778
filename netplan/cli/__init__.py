"""Command line: ``netplan demo``, ``netplan validate``, ``netplan run``, ``netplan compare``, ``netplan sweep``.

A thin shell over the library: each command parses its options, calls
:mod:`netplan.pipeline` with a progress display, and prints a summary. Bad input is one
clear line per problem on stderr and exit code 2; a run stopped by its time limit exits 0
(or 3 with ``--require-optimal``); Ctrl-C exits 130 and leaves no partial output. Anything
unexpected is caught by a last-resort handler: one ``internal error: ..., please report``
line, exit code 70, and the traceback saved to a file in the system temp folder (never
printed). User-given text (scenario, tier and region names, paths) is printed literally,
never read as rich markup.

Modules: :mod:`~netplan.cli.entry` (the app and the process entry point),
:mod:`~netplan.cli.errors` (exit codes, one-line errors, the last-resort handler),
:mod:`~netplan.cli.console` (consoles and warnings), :mod:`~netplan.cli.progress`,
:mod:`~netplan.cli.options` (shared options and their checks) and one module per command group.
"""

from netplan.cli.entry import app, main

__all__ = ["app", "main"]
