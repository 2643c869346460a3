"""Crime & dosage: crime against delivered patrol dosage, and the impact estimate with its interval."""

import altair as alt
import streamlit as st

from dashboards import auth, data, reports

auth.guard(__file__)
reports.report_page(
    "Crime & dosage",
    ["marts.rpt_crime_dosage", "marts.rpt_dosage"],
    "Crime counts in mission cells against the dose delivered there, by shift.",
    measure="crime_count",
    group="crime_type",
    key="crime_dosage",
)

st.subheader("Impact of being assigned a mission")
impact = reports.find_mart(["marts.rpt_impact", "marts.rpt_impact_estimate"])
if impact is None:
    st.info(
        "No impact estimate yet: it is computed from the randomized selection once dosage and outcomes "
        "are measured (marts.rpt_impact)."
    )
else:
    estimates = data.query(f"select * from {impact} limit 200")
    low = next((c for c in ("ci_low", "lower", "conf_low") if c in estimates.columns), None)
    high = next((c for c in ("ci_high", "upper", "conf_high") if c in estimates.columns), None)
    label = next((c for c in ("crime_type", "outcome", "estimand") if c in estimates.columns), None)
    if {"estimate"} <= set(estimates.columns) and low and high and label:
        base = alt.Chart(estimates).encode(y=alt.Y(f"{label}:N", title=None))
        st.altair_chart(
            base.mark_rule().encode(x=alt.X(f"{low}:Q", title="effect of assignment"), x2=f"{high}:Q")
            + base.mark_point(filled=True, size=80).encode(x="estimate:Q"),
            width="stretch",
        )
    st.dataframe(estimates, hide_index=True, key="impact_table")
    data.csv_download(estimates, "impact_estimate", label="Download the impact estimate (CSV)")
