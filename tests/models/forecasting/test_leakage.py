"""A forecast never changes when incidents at or after the shift start are added or removed."""

from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

from models.forecasting.baselines import baselines_for
from models.forecasting.gbm import fit_models
from models.forecasting.history import EventHistory

TRAIN_UNTIL = date(2016, 2, 29)
SHIFT = datetime(2016, 5, 3, 14)


@pytest.fixture(scope="module")
def histories(sample_events, sample_cells, small_config):
    """The real history; the history cut at the shift start; and one with invented later incidents."""
    types = small_config.modelled_crime_types()
    before = sample_events[sample_events["occurred_at"] < SHIFT]
    later = sample_events[sample_events["occurred_at"] < pd.Timestamp(SHIFT) - pd.Timedelta(days=40)].copy()
    later["occurred_at"] = later["occurred_at"] + (
        pd.Timestamp(SHIFT) - later["occurred_at"].min()
    )  # from the start on
    return [
        EventHistory(frame, sample_cells, crime_types=types)
        for frame in (sample_events, before, pd.concat([before, later], ignore_index=True))
    ]


def test_baselines_ignore_incidents_from_the_shift_start_on(histories, small_config):
    full, cut, invented = histories
    for baseline in baselines_for("robbery", small_config):
        baseline.fit(full, small_config, TRAIN_UNTIL)
        expected = baseline.predict(full, SHIFT)
        np.testing.assert_array_equal(expected, baseline.predict(cut, SHIFT), err_msg=baseline.method)
        np.testing.assert_array_equal(expected, baseline.predict(invented, SHIFT), err_msg=baseline.method)


def test_model_training_and_forecast_ignore_incidents_after_their_cutoffs(histories, small_config, calendar):
    full, cut, invented = histories
    seed = small_config.forecasting.seed
    trained_on_full = fit_models(full, small_config, calendar, ["robbery"], TRAIN_UNTIL, seed)["robbery"]
    trained_on_cut = fit_models(invented, small_config, calendar, ["robbery"], TRAIN_UNTIL, seed)["robbery"]
    expected = trained_on_full.predict(full, SHIFT)
    np.testing.assert_array_equal(expected, trained_on_full.predict(cut, SHIFT))
    np.testing.assert_array_equal(expected, trained_on_full.predict(invented, SHIFT))
    np.testing.assert_array_equal(expected, trained_on_cut.predict(cut, SHIFT))
    # The check can fail: incidents before the shift do move the forecast.
    earlier = EventHistory(cut_before(full, SHIFT, days=3), full.cells, crime_types=full.crime_types)
    assert not np.array_equal(expected, trained_on_full.predict(earlier, SHIFT))


def cut_before(history: EventHistory, shift: datetime, days: int) -> pd.DataFrame:
    frames = []
    for t in history.crime_types:
        times, where = history.window(t, 0, 2**40)
        col, row = np.divmod(where, history.grid.nrows)
        frames.append(
            pd.DataFrame(
                {
                    "crime_type": t,
                    "cell_col": col + history.grid.col0,
                    "cell_row": row + history.grid.row0,
                    "occurred_at": pd.to_datetime(times, unit="m"),
                }
            )
        )
    events = pd.concat(frames, ignore_index=True)
    return events[events["occurred_at"] < pd.Timestamp(shift) - pd.Timedelta(days=days)]
