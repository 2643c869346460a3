"""Tactic report: time spent on each recommended tactic."""

from dashboards import auth, reports

auth.guard(__file__)
reports.report_page(
    "Tactic report",
    "marts.rpt_tactic",
    "Minutes of each non-enforcement tactic, by shift and district.",
    measure="minutes",
    group="tactic",
    key="tactic_report",
)
