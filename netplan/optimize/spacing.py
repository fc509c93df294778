"""Spacing rules of the tiered model: conflicting site pairs, a clique cover, and the rows.

A spacing rule with tier set T and least distance ``min`` forbids two open outlets whose
tiers are both in T closer than ``min`` (in the scenario's travel metric: metres, or on a
road network minutes, a pair's time being the shorter of its two directions). Two sites
*conflict* when both may host a tier of T and they are closer than ``min``; pairs of two
of today's outlets are dropped when the rule says ``between_existing: exempt``.

Conflicting pairs come from a site-to-site neighbour search bounded by ``min`` (a KD-tree
for planar and haversine travel, a bounded Dijkstra per site on roads: the same search as
coverage and linkage), never from all pairs. Rows, for a clique C of the conflict graph
(sites pairwise in conflict)::

    sum_{s in C} sum_{k in T} x[s, k]  <=  1

A greedy clique cover puts every conflicting pair in at least one clique; a clique of two
sites is the plain pair row ``sum_T x[s] + sum_T x[t] <= 1``. Where several sites lie within
``min`` of each other one clique row replaces their pair rows and is tighter in the LP (the
pair rows allow 1/2 at each of three mutually close sites, the clique row 1/3).

Exactness of the optimizer's speed-ups with spacing rows (audited for issue 24; the rows are
a block of ``model.lp`` like any other, on x columns only): merging identical demand rows
(:mod:`~netplan.optimize.reduction`) concerns demand, not sites; reduced-cost fixing and LP
probing (:mod:`~netplan.optimize.fixing`) solve the LP with every row; the linkage cuts
(:mod:`~netplan.optimize.cuts`) hold for every plan of the coverage and linkage rows, so for
the fewer plans spacing leaves; the aggregation loop keeps the site rows and relaxes demand
only; the LP-guided search bounds through the Lagrangian of every row and its restrictions
move fixed columns of every x-only row into the bounds
(:func:`~netplan.optimize.restriction.restricted_program`); the tie-break stages and the
no-good enumeration add rows to the full program. Today's network as a first incumbent
(``lexicographic._feasible_start``, the ``start_tiers`` of the large-demand searches) is
used only after checking every row, so an enforced spacing it breaks drops it. None had to
be disabled; tests/test_siting_spacing.py compares each path with enumeration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from netplan.travel.coverage import pairs_within

if TYPE_CHECKING:
    from netplan.optimize.model import TieredModel

#: A pair conflicts when its distance is below ``min - SPACING_TOLERANCE`` (metres or
#: minutes): a pair exactly ``min`` apart is allowed, whatever the rounding of the formula.
SPACING_TOLERANCE = 1e-6


@dataclass
class SpacingData:
    """One spacing rule as arrays: its conflicting site pairs and the cliques covering them.

    Attributes
    ----------
    label : str
        Scenario key of the rule, e.g. ``siting.spacing[0]``.
    tiers : ndarray of int
        Tier indices T of the rule.
    min : float
        Least distance (metres) or drive time (minutes).
    text : str
        ``min`` as the scenario gave it (``"2 km"``), for messages.
    enforce : bool
        Pairs of two of today's outlets are held to the rule (``between_existing: enforce``).
    a, b : ndarray of int
        Conflicting site pairs (``a < b``) after exemptions.
    dist : ndarray of float
        Distance (or shorter drive time) of each pair.
    exempt : int
        Pairs of two of today's outlets closer than ``min`` left alone (``exempt``).
    cliques : list of ndarray
        Site sets of the rows; every pair lies in at least one.
    """

    label: str
    tiers: np.ndarray
    min: float
    text: str
    enforce: bool
    a: np.ndarray
    b: np.ndarray
    dist: np.ndarray
    exempt: int = 0
    cliques: list[np.ndarray] = field(default_factory=list)

    @property
    def n_pairs(self) -> int:
        return len(self.a)

    @property
    def pair_rows(self) -> int:
        """Rows over two sites (a pair in no larger clique)."""
        return sum(1 for c in self.cliques if len(c) == 2)

    @property
    def clique_rows(self) -> int:
        """Rows over three or more mutually close sites."""
        return sum(1 for c in self.cliques if len(c) > 2)

    def summary(self) -> dict[str, object]:
        """The figures run.json states for the rule."""
        return {
            "rule": self.label,
            "tiers": [int(t) for t in self.tiers],
            "min": self.text,
            "between_existing": "enforce" if self.enforce else "exempt",
            "pairs": int(self.n_pairs),
            "exempt_pairs_between_existing": int(self.exempt),
            "pair_rows": int(self.pair_rows),
            "clique_rows": int(self.clique_rows),
            "largest_clique": int(max((len(c) for c in self.cliques), default=0)),
        }


def close_pairs(
    site_xy: np.ndarray, sites: np.ndarray, radius: float, mode
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unordered pairs of ``sites`` closer than ``radius``, by a bounded neighbour search.

    Parameters
    ----------
    site_xy : ndarray (m, 2)
        Metric coordinates of every site (:func:`netplan.travel.geometry.metric_coords`).
    sites : ndarray of int
        The sites to pair up.
    radius : float
        Metres, or minutes on a road network.
    mode : {"planar", "haversine"} or NetworkTravel
        The travel metric; on roads a pair's time is the shorter of its two directions.

    Returns
    -------
    a, b, dist : ndarray
        Site indices with ``a < b`` and the distance (shorter drive time) of each pair,
        sorted by ``(a, b)``, every pair once.
    """
    sites = np.asarray(sites, dtype=np.int64)
    none = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    if len(sites) < 2:
        return none
    found = pairs_within(site_xy[sites], site_xy[sites], radius, mode, tree_index=sites)
    i, j, d = sites[found.demand], found.site, found.dist
    keep = (i != j) & (d < radius - SPACING_TOLERANCE)
    i, j, d = i[keep], j[keep], d[keep]
    a, b = np.minimum(i, j), np.maximum(i, j)
    if not len(a):
        return none
    # both directions found (roads: two drive times): keep the shorter per pair
    order = np.lexsort((d, b, a))
    a, b, d = a[order], b[order], d[order]
    first = np.ones(len(a), dtype=bool)
    first[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    return a[first], b[first], d[first]


def clique_cover(a: np.ndarray, b: np.ndarray) -> list[np.ndarray]:
    """A greedy clique cover of the graph with edges ``(a, b)``: every edge in some clique.

    Edges are taken from the vertex of largest degree first; each uncovered edge starts a
    clique that grows by the common neighbour joining the most uncovered edges to it, until
    no vertex is adjacent to all members. Cliques are sorted site arrays.
    """
    if not len(a):
        return []
    neighbours: dict[int, set[int]] = {}
    for u, v in zip(a.tolist(), b.tolist(), strict=True):
        neighbours.setdefault(u, set()).add(v)
        neighbours.setdefault(v, set()).add(u)
    uncovered: dict[int, set[int]] = {u: set(n) for u, n in neighbours.items()}
    cliques: list[np.ndarray] = []
    for u in sorted(neighbours, key=lambda s: (-len(neighbours[s]), s)):
        while uncovered[u]:
            v = min(uncovered[u], key=lambda s: (-len(uncovered[s]), s))
            clique = [u, v]
            common = (neighbours[u] & neighbours[v]) - {u, v}
            while common:
                w = min(common, key=lambda s: (-sum(1 for c in clique if c in uncovered[s]), s))
                clique.append(w)
                common &= neighbours[w]
                common.discard(w)
            for p in clique:
                uncovered[p].difference_update(clique)
            cliques.append(np.array(sorted(clique), dtype=np.int64))
    return cliques


def build_spacing(
    site_xy: np.ndarray,
    mode,
    allowed: np.ndarray,
    current_tier: np.ndarray,
    rules: list[tuple[str, list[int], float, str, bool]],
) -> list[SpacingData]:
    """Conflicting pairs and their clique cover for each rule.

    Parameters
    ----------
    site_xy : ndarray (m, 2)
        Metric coordinates of the sites.
    mode : {"planar", "haversine"} or NetworkTravel
    allowed : ndarray (m, K) of bool
        Tiers each site may take (a site none of whose tiers is in T takes no part).
    current_tier : ndarray (m,)
        Today's tier (-1 = a candidate): pairs of two existing outlets are exempt unless enforced.
    rules : list of (label, tier indices, min, min as text, enforce)
    """
    out = []
    existing = current_tier >= 0
    for label, tiers, minimum, text, enforce in rules:
        t = np.asarray(sorted(tiers), dtype=np.int64)
        eligible = np.flatnonzero(allowed[:, t].any(axis=1))
        a, b, d = close_pairs(site_xy, eligible, float(minimum), mode)
        both = existing[a] & existing[b]
        exempt = 0 if enforce else int(both.sum())
        if not enforce:
            a, b, d = a[~both], b[~both], d[~both]
        data = SpacingData(label, t, float(minimum), text, bool(enforce), a, b, d, exempt)
        data.cliques = clique_cover(a, b)
        out.append(data)
    return out


def spacing_rows(model: TieredModel, n_cols: int) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """One row per clique of every rule: ``sum_{s in C} sum_{k in T} x[s, k] <= 1``."""
    rows, cols = [], []
    r = 0
    for rule in model.problem.spacing:
        for clique in rule.cliques:
            xc = model.xcol[clique][:, rule.tiers].ravel()
            xc = xc[xc >= 0]
            rows.append(np.full(len(xc), r))
            cols.append(xc)
            r += 1
    if r == 0:
        return sp.csr_matrix((0, n_cols)), np.zeros(0), np.zeros(0)
    ri, ci = np.concatenate(rows), np.concatenate(cols)
    A = sp.csr_matrix((np.ones(len(ri)), (ri, ci)), shape=(r, n_cols))
    return A, np.full(r, -np.inf), np.ones(r)
