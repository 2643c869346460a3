"""The report pages' common parts: a report mart filtered by date, district, beat, shift of day, unit,
officer and crime type (whichever it has); charts summed in SQL; a table and a CSV download; a clear
'no data yet' state until the mart is published.

Time charts leave out shifts not yet worked (a planned next shift has no delivered minutes yet and would
end every line in a cliff) and draw day, evening and night as small multiples, one panel each.
Filtering and aggregation happen in SQL; at most ROW_LIMIT rows reach the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import altair as alt
import pandas as pd
import streamlit as st

from beatwise.clock import agency_now
from beatwise.config import AgencyConfig
from dashboards import data
from models.forecasting.shifts import shift_minutes

ROW_LIMIT = 5000
DATE_COLUMNS = ("shift_start", "date", "day", "week_start", "month")
# Column -> widget label, in the order the filters are shown.
FILTERS = {
    "district": "Districts",
    "beat": "Beats",
    "shift_name": "Shift of day",
    "unit_id": "Units",
    "officer_id": "Officers",
    "crime_type": "Crime types",
}


@dataclass(frozen=True)
class Filtered:
    """A report mart and the rows the page's filters chose (`where`, `params`)."""

    table: str
    columns: tuple[str, ...]
    date_col: str | None
    where: str
    params: tuple

    def query(self, select: str, tail: str = "") -> pd.DataFrame:
        return data.query(f"select {select} from {self.table} {self.where} {tail}", self.params)


def last_worked(config: AgencyConfig, now: datetime) -> tuple[datetime, date]:
    """The start of the latest shift that has ended by `now`, and the latest day all of whose shifts have."""
    day = now.date()
    for _ in range(3):
        starts = [datetime.combine(day, s.start) for s in reversed(config.shifts)]
        for i, start in enumerate(starts):
            if start + timedelta(minutes=shift_minutes(config, start)) <= now:
                # The day is complete when its last shift (the first in reverse order) has ended.
                return start, day if i == 0 else day - timedelta(days=1)
        day -= timedelta(days=1)
    return now, now.date()


def open_report(title: str, table: str, about: str, key: str) -> Filtered | None:
    """Title, caption and filters of one report page; None (with a message) while there is no data yet."""
    st.title(title)
    st.caption(about)
    if not data.snapshot_version():
        st.info("No serving snapshot has been published yet: run `make run` (or the Dagster job `main`).")
        return None
    if not data.has(table):
        st.info(
            f"No data yet: this report reads {table}, which the pipeline has not published. "
            "It fills in once patrol dosage has been measured (dbt report marts)."
        )
        return None
    columns = tuple(data.columns(table))
    date_col = next((c for c in DATE_COLUMNS if c in columns), None)
    clauses, params = [], []
    if date_col:
        latest, full_day = last_worked(data.agency_config(), agency_now(data.agency_config()))
        if date_col == "shift_start":
            clauses.append("shift_start <= ?")
            params.append(latest)
        else:
            clauses.append(f"{date_col}::date <= ?")
            params.append(full_day)
    worked = ("where " + " and ".join(clauses)) if clauses else ""
    shown, grid = 0, []

    def slot():  # the next place in rows of four, filled row by row so the filters read in order
        if shown == len(grid):
            grid.extend(st.columns(4))
        return grid[shown]

    if date_col:
        span = data.query(f"select min({date_col})::date as lo, max({date_col})::date as hi from {table} {worked}",
                          params)
        lo, hi = span["lo"].iat[0], span["hi"].iat[0]
        if pd.notna(lo):
            default_lo = max(lo, hi - timedelta(days=90))
            picked = slot().date_input("Dates", (default_lo, hi), min_value=lo, max_value=hi, key=f"{key}_dates")
            if isinstance(picked, tuple | list) and len(picked) == 2:
                clauses.append(f"{date_col}::date between ? and ?")
                params += list(picked)
            shown = 1
    for column, label in FILTERS.items():
        if column not in columns:
            continue
        values = data.query(f"select distinct {column} as v from {table} where {column} is not null order by 1")
        picked = slot().multiselect(label, values["v"], key=f"{key}_{column}")
        shown += 1
        if picked:
            marks, more = data.in_list(picked)
            clauses.append(f"{column} in {marks}")
            params += more
    where = ("where " + " and ".join(clauses)) if clauses else ""
    return Filtered(table, columns, date_col, where, tuple(params))


def shift_order() -> list[str]:
    return [s.name for s in data.agency_config().shifts]


