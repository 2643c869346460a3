"""The warehouse path on the embedded sample: real ingest, geography and dbt marts, then training,
gating, MLflow and risk surfaces; and the in-memory features equal the dbt feature mart exactly."""

import json
import os
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from dbt.cli.main import dbtRunner

from beatwise import audit, paths
from beatwise.geography import write_cell_environment, write_cells, write_holidays
from beatwise.ingest import load_feed
from beatwise.ingest.agency_config import load_agency_config
from models.forecasting import tracking
from models.forecasting.champion import ChampionDecision
from models.forecasting.drivers import explain_cells
from models.forecasting.features import feature_names, rows_matrix, shift_matrix
from models.forecasting.pipeline import (
    accuracy_summary,
    load_history,
    score_shift,
    train_and_register,
    tune_settings,
    write_scoring_shifts,
)
from models.forecasting.surfaces import EXPLAINED_PER_DISTRICT

DBT_DIR = Path(__file__).resolve().parents[3] / "dbt_project"
FEEDS = [
    "districts",
    "beats",
    "offence_codes",
    "liquor_premises",
    "land_use",
    "venues",
    "sports_events",
    "weather_daily",
    "incidents",
]


@pytest.fixture(scope="module")
def warehouse(sample_config, beatwise_home) -> Path:
    path = beatwise_home / "forecast_warehouse.duckdb"
    path.unlink(missing_ok=True)
    with duckdb.connect(str(path)) as con:
        load_agency_config(con, sample_config)
        for feed in FEEDS[:-1]:
            load_feed(con, sample_config, feed)
        write_cells(con, sample_config)
        write_cell_environment(con, sample_config)
        write_holidays(con, sample_config)
        load_feed(con, sample_config, "incidents")
    before = os.environ.get("BEATWISE_WAREHOUSE")
    os.environ["BEATWISE_WAREHOUSE"] = str(path)
    try:
        result = dbtRunner().invoke(
            [
                "run",
                "--select",
                "+fct_training_set",
                "+fct_scoring_features",
                "--project-dir",
                str(DBT_DIR),
                "--profiles-dir",
                str(DBT_DIR),
                "--quiet",
                "--vars",
                json.dumps({"negatives_per_crime_type": 3000}),
            ]
        )
        assert result.success, result.exception
    finally:
        os.environ.pop("BEATWISE_WAREHOUSE") if before is None else os.environ.update(
            BEATWISE_WAREHOUSE=before
        )
    return path


def test_in_memory_features_equal_the_dbt_feature_mart(warehouse, sample_config):
    shift = datetime(2016, 7, 4, 22)  # a holiday night, with a game that day
    with duckdb.connect(str(warehouse)) as con:
        history, calendar = load_history(con, sample_config)
        write_scoring_shifts(con, sample_config, shift)
        mart = con.execute("select * from marts.fct_scoring_features").df()
    names = feature_names(sample_config)
    assert set(names) <= set(mart.columns)
    for crime_type in sample_config.modelled_crime_types():
        rows = mart[mart["crime_type"] == crime_type].set_index("cell_id").reindex(history.cells["cell_id"])
        np.testing.assert_allclose(
            shift_matrix(history, sample_config, calendar, crime_type, shift),
            rows[names].to_numpy(dtype=float),
            rtol=1e-9,
            err_msg=crime_type,
        )
    assert mart["n_cell_364d"].sum() > 0 and mart["is_holiday"].all()
    assert mart["n_signal_nbhd_28d"].sum() > 0  # the sample's signal offences reach the features


def test_in_memory_training_rows_equal_the_dbt_training_set(warehouse, sample_config):
    """`rows_matrix` (the gate's backtest and the forecast command train on it) computes every training row
    of fct_training_set exactly, signal offences included."""
    names = feature_names(sample_config)
    with duckdb.connect(str(warehouse)) as con:
        history, calendar = load_history(con, sample_config)
        mart = con.execute("select * from marts.fct_training_set").df()
    position = {cell: i for i, cell in enumerate(history.cells["cell_id"])}
    for crime_type in sample_config.modelled_crime_types():
        rows = mart[mart["crime_type"] == crime_type]
        starts, shift_of_row = np.unique(rows["shift_start"].to_numpy(), return_inverse=True)
        matrix = rows_matrix(history, sample_config, calendar, crime_type,
                             rows["cell_id"].map(position).to_numpy(), list(pd.to_datetime(starts)), shift_of_row)
        np.testing.assert_allclose(matrix, rows[names].to_numpy(dtype=float), rtol=1e-9, err_msg=crime_type)
    assert (mart["incident_count"] > 0).any() and (mart["incident_count"] == 0).any()
    assert mart["n_signal_cell_364d"].sum() > 0


