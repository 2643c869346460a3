"""Crime & dosage: crime against delivered patrol dosage, and the impact estimate with its interval."""

import altair as alt
import pandas as pd
import streamlit as st

from dashboards import auth, data, reports

IMPACT = "marts.rpt_impact"
DOSE_RESPONSE = "marts.rpt_dose_response"
# The impact table's slices and the one the page opens on (the headline estimate).
IMPACT_SLICES = {"outcome_window": "same_shift", "population": "pool"}

auth.guard(__file__)
reports.report_page(
    "Crime & dosage",
    "marts.rpt_crime_dosage",
    "Crime counts in mission cells against the dose delivered there, by shift.",
    measure="crime_count",
    group="crime_type",
    key="crime_dosage",
)

st.subheader("Impact of being assigned a mission")
if not data.has(IMPACT):
    st.info(
        "No impact estimate yet: it is computed from the randomized selection once dosage and outcomes "
        f"are measured ({IMPACT})."
    )
else:
    estimates = data.query(f"select * from {IMPACT} order by outcome_window, population, crime_type")
    # One estimate per outcome is drawn: the table holds one per outcome window and candidate population,
    # which would sit on top of each other. The defaults are the headline (the risk-driven pool, same shift).
    shown = estimates
    for (column, default), cell in zip(IMPACT_SLICES.items(), st.columns(len(IMPACT_SLICES)), strict=True):
        options = list(dict.fromkeys(estimates[column]))
        picked = cell.selectbox(
            column.replace("_", " ").capitalize(),
            options,
            index=options.index(default) if default in options else 0,
            key=f"impact_{column}",
        )
        shown = shown[shown[column] == picked]
    overall = shown[shown["crime_type"] == "all"]
    if not overall.empty:
        row = overall.iloc[0]
        st.metric("Change in all crime where a mission was assigned", f"{row['estimate']:+.1%}")
        st.caption(
            f"{row['level']:.0%} interval {row['ci_low']:+.1%} to {row['ci_high']:+.1%}"
            if pd.notna(row["ci_low"]) and pd.notna(row["ci_high"])
            else "No interval: too few crimes in an arm for one."
        )
    base = alt.Chart(shown).encode(y=alt.Y("crime_type:N", title=None))
    st.altair_chart(
        base.mark_rule().encode(x=alt.X("ci_low:Q", title="effect of assignment"), x2="ci_high:Q")
        + base.mark_point(filled=True, size=80).encode(x="estimate:Q"),
        width="stretch",
    )
    st.dataframe(estimates, hide_index=True, key="impact_table")
    data.csv_download(estimates, "impact_estimate", label="Download the impact estimate (CSV)")

st.subheader("Crime by delivered dose (observational)")
if not data.has(DOSE_RESPONSE):
    st.info(f"No dose-response curve yet: it needs missions with measured dosage ({DOSE_RESPONSE}).")
else:
    curve = data.query(
        f"select dose_bin, missions, mean_crime, mean_minutes from {DOSE_RESPONSE} order by bin_order"
    )
    st.caption(
        "Mean crime per mission by the minutes units actually spent there. How long they stayed was not "
        "randomized (units stay longer where it is quiet and leave for calls where it is not), so this is "
        "a description, not an effect: the estimate above is."
    )
    st.altair_chart(
        alt.Chart(curve)
        .mark_bar()
        .encode(
            x=alt.X("dose_bin:N", sort=list(curve["dose_bin"]), title="delivered minutes"),
            y=alt.Y("mean_crime:Q", title="mean crime per mission"),
            tooltip=["dose_bin", "missions", "mean_crime", "mean_minutes"],
        ),
        width="stretch",
    )
    data.csv_download(curve, "dose_response", label="Download the dose-response curve (CSV)")
