"""Features of every jurisdiction cell for one shift, from the event history and the calendar.

The definitions follow the warehouse's feature marts (docs/warehouse.md, `fct_scoring_features`):
counts of the crime type in the cell and its 3x3 neighbourhood over 7/28/91/364 days before the shift
start, days since the cell's last event (missing when there is none), all modelled crime in the cell
over 28 and 364 days, the crime type in the cell and its neighbourhood over 364 days counting only events
in the same shift of the day as the shift forecast (a place's time-of-day profile), the config's signal
offences (community-reported, not modelled) in the cell and its neighbourhood over the same windows as the
crime type's own counts, and likewise the records of the reporting feeds the agency has (calls for service,
gunfire detections: `signal_series`), shift of the day, day of week, month, holiday, scheduled events that
day, and the previous day's weather, and the cell's environment (bars, land use, venues; static).
Everything is computed from events strictly before the shift start.

This is the in-memory twin of the dbt macro `shift_features` (dbt_project/macros/shift_features.sql),
used where a warehouse round trip per shift would be too slow (the forecast command, backtests): the
same windows over the same half-open interval [shift start - w days, shift start), the same 3x3
neighbourhood, the same calendar. tests/models/forecasting/test_pipeline.py holds them equal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from beatwise.config.schema import AgencyConfig
from beatwise.contracts import CONTRACTS
from beatwise.geography.calendar import holiday_calendar
from beatwise.ingest import read_mapped
from models.forecasting.cells import ENVIRONMENT
from models.forecasting.history import ALL, FEED_SIGNALS, MINUTES_PER_DAY, SIGNAL, EventHistory, to_minutes
from models.forecasting.shifts import shift_of_day

WEATHER = ("precipitation", "snowfall", "temperature_max")
ALL_TYPES_WINDOWS = (28, 364)
SAME_SHIFT_WINDOWS = (364,)


@dataclass
class Calendar:
    """What is known about each day regardless of place: holidays, scheduled events, weather."""

    holidays: set[date] = field(default_factory=set)
    events_per_day: dict[date, int] = field(default_factory=dict)
    weather: dict[date, tuple[float, float, float]] = field(default_factory=dict)

    def row(self, day: date) -> dict[str, float]:
        before = self.weather.get(day - timedelta(days=1), (np.nan, np.nan, np.nan))
        return {
            "is_holiday": float(day in self.holidays),
            "events_that_day": float(self.events_per_day.get(day, 0)),
            **dict(zip(WEATHER, before, strict=True)),
        }


def load_calendar(config: AgencyConfig) -> Calendar:
    """The calendar from the agency's holiday rules and its sports-events and weather feeds, read through
    ingest's reader and mapping (beatwise.ingest.read_mapped); a feed the agency lacks leaves its features
    missing."""
    calendar = Calendar(holidays=set(holiday_calendar(config)["date"]))
    for feed in ("sports_events", "weather_daily"):
        for path in config.feed_files(feed) if feed in config.feeds else []:
            if not path.exists():
                continue
            mapped = read_mapped(config, feed, path)
            rows = mapped.frame.drop(index=mapped.rejections.rows)
            # A row repeated in the file is one event, as ingest keeps it (by its natural key).
            key = [c for c in CONTRACTS[feed].natural_key if c in rows]
            rows = rows.drop_duplicates(key) if key else rows
            if feed == "sports_events":
                per_day = rows["starts_at"].dt.date.value_counts()
                calendar.events_per_day.update({d: int(n) for d, n in per_day.items()})
            else:  # several stations: their mean, as dim_shifts takes it
                per_day = rows.assign(day=pd.to_datetime(rows["date"]).dt.date).groupby("day")[list(WEATHER)]
                calendar.weather.update(
                    {d: tuple(float(v) for v in row) for d, row in per_day.mean().astype(float).iterrows()})
    return calendar


def signal_series(config: AgencyConfig) -> list[tuple[str, str]]:
    """(feature prefix, history series) of the counts that inform every crime type without being modelled:
    the signal offences, then each reporting feed (calls for service, gunfire detections) the config declares
    with files. A feed counts only where the agency has it: its columns exist only then."""
    feeds = [
        (f"n_{series.strip('_')}", series)
        for feed, series in FEED_SIGNALS.items()
        if feed in config.feeds and config.feeds[feed].files  # type: ignore[index]
    ]
    return [("n_signal", SIGNAL), *feeds]


def signal_feeds(config: AgencyConfig) -> list[str]:
    """The reporting feeds whose records are features for this agency (the dbt var `signal_feeds`)."""
    series = {s for _, s in signal_series(config)}
    return [feed for feed, s in FEED_SIGNALS.items() if s in series]


def feature_names(config: AgencyConfig) -> list[str]:
    windows = config.forecasting.windows_days
    return [
        *(f"n_cell_{w}d" for w in windows),
        *(f"n_nbhd_{w}d" for w in windows),
        "days_since_last",
        *(f"n_all_cell_{w}d" for w in ALL_TYPES_WINDOWS),
        *(f"n_{part}_same_shift_{w}d" for w in SAME_SHIFT_WINDOWS for part in ("cell", "nbhd")),
        *(f"{prefix}_{part}_{w}d" for prefix, _ in signal_series(config) for part in ("cell", "nbhd") for w in windows),
        "shift_of_day",
        "day_of_week",
        "month",
        "is_holiday",
        "events_that_day",
        *WEATHER,
        *ENVIRONMENT,
    ]


def shift_matrix(
    history: EventHistory,
    config: AgencyConfig,
    calendar: Calendar,
    crime_type: str,
    shift_start: datetime,
    pooled: dict[str, np.ndarray] | None = None,
    rows: np.ndarray | None = None,
) -> np.ndarray:
    """Features (columns in `feature_names` order) of the jurisdiction's cells for one crime type and shift.

    `rows` selects some of the jurisdiction's cells (positions in `history.cells`); `pooled` caches the
    all-crime counts (over the grid) of the shift across crime types.
    """
    start = to_minutes(shift_start)
    windows = config.forecasting.windows_days
    cells = history.cell_index if rows is None else history.cell_index[rows]
    n_windows = len(windows)
    out = np.empty((len(cells), len(feature_names(config))))
    for i, w in enumerate(windows):
        counts = history.counts(crime_type, start - w * MINUTES_PER_DAY, start)
        out[:, i] = counts[cells]
        out[:, n_windows + i] = history.grid.block_sum(counts, cells)
    col = 2 * n_windows
    last = history.last_time(crime_type, history.first_minute, start)[cells]
    out[:, col] = np.where(last >= 0, (start - last) / MINUTES_PER_DAY, np.nan)
    pooled = {} if pooled is None else pooled
    for w in ALL_TYPES_WINDOWS:
        col += 1
        key = f"n_all_cell_{w}d"
        if key not in pooled:
            pooled[key] = history.counts(ALL, start - w * MINUTES_PER_DAY, start)
        out[:, col] = pooled[key][cells]
    series = history.in_shift_of_day(crime_type, config.shift_start_hours, shift_of_day(config, shift_start))
    for w in SAME_SHIFT_WINDOWS:
        counts = history.counts(series, start - w * MINUTES_PER_DAY, start)
        out[:, col + 1] = counts[cells]
        out[:, col + 2] = history.grid.block_sum(counts, cells)
        col += 2
    for prefix, series in signal_series(config):
        for i, w in enumerate(windows):
            key = f"{prefix}_{w}d"
            if key not in pooled:
                pooled[key] = history.counts(series, start - w * MINUTES_PER_DAY, start)
            out[:, col + 1 + i] = pooled[key][cells]
            out[:, col + 1 + n_windows + i] = history.grid.block_sum(pooled[key], cells)
        col += 2 * n_windows
    constant = _shift_constants(config, calendar, shift_start)
    col += 1
    out[:, col : col + len(constant)] = constant
    out[:, col + len(constant) :] = history.environment if rows is None else history.environment[rows]
    return out


def rows_matrix(
    history: EventHistory,
    config: AgencyConfig,
    calendar: Calendar,
    crime_type: str,
    rows: np.ndarray,
    shift_starts: Sequence[datetime],
    shift_of_row: np.ndarray,
) -> np.ndarray:
    """Features of many (cell, shift) pairs at once: cell `rows[i]` (position in `history.cells`) at shift
    `shift_starts[shift_of_row[i]]`. The same values as `shift_matrix`, computed per row by binary search:
    cheap for the sparse training rows, where a whole-grid pass per shift would waste most of its work."""
    windows = config.forecasting.windows_days
    starts = np.array([to_minutes(s) for s in shift_starts], dtype=np.int64)[shift_of_row]
    cells = history.cell_index[rows].astype(np.int64)
    n_windows = len(windows)
    out = np.empty((len(cells), len(feature_names(config))))
    for i, w in enumerate(windows):
        begin = starts - w * MINUTES_PER_DAY
        out[:, i] = history.counts_at(crime_type, cells, begin, starts)
        out[:, n_windows + i] = history.block_counts_at(crime_type, cells, begin, starts)
    col = 2 * n_windows
    last = history.last_time_at(crime_type, cells, starts)
    out[:, col] = np.where(last >= 0, (starts - last) / MINUTES_PER_DAY, np.nan)
    for w in ALL_TYPES_WINDOWS:
        col += 1
        out[:, col] = history.counts_at(ALL, cells, starts - w * MINUTES_PER_DAY, starts)
    shift_k = np.array([shift_of_day(config, s) for s in shift_starts], dtype=np.int64)[shift_of_row]
    for w in SAME_SHIFT_WINDOWS:
        begin = starts - w * MINUTES_PER_DAY
        for k in np.unique(shift_k):
            mine = shift_k == k
            series = history.in_shift_of_day(crime_type, config.shift_start_hours, int(k))
            out[mine, col + 1] = history.counts_at(series, cells[mine], begin[mine], starts[mine])
            out[mine, col + 2] = history.block_counts_at(series, cells[mine], begin[mine], starts[mine])
        col += 2
    for _, series in signal_series(config):
        for i, w in enumerate(windows):
            begin = starts - w * MINUTES_PER_DAY
            out[:, col + 1 + i] = history.counts_at(series, cells, begin, starts)
            out[:, col + 1 + n_windows + i] = history.block_counts_at(series, cells, begin, starts)
        col += 2 * n_windows
    constants = np.array([_shift_constants(config, calendar, s) for s in shift_starts])
    col += 1
    out[:, col : col + constants.shape[1]] = constants[shift_of_row]
    out[:, col + constants.shape[1] :] = history.environment[rows]
    return out


def _shift_constants(config: AgencyConfig, calendar: Calendar, shift_start: datetime) -> list[float]:
    return [
        float(shift_of_day(config, shift_start)),
        float(shift_start.weekday()),
        float(shift_start.month),
        *calendar.row(shift_start.date()).values(),
    ]


def shift_features(
    history: EventHistory,
    config: AgencyConfig,
    calendar: Calendar,
    crime_type: str,
    shift_start: datetime,
    pooled: dict[str, np.ndarray] | None = None,
    rows: np.ndarray | None = None,
) -> pd.DataFrame:
    """`shift_matrix` as a frame with the feature names (one row per selected jurisdiction cell)."""
    matrix = shift_matrix(history, config, calendar, crime_type, shift_start, pooled, rows)
    return pd.DataFrame(matrix, columns=feature_names(config))
