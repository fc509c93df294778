"""Exact reductions applied before modelling.

Demand points whose coverage sets at a service level are identical (same sites, same
tiers) are interchangeable for that level's coverage objective and constraints: they are
merged into one row per level whose weight is the sum (isomorphic aggregation). Grouping hashes each row's sparse pattern with two
independent random 64-bit keys, then verifies every member against its representative, so
the merge is exact, not probabilistic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .coverage import Coverage


@dataclass(frozen=True)
class DemandGroups:
    """Demand points merged by identical coverage.

    Attributes
    ----------
    group : ndarray (n,)
        Group of each demand point.
    representative : ndarray (G,)
        One member (the first) of each group.
    """

    group: np.ndarray
    representative: np.ndarray

    @property
    def n_groups(self) -> int:
        return len(self.representative)

    def sum(self, values: np.ndarray) -> np.ndarray:
        """Sum per group of a per-point array ``(n,)`` or ``(n, K)``."""
        values = np.asarray(values, dtype=float)
        out = np.zeros((self.n_groups,) + values.shape[1:])
        np.add.at(out, self.group, values)
        return out


def level_signature_matrix(coverage: Coverage, level: int) -> sp.csr_matrix:
    """``(n, (level+1)·m)`` 0/1 matrix: row i lists every (tier, site) able to serve point i at ``level``."""
    return sp.hstack([coverage.matrix(tier, level) for tier in range(level + 1)], format="csr")


def merge_identical_rows(
    H: sp.csr_matrix, extra_key: np.ndarray | None = None, seed: int = 12345
) -> DemandGroups:
    """Group the rows of a sparse 0/1 matrix that have identical patterns (and identical ``extra_key``).

    Parameters
    ----------
    H : csr_matrix (n, c)
        One row per demand point, e.g. :func:`level_signature_matrix`.
    extra_key : ndarray (n,) of int, optional
        A further label that must match (e.g. region code when targets are per region).
    seed : int
        Seed of the random hash keys (the result does not depend on it).

    Returns
    -------
    DemandGroups
        Groups numbered in order of their first member.
    """
    H = sp.csr_matrix(H)
    H.sort_indices()
    n, n_cols = H.shape
    rng = np.random.default_rng(seed)
    keys = rng.integers(0, np.iinfo(np.int64).max, size=(2, max(n_cols, 1)), dtype=np.int64).astype(
        np.uint64
    )
    nnz = np.diff(H.indptr)
    h1 = np.zeros(n, dtype=np.uint64)
    h2 = np.zeros(n, dtype=np.uint64)
    rows = np.repeat(np.arange(n), nnz)
    with np.errstate(over="ignore"):
        np.add.at(h1, rows, keys[0][H.indices])
        np.add.at(h2, rows, keys[1][H.indices])
    extra = (
        np.zeros(n, dtype=np.int64) if extra_key is None else np.asarray(extra_key, dtype=np.int64)
    )
    table = np.column_stack([h1.view(np.int64), h2.view(np.int64), nnz.astype(np.int64), extra])
    groups = _groups_of_table(table)
    # exact verification: every member's pattern equals its representative's
    diff = H - H[groups.representative[groups.group]]
    if (
        diff.count_nonzero() != 0
    ):  # a hash collision; astronomically unlikely, but never merge wrongly
        return DemandGroups(np.arange(n), np.arange(n))
    return groups


def _groups_of_table(table: np.ndarray) -> DemandGroups:
    """Groups of identical rows of a 2-D array, numbered by first appearance."""
    _, first, inverse = np.unique(table, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return DemandGroups(rank[inverse], np.sort(first))
