"""Shift report: missions planned and delivered, dose and compliance, per shift and district."""

from dashboards import auth, reports

COMPLIANCE = "sum(compliance * planned_minutes) / nullif(sum(planned_minutes), 0)"

auth.guard(__file__)
report = reports.open_report(
    "Shift report",
    "marts.rpt_shift",
    "Per shift and district: mission minutes planned against delivered (from vehicle locations), compliance "
    "(the planned dose delivered, each mission capped at its plan) and where the rest of the time went.",
    key="shift_report",
)
if report is not None:
    reports.over_time(
        report,
        {"planned minutes": "sum(planned_minutes)", "delivered minutes": "sum(delivered_minutes)"},
        "Mission minutes planned and delivered, by day",
        "shift_minutes",
    )
    reports.over_time(report, {"compliance": COMPLIANCE}, "Compliance by day", "shift_compliance")
    reports.by_group(
        report,
        "district",
        {"in mission cells": "sum(mission_minutes)", "on calls": "sum(call_minutes)",
         "other logged activity": "sum(other_activity_minutes)", "elsewhere": "sum(elsewhere_minutes)"},
        "Where the units' tracked minutes went, by district",
        "shift_report",
    )
    reports.rows(report, "shift_report")
