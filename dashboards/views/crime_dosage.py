"""Crime & dosage: crime against delivered patrol dosage, and the impact estimate with its interval."""

import altair as alt
import pandas as pd
import streamlit as st

from dashboards import auth, data, reports

IMPACT = "marts.rpt_impact"
DOSE_RESPONSE = "marts.rpt_dose_response"
# The impact table's slices and the one the page opens on (the headline estimate).
IMPACT_SLICES = {"outcome_window": "same_shift", "population": "pool"}


def impact_statement(row: pd.Series) -> str:
    """The headline estimate in words: with its interval, and saying so when it cannot be told from zero."""
    plans = f"{int(row['plans'])} plans" if "plans" in row and pd.notna(row["plans"]) else "the published plans"
    behind = f"from {plans} ({int(row['candidates']):,} candidate cells, {int(row['assigned']):,} assigned)" \
        if "candidates" in row and pd.notna(row.get("candidates")) else f"from {plans}"
    if pd.isna(row["ci_low"]) or pd.isna(row["ci_high"]):
        return (f"**Change in all crime where a mission was assigned: {row['estimate']:+.1%}**, with no interval "
                f"(too few crimes in an arm for one), {behind}. Not evidence of an effect.")
    level = f"{row['level']:.0%}" if "level" in row and pd.notna(row.get("level")) else "95%"
    words = ("**not distinguishable from zero**: the interval includes no change"
             if row["ci_low"] <= 0 <= row["ci_high"] else
             "a reduction" if row["ci_high"] < 0 else "an increase")
    return (f"**Change in all crime where a mission was assigned: {row['estimate']:+.1%}** ({level} interval "
            f"{row['ci_low']:+.1%} to {row['ci_high']:+.1%}): {words}. Estimated {behind}.")


def _interval(row: pd.Series) -> str:
    if pd.isna(row["ci_low"]) or pd.isna(row["ci_high"]):
        return "none (too few crimes in an arm)"
    return f"{row['ci_low']:+.1%} to {row['ci_high']:+.1%}"


def _reading(row: pd.Series) -> str:
    if pd.isna(row["ci_low"]) or pd.isna(row["ci_high"]):
        return "no evidence either way"
    if row["ci_low"] <= 0 <= row["ci_high"]:
        return "not distinguishable from zero"
    return "a reduction" if row["ci_high"] < 0 else "an increase"


def impact_table(estimates: pd.DataFrame) -> pd.DataFrame:
    """Every estimate as a row people read: the change with its interval in words and what it means, the
    crimes and plans behind it; the raw differences stay in the CSV."""
    keep = [c for c in ("crime_type", "outcome_window", "population", "estimate") if c in estimates.columns]
    shown = estimates[keep].copy()
    shown["interval"] = estimates.apply(_interval, axis=1)
    shown["reading"] = estimates.apply(_reading, axis=1)
    for column in ("events_assigned", "events_not_assigned", "plans", "candidates", "assigned"):
        if column in estimates.columns:
            shown[column] = estimates[column]
    return shown


IMPACT_COLUMNS = {
    "crime_type": st.column_config.TextColumn("Crime type"),
    "outcome_window": st.column_config.TextColumn("Outcome window", help="same shift or the next one"),
    "population": st.column_config.TextColumn("Cells compared", help="pool: the risk-driven candidates"),
    "estimate": st.column_config.NumberColumn("Change where assigned", format="percent"),
    "interval": st.column_config.TextColumn("95% interval"),
    "reading": st.column_config.TextColumn("Reading"),
    "events_assigned": st.column_config.NumberColumn("Crimes, assigned cells", format="%.0f"),
    "events_not_assigned": st.column_config.NumberColumn("Crimes, other candidates", format="%.0f"),
    "plans": st.column_config.NumberColumn("Plans", format="%d"),
    "candidates": st.column_config.NumberColumn("Candidate cells", format="%d"),
    "assigned": st.column_config.NumberColumn("Assigned", format="%d"),
}


