"""netplan's version, in one place (read by the package and by output folder markers)."""

__version__ = "0.1.0"
