"""Writing results: output folders that are never half-written or wrongly replaced, and a run's files.

- :mod:`~netplan.outputs.folders` checks, locks and atomically swaps output folders;
- :mod:`~netplan.outputs.writer` writes plan.gpkg, kpis.csv, run.json, map.html, report.html.
"""
