"""Public holidays of the agency's country and subdivision (`raw.holidays`)."""

from __future__ import annotations

from datetime import date

import duckdb
import holidays
import pandas as pd

from beatwise.config.schema import AgencyConfig
from beatwise.warehouse import replace_table

YEARS_AHEAD = 2  # scoring and planning look past the history's end


def holiday_years(config: AgencyConfig, today: date | None = None) -> range:
    """The history's years plus YEARS_AHEAD; an open-ended history runs to `today` (default: now)."""
    end = config.history_end or today or date.today()
    start = config.history_start or end
    if start > end:
        raise ValueError(f"history_start {start} is after history_end {end}")
    return range(start.year, end.year + YEARS_AHEAD + 1)


def holiday_calendar(config: AgencyConfig, today: date | None = None) -> pd.DataFrame:
    """One row per holiday date: (date, holiday); several holidays on one date are joined with '; '."""
    agency = config.agency
    try:
        calendar = holidays.country_holidays(agency.country, subdiv=agency.subdivision,
                                             years=holiday_years(config, today))
    except NotImplementedError as error:
        raise ValueError(f"agency.country / agency.subdivision: the holidays package has no calendar for "
                         f"{agency.country!r} / {agency.subdivision!r} ({error})") from error
    rows = sorted(calendar.items())
    return pd.DataFrame({"date": [d for d, _ in rows],
                         "holiday": [name for _, name in rows]})


def write_holidays(con: duckdb.DuckDBPyConnection, config: AgencyConfig,
                   today: date | None = None) -> pd.DataFrame:
    """(Re)build `raw.holidays`; returns the table written."""
    calendar = holiday_calendar(config, today)
    replace_table(con, "raw.holidays", calendar, key="date")
    return calendar
