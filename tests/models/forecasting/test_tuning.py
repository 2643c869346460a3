"""The tuning search: the same seed and budget give the same choice and scores; settings change models."""

from datetime import date

from models.forecasting.pipeline import rolling_origins
from models.forecasting.tuning import tune

END = date(2016, 4, 30)
GRID = ({"rounds": 20}, {"num_leaves": 3, "rounds": 5}, {"windows_days": [7, 28, 364], "rounds": 20})


def test_same_seed_same_choice(sample_history, small_config, calendar):
    origins = rolling_origins(END, 28, 2)
    assert origins == [date(2016, 4, 3), date(2016, 4, 17)]
    runs = [tune(sample_history, small_config, calendar, ["burglary"], origins, END, GRID,
                 budget_seconds=3600, log=False) for _ in range(2)]
    assert runs[0].chosen == runs[1].chosen and runs[0].chosen in GRID
    assert runs[0].table["harm_capture_1"].tolist() == runs[1].table["harm_capture_1"].tolist()
    assert runs[0].table["harm_capture_1"].nunique() > 1  # the settings make different models
    # A budget spent at once still tries the first setting, in order, and says what it left out.
    short = tune(sample_history, small_config, calendar, ["burglary"], origins, END, GRID, budget_seconds=0,
                 log=False)
    assert short.chosen == GRID[0] and short.skipped == list(GRID[1:])
