"""``python -m netplan.cli``: the ``netplan`` command."""

from netplan.cli.entry import main

main()
