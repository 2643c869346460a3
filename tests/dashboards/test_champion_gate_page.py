"""The champion gate's decisions reach the Model performance page: published with the serving snapshot and
shown per crime type in one table, in plain words, beside the gate's own figures."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from beatwise import paths
from models.forecasting.surfaces import ensure_tables
from orchestration.defs.publish import publish
from tests.dashboards.conftest import logged_in, open_page

WHEN = pd.Timestamp("2016-12-31 06:00:00")
GATE = pd.DataFrame({
    "evaluated_at": [WHEN, WHEN],
    "crime_type": ["homicide", "robbery"],
    "champion": ["kde", "lightgbm"],
    "best_baseline": ["kde", "recent_mean"],
    "candidate_wins": [False, True],
    "blend_weight": [0.5, 0.75],
    "reason": ["kde serves; lightgbm: harm capture 0.0400 <= kde's 0.0500",
               "lightgbm serves; lightgbm: harm capture 0.0300 -> 0.0400 (+0.0010 .. +0.0200), PAI@1% 8.00 -> 9.00"],
    "first_shift": [WHEN, WHEN],
    "last_shift": [WHEN, WHEN],
})


def metrics() -> pd.DataFrame:
    rows = [(WHEN, t, m, role, metric, value, WHEN, WHEN, 30)
            for t, champion in (("homicide", "kde"), ("robbery", "lightgbm"))
            for m in ("kde", "recent_mean", "lightgbm")
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
        assert published["forecast.champion_gate"] == 2

        at = open_page(logged_in("analyst"), "model_performance")
        shown = next(d.value for d in at.dataframe if "decision" in d.value.columns)
        assert list(shown["crime type"]) == ["homicide", "robbery"]
        assert list(shown["serves"]) == ["kde", "lightgbm"]
        homicide, robbery = shown["decision"]
        assert homicide.startswith("The best baseline (kde) serves: no candidate beat it")
        assert robbery.startswith("lightgbm serves: it captured more harm at 1% than the best baseline (recent mean)")
        assert "harm capture 0.0300 -> 0.0400" in shown["the gate's figures"].iat[1]
