"""Model performance: per crime type, the champion against every baseline on rolling-origin backtests.

`forecast.backtest_metrics` is long (one row per crime type, method, metric): read it so, and draw each
metric as bars per method with the champion marked.
"""

import os

import altair as alt
import pandas as pd
import streamlit as st

from dashboards import auth, data
from dashboards.champion_gate import blend_words, figures_in_words, gate_in_words, served_words
from models.forecasting.explain import method_words

auth.guard(__file__)
st.title("Model performance")
MLFLOW = os.environ.get("BEATWISE_MLFLOW_URL", "http://127.0.0.1:5000").rstrip("/")
st.caption(
    f"Backtests per crime type: the champion against every baseline. Runs are in the [MLflow UI]({MLFLOW})."
)
data.require("forecast.backtest_metrics", waiting_on="the forecasting backtests (forecast.backtest_metrics)")

# metric -> (title, what it means in one line, the best value, number format)
METRICS = {
    "pai_1": ("PAI at 1% of the area", "Share of crime in the top 1% of cells, divided by 1%: 20 means 20 "
              "times the crime of an average cell. Higher is better.", None, ".2f"),
    "pai_5": ("PAI at 5% of the area", "The same for the top 5% of cells. Higher is better.", None, ".2f"),
    "hit_rate_1": ("Hit rate at 1%", "Share of the shift's crimes that fell in the top 1% of cells. "
                   "Higher is better.", None, ".1%"),
    "hit_rate_5": ("Hit rate at 5%", "Share of the shift's crimes that fell in the top 5% of cells. "
                   "Higher is better.", None, ".1%"),
    "calibration": ("Calibration", "Crimes forecast over crimes that happened: 1 is right, above 1 "
                    "forecasts too many, below too few.", 1.0, ".2f"),
}
# The summary table's columns in words and formats, in the order shown (other metrics follow, de-underscored).
SUMMARY = {
    "pai_1": ("PAI at 1%", "%.2f"), "pai_5": ("PAI at 5%", "%.2f"),
    "hit_rate_1": ("Hit rate at 1%", "percent"), "hit_rate_5": ("Hit rate at 5%", "percent"),
    "pei_star_1": ("Share of the best possible PAI at 1% (PEI*)", "percent"),
    "pei_star_5": ("Share of the best possible PAI at 5% (PEI*)", "percent"),
    "gate_objective": ("Gate: harm captured at 1%", "percent"),
    "gate_objective_gain_low": ("Gate: harm gain over the best baseline, 90% interval from (points)", "%+.2f"),
    "gate_objective_gain_high": ("Gate: harm gain, 90% interval to (points)", "%+.2f"),
    "gate_pai_1": ("Gate: PAI at 1%", "%.2f"),
    "gate_pai_gain_low": ("Gate: PAI at 1% over the best baseline, 90% interval from", "%+.2f"),
    "gate_pai_gain_high": ("Gate: PAI at 1% gain, 90% interval to", "%+.2f"),
    "harm_captured_1": ("Severity-weighted crimes in the top 1%", "%.1f"),
    "harm_captured_5": ("Severity-weighted crimes in the top 5%", "%.1f"),
    "calibration": ("Calibration (forecast ÷ actual)", "%.2f"),
    "deviance": ("Poisson deviance per cell-shift (lower is better)", "%.4f"),
    "crimes": ("Crimes in the backtest", "%d"),
    "shifts": ("Backtest shifts", "%d"),
}
POINTS = {"gate_objective_gain_low", "gate_objective_gain_high"}  # differences of shares, shown in points

latest = data.query(
    """select crime_type, method, role, metric, value from forecast.backtest_metrics
       where evaluated_at = (select max(evaluated_at) from forecast.backtest_metrics)"""
)
latest["role"] = latest["role"].fillna("")
gate = pd.DataFrame(columns=["crime_type", "champion", "best_baseline", "candidate_wins", "blend_weight", "reason"])
if data.has("forecast.champion_gate"):
    gate = data.query(
        """select crime_type, champion, best_baseline, candidate_wins, blend_weight, reason
           from forecast.champion_gate
           where evaluated_at = (select max(evaluated_at) from forecast.champion_gate) order by crime_type"""
    )
codes = latest["method"]
latest["method"] = codes.map(method_words)
types = sorted(latest["crime_type"].unique())
crime_type = st.selectbox("Crime type", types, format_func=lambda t: t.replace("_", " "))
mine = latest[latest["crime_type"] == crime_type].copy()
# This type's blend, named with what it mixes (the all-types charts keep the general word).
for _, row in gate[gate["crime_type"] == crime_type].iterrows():
    if blend := blend_words(row["reason"]):
        mine.loc[codes[mine.index] == "blend", "method"] = blend
wide = mine.pivot_table(index=["method", "role"], columns="metric", values="value", aggfunc="mean").reset_index()
wide["is"] = ["champion" if "champion" in r else "baseline" for r in wide["role"]]
champion = wide.loc[wide["is"] == "champion", "method"]
shifts = data.scalar("select max(shifts) from forecast.backtest_metrics")
st.markdown(
    f"**Champion for {crime_type.replace('_', ' ')}:** {champion.iat[0] if len(champion) else 'none'}"
    f" · compared on {shifts or '?'} backtest shifts."
)


