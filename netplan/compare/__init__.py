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

Modules: :mod:`~netplan.compare.runs` reads and checks the run folders,
:mod:`~netplan.compare.formats` knows the run.json formats,
:mod:`~netplan.compare.differences` computes the deltas, :mod:`~netplan.compare.writing` writes
the comparison folder and :mod:`~netplan.compare.console` prints its headline; the map's markup
lives in the presentation layer, :mod:`netplan.present.compare_map`.
"""

from netplan.compare.console import print_summary
from netplan.compare.differences import CHANGES, Comparison, compare
from netplan.compare.runs import RUN_FILES, Note, RunFolder, check_comparable, read_run
from netplan.compare.writing import write_comparison
from netplan.present.compare_map import compare_map

__all__ = [
    "CHANGES",
    "RUN_FILES",
    "Comparison",
    "Note",
    "RunFolder",
    "check_comparable",
    "compare",
    "compare_map",
    "print_summary",
    "read_run",
    "write_comparison",
]
