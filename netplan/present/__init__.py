"""What people open: the offline HTML map, the report page and inline Jupyter displays.

Nothing in the core imports this package; it plugs its renderers into the core's display
hooks (:mod:`netplan._display_hooks`) when it is imported, which ``import netplan`` does.
"""
