"""Shifts of the agency's day: which shifts to train on, to evaluate and to forecast."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pandas as pd

from beatwise.config.schema import AgencyConfig


def shift_starts(config: AgencyConfig, start: date, end: date, every_days: int = 1) -> list[datetime]:
    """Every shift start of every `every_days`-th day from `start` to `end` (both included)."""
    if every_days < 1:
        raise ValueError(f"every_days must be at least 1, got {every_days}")
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    days = pd.date_range(start, end, freq=f"{every_days}D")
    return [datetime.combine(day.date(), s.start) for day in days for s in config.shifts]


def shift_of_day(config: AgencyConfig, shift_start: datetime) -> int:
    """Index of the shift within the day (0 for the first)."""
    hours = config.shift_start_hours
    if shift_start.hour not in hours or shift_start.minute:
        raise ValueError(f"{shift_start} is not a shift start of {config.agency.slug} (starts at {hours})")
    return hours.index(shift_start.hour)


def shift_minutes(config: AgencyConfig, shift_start: datetime) -> int:
    return config.shift_hours[shift_of_day(config, shift_start)] * 60


def next_shift(config: AgencyConfig, after: datetime) -> datetime:
    """The first shift starting strictly after `after`."""
    day = after.date()
    for offset in range(2):
        for s in config.shifts:
            candidate = datetime.combine(day + timedelta(days=offset), s.start)
            if candidate > after:
                return candidate
    raise AssertionError("unreachable: a day has at least one shift")
