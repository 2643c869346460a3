"""Accuracy metrics on cases small enough to check on paper."""

import math

import numpy as np
import pytest

from models.forecasting.metrics import (
    Scorecard,
    capture,
    flagged_count,
    harm_weighted_capture,
    poisson_deviance,
)


def test_pai_of_one_flagged_cell_out_of_a_hundred():
    # 100 cells, 1% flagged = 1 cell. The top-predicted cell had 2 of the shift's 10 crimes.
    predicted = np.zeros(100)
    predicted[7] = 5.0
    predicted[3] = 1.0
    observed = np.zeros(100)
    observed[7], observed[3], observed[50] = 2, 3, 5
    card = Scorecard(severity=4.0)
    card.add(predicted, observed)
    result = card.summary()
    assert flagged_count(100, 0.01) == 1
    assert result["hit_rate_1"] == pytest.approx(0.2)  # 2 / 10
    assert result["pai_1"] == pytest.approx(20.0)  # 0.2 / (1 / 100)
    assert result["harm_captured_1"] == pytest.approx(8.0)  # severity 4 x 2 crimes
    # 5 cells flagged: cells 7 and 3, then three of the 98 tied zeros (which hold cell 50's 5 crimes).
    assert result["hit_rate_5"] == pytest.approx((2 + 3 + 5 * 3 / 98) / 10)
    # The best single cell held 5 crimes: best PAI = 0.5 / 0.01 = 50, so PEI* = 20 / 50.
    assert result["pei_star_1"] == pytest.approx(0.4)
    assert result["calibration"] == pytest.approx(6.0 / 10.0)


def test_ties_at_the_boundary_are_shared():
    # 4 cells, 1 flagged; two cells tie for first: each counts for half of a place.
    assert capture(np.array([1.0, 1.0, 0.0, 0.0]), np.array([2.0, 0.0, 1.0, 0.0]), 1) == pytest.approx(1.0)
    card = Scorecard(shares={"25": 0.25})
    card.add(np.array([1.0, 1.0, 0.0, 0.0]), np.array([2.0, 0.0, 1.0, 0.0]))
    result = card.summary()
    assert result["pai_25"] == pytest.approx((1 / 3) / 0.25)  # 4/3
    assert result["pei_star_25"] == pytest.approx((4 / 3) / ((2 / 3) / 0.25))  # 0.5


def test_pooled_pai_weighs_shifts_by_their_crimes():
    card = Scorecard(shares={"50": 0.5})
    card.add(np.array([1.0, 0.0]), np.array([1.0, 0.0]))  # 1 of 1 captured
    card.add(np.array([1.0, 0.0]), np.array([0.0, 3.0]))  # 0 of 3 captured
    assert card.summary()["hit_rate_50"] == pytest.approx(0.25)
    assert card.summary()["pai_50"] == pytest.approx(0.5)


def test_poisson_deviance_by_hand():
    # y = 0, mu = 1: 2 * (0 - (0 - 1)) = 2; y = 2, mu = 1: 2 * (2 log 2 - 1).
    assert poisson_deviance(np.array([1.0, 1.0]), np.array([0.0, 2.0])) == pytest.approx(
        2 + 2 * (2 * math.log(2) - 1)
    )
    assert poisson_deviance(np.array([3.0]), np.array([3.0])) == pytest.approx(0.0)


def test_harm_weighted_capture_flags_the_top_of_the_combined_surface():
    # Two cells, half flagged: robbery (severity 4) expected in cell 0, theft (1) in cell 1.
    predicted = {"robbery": np.array([0.5, 0.0]), "theft": np.array([0.0, 1.0])}
    observed = {"robbery": np.array([1.0, 0.0]), "theft": np.array([0.0, 2.0])}
    # Harm surface: cell 0 = 2.0, cell 1 = 1.0 -> cell 0 flagged; captured harm 4 of 4 + 2 = 6.
    value = harm_weighted_capture([(predicted, observed)], {"robbery": 4.0, "theft": 1.0}, share=0.5)
    assert value == pytest.approx(4 / 6)
