"""A scenario's input layers, read and checked into normalised GeoDataFrames.

- :mod:`~netplan.inputs.readers` reads files (CSV with coordinates, GeoPackage, GeoJSON, ...);
- :mod:`~netplan.inputs.zones` spreads zone populations onto points, and
  :mod:`~netplan.inputs.candidates` generates candidate sites from demand;
- :mod:`~netplan.inputs.costs` holds each site's costs per tier;
- :mod:`~netplan.inputs.build` assembles :class:`Inputs` from a scenario (the only module that
  knows both the scenario and the readers), with column checks in
  :mod:`~netplan.inputs.columns`.
"""

from netplan.inputs.build import Inputs, inputs_from_frames, load_inputs

__all__ = ["Inputs", "inputs_from_frames", "load_inputs"]
