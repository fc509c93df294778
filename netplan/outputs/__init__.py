"""Writing results: output folders that are never half-written or wrongly replaced, and a run's files.

- :mod:`~netplan.outputs.folders` checks, locks and atomically swaps output folders;
- :mod:`~netplan.outputs.writer` writes a run's files: plan.gpkg, kpis.csv, outlets.csv,
  plan.xlsx, run.json, map.html, report.html (and GeoParquet with ``--format gpkg,parquet``);
- :mod:`~netplan.outputs.layers` the geodata layers (everything the map draws);
- :mod:`~netplan.outputs.exports` outlets.csv, plan.xlsx, plan.gpkg and GeoParquet writers;
- :mod:`~netplan.outputs.qgis_styles` the QGIS styles stored in plan.gpkg.
"""
