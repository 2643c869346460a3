"""Crime type report: average directed-patrol minutes per mission, per crime type."""

from dashboards import auth, reports

AVERAGE = "sum(delivered_minutes) / nullif(sum(missions), 0)"
PLANNED = "sum(planned_minutes) / nullif(sum(missions), 0)"

auth.guard(__file__)
report = reports.open_report(
    "Crime type report",
    "marts.rpt_crime_type",
    "Average directed-patrol minutes delivered per mission that a crime type drove (a mission driven by "
    "several types counts for each).",
    key="crime_type_report",
)
if report is not None:
    reports.by_group(report, "crime_type", {"delivered minutes per mission": AVERAGE,
                                            "planned minutes per mission": PLANNED},
                     "Average minutes per mission, by crime type", "crime_type_report")
    reports.over_time(report, {"missions": "sum(missions)"}, "Missions by day", "crime_type_report")
    reports.rows(report, "crime_type_report")
