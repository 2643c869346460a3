"""Small real slices of the embedded Chicago sample (districts 10-12, 2015-2016) for forecasting tests."""

from __future__ import annotations

import pandas as pd
import pytest

from beatwise.config import AgencyConfig
from models.forecasting.cells import cells_from_files
from models.forecasting.events import read_incident_files
from models.forecasting.features import Calendar, load_calendar
from models.forecasting.history import EventHistory


@pytest.fixture(scope="session")
def small_config(sample_config: AgencyConfig) -> AgencyConfig:
    """The sample agency with a light training load: few negatives, training from 2016 only."""
    forecasting = sample_config.forecasting.model_copy(
        update={
            "negatives_per_crime_type": 4000,
            "train_start": pd.Timestamp("2016-01-01").date(),
            "backtest_days": 28,
        }
    )
    return sample_config.model_copy(update={"forecasting": forecasting})


@pytest.fixture(scope="session")
def sample_events(small_config: AgencyConfig) -> pd.DataFrame:
    return read_incident_files(small_config)


@pytest.fixture(scope="session")
def sample_cells(small_config: AgencyConfig) -> pd.DataFrame:
    return cells_from_files(small_config)


@pytest.fixture(scope="session")
def sample_history(sample_events, sample_cells, small_config) -> EventHistory:
    return EventHistory(sample_events, sample_cells, crime_types=small_config.modelled_crime_types())


@pytest.fixture(scope="session")
def calendar(small_config) -> Calendar:
    return load_calendar(small_config)
