"""The champion gate's decisions reach the Model performance page: published with the serving snapshot and
shown per crime type in one table, in plain words, beside the gate's own figures."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from beatwise import paths
from models.forecasting.surfaces import ensure_tables
from orchestration.defs.publish import publish
from tests.dashboards.conftest import charts, logged_in, open_page

WHEN = pd.Timestamp("2016-12-31 06:00:00")
GATE = pd.DataFrame({
    "evaluated_at": [WHEN] * 3,
    "crime_type": ["homicide", "robbery", "theft"],
    "champion": ["kde", "lightgbm", "blend"],
    "best_baseline": ["kde", "recent_mean", "prior_364d"],
    "candidate_wins": [False, True, True],
    "blend_weight": [0.5, 0.75, 0.75],
    "reason": ["kde serves; lightgbm: harm capture 0.0400 <= kde's 0.0500",
               "lightgbm serves; lightgbm: harm capture 0.0300 -> 0.0400 (+0.0010 .. +0.0200), PAI@1% 8.00 -> 9.00",
               # a blend whose partner is the augmented count, not the best baseline
               "blend serves; lightgbm_poisson: harm capture 0.0300 <= prior_364d's 0.0310; "
               "blend (0.75 x lightgbm_poisson + 0.25 x augmented_count): harm capture 0.0310 -> 0.0420 "
               "(+0.0020 .. +0.0150), PAI@1% 6.00 -> 6.50"],
    "first_shift": [WHEN] * 3,
    "last_shift": [WHEN] * 3,
})


def metrics() -> pd.DataFrame:
    methods = {"homicide": ("kde", "recent_mean", "lightgbm"), "robbery": ("kde", "recent_mean", "lightgbm"),
               "theft": ("prior_364d", "lightgbm_poisson", "augmented_count", "blend")}
    rows = [(WHEN, t, m, role, metric, value, WHEN, WHEN, 30)
            for t, champion in (("homicide", "kde"), ("robbery", "lightgbm"), ("theft", "blend"))
            for m in methods[t]
            for role in ["champion" if m == champion else ""]
            for metric, value in (("pai_1", 5.0), ("crimes", 10.0), ("harm_captured_1", 1.0), ("harm_captured_5", 2.0))]
    return pd.DataFrame(rows, columns=["evaluated_at", "crime_type", "method", "role", "metric", "value",
                                       "first_shift", "last_shift", "shifts"])


def test_the_gate_is_published_and_each_types_decision_shown_in_words(tmp_path: Path) -> None:
    with paths.using_home(tmp_path):
        con = duckdb.connect(str(paths.warehouse_path()))
        try:
            ensure_tables(con)
            gate, long = GATE, metrics()  # noqa: F841 (read by DuckDB's replacement scan)
            con.execute("insert into forecast.champion_gate by name select * from gate")
            con.execute("insert into forecast.backtest_metrics by name select * from long")
            published = publish(con)
        finally:
            con.close()
        assert published["forecast.champion_gate"] == 3

        at = open_page(logged_in("analyst"), "model_performance")
        shown = next(d.value for d in at.dataframe if "decision" in d.value.columns)
        assert list(shown["crime type"]) == ["homicide", "robbery", "theft"]
        blend = "a blend of 75% learned model (LightGBM) and 25% count of the last 364 days with related reports"
        assert list(shown["serves"]) == ["kde", "lightgbm", blend]
        homicide, robbery, theft = shown["decision"]
        assert homicide.startswith("The best baseline (kde) serves: no candidate beat it")
        assert robbery.startswith("Lightgbm serves: it captured more harm at 1% than the best baseline (recent mean)")
        assert theft.startswith("A blend of 75% learned model (LightGBM) and 25% count of the last 364 days with "
                                "related reports serves: it captured more harm at 1% than the best baseline "
                                "(count of the last 364 days)")
        figures = list(shown["the gate's figures"])
        assert figures[0] == "Lightgbm captured 4.00% of the harm at 1%, not more than kde (5.00%)."
        assert figures[1] == ("Lightgbm captured 4.00% of the harm at 1% against 3.00% (90% interval of the gain: "
                              "+0.10 to +2.00 points); its PAI at 1% was 9.00 against the baseline's 8.00.")
        assert figures[2].startswith("Learned model (LightGBM) captured 3.00% of the harm at 1%, not more than "
                                     f"count of the last 364 days (3.10%). {blend[0].upper()}{blend[1:]} captured "
                                     "4.20% of the harm at 1% against 3.10%")
        assert not any(code in " ".join(figures) for code in ("_", "PAI@", "0.0", "->", "<="))

        # Theft's charts name its blend with what it mixes, and call the champion so.
        at.selectbox[0].select("theft").run()
        assert not at.exception
        assert f"**Champion for theft:** {blend}" in " ".join(m.value for m in at.markdown)
        drawn = {m for _, frame in charts(at) for m in frame.get("method", [])}
        assert blend in drawn and "blend" not in drawn
        assert any(m.value.startswith("**Theft:** A blend of 75%") for m in at.markdown)
