"""Same data and seed: identical models and forecasts; another seed: another sample, other forecasts."""

from datetime import date, datetime

import numpy as np

from models.forecasting.gbm import fit_models, training_frames

TRAIN_UNTIL = date(2016, 2, 29)
SHIFT = datetime(2016, 4, 5, 22)


def test_same_seed_same_forecast(sample_history, small_config, calendar):
    runs = [
        fit_models(sample_history, small_config, calendar, ["theft", "burglary"], TRAIN_UNTIL, seed=7)
        for _ in range(2)
    ]
    for t in ("theft", "burglary"):
        first, second = (run[t].predict(sample_history, SHIFT) for run in runs)
        np.testing.assert_array_equal(first, second)
        assert runs[0][t].booster.model_to_string() == runs[1][t].booster.model_to_string()


def test_another_seed_draws_another_sample(sample_history, small_config, calendar):
    a = training_frames(sample_history, small_config, calendar, ["theft"], TRAIN_UNTIL, seed=1)["theft"]
    b = training_frames(sample_history, small_config, calendar, ["theft"], TRAIN_UNTIL, seed=2)["theft"]
    positives = a["incident_count"] > 0
    assert a[positives].equals(b[b["incident_count"] > 0])  # every positive is always kept
    assert not a[~positives].reset_index(drop=True).equals(b[b["incident_count"] == 0].reset_index(drop=True))
    # The weights of the sampled zeros add up to the zero cell-shifts of the panel, whatever the seed.
    assert np.isclose(a["sample_weight"].sum(), b["sample_weight"].sum())
