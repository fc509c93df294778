"""Compare two runs: sites added, removed and re-tiered, KPI and cost deltas, a map of the differences.

``compare(run_a, run_b)`` reads two folders written by ``netplan run`` (``plan.gpkg``,
``kpis.csv``, ``run.json``) and returns a :class:`Comparison` of plan B against plan A;
``write_comparison`` writes its tables and an offline map (``compare.html``) atomically.
Only the run folders are read — never the scenario or its inputs, which may have moved —
so a comparison works on runs sent by someone else.

Runs are comparable when they plan the same tiers (same keys, same order) for the same
regions in the same unit (a planar or haversine run in km and a road-network run in minutes
are refused: their reaches cover different demand). Other differences (demand inputs,
today's network) are allowed but reported as notes, because they change what a delta means.
Run folders of the previous format (run.json format 1, netplan < 0.2) are read with their
KPIs converted (:mod:`~netplan.compare.formats`).

Two roadmap runs (scenarios with ``phases``) compare phase by phase: per phase and level the
coverage, per phase the money, the coverage-years and the actions that differ
(:class:`~netplan.compare.roadmaps.RoadmapComparison`); a roadmap against a single plan is
refused.

Modules: :mod:`~netplan.compare.runs` reads and checks the run folders,
:mod:`~netplan.compare.formats` knows the run.json formats,
:mod:`~netplan.compare.differences` computes the deltas, :mod:`~netplan.compare.writing` writes
the comparison folder and :mod:`~netplan.compare.console` prints its headline; the map's markup
lives in the presentation layer, :mod:`netplan.present.compare_map`. Roadmaps:
:mod:`~netplan.compare.roadmap_runs` reads and checks them, :mod:`~netplan.compare.roadmaps`
computes the deltas, :mod:`~netplan.compare.roadmap_page` phrases them (``compare.html``,
template ``compare_roadmap.html``) and :mod:`~netplan.compare.roadmap_console` prints them.
"""

from netplan.compare.console import print_summary
from netplan.compare.differences import CHANGES, Comparison, compare
from netplan.compare.roadmap_runs import RoadmapFolder, read_roadmap
from netplan.compare.roadmaps import RoadmapComparison, compare_roadmaps
from netplan.compare.runs import RUN_FILES, Note, RunFolder, check_comparable, read_run
from netplan.compare.writing import write_comparison
from netplan.present.compare_map import compare_map

__all__ = [
    "CHANGES",
    "RUN_FILES",
    "Comparison",
    "Note",
    "RoadmapComparison",
    "RoadmapFolder",
    "RunFolder",
    "check_comparable",
    "compare",
    "compare_roadmaps",
    "compare_map",
    "print_summary",
    "read_roadmap",
    "read_run",
    "write_comparison",
]
