"""Model performance: per crime type, the champion against the baselines on rolling-origin backtests."""

import os

import altair as alt
import streamlit as st

from dashboards import auth, data

auth.guard(__file__)
st.title("Model performance")
MLFLOW = os.environ.get("BEATWISE_MLFLOW_URL", "http://127.0.0.1:5000").rstrip("/")
st.caption(
    f"Backtests per crime type: the champion against the baselines. Runs are in the [MLflow UI]({MLFLOW})."
)
data.require("forecast.backtest_metrics", waiting_on="the forecasting backtests (forecast.backtest_metrics)")

columns = data.columns("forecast.backtest_metrics")
types = data.query("select distinct crime_type from forecast.backtest_metrics order by 1")
crime_type = st.selectbox("Crime type", types["crime_type"], format_func=lambda t: t.replace("_", " "))
metrics = data.query("select * from forecast.backtest_metrics where crime_type = ? limit 2000", (crime_type,))

# A PAI curve needs PAI at several area shares; otherwise compare the fixed 1% and 5% points.
if {"area_share", "pai"} <= set(columns):
    curve = metrics.groupby(["method", "area_share"], as_index=False)["pai"].mean()
    st.altair_chart(
        alt.Chart(curve)
        .mark_line(point=True)
        .encode(
            x=alt.X("area_share:Q", title="share of area flagged", axis=alt.Axis(format="%")),
            y=alt.Y("pai:Q", title="PAI"),
            color=alt.Color("method:N"),
        ),
        width="stretch",
    )
else:
    pai = [c for c in columns if c.startswith("pai")]
    if pai and "method" in columns:
        long = (
            metrics.groupby("method", as_index=False)[pai]
            .mean()
            .melt("method", var_name="area", value_name="PAI")
        )
        st.altair_chart(
            alt.Chart(long)
            .mark_line(point=True)
            .encode(x=alt.X("area:N", title="area flagged"), y="PAI:Q", color="method:N"),
            width="stretch",
        )

summary_cols = [
    c
    for c in (
        "method",
        "model_version",
        "pai_1",
        "pai_5",
        "pai_at_1pct",
        "pai_at_5pct",
        "hit_rate_1",
        "hit_rate_5",
        "hit_rate",
        "pei",
        "harm_weighted_capture",
        "deviance",
        "poisson_deviance",
        "calibration",
    )
    if c in metrics.columns
]
numeric = [c for c in summary_cols if c not in ("method", "model_version")]
if "method" in metrics.columns and numeric:
    st.subheader("Champion against the baselines")
    st.dataframe(
        metrics.groupby("method", as_index=False)[numeric].mean(), hide_index=True, key="method_summary"
    )

history_table = next((t for t in ("forecast.champion_history", "forecast.champions") if data.has(t)), None)
if history_table:
    st.subheader("Champion history")
    history = data.query(f"select * from {history_table} where crime_type = ? limit 500", (crime_type,))
    if "run_id" in history.columns:
        history["mlflow"] = MLFLOW + "/#/runs/" + history["run_id"].astype(str)
    st.dataframe(
        history,
        hide_index=True,
        key="champion_history",
        column_config={"mlflow": st.column_config.LinkColumn("MLflow run")},
    )

st.subheader("Backtest folds")
if "run_id" in metrics.columns:
    metrics["mlflow"] = MLFLOW + "/#/runs/" + metrics["run_id"].astype(str)
st.dataframe(
    metrics,
    hide_index=True,
    key="backtest_table",
    column_config={"mlflow": st.column_config.LinkColumn("MLflow run")},
)
data.csv_download(metrics, f"backtest_{crime_type}")
