"""Baselines on hand-made events over a 5 x 5 block of cells, and calibrated on the sample."""

from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

from models.forecasting.baselines import (
    KernelDecay,
    PooledShrinkage,
    PriorCounts,
    ProspectiveHotspot,
    baselines_for,
)
from models.forecasting.history import EventHistory, to_minutes

SHIFT = datetime(2016, 3, 1, 6)


def _cells() -> pd.DataFrame:
    col, row = np.meshgrid(np.arange(10, 15), np.arange(20, 25), indexing="ij")
    return pd.DataFrame(
        {
            "cell_id": [f"{c}_{r}" for c, r in zip(col.ravel(), row.ravel(), strict=True)],
            "cell_col": col.ravel(),
            "cell_row": row.ravel(),
        }
    )


def _events(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["crime_type", "cell_col", "cell_row", "occurred_at"]).astype(
        {"occurred_at": "datetime64[ns]"}
    )


def _at(history: EventHistory, grid_scores: np.ndarray, col: int, row: int) -> float:
    return float(grid_scores[history.grid.index(np.array([col]), np.array([row]))[0]])


def test_prior_counts_count_only_the_window_before_the_shift():
    events = _events(
        [
            ("robbery", 12, 22, "2016-02-29 23:00"),  # 7 hours before: inside 28 days
            ("robbery", 12, 22, "2016-02-01 06:00"),  # 29 days before: outside 28, inside 364
            ("robbery", 12, 22, "2016-03-01 06:00"),  # at the shift start: never counts
            ("theft", 12, 22, "2016-02-29 23:00"),  # another crime type
        ]
    )
    history = EventHistory(events, _cells())
    start = to_minutes(SHIFT)
    assert _at(history, PriorCounts("robbery", 28).score(history, start), 12, 22) == 1
    assert _at(history, PriorCounts("robbery", 364).score(history, start), 12, 22) == 2
    assert _at(history, PriorCounts("robbery", 28).score(history, start), 12, 23) == 0


def test_prospective_hotspot_weights_distance_and_weeks():
    # One burglary one cell east, 8 days ago (1 whole week): 1/(1+1) x 1/(1+1) = 0.25 at (12, 22).
    events = _events([("burglary", 13, 22, "2016-02-22 06:00")])
    history = EventHistory(events, _cells())
    hotspot = ProspectiveHotspot("burglary", cell_size_m=152.4)
    score = hotspot.score(history, to_minutes(SHIFT))
    assert _at(history, score, 12, 22) == pytest.approx(0.25)
    assert _at(history, score, 13, 22) == pytest.approx(0.5)  # its own cell, 1 week ago
    # 2 cells diagonally (2.83 cells = 431 m) is past the 400 m bandwidth.
    assert _at(history, score, 11, 20) == 0.0


def test_kernel_decay_halves_after_one_half_life():
    events = _events([("theft", 12, 22, "2016-02-29 06:00"), ("theft", 10, 20, "2015-12-31 06:00")])
    history = EventHistory(events, _cells())
    kernel = KernelDecay("theft", half_life_days=60.0, sigma_cells=1.0)
    score = kernel.score(history, to_minutes(SHIFT))
    # Each cell: its own events at full kernel weight, the other (2 cells away diagonally) at exp(-8 / 2).
    recent, old = 2 ** (-1 / 60), 2 ** (-61 / 60)  # 1 day and 61 days back
    assert _at(history, score, 12, 22) == pytest.approx(recent + old * np.exp(-4), rel=1e-9)
    assert _at(history, score, 10, 20) == pytest.approx(old + recent * np.exp(-4), rel=1e-9)


def test_calibrated_baselines_give_positive_expected_counts_near_the_observed_total(
    sample_history, small_config
):
    shifts = [datetime(2016, 4, d, h) for d in range(1, 29, 3) for h in (6, 14, 22)]
    observed = sum(sample_history.observed("theft", to_minutes(s), 480).sum() for s in shifts)
    for baseline in baselines_for("theft", small_config):
        baseline.fit(sample_history, small_config, date(2016, 3, 31))
        predicted = sum(baseline.predict(sample_history, s).sum() for s in shifts)
        assert (baseline.predict(sample_history, shifts[0]) > 0).all()
        assert 0.6 < predicted / observed < 1.6, baseline.method


RING = [(dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1) if (dx, dy) != (0, 0)]
# Where the year's 3 homicides fell, around the assault centre (12, 22): never twice in the same cells.
HOMICIDES = {2014: [(11, 22), (13, 23), (12, 21)], 2015: [(13, 21), (11, 23), (12, 23)]}


def _rare_and_related(year: int) -> pd.DataFrame:
    """Every year 30 assaults at (12, 22) and 5 in each cell around it; the rare homicides fall around it
    too, in other cells each year: their own past counts move, the pooled neighbourhood does not."""
    rows = [("assault", 12, 22, f"{year}-06-01 12:00")] * 30
    rows += [("assault", 12 + dx, 22 + dy, f"{year}-07-01 12:00") for dx, dy in RING for _ in range(5)]
    months = zip(HOMICIDES[year], (2, 5, 8), strict=True)
    rows += [("homicide", col, row, f"{year}-0{m}-05 22:00") for (col, row), m in months]
    return _events(rows)


def test_pooled_shrinkage_ranks_a_rare_type_by_its_related_types_and_stays_put_fold_to_fold():
    tops = {"prior_364d": [], "pooled_shrinkage": []}
    for year in HOMICIDES:  # two folds' training years
        history = EventHistory(_rare_and_related(year), _cells())
        start = to_minutes(datetime(year + 1, 1, 1))
        for baseline in (PriorCounts("homicide", 364), PooledShrinkage("homicide")):
            score = baseline.score(history, start)[history.cell_index]
            assert np.isfinite(score).all() and (score >= 0).all()
            tops[baseline.method].append(set(np.argsort(-score, kind="stable")[:1]))
        shrunk = PooledShrinkage("homicide").score(history, start)
        # Every cell next to the assault centre outranks a far corner, homicide there or not.
        assert min(_at(history, shrunk, 12 + dx, 22 + dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)) > _at(
            history, shrunk, 10, 20
        )
        # The grid's total stays the type's own count (3): shrinkage moves risk, it does not invent it.
        assert shrunk.sum() == pytest.approx(3, rel=0.05)
    # The shrunk ranking's top cell is the assault centre in both folds; the raw counts' moves.
    centre = int(np.flatnonzero((_cells()["cell_col"] == 12) & (_cells()["cell_row"] == 22))[0])
    assert tops["pooled_shrinkage"] == [{centre}, {centre}]
    assert tops["prior_364d"][0] != tops["prior_364d"][1]
