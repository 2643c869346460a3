"""Crime type report: average directed-patrol minutes per crime type."""

from dashboards import auth, reports

auth.guard(__file__)
reports.report_page(
    "Crime type report",
    "marts.rpt_crime_type",
    "Average directed-patrol minutes delivered against each crime type's missions.",
    measure="average_directed_minutes",
    group="crime_type",
    key="crime_type_report",
)
