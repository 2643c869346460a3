"""Tactic report: time on each directed-patrol tactic, kept apart from the rest of the shift's time."""

import streamlit as st

from dashboards import auth, reports
from models.planning.tactics import CATALOG, describe

# Logged activity that is not a directed-patrol tactic: what it is, for the tooltips.
OTHER_TIME = {
    "roll_call": "Roll call at the start of the shift.",
    "report_writing": "Writing reports.",
    "traffic_stop": "Traffic stops (enforcement, not a directed-patrol tactic).",
    "call_for_service": "Answering a call for service.",
    "area_check": "A general check of the area, not one of the mission's tactics.",
}

GROUPS = {"directed_patrol": "directed patrol", "other": "other time"}


def name(code: str) -> str:
    return str(code).replace("_", " ").capitalize()


auth.guard(__file__)
report = reports.open_report(
    "Tactic report",
    "marts.rpt_tactic",
    "Minutes on each directed-patrol tactic (non-enforcement presence in mission cells), and apart from "
    "them the rest of the logged time: roll call, reports, stops, calls. Hover a bar for what a tactic is.",
    key="tactic_report",
)
if report is not None:
    codes = report.query("distinct tactic")["tactic"].dropna()
    labels = {c: name(c) for c in codes}
    notes = {c: OTHER_TIME.get(c) or describe(c) for c in codes}
    measures = {"minutes": "sum(minutes)", "activities": "sum(activities)"}
    left, right = st.columns(2)
    has_group = "activity_group" in report.columns
    patrol = reports.Filtered(
        report.table, report.columns, report.date_col,
        (report.where + (" and " if report.where else "where ") + "activity_group = 'directed_patrol'")
        if has_group else report.where, report.params)
    other = reports.Filtered(
        report.table, report.columns, report.date_col,
        report.where + (" and " if report.where else "where ") + "activity_group = 'other'", report.params)
    with left:
        reports.by_group(patrol, "tactic", {"minutes": "sum(minutes)"}, "Directed-patrol tactics: minutes",
                         "tactic_patrol", labels, notes)
    with right:
        reports.by_group(other, "tactic", {"minutes": "sum(minutes)"}, "Other time: minutes", "tactic_other",
                         labels, notes)
    reports.over_time(
        report,
        {"directed-patrol minutes": "sum(case when activity_group = 'directed_patrol' then minutes else 0 end)",
         "other minutes": "sum(case when activity_group = 'other' then minutes else 0 end)"},
        "Minutes by day", "tactic_report",
    )
    st.caption("Directed-patrol tactics: " + " ".join(f"**{name(t)}**: {d}" for t, d in CATALOG.items()))
    frame = reports.rows(
        report, "tactic_report",
        "date, shift_name, district, beat, unit_id, officer_id, crime_type, tactic, activity_group, activities, "
        "round(minutes, 1) as minutes",
        shape=lambda f: f.assign(what_it_is=f["tactic"].map(notes), tactic=f["tactic"].map(labels),
                                 activity_group=f["activity_group"].map(GROUPS)),
    )
