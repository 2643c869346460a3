"""The report pages' common shape: a report mart, filters by date, district and crime type, a chart, a
table and a CSV download; a clear 'no data yet' state until the mart is published.

Report marts (`marts.rpt_*`) are built by dbt; each page names its mart, the measure it charts and the column
it groups by: a name that is not a column fails loudly rather than charting something else. Filtering and
aggregation happen in SQL; at most ROW_LIMIT rows reach the page.
"""

from __future__ import annotations

from datetime import timedelta

import altair as alt
import pandas as pd
import streamlit as st

from dashboards import data

ROW_LIMIT = 5000
DATE_COLUMNS = ("shift_start", "date", "day", "week_start", "month")


def filters(table: str, columns: list[str], date_col: str | None, key: str) -> tuple[str, list]:
    """Date range, district and crime type widgets for the columns `table` has; a SQL where clause."""
    clauses, params = [], []
    cols = st.columns(3)
    if date_col:
        span = data.query(f"select min({date_col})::date as lo, max({date_col})::date as hi from {table}")
        lo, hi = span["lo"].iat[0], span["hi"].iat[0]
        if pd.notna(lo):
            default_lo = max(lo, hi - timedelta(days=90))
            picked = cols[0].date_input("Dates", (default_lo, hi), min_value=lo, max_value=hi, key=f"{key}_dates")
            if isinstance(picked, tuple | list) and len(picked) == 2:
                clauses.append(f"{date_col}::date between ? and ?")
                params += list(picked)
    for i, (column, label) in enumerate((("district", "Districts"), ("crime_type", "Crime types")), start=1):
        if column in columns:
            values = data.query(f"select distinct {column} as v from {table} where {column} is not null order by 1")
            picked = cols[i].multiselect(label, values["v"], key=f"{key}_{column}")
            if picked:
                marks, more = data.in_list(picked)
                clauses.append(f"{column} in {marks}")
                params += more
    return ("where " + " and ".join(clauses)) if clauses else "", params


def chart(table: str, where: str, params: list, measure: str, group: str, date_col: str | None) -> None:
    """A line of the report's main measure over time per group (or bars by group when it has no dates), summed
    in SQL over every filtered row (the table below may show only the first ROW_LIMIT)."""
    label = measure.replace("_", " ")
    if date_col:
        agg = data.query(
            f"select {date_col}, {group}, sum({measure}) as {measure} from {table} {where} group by 1, 2 order by 1, 2",
            params,
        )
        if agg.empty:
            return
        encoding = {
            "x": alt.X(f"{date_col}:T", title=None),
            "y": alt.Y(f"{measure}:Q", title=label),
            "color": alt.Color(f"{group}:N", title=group.replace("_", " ")),
        }
        st.altair_chart(alt.Chart(agg).mark_line(point=len(agg) < 200).encode(**encoding), width="stretch")
    else:
        agg = data.query(
            f"select {group}, sum({measure}) as {measure} from {table} {where} group by 1 order by 2 desc limit 40",
            params,
        )
        if agg.empty:
            return
        st.altair_chart(
            alt.Chart(agg)
            .mark_bar()
            .encode(x=alt.X(f"{measure}:Q", title=label), y=alt.Y(f"{group}:N", sort="-x", title=None)),
            width="stretch",
        )


def report_page(
    title: str,
    table: str,
    about: str,
    *,
    measure: str,
    group: str,
    key: str,
) -> tuple[str, pd.DataFrame] | None:
    """Render one report page of `table`; returns (table, filtered rows) or None when there is no data yet."""
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
    columns = data.columns(table)
    missing = [name for name in (measure, group) if name not in columns]
    if missing:
        raise ValueError(f"{table} has no column {', '.join(missing)} (it has {', '.join(columns)})")
    date_col = next((c for c in DATE_COLUMNS if c in columns), None)
    where, params = filters(table, columns, date_col, key)
    order = f"order by {date_col} desc" if date_col else ""
    rows = data.query(f"select * from {table} {where} {order} limit {ROW_LIMIT}", params)
    total = data.scalar(f"select count(*) from {table} {where}", params)
    chart(table, where, params, measure, group, date_col)
    st.dataframe(rows, hide_index=True, key=f"{key}_table")
    st.caption(f"{len(rows):,} of {total:,} rows from `{table}`" + (" (first rows only)" if total > len(rows) else ""))
    data.csv_download(rows, key)
    return table, rows
