"""Fixed-size sampling with exact, recorded inclusion probabilities.

Design: **randomized systematic sampling with probability proportional to size** (Goodman & Kish 1950;
Hartley & Rao 1962). Given weights w_i >= 0 and a sample size n, the inclusion probabilities are

    pi_i = min(1, c * w_i),  with c > 0 chosen so that sum_i pi_i = n

(units whose c * w_i would exceed 1 become certainties, pi_i = 1, and c is re-solved over the rest). The
units are put in a random order, laid end to end as intervals of length pi_i on [0, n), and the n points
u, u + 1, ..., u + n - 1 with u ~ Uniform[0, 1) pick the units whose interval they fall in. Because every
interval is at most 1 long, a unit is hit at most once, and it is hit with probability exactly pi_i, for
any ordering: the probabilities recorded for every candidate are the true ones, not approximations.

Why this design rather than conditional Poisson: its first-order probabilities are exact by construction
(conditional Poisson needs an iterative fit to make them so), it costs one sort-free pass (O(N)), and the
interval picture lets caps hold with certainty: a block of adjacent units whose probabilities sum to L
receives floor(L) or ceil(L) of the points, so a group with sum_i pi_i <= m never gets more than m. The
random order makes the joint probabilities of most pairs positive (the known weakness of plain
systematic sampling); beatwise's impact estimator uses only the first-order probabilities.
"""

from __future__ import annotations

import numpy as np

from models.planning import PlanningError


def inclusion_probabilities(weights: np.ndarray, n: float) -> np.ndarray:
    """pi_i = min(1, c * w_i) with sum(pi) = n: probability proportional to weight, certainties capped at 1.

    Raises PlanningError if fewer than n units have a positive weight (no design can then take n).
    """
    w = np.asarray(weights, dtype=float)
    if np.any(w < 0) or not np.all(np.isfinite(w)):
        raise PlanningError("sampling weights must be finite and non-negative")
    pi = np.zeros_like(w)
    if n <= 0:
        return pi
    positive = w > 0
    if positive.sum() < n - 1e-9:
        raise PlanningError(f"cannot draw {n:g} units from {int(positive.sum())} with positive weight")
    certain = np.zeros_like(positive)
    remaining = float(n)
    while True:
        open_ = positive & ~certain
        pi[open_] = remaining * w[open_] / w[open_].sum()
        over = open_ & (pi >= 1.0)
        if not over.any():
            break
        certain |= over
        pi[over] = 1.0
        remaining = n - certain.sum()
        if remaining <= 1e-12:
            pi[positive & ~certain] = 0.0
            break
    return pi


def systematic_sample(
    pi: np.ndarray, rng: np.random.Generator, blocks: np.ndarray | None = None
) -> np.ndarray:
    """Draw the units of a randomized systematic sample with inclusion probabilities `pi` (sum an integer).

    Units are ordered by `blocks` (ascending), at random within a block, so each block is contiguous: a block
    whose probabilities sum to L receives floor(L) or ceil(L) units. Returns a boolean mask of the sample.
    """
    pi = np.asarray(pi, dtype=float)
    total = pi.sum()
    n = int(round(total))
    selected = np.zeros(pi.shape[0], dtype=bool)
    if n == 0:
        return selected
    if abs(total - n) > 1e-6 or np.any(pi > 1 + 1e-12):
        raise PlanningError(f"inclusion probabilities must sum to an integer and be <= 1 (sum {total:.6f})")
    order = rng.permutation(pi.shape[0])
    if blocks is not None:
        order = order[np.argsort(np.asarray(blocks)[order], kind="stable")]
    edges = np.cumsum(pi[order])
    edges *= n / edges[-1]  # float rounding must not leave the last point past the end
    points = rng.random() + np.arange(n)
    hit = np.searchsorted(edges, points, side="right")
    selected[order[np.minimum(hit, len(order) - 1)]] = True
    return selected