auth.guard(__file__)
report = reports.open_report(
    "Crime & dosage",
    "marts.rpt_crime_dosage",
    "Crime counted in the districts and in the shift's mission cells, against the directed-patrol dose "
    "delivered there, by day and shift of day. Descriptive: the effect is estimated below.",
    key="crime_dosage",
)
if report is not None:
    # Dosage is per shift and district, repeated on each crime type's row: count it once.
    dose = report.query(
        "date, shift_name, sum(delivered_minutes) / count(distinct crime_type) as \"delivered minutes\", "
        "sum(crime_count) as \"crime (all cells)\", sum(crime_in_mission_cells) as \"crime in mission cells\"",
        "group by 1, 2 order by 1, 2",
    )
    if not dose.empty:
        crime = dose.melt(id_vars=["date", "shift_name"], value_vars=["crime (all cells)", "crime in mission cells"],
                          var_name="measure", value_name="count")
        bars = alt.Chart(dose).mark_bar(opacity=0.35, color="#2ca02c").encode(
            x=alt.X("date:T", title=None),
            y=alt.Y("delivered minutes:Q", title="delivered patrol minutes (bars)"),
            tooltip=["date:T", "shift_name:N", alt.Tooltip("delivered minutes:Q", format=",.0f")],
        )
        lines = alt.Chart(crime).mark_line(point=True).encode(
            x="date:T",
            y=alt.Y("count:Q", title="crimes (lines)"),
            color=alt.Color("measure:N", title=None, legend=alt.Legend(orient="top", labelLimit=0)),
            tooltip=["date:T", "shift_name:N", "measure:N", "count:Q"],
        )
        # One panel per shift of day: the dose as bars, crime as lines, each on its own axis.
        panels = [
            alt.layer(bars.transform_filter(alt.datum.shift_name == name),
                      lines.transform_filter(alt.datum.shift_name == name))
            .resolve_scale(y="independent").properties(height=130, title=name)
            for name in reports.shift_order() if name in set(dose["shift_name"])
        ]
        st.altair_chart(
            alt.vconcat(*panels),
            key="crime_dosage_over_time",
        )
    reports.by_group(report, "crime_type", {"crime (all cells)": "sum(crime_count)",
                                            "crime in mission cells": "sum(crime_in_mission_cells)"},
                     "Crime by type", "crime_dosage")
    reports.rows(report, "crime_dosage")

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
            format_func=lambda v: str(v).replace("_", " "),
        )
        shown = shown[shown[column] == picked]
    overall = shown[shown["crime_type"] == "all"]
    if not overall.empty:
        st.markdown(impact_statement(overall.iloc[0]))
    shown = shown.assign(crime=shown["crime_type"].str.replace("_", " "))
    # An estimate without an interval (too few crimes in an arm, often 0 where assigned: -100%) is not drawn:
    # a lone point at -100% reads as a large effect.
    bare = shown[shown["ci_low"].isna() | shown["ci_high"].isna()]
    shown = shown.drop(bare.index)
    base = alt.Chart(shown).encode(y=alt.Y("crime:N", title=None, axis=alt.Axis(labelLimit=240)))
    zero = alt.Chart(pd.DataFrame({"x": [0.0]})).mark_rule(strokeDash=[4, 4], color="grey").encode(x="x:Q")
    if len(shown):
        st.altair_chart(
            base.mark_rule().encode(x=alt.X("ci_low:Q", title="change in crime where assigned (95% interval)",
                                            axis=alt.Axis(format="%")), x2="ci_high:Q")
            + base.mark_point(filled=True, size=80).encode(
                x="estimate:Q",
                tooltip=[alt.Tooltip("crime:N", title="crime type"),
                         *(alt.Tooltip(f"{c}:Q", format="+.1%") for c in ("estimate", "ci_low", "ci_high"))],
            )
            + zero,
            width="stretch",
            height=80 + 34 * len(shown),  # a row per outcome, not all squeezed into the default height
        )
    if len(bare):
        st.caption(f"Not drawn, too few crimes in an arm for an interval: {', '.join(bare['crime'])}.")
    data.table(impact_table(estimates), key="impact_table", column_config=IMPACT_COLUMNS)
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
            x=alt.X("dose_bin:N", sort=list(curve["dose_bin"]), title="minutes delivered in the mission",
                    axis=alt.Axis(labelAngle=0)),
            y=alt.Y("mean_crime:Q", title="mean crime per mission"),
            tooltip=[alt.Tooltip("dose_bin:N", title="minutes delivered"), alt.Tooltip("missions:Q", format=","),
                     alt.Tooltip("mean_crime:Q", title="mean crime per mission", format=".3f"),
                     alt.Tooltip("mean_minutes:Q", title="mean minutes", format=".1f")],
        ),
        width="stretch",
    )
    data.csv_download(curve, "dose_response", label="Download the dose-response curve (CSV)")
