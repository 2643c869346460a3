"""Commander's summary: the week at a glance, printable. Missions planned and delivered, dosage, compliance
by district and unit, crime in mission cells against the rest, and whether the exposure caps held."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboards import auth, data

auth.guard(__file__)
st.title("Commander's summary")
data.require("plans.missions", "marts.rpt_shift", waiting_on="mission planning and the report marts")

weeks = data.query(
    "select distinct date_trunc('week', shift_start) as week from plans.missions order by week desc limit 26"
)
week = st.selectbox("Week starting", weeks["week"], format_func=lambda t: pd.Timestamp(t).strftime("%a %d %b %Y"))
start, end = pd.Timestamp(week), pd.Timestamp(week) + pd.Timedelta(days=7)
summary = data.week_summary(start, end)
shifts, by_district = summary["shifts"], summary["by_district"]
if summary["simulated"]:
    st.warning("Simulated operations: the patrols, dosage and compliance of this week come from the demo's "
               "simulator, not from real vehicles.")

a, b, c, d = st.columns(4)
a.metric("Missions planned", f"{summary['missions_planned']:,}")
b.metric("Missions delivered (any dose)", f"{summary['missions_dosed']:,}",
         help="missions where a unit spent time inside the mission cell")
c.metric("Minutes delivered", f"{summary['delivered_minutes']:,.0f}",
         help=f"of {summary['planned_minutes']:,.0f} planned minutes of directed patrol")
d.metric("Compliance", f"{summary['compliance']:.0%}" if pd.notna(summary["compliance"]) else "-",
         help="planned minutes delivered in the mission cells (capped at the plan per mission)")

st.subheader("Dosage and compliance by district")
data.table(
    by_district,
    hide_index=True,
    key="summary_districts",
    column_config={
        "district": "District",
        "missions_planned": "Missions planned",
        "missions_dosed": "Delivered",
        "missions_full_dose": "Full dose",
        "planned_minutes": st.column_config.NumberColumn("Planned (min)", format="%.0f"),
        "delivered_minutes": st.column_config.NumberColumn("Delivered (min)", format="%.0f"),
        "compliance": st.column_config.ProgressColumn("Compliance", min_value=0, max_value=1, format="percent"),
    },
)
if not shifts.empty:
    worked = shifts[shifts["worked"]]
    st.altair_chart(
        alt.Chart(worked.rename(columns={c: c.replace("_", " ") for c in ("planned_minutes", "delivered_minutes")})
                  .melt(["shift_start"], ["planned minutes", "delivered minutes"], "minutes", "value"))
        .mark_bar()
        .encode(
            x=alt.X("yearmonthdatehours(shift_start):O", title="shift",
                    axis=alt.Axis(labelAngle=-45)),
            y=alt.Y("value:Q", title="minutes of directed patrol"),
            xOffset="minutes:N",
            color=alt.Color("minutes:N", title=None, legend=alt.Legend(orient="top", labelLimit=0),
                            scale=alt.Scale(domain=["planned minutes", "delivered minutes"])),
            tooltip=[alt.Tooltip("shift_start:T", title="shift", format="%a %d %b %Y, %H:%M"), "minutes:N",
                     alt.Tooltip("value:Q", format=",.0f")],
        )
        .properties(title="Planned against delivered minutes per shift (shifts already worked)"),
        width="stretch",
        height=380,  # given to Streamlit: a height in the spec collapsed the plot to its axis labels
    )

st.subheader("Compliance by unit")
units = summary["by_unit"]
if units.empty:
    st.caption("No unit tracking (AVL) in this week.")
else:
    data.table(
        units,
        hide_index=True,
        key="summary_units",
        column_config={
            "unit_id": "Unit",
            "district": "District",
            "shifts": "Shifts",
            "missions_worked": "Missions worked",
            "planned_minutes": st.column_config.NumberColumn("Planned (min)", format="%.0f"),
            "mission_minutes": st.column_config.NumberColumn("In missions (min)", format="%.0f"),
            "compliance": st.column_config.ProgressColumn("Compliance", min_value=0, max_value=1, format="percent"),
        },
    )

st.subheader("Crime in mission cells against the rest")
crime = summary["crime"]
if crime.empty:
    st.caption("No crime counted in this week yet.")
else:
    data.table(
        crime,
        hide_index=True,
        key="summary_crime",
        column_config={
            "crime_type": "Crime type",
            "in_mission_cells": "In mission cells",
            "elsewhere": "Elsewhere",
            "per_100_mission_cell_shifts": st.column_config.NumberColumn("Per 100 mission cell-shifts", format="%.2f"),
            "per_100_other_cell_shifts": st.column_config.NumberColumn("Per 100 other cell-shifts", format="%.2f"),
        },
    )
    st.caption("Mission cells were chosen for their risk, so more crime there is expected; the Crime & dosage "
               "and impact pages compare like with like.")

st.subheader("Exposure caps")
caps = summary["caps"]
st.markdown(caps["text"])

with st.expander("Printable view"):
    st.markdown("Use the browser's print (Ctrl+P): the sidebar and controls are left out of the print.")
    st.download_button("Download the summary (HTML, printable)", summary["html"],
                       file_name=f"commander_summary_{start:%Y%m%d}.html", mime="text/html")
st.markdown(
    "<style>@media print{section[data-testid='stSidebar'],header,[data-testid='stToolbar']{display:none}}</style>",
    unsafe_allow_html=True,
)