def over_time(report: Filtered, measures: dict[str, str], title: str, key: str) -> None:
    """Lines of SQL aggregates (label -> expression) per day; one panel per shift of day when the mart has it."""
    if not report.date_col:
        return
    by_shift = "shift_name" in report.columns
    day = f"{report.date_col}::date"
    select = ", ".join([f"{day} as day", *(["shift_name"] if by_shift else []),
                        *(f'{sql} as "{label}"' for label, sql in measures.items())])
    groups = "1, 2" if by_shift else "1"
    frame = report.query(select, f"group by {groups} order by {groups}")
    if frame.empty:
        return
    ids = ["day", "shift_name"] if by_shift else ["day"]
    long = frame.melt(id_vars=ids, var_name="measure", value_name="value")
    chart = (
        alt.Chart(long, title=alt.Undefined if by_shift else title)  # one title over the panels, not one per panel
        .mark_line(point=True)
        .encode(
            x=alt.X("day:T", title=None),
            y=alt.Y("value:Q", title=None),
            color=alt.Color("measure:N", title=None, legend=alt.Legend(orient="top", labelLimit=0)),
            tooltip=[alt.Tooltip("day:T", title="day"), *(["shift_name:N"] if by_shift else []), "measure:N",
                     alt.Tooltip("value:Q", format=",.1f")],
        )
        .properties(height=130 if by_shift else 260)
    )
    if by_shift:
        rows = alt.Row("shift_name:N", title=None, sort=shift_order(),
                       header=alt.Header(labelAngle=0, labelAlign="left"))
        chart = chart.facet(row=rows, title=title).resolve_scale(y="shared")
    st.altair_chart(chart, key=f"{key}_over_time")


def by_group(report: Filtered, group: str, measures: dict[str, str], title: str, key: str,
             labels: dict[str, str] | None = None, notes: dict[str, str] | None = None) -> pd.DataFrame:
    """Grouped bars of SQL aggregates (label -> expression) per `group`, side by side; returns the sums.
    `labels` names a group's values for people, `notes` adds a tooltip line to each (e.g. a description)."""
    select = ", ".join([f"{group} as grp", *(f'{sql} as "{label}"' for label, sql in measures.items())])
    frame = report.query(select, "group by 1 order by 2 desc limit 40")
    if frame.empty:
        st.caption(f"{title}: nothing in the chosen filters.")
        return frame
    frame["name"] = frame["grp"].map(lambda v: (labels or {}).get(v, str(v).replace("_", " ")))
    frame["about"] = frame["grp"].map(lambda v: (notes or {}).get(v, ""))
    long = frame.melt(id_vars=["grp", "name", "about"], var_name="measure", value_name="value")
    # An empty yOffset encoding collapses every bar onto one line: only side by side bars get one.
    offset = {"yOffset": alt.YOffset("measure:N")} if len(measures) > 1 else {}
    chart = (
        alt.Chart(long, title=title)
        .mark_bar()
        .encode(
            y=alt.Y("name:N", sort=list(frame["name"]), title=group.replace("_", " "),
                    axis=alt.Axis(labelLimit=240)),
            x=alt.X("value:Q", title=None),
            **offset,
            color=alt.Color("measure:N", title=None, legend=alt.Legend(orient="top", labelLimit=0)),
            tooltip=[alt.Tooltip("name:N", title=group.replace("_", " ")), "measure:N",
                     alt.Tooltip("value:Q", format=",.1f"), *([alt.Tooltip("about:N", title="what it is")]
                                                             if notes else [])],
        )
    )
    # The height is given to Streamlit, not the spec (a spec height let a short bar list collapse); it includes
    # the title and legend, about 170 px.
    st.altair_chart(chart, key=f"{key}_by_{group}", height=170 + 26 * len(frame) * len(measures))
    return frame


def rows(report: Filtered, key: str, select: str = "*", column_config: dict | None = None,
         shape=None) -> pd.DataFrame:
    """The filtered rows as a table (newest first) with a CSV download; `shape(frame)` may relabel them."""
    order = f"order by {report.date_col} desc" if report.date_col else ""
    frame = report.query(select, f"{order} limit {ROW_LIMIT}")
    if shape is not None and not frame.empty:
        frame = shape(frame)
    total = report.query("count(*) as n")["n"].iat[0]
    data.table(frame, hide_index=True, key=f"{key}_table", column_config=column_config)
    more = " (first rows only)" if total > len(frame) else ""
    st.caption(f"{len(frame):,} of {total:,} rows from `{report.table}`{more}")
    data.csv_download(frame, key)
    return frame


def report_page(title: str, table: str, about: str, *, measure: str, group: str, key: str):
    """A plain report: its measure over time (per shift of day), summed by `group`, and the rows."""
    report = open_report(title, table, about, key)
    if report is None:
        return None
    missing = [name for name in (measure, group) if name not in report.columns]
    if missing:
        raise ValueError(f"{table} has no column {', '.join(missing)} (it has {', '.join(report.columns)})")
    label = measure.replace("_", " ")
    over_time(report, {label: f"sum({measure})"}, f"{label.capitalize()} by day", key)
    by_group(report, group, {label: f"sum({measure})"}, f"{label.capitalize()} by {group.replace('_', ' ')}", key)
    return table, rows(report, key)
