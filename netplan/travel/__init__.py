"""How far is far: quantities with units, coordinates and distances, sparse coverage pairs.

- :mod:`netplan.travel.units` parses ``"20 km"``, ``"1500 m"``, ``"30 min"``;
- :mod:`netplan.travel.geometry` picks the working CRS and measures planar and great-circle
  distances;
- :mod:`netplan.travel.coverage` builds the sparse in-reach (demand, site) pairs per service
  level. Drive times on roads live in :mod:`netplan.roads`, which builds the same pairs.
"""
