"""A scenario's input layers, read and checked into normalised GeoDataFrames.

Reading and assembling go one way: :mod:`~netplan.inputs.build` asks the scenario which layers
to read and with which columns, and is the only part that knows both the scenario and the
readers.

- :mod:`~netplan.inputs.readers` reads files (CSV with coordinates, GeoPackage, GeoJSON, ...)
  from a path and plain settings;
- :mod:`~netplan.inputs.zones` spreads zone populations onto points, and
  :mod:`~netplan.inputs.candidates` generates candidate sites from demand (arrays and numbers);
- :mod:`~netplan.inputs.build` assembles :class:`Inputs` from a scenario, with
  :mod:`~netplan.inputs.demand` (demand points, zones spread, competitors' discount),
  :mod:`~netplan.inputs.sites` (outlets and candidates, their tiers, costs and capacity),
  :mod:`~netplan.inputs.locations` (point geometry and region of each row),
  :mod:`~netplan.inputs.extent` (points far outside the other layers) and
  :mod:`~netplan.inputs.columns` (ids, texts, numbers, the ratio rule on columns);
- :mod:`~netplan.inputs.costs` holds each site's costs per tier.
"""

from netplan.inputs.build import Inputs, inputs_from_frames, load_inputs

__all__ = ["Inputs", "inputs_from_frames", "load_inputs"]
