"""Shift report: where units were and what they did over each shift."""

from dashboards import auth, reports

auth.guard(__file__)
reports.report_page(
    "Shift report",
    "marts.rpt_shift",
    "Per shift and district: missions planned and delivered, directed-patrol minutes, compliance.",
    measure="delivered_minutes",
    group="district",
    key="shift_report",
)
