"""Officer report: time per tactic per pseudonymous officer."""

from dashboards import auth, reports

auth.guard(__file__)
reports.report_page(
    "Officer report",
    "marts.rpt_officer",
    "Directed-patrol minutes per tactic for each officer (pseudonymous ids only).",
    measure="minutes",
    group="tactic",
    key="officer_report",
)