def bars(frame: pd.DataFrame, metric: str, title: str, best: float | None, fmt: str = ".2f") -> alt.Chart:
    chart = (
        alt.Chart(frame, title=title)
        .mark_bar()
        .encode(
            x=alt.X(f"{metric}:Q", title=None, axis=alt.Axis(format=fmt.replace(".1%", ".0%"))),
            y=alt.Y("method:N", sort="-x", title=None, axis=alt.Axis(labelLimit=260)),
            color=alt.Color("is:N", scale=alt.Scale(domain=["champion", "baseline"], range=["#c62828", "#90a4ae"]),
                            legend=alt.Legend(title=None, orient="bottom")),
            tooltip=[alt.Tooltip("method:N", title="method"), alt.Tooltip("role:N", title="role"),
                     alt.Tooltip(f"{metric}:Q", title=title, format=fmt)],
        )
        .properties(height={"step": 22})
    )
    if best is not None:
        chart = chart + alt.Chart(pd.DataFrame({"best": [best]})).mark_rule(strokeDash=[4, 3]).encode(x="best:Q")
    return chart


shown = [m for m in METRICS if m in wide.columns]
columns = st.columns(2)
for i, metric in enumerate(shown):
    title, meaning, best, fmt = METRICS[metric]
    with columns[i % 2]:
        st.altair_chart(bars(wide[["method", "role", "is", metric]].dropna(), metric, title, best, fmt),
                        width="stretch")
        st.caption(meaning)

# Harm-weighted capture: each crime type's crimes weighted by its severity, flagged by its own surface.
severity = data.agency_config().harm_weights()
harm = latest[latest["metric"].isin(["harm_captured_1", "harm_captured_5", "crimes"])].pivot_table(
    index=["crime_type", "method"], columns="metric", values="value", aggfunc="mean"
).reset_index()
if {"harm_captured_1", "crimes"} <= set(harm.columns):
    harm["harm"] = harm["crime_type"].map(severity).fillna(1.0) * harm["crimes"]
    by_method = harm.groupby("method")[["harm_captured_1", "harm_captured_5", "harm"]].sum()
    capture = pd.DataFrame({
        "method": by_method.index,
        "harm_weighted_capture_1": by_method["harm_captured_1"] / by_method["harm"],
        "harm_weighted_capture_5": by_method["harm_captured_5"] / by_method["harm"],
    })
    champions = set(latest.loc[latest["role"].str.contains("champion"), "method"])
    capture["is"] = ["champion" if m in champions else "baseline" for m in capture["method"]]
    capture["role"] = ""
    st.subheader("Harm-weighted capture, all crime types")
    left, right = st.columns(2)
    left.altair_chart(bars(capture, "harm_weighted_capture_1", "Harm captured in the top 1% of cells", None, ".1%"),
                      width="stretch")
    right.altair_chart(bars(capture, "harm_weighted_capture_5", "Harm captured in the top 5% of cells", None, ".1%"),
                       width="stretch")
    st.caption(
        "Share of all crime, each weighted by its severity (a homicide counts more than a theft), that fell in "
        "the cells each method flagged for its crime type. Higher is better; 'champion' is a champion "
        "for at least one crime type."
    )

st.subheader("Champion against the baselines")
table = wide.drop(columns=["is"])
order = [c for c in SUMMARY if c in table.columns]
table = table[["method", "role", *order, *[c for c in table.columns if c not in {"method", "role", *order}]]]
for column in POINTS & set(table.columns):
    table[column] = 100 * table[column]
summary_config = {"role": st.column_config.TextColumn("Role", width="medium")}
for column in order:
    label, fmt = SUMMARY[column]
    summary_config[column] = st.column_config.NumberColumn(label, format=fmt)
data.table(table, hide_index=True, key="method_summary", column_config=summary_config)
st.caption("The gate's columns are its figures for this crime type with every other type at its best "
           "baseline or champion; harm gains are in percentage points.")
data.csv_download(mine, f"backtest_{crime_type}")

if len(gate):
    st.subheader("Who serves each crime type, and why")
    data.table(
        pd.DataFrame({
            "crime type": gate["crime_type"].str.replace("_", " "),
            "serves": gate.apply(served_words, axis=1),
            "best baseline": gate["best_baseline"].map(method_words),
            "decision": gate.apply(gate_in_words, axis=1),
            "the gate's figures": gate["reason"].map(figures_in_words),
        }),
        hide_index=True,
        key="champion_gate",
    )
    for _, row in gate[gate["crime_type"] == crime_type].iterrows():
        st.markdown(f"**{crime_type.replace('_', ' ').capitalize()}:** {gate_in_words(row)} "
                    f"{figures_in_words(row['reason'])}")
    st.caption(
        "The gate serves a candidate (the learned model, the count with related reports, or the model blended "
        "with the best baseline or that count) only when it captures more "
        "severity-weighted crime in the top 1% of cells than the best baseline over the rolling backtests, "
        "and its PAI at 1% is not worse beyond the 90% bootstrap interval over shifts."
    )

history_table = next((t for t in ("forecast.champion_history", "forecast.champions") if data.has(t)), None)
if history_table:
    st.subheader("Champion history")
    history = data.query(f"select * from {history_table} where crime_type = ? limit 500", (crime_type,))
    if "run_id" in history.columns:
        history["mlflow"] = MLFLOW + "/#/runs/" + history["run_id"].astype(str)
    data.table(
        history,
        hide_index=True,
        key="champion_history",
        column_config={"mlflow": st.column_config.LinkColumn("MLflow run")},
    )
