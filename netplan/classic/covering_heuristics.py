"""Start plans for maximal covering: greedy, 1-swap descent, iterated local search."""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

from netplan.classic.data import LocationData


def _incidence(data: LocationData) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """The 0/1 demand x site matrix and its transpose (site -> rows it covers), both CSR."""
    A = data.matrix().tocsr()
    A.data[:] = 1.0
    return A, A.T.tocsr()


def _greedy_fill(
    AT: sp.csr_matrix, w: np.ndarray, p: int, barred: np.ndarray, chosen: list[int]
) -> list[int]:
    """Add sites to ``chosen`` until p, each covering the most still-uncovered weight."""
    uncovered = w.astype(float).copy()
    for j in chosen:
        uncovered[AT.indices[AT.indptr[j] : AT.indptr[j + 1]]] = 0.0
    for _ in range(min(p, int((~barred).sum()) + len(chosen)) - len(chosen)):
        gain = AT @ uncovered
        gain[chosen] = -1.0
        gain[barred] = -1.0
        j = int(np.argmax(gain))
        chosen.append(j)
        uncovered[AT.indices[AT.indptr[j] : AT.indptr[j + 1]]] = 0.0
    return chosen


def greedy_max_covering(
    data: LocationData,
    p: int,
    allowed: np.ndarray | None = None,
    initial: np.ndarray | None = None,
) -> np.ndarray:
    """Greedy MCLP start: p times, open the site covering the most still-uncovered weight.

    Vectorised over the sparse demand x site matrix (one sparse product per pick); the
    classic (1 - 1/e) approximation, used as the MIP start of :func:`max_covering`.
    ``allowed`` (bool per site) limits the picks; ``initial`` sites are open from the start
    and count towards p.
    """
    _, AT = _incidence(data)
    barred = np.zeros(data.n_sites, dtype=bool) if allowed is None else ~np.asarray(allowed)
    chosen: list[int] = [] if initial is None else [int(j) for j in np.unique(initial)]
    return np.array(sorted(_greedy_fill(AT, data.weights, p, barred, chosen)), dtype=np.int64)


def _swap_descent(
    A: sp.csr_matrix,
    AT: sp.csr_matrix,
    w: np.ndarray,
    is_open: np.ndarray,
    barred: np.ndarray,
    max_swaps: int,
) -> tuple[np.ndarray, float]:
    """Best-improvement 1-swaps from ``is_open`` (changed in place); returns it and its value."""
    tol = 1e-9 * max(1.0, float(w.sum()))
    for _ in range(max_swaps + 1):
        count = A @ is_open.astype(float)
        value = float(w[count > 0].sum())
        gain = AT @ (w * (count == 0))
        sole_rows = np.flatnonzero(count == 1)
        # the single open site of each solely-covered row
        sub = A[sole_rows].tocoo()
        on = is_open[sub.col]
        sole_site = np.empty(len(sole_rows), dtype=np.int64)
        sole_site[sub.row[on]] = sub.col[on]
        loss = np.bincount(sole_site, weights=w[sole_rows], minlength=len(is_open))
        S = sp.csr_matrix(
            (w[sole_rows], (sole_site, np.arange(len(sole_rows)))),
            shape=(len(is_open), len(sole_rows)),
        )
        overlap = (S @ A[sole_rows]).tocoo()  # (j, k): weight only j covers that k covers too
        open_idx = np.flatnonzero(is_open)
        cand = np.flatnonzero(~is_open & ~barred)
        if not len(cand) or not len(open_idx):
            break
        # best k per j: gain_k - loss_j, raised by the overlap where it is non-zero
        delta_base = gain[cand].max() - loss[open_idx]
        j_best = open_idx[int(np.argmax(delta_base))]
        best = (float(delta_base.max()), j_best, int(cand[np.argmax(gain[cand])]))
        sel = is_open[overlap.row] & ~is_open[overlap.col] & ~barred[overlap.col]
        if sel.any():
            d = gain[overlap.col[sel]] + overlap.data[sel] - loss[overlap.row[sel]]
            i = int(np.argmax(d))
            if d[i] > best[0]:
                best = (float(d[i]), int(overlap.row[sel][i]), int(overlap.col[sel][i]))
        if best[0] <= tol or _ >= max_swaps:
            break
        is_open[best[1]] = False
        is_open[best[2]] = True
    return is_open, value


