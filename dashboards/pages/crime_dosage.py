"""Crime & dosage: crime against delivered patrol dosage, and the impact estimate with its interval."""

import altair as alt
import pandas as pd
import streamlit as st

from dashboards import auth, data, reports

# The impact table's slices and the one the page opens on (the headline estimate).
IMPACT_SLICES = {"outcome_window": "same_shift", "population": "pool"}

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
    # One estimate per outcome is drawn: the table holds one per outcome window and candidate population,
    # which would sit on top of each other. The defaults are the headline (the risk-driven pool, same shift).
    shown = estimates
    slices = [c for c in IMPACT_SLICES if c in estimates.columns]
    cells = st.columns(len(slices)) if slices else []
    for column, cell in zip(slices, cells, strict=True):
        options = list(dict.fromkeys(estimates[column]))
        default = IMPACT_SLICES[column]
        picked = cell.selectbox(
            column.replace("_", " ").capitalize(),
            options,
            index=options.index(default) if default in options else 0,
            key=f"impact_{column}",
        )
        shown = shown[shown[column] == picked]
    if {"estimate"} <= set(estimates.columns) and low and high and label:
        overall = shown[shown[label] == "all"]
        if not overall.empty:
            row = overall.iloc[0]
            level = f"{row['level']:.0%} " if "level" in row and pd.notna(row["level"]) else ""
            st.metric("Change in all crime where a mission was assigned", f"{row['estimate']:+.1%}")
            st.caption(
                f"{level}interval {row[low]:+.1%} to {row[high]:+.1%}"
                if pd.notna(row[low]) and pd.notna(row[high])
                else "No interval: too few crimes in an arm for one."
            )
        base = alt.Chart(shown).encode(y=alt.Y(f"{label}:N", title=None))
        st.altair_chart(
            base.mark_rule().encode(x=alt.X(f"{low}:Q", title="effect of assignment"), x2=f"{high}:Q")
            + base.mark_point(filled=True, size=80).encode(x="estimate:Q"),
            width="stretch",
        )
    st.dataframe(estimates, hide_index=True, key="impact_table")
    data.csv_download(estimates, "impact_estimate", label="Download the impact estimate (CSV)")
