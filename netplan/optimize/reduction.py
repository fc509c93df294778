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
import pandas as pd
import scipy.sparse as sp

from netplan.travel.coverage import Coverage


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
    h1, h2 = _row_sums(keys[0][H.indices], H.indptr), _row_sums(keys[1][H.indices], H.indptr)
    extra = (
        np.zeros(n, dtype=np.int64) if extra_key is None else np.asarray(extra_key, dtype=np.int64)
    )
    extra_code = pd.factorize(extra)[0].astype(np.uint64)
    with np.errstate(over="ignore"):
        # one 64-bit key per row; pandas hashes it in O(n) (np.unique on rows sorts: 10x slower)
        key = (
            h1 ^ (h2 * np.uint64(0x9E3779B97F4A7C15)) ^ (extra_code * np.uint64(0xBF58476D1CE4E5B9))
        )
    codes, _ = pd.factorize(key.view(np.int64), sort=False)
    groups = _groups_of_codes(codes)
    # exact verification: every member's pattern (sorted indices) equals its representative's
    rep_of_row = groups.representative[groups.group]
    if not (np.array_equal(nnz, nnz[rep_of_row]) and np.array_equal(extra, extra[rep_of_row])):
        return DemandGroups(np.arange(n), np.arange(n))  # a hash collision: never merge wrongly
    offset = np.repeat(H.indptr[rep_of_row] - H.indptr[:-1], nnz)
    if not np.array_equal(H.indices, H.indices[np.arange(len(H.indices)) + offset]):
        return DemandGroups(np.arange(n), np.arange(n))
    return groups


def _row_sums(values: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    """Sum (mod 2**64) of ``values`` over each CSR row segment; 0 for an empty row."""
    n = len(indptr) - 1
    out = np.zeros(n, dtype=np.uint64)
    nonempty = np.diff(indptr) > 0
    if len(values):
        with np.errstate(over="ignore"):
            out[nonempty] = np.add.reduceat(values, indptr[:-1][nonempty])
    return out


def _groups_of_codes(codes: np.ndarray) -> DemandGroups:
    """Groups from codes numbered by first appearance (as ``pandas.factorize`` gives them)."""
    first = np.full(codes.max() + 1 if len(codes) else 0, -1, dtype=np.int64)
    # the first member of each group: scatter in reverse so the smallest index wins
    idx = np.arange(len(codes))[::-1]
    first[codes[::-1]] = idx
    return DemandGroups(codes.astype(np.int64), first)
