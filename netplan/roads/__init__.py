"""Road networks: OpenStreetMap read offline, speeds, snapping to the road, drive-time pairs.

- :mod:`netplan.roads.network` reads an extract or GraphML into a :class:`RoadNetwork`
  (travel minutes per edge) and turns a scenario's ``travel`` block into a travel object;
- :mod:`netplan.roads.extract` keeps the drivable ways of an extract, clipped or whole;
- :mod:`netplan.roads.snapping` puts points on the nearest drivable edge;
- :mod:`netplan.roads.drivetimes` runs truncated Dijkstra into coverage pairs and times.
"""

from netplan.roads.drivetimes import NetworkTravel
from netplan.roads.network import (
    DEFAULT_SPEEDS_KMH,
    OSM_ATTRIBUTION,
    RoadNetwork,
    highway_speed,
    is_drivable,
    is_road,
    load_network,
    parse_maxspeed,
    read_graph,
    scenario_travel,
)
from netplan.roads.snapping import RoadPieces, RoadPoints, road_pieces, snap_to_roads

__all__ = [
    "DEFAULT_SPEEDS_KMH",
    "OSM_ATTRIBUTION",
    "NetworkTravel",
    "RoadNetwork",
    "RoadPieces",
    "RoadPoints",
    "highway_speed",
    "is_drivable",
    "is_road",
    "load_network",
    "parse_maxspeed",
    "read_graph",
    "road_pieces",
    "scenario_travel",
    "snap_to_roads",
]