def swap_improve_max_covering(
    data: LocationData, sites: np.ndarray, allowed: np.ndarray | None = None, max_swaps: int = 500
) -> np.ndarray:
    """Best-improvement 1-swap local search for MCLP from a plan (e.g. the greedy one).

    Each pass evaluates every (open j, closed k) swap at once: the change is
    ``gain_k + overlap_jk - loss_j``, where ``gain_k`` is the uncovered weight k covers,
    ``loss_j`` the weight only j covers, and ``overlap_jk`` the part of that which k also
    covers — one sparse product per pass, never a loop over pairs. Stops when no swap
    improves (a 1-swap local optimum) or after ``max_swaps``.
    """
    A, AT = _incidence(data)
    barred = np.zeros(data.n_sites, dtype=bool) if allowed is None else ~np.asarray(allowed)
    is_open = np.zeros(data.n_sites, dtype=bool)
    is_open[np.asarray(sites, dtype=np.int64)] = True
    is_open, _ = _swap_descent(A, AT, data.weights.astype(float), is_open, barred, max_swaps)
    return np.flatnonzero(is_open)


def search_max_covering(
    data: LocationData,
    p: int,
    allowed: np.ndarray | None = None,
    seed: int = 0,
    upper_bound: float | None = None,
    max_stall: int = 1000,
    time_limit: float = 10.0,
) -> tuple[np.ndarray, float]:
    """Iterated local search for MCLP: greedy, 1-swap descent, then perturb and descend again.

    Each round closes 2-5 random open sites, refills greedily from a random 70 % of the
    allowed sites, and runs the 1-swap descent; a plan at least as good as the best replaces
    it (equal plans too, so the search walks along plateaus). Stops when the best reaches
    ``upper_bound`` (default: every coverable weight, which proves it optimal), after
    ``max_stall`` rounds without improvement, or after ``time_limit`` seconds. Deterministic
    for a given ``seed`` unless the time limit stops it.

    Returns
    -------
    sites : ndarray of int
        The best plan's site indices (sorted).
    value : float
        Its covered weight.
    """
    A, AT = _incidence(data)
    w = data.weights.astype(float)
    m = data.n_sites
    barred = np.zeros(m, dtype=bool) if allowed is None else ~np.asarray(allowed)
    p = min(p, int((~barred).sum()))
    if upper_bound is None:
        upper_bound = float(w[(A @ (~barred).astype(float)) > 0].sum())
    tol = 1e-9 * max(1.0, float(w.sum()))
    rng = np.random.default_rng(seed)
    is_open = np.zeros(m, dtype=bool)
    is_open[_greedy_fill(AT, w, p, barred, [])] = True
    best, best_value = _swap_descent(A, AT, w, is_open, barred, max_swaps=10 * p)
    best = best.copy()
    stall, t0 = 0, time.perf_counter()
    while (
        p > 0
        and best_value < upper_bound - tol
        and stall < max_stall
        and time.perf_counter() - t0 < time_limit
    ):
        open_idx = np.flatnonzero(best)
        keep = np.delete(open_idx, rng.choice(p, min(p, int(rng.integers(2, 6))), replace=False))
        pool = barred | (rng.random(m) >= 0.7)
        free = ~pool
        free[keep] = False
        if int(free.sum()) < p - len(keep):  # too few to refill from: use every site
            pool = barred
        is_open = np.zeros(m, dtype=bool)
        is_open[_greedy_fill(AT, w, p, pool, [int(j) for j in keep])] = True
        is_open, value = _swap_descent(A, AT, w, is_open, barred, max_swaps=10 * p)
        stall = 0 if value > best_value + tol else stall + 1
        if value >= best_value - tol:
            best, best_value = is_open.copy(), value
    return np.flatnonzero(best), best_value
