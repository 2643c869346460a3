"""Officer and unit report: planned against delivered mission minutes, and compliance, per unit and officer."""

import streamlit as st

from dashboards import auth, data, reports

COMPLIANCE = "sum(credited_minutes) / nullif(sum(planned_minutes), 0)"

auth.guard(__file__)
report = reports.open_report(
    "Officer report",
    "marts.rpt_officer_shift",
    "Per unit and pseudonymous officer: the mission minutes planned for their unit against those delivered "
    "(from vehicle locations), compliance (the planned dose delivered, each mission capped at its plan), and "
    "their logged time on directed-patrol tactics apart from other time.",
    key="officer_report",
)
if report is not None:
    minutes = {"planned minutes": "sum(planned_minutes)", "delivered minutes": "sum(delivered_minutes)"}
    # A unit's minutes once per shift (its officers share them), not once per officer.
    units = reports.Filtered(
        "(select distinct unit_id, shift_start, planned_minutes, delivered_minutes, credited_minutes "
        f"from {report.table} {report.where}) as units", ("unit_id",), None, "", report.params)
    left, right = st.columns(2)
    with left:
        reports.by_group(units, "unit_id", minutes, "Per unit: planned and delivered minutes", "officer_units")
    with right:
        reports.by_group(report, "officer_id", minutes, "Per officer: planned and delivered minutes (their unit's)",
                         "officer_officers")
    reports.over_time(report, {"compliance": COMPLIANCE}, "Compliance by day", "officer_report")
    summary = report.query(
        "officer_id, any_value(unit_id) as unit, count(*) as shifts, round(sum(planned_minutes)) as planned_minutes, "
        f"round(sum(delivered_minutes)) as delivered_minutes, {COMPLIANCE} as compliance, "
        "round(sum(directed_patrol_minutes)) as directed_patrol_minutes, round(sum(other_minutes)) as other_minutes",
        "group by officer_id order by officer_id",
    )
    st.subheader("Compliance per officer")
    data.table(summary, hide_index=True, key="officer_summary",
                 column_config={"compliance": st.column_config.ProgressColumn("Compliance", format="percent",
                                                                              min_value=0, max_value=1)})
    reports.rows(report, "officer_report")