def test_train_gate_register_and_score_the_next_shift(warehouse, small_config):
    config = small_config.model_copy(
        update={"crime_types": {t: small_config.crime_types[t] for t in ("robbery", "homicide")}}
    )
    with duckdb.connect(str(warehouse)) as con:
        backtest, registered = train_and_register(con, config)
        shift = write_scoring_shifts(con, config)
        result = score_shift(con, config)
        surfaces = con.execute("select * from forecast.risk_surfaces").df()
        drivers = con.execute("select * from forecast.risk_drivers").df()
        metrics = con.execute("select count(*) from forecast.backtest_metrics").fetchall()[0][0]
        verification = audit.verify(con)
        summary = accuracy_summary(con)
        scoring = audit.records(con, kind="scoring")
        score_shift(con, config)  # re-running replaces the shift's rows
        assert con.execute("select count(*) from forecast.risk_surfaces").fetchall()[0][0] == len(surfaces)
    assert shift == datetime(2017, 1, 1, 6)  # the first shift after the last incident of 2016
    cells = len(surfaces) // 2
    assert result["rows"] == 2 * cells and set(surfaces["crime_type"]) == {"robbery", "homicide"}
    assert (surfaces["expected_count"] > 0).all() and surfaces["percentile"].between(0, 100).all()
    for t, decision in backtest.decisions.items():
        assert registered[t]["champion"] == decision.champion
        assert tracking.champion(config, t) == (decision.champion, registered[t]["version"])
        assert set(surfaces.loc[surfaces["crime_type"] == t, "method"]) == {decision.champion}
    assert drivers.groupby(["crime_type", "cell_id"]).size().max() <= 3
    assert metrics > 0 and verification.ok
    assert "robbery" in summary and "best baseline" in summary
    payload = json.loads(scoring[-1].payload)
    assert {"input/scoring_features", "output/risk_surfaces", "output/risk_drivers"} <= set(payload["files"])
    assert all(len(f["sha256"]) == 64 for f in payload["files"].values())

    # A model champion scores through the feature mart and explains each cell by its features.
    decision = ChampionDecision("robbery", "lightgbm_poisson", "prior_28d", True, "forced for the test")
    tracking.register_champion(config, decision, registered["robbery"]["model_uris"])
    with duckdb.connect(str(warehouse)) as con:
        scored = score_shift(con, config)
        robbery = con.execute("select * from forecast.risk_surfaces where crime_type = 'robbery'").df()
        explained = con.execute("select * from forecast.risk_drivers where crime_type = 'robbery'").df()
    assert set(robbery["method"]) == {"lightgbm_poisson"} and (robbery["expected_count"] > 0).all()
    assert set(explained["feature"]) <= set(feature_names(small_config))
    assert (explained.groupby("cell_id").size() == 3).all()

    # Scoring explains each district's 100 highest-risk cells (ties included); any other cell on demand.
    with duckdb.connect(str(warehouse)) as con:
        district_of = dict(con.execute("select cell_id, district from marts.dim_cells").fetchall())
    ranked = robbery.assign(district=robbery["cell_id"].map(district_of).fillna(""))
    ranked["rank"] = ranked.groupby("district")["expected_count"].rank(method="min", ascending=False)
    assert set(explained["cell_id"]) == set(ranked.loc[ranked["rank"] <= EXPLAINED_PER_DISTRICT, "cell_id"])
    unexplained_cells = sorted(set(robbery["cell_id"]) - set(explained["cell_id"]))
    assert unexplained_cells, "the sample needs a district with more than 100 cells for this test"
    asked = unexplained_cells[:5]
    with duckdb.connect(str(warehouse)) as con:
        added = explain_cells(con, config, shift, asked + [explained["cell_id"].iat[0]])
        again = explain_cells(con, config, shift, asked)
        on_demand = con.execute(
            "select * from forecast.risk_drivers where crime_type = 'robbery' and list_contains(?, cell_id)", [asked]
        ).df()
        record = audit.records(con, kind="drivers")[-1]
        verification = audit.verify(con)
    assert added == 3 * len(asked) and again == 0 and verification.ok
    assert set(on_demand["cell_id"]) == set(asked) and (on_demand.groupby("cell_id")["rank"].max() == 3).all()
    assert record.data["scoring_seq"] == scored["audit_seq"] and record.data["crime_types"]["robbery"]["cells"] == asked


def test_the_next_training_uses_the_settings_the_tune_job_chose(warehouse, small_config):
    """tune_settings (the `tune` job's op) records its choice; train_and_register then trains with it and the
    audit log's training record names it. The state file is removed afterwards: other tests train on defaults."""
    config = small_config.model_copy(update={"crime_types": {"robbery": small_config.crime_types["robbery"]}})
    grid = ({"rounds": 4, "num_leaves": 3}, {"rounds": 9, "num_leaves": 5})
    state = paths.tuned_settings(config.agency.slug)
    try:
        with duckdb.connect(str(warehouse)) as con:
            tuning = tune_settings(con, config, budget_seconds=3600, folds=2, grid=grid)
            backtest, _ = train_and_register(con, config)
            training = json.loads(audit.records(con, kind="training")[-1].payload)
            tuned = json.loads(audit.records(con, kind="tuning")[-1].payload)
        record = json.loads(state.read_text())
        assert tuning.chosen in grid and record["setting"] == tuning.chosen == tuned["setting"]
        assert record["mlflow_run_id"] and training["tuned"]["setting"] == tuning.chosen
        model = next(f for f in backtest.fitted["robbery"] if f.method == "lightgbm_poisson")
        assert model.booster.num_trees() == tuning.chosen["rounds"]
        assert model.lgb_params["num_leaves"] == tuning.chosen["num_leaves"]
    finally:
        state.unlink(missing_ok=True)
