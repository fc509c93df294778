"""Read OR-Library benchmark instances (J. E. Beasley): p-median ``pmed*`` and facility location ``cap*``.

Formats as described in ``shared/benchmarks/orlib/README.md``:

- ``pmedN.txt``: ``n_vertices n_edges p``, then ``i j cost`` per edge (1-based). The cost
  matrix starts infinite with a zero diagonal; edges are read in order and set both
  directions, the LAST cost of a repeated edge winning; then all-pairs shortest paths.
- ``capN.txt``: ``m n``; ``m`` lines ``capacity fixed_cost``; then per customer its demand
  and the ``m`` costs of serving all of its demand from each warehouse (wrapping lines).

Readers only: the published optima the classic models are checked against live with the
tests (``tests/orlib_optima.py``), not in the code under test.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import shortest_path


@dataclass(frozen=True)
class PMedianInstance:
    """A ``pmed`` instance: the shortest-path distance matrix and p."""

    name: str
    distances: np.ndarray  # (n, n)
    p: int


@dataclass(frozen=True)
class FacilityInstance:
    """A ``cap`` instance: capacities, fixed costs, demands and assignment costs."""

    name: str
    capacity: np.ndarray  # (m,)
    fixed_cost: np.ndarray  # (m,)
    demand: np.ndarray  # (n,)
    cost: np.ndarray  # (n, m): cost of serving ALL of customer i's demand from warehouse j


def read_pmed(path: str | Path) -> PMedianInstance:
    """Read a p-median instance and build its all-pairs shortest-path matrix (Beasley's rules)."""
    path = Path(path)
    numbers = np.loadtxt(path, dtype=np.int64, ndmin=2, max_rows=None, usecols=(0, 1, 2))
    n, n_edges, p = (int(v) for v in numbers[0])
    edges = numbers[1 : 1 + n_edges]
    # the last cost of a repeated edge wins: keep each undirected pair's last occurrence
    a, b = edges[:, 0] - 1, edges[:, 1] - 1
    key = np.minimum(a, b) * n + np.maximum(a, b)
    _, last_from_end = np.unique(key[::-1], return_index=True)
    last = len(key) - 1 - last_from_end
    a, b, w = a[last], b[last], edges[last, 2].astype(float)
    graph = sp.coo_matrix(
        (np.concatenate([w, w]), (np.concatenate([a, b]), np.concatenate([b, a]))), shape=(n, n)
    ).tocsr()
    distances = shortest_path(graph, method="D", directed=False)
    return PMedianInstance(path.stem, distances, p)


def read_cap(path: str | Path) -> FacilityInstance:
    """Read a capacitated warehouse location instance (capacity is ignored by UFL)."""
    path = Path(path)
    tokens = path.read_text().split()
    m, n = int(tokens[0]), int(tokens[1])
    pos = 2
    capacity = np.empty(m)
    fixed = np.empty(m)
    for j in range(m):
        capacity[j] = float(tokens[pos]) if tokens[pos].replace(".", "", 1).isdigit() else np.inf
        fixed[j] = float(tokens[pos + 1])
        pos += 2
    demand = np.empty(n)
    cost = np.empty((n, m))
    for i in range(n):
        demand[i] = float(tokens[pos])
        cost[i] = np.asarray(tokens[pos + 1 : pos + 1 + m], dtype=float)
        pos += 1 + m
    return FacilityInstance(path.stem, capacity, fixed, demand, cost)
