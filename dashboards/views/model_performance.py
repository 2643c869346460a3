"""Model performance: per crime type, the champion against every baseline on rolling-origin backtests.

`forecast.backtest_metrics` is long (one row per crime type, method, metric): read it so, and draw each
metric as bars per method with the champion marked.
"""

import os

import altair as alt
import pandas as pd
import streamlit as st

from dashboards import auth, data
from models.forecasting.explain import method_words

auth.guard(__file__)
st.title("Model performance")
MLFLOW = os.environ.get("BEATWISE_MLFLOW_URL", "http://127.0.0.1:5000").rstrip("/")
st.caption(
    f"Backtests per crime type: the champion against every baseline. Runs are in the [MLflow UI]({MLFLOW})."
)
data.require("forecast.backtest_metrics", waiting_on="the forecasting backtests (forecast.backtest_metrics)")

# metric -> (title, what it means in one line, the best value)
METRICS = {
    "pai_1": ("PAI at 1% of the area", "Share of crime in the top 1% of cells, divided by 1%: 20 means 20 "
              "times the crime of an average cell. Higher is better.", None),
    "pai_5": ("PAI at 5% of the area", "The same for the top 5% of cells. Higher is better.", None),
    "hit_rate_1": ("Hit rate at 1%", "Share of the shift's crimes that fell in the top 1% of cells. "
                   "Higher is better.", None),
    "hit_rate_5": ("Hit rate at 5%", "Share of the shift's crimes that fell in the top 5% of cells. "
                   "Higher is better.", None),
    "calibration": ("Calibration", "Crimes forecast over crimes that happened: 1 is right, above 1 "
                    "forecasts too many, below too few.", 1.0),
}

latest = data.query(
    """select crime_type, method, role, metric, value from forecast.backtest_metrics
       where evaluated_at = (select max(evaluated_at) from forecast.backtest_metrics)"""
)
latest["role"] = latest["role"].fillna("")
latest["method"] = latest["method"].map(method_words)
types = sorted(latest["crime_type"].unique())
crime_type = st.selectbox("Crime type", types, format_func=lambda t: t.replace("_", " "))
mine = latest[latest["crime_type"] == crime_type]
wide = mine.pivot_table(index=["method", "role"], columns="metric", values="value", aggfunc="mean").reset_index()
wide["is"] = ["champion" if "champion" in r else "baseline" for r in wide["role"]]
champion = wide.loc[wide["is"] == "champion", "method"]
shifts = data.scalar("select max(shifts) from forecast.backtest_metrics")
st.markdown(
    f"**Champion for {crime_type.replace('_', ' ')}:** {champion.iat[0] if len(champion) else 'none'}"
    f" · compared on {shifts or '?'} backtest shifts."
)


def bars(frame: pd.DataFrame, metric: str, title: str, best: float | None) -> alt.Chart:
    chart = (
        alt.Chart(frame, title=title)
        .mark_bar()
        .encode(
            x=alt.X(f"{metric}:Q", title=None),
            y=alt.Y("method:N", sort="-x", title=None, axis=alt.Axis(labelLimit=260)),
            color=alt.Color("is:N", scale=alt.Scale(domain=["champion", "baseline"], range=["#c62828", "#90a4ae"]),
                            legend=alt.Legend(title=None, orient="bottom")),
            tooltip=["method", "role", alt.Tooltip(f"{metric}:Q", format=".3f")],
        )
        .properties(height={"step": 22})
    )
    if best is not None:
        chart = chart + alt.Chart(pd.DataFrame({"best": [best]})).mark_rule(strokeDash=[4, 3]).encode(x="best:Q")
    return chart


shown = [m for m in METRICS if m in wide.columns]
columns = st.columns(2)
for i, metric in enumerate(shown):
    title, meaning, best = METRICS[metric]
    with columns[i % 2]:
        st.altair_chart(bars(wide[["method", "role", "is", metric]].dropna(), metric, title, best), width="stretch")
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
    left.altair_chart(bars(capture, "harm_weighted_capture_1", "Harm captured in the top 1% of cells", None),
                      width="stretch")
    right.altair_chart(bars(capture, "harm_weighted_capture_5", "Harm captured in the top 5% of cells", None),
                       width="stretch")
    st.caption(
        "Share of all crime, each weighted by its severity (a homicide counts more than a theft), that fell in "
        "the cells each method flagged for its crime type. Higher is better; 'champion' is a champion "
        "for at least one crime type."
    )

st.subheader("Champion against the baselines")
table = wide.drop(columns=["is"])
data.table(table, hide_index=True, key="method_summary",
           column_config={"role": st.column_config.TextColumn("Role", width="medium")})
data.csv_download(mine, f"backtest_{crime_type}")



def gate_in_words(row: pd.Series) -> str:
    """The gate's decision for one crime type as a sentence."""
    baseline = method_words(row["best_baseline"])
    if not row["candidate_wins"]:
        return f"The best baseline ({baseline}) serves: no candidate beat it on harm-weighted capture at 1%."
    served = method_words(row["champion"])
    mixed = f", mixed with {baseline} at weight {row['blend_weight']:.2f}" if "blend" in str(row["champion"]) else ""
    return (f"{served}{mixed} serves: it captured more harm at 1% than the best baseline ({baseline}), "
            "and its PAI at 1% was not below the baseline's beyond the 90% interval.")


if data.has("forecast.champion_gate"):
    gate = data.query(
        """select crime_type, champion, best_baseline, candidate_wins, blend_weight, reason
           from forecast.champion_gate
           where evaluated_at = (select max(evaluated_at) from forecast.champion_gate) order by crime_type"""
    )
    st.subheader("Who serves each crime type, and why")
    data.table(
        pd.DataFrame({
            "crime type": gate["crime_type"].str.replace("_", " "),
            "serves": gate["champion"].map(method_words),
            "best baseline": gate["best_baseline"].map(method_words),
            "decision": gate.apply(gate_in_words, axis=1),
            "the gate's figures": gate["reason"],
        }),
        hide_index=True,
        key="champion_gate",
    )
    st.caption(
        "The gate serves a model (or a blend of the model and the best baseline) only when it captures more "
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
