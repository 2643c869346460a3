"""The in-memory twin of the training mart's zero sampling (`gbm.sample_zeros`), checked on a panel small
enough to know every zero cell-shift: the weights are inverse inclusion probabilities, so each cell's weighted
zeros estimate its true number of zeros without bias, busy cells included."""

from __future__ import annotations

import numpy as np

from beatwise.config.schema import Forecasting
from models.forecasting.gbm import sample_zeros

CELLS, SHIFTS = 40, 300
BUSY, QUIET = 0, 1
SETTINGS = Forecasting(negatives_per_crime_type=400, negatives_per_positive=2)


def _positives() -> np.ndarray:
    """Crime in half the shifts of the busy cell, in 3 shifts of each other cell (as shift x cells + cell)."""
    busy = np.arange(0, SHIFTS, 2) * CELLS + BUSY
    others = np.array([s * CELLS + c for c in range(1, CELLS) for s in (5, 50, 150)])
    return np.sort(np.concatenate([busy, others]))


def test_zeros_are_zero_cell_shifts_weighted_to_the_panel() -> None:
    positives = _positives()
    zeros, weight = sample_zeros(positives, CELLS, SHIFTS, SETTINGS, np.random.default_rng(1))
    assert len(np.unique(zeros)) == len(zeros) and not np.isin(zeros, positives).any()
    assert zeros.min() >= 0 and zeros.max() < CELLS * SHIFTS
    assert np.isclose(weight.sum(), CELLS * SHIFTS - len(positives), rtol=1e-12)
    per_cell = np.bincount(zeros % CELLS, minlength=CELLS)
    # The busy cell draws 10 + 2 x 150 times: it keeps about two thirds of its 150 zeros, a quiet cell about 10.
    assert per_cell[BUSY] > 80 and per_cell[QUIET] < 25
    assert weight[zeros % CELLS == BUSY].max() < weight[zeros % CELLS == QUIET].min()


def test_each_cells_weighted_zeros_estimate_its_zeros_without_bias() -> None:
    positives = _positives()
    truth = SHIFTS - np.bincount(positives % CELLS, minlength=CELLS)
    estimates = []
    for seed in range(200):
        zeros, weight = sample_zeros(positives, CELLS, SHIFTS, SETTINGS, np.random.default_rng(seed))
        estimates.append(np.bincount(zeros % CELLS, weights=weight, minlength=CELLS))
    mean = np.mean(estimates, axis=0)
    assert abs(mean[BUSY] / truth[BUSY] - 1) < 0.02
    assert abs(mean[QUIET:].sum() / truth[QUIET:].sum() - 1) < 0.02
    np.testing.assert_allclose(mean, truth, rtol=0.1)
