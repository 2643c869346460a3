"""A second city, onboarded from one YAML file: config check, run, plan, score and forecast end to end on
the foreign export (no ids, date + hour, named divisions in a GeoPackage, gzip CSV, lon/lat into UTM metres,
no weather or environment feeds). One run builds the home every assertion reads; the forecasting set-up is
lightened in YAML (foreign_fast_config) so the module fits a normal test run."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from beatwise.simulate.files import DETENTION_CENTRE, FOREIGN_DIVISIONS
from tests.onboarding.conftest import FOREIGN_CONFIG, beatwise


def test_config_check_passes_on_the_foreign_export(foreign_env):
    result = beatwise("config", "check", str(FOREIGN_CONFIG), env=foreign_env)
    assert "ok (Harbour City Police Service" in result.stdout
    assert "150.0 m cells in EPSG:32616" in result.stdout
    assert "error" not in result.stderr


@pytest.fixture(scope="module")
def foreign_warehouse(foreign_env, foreign_fast_config) -> Path:
    result = beatwise("run", "--config", str(foreign_fast_config), env=foreign_env, timeout=3000)
    assert "running the main job" in result.stdout  # a real agency's config: no demo, no simulated rows
    return Path(foreign_env["BEATWISE_HOME"]) / "warehouse.duckdb"


def test_run_loads_and_models_the_foreign_city(foreign_warehouse, foreign_data):
    with gzip.open(foreign_data / "occurrences.csv.gz", "rt") as fh:
        exported = pd.read_csv(fh, dtype=str)
    with duckdb.connect(str(foreign_warehouse), read_only=True) as con:
        loaded, quarantined = con.execute(
            "select (select count(*) from raw.incidents), "
            "(select count(*) from raw.quarantine where feed = 'incidents')").fetchall()[0]
        identical = con.execute("select identical_rows from raw.load_log where feed = 'incidents'").fetchall()
        districts = {r[0] for r in con.execute("select district from raw.districts").fetchall()}
        cells = con.execute("select min(x_max - x_min), max(x_max - x_min), min(x_min), max(x_max), "
                            "count(distinct district) from raw.cells").fetchall()[0]
        environment = con.execute("select count(*) from raw.cell_environment where liquor_premises_nearby is not "
                                  "null or residential_share is not null or distance_to_venue_m is not null"
                                  ).fetchall()[0][0]
        types = dict(con.execute("select crime_type, count(*) from intermediate.int_incidents group by 1").fetchall())
        in_custody = con.execute("select count(*) from intermediate.int_incidents where crime_type = 'theft' "
                                 "and location_description = upper(?)", [DETENTION_CENTRE]).fetchall()[0][0]
        custody_rows = con.execute("select count(*) from raw.incidents where location_description = ?",
                                   [DETENTION_CENTRE]).fetchall()[0][0]
        training = con.execute("select count(*) from marts.fct_training_set").fetchall()[0][0]
        incident_districts = {r[0] for r in con.execute("select distinct district from raw.incidents").fetchall()}
    # Every row is one incident (identical rows are distinct by this config): all loaded, ids derived.
    assert loaded + quarantined == len(exported) and quarantined <= len(exported) * 0.01
    assert identical and identical[0][0] is not None
    # Named divisions, never cut to digits; the same names on incidents and polygons.
    assert districts == set(FOREIGN_DIVISIONS) and incident_districts <= districts
    # 150 m cells in UTM metres, projected once at ingest; every cell in a named division.
    assert cells[0] == pytest.approx(150.0) and cells[1] == pytest.approx(150.0)
    assert 300_000 < cells[2] < cells[3] < 800_000 and cells[4] == len(FOREIGN_DIVISIONS)
    # No environment feed: the features are missing, not zero.
    assert environment == 0
    # Thefts in the detention centre are loaded but never modelled.
    assert custody_rows > 10 and in_custody == 0
    assert set(types) - {None} == {"homicide", "aggravated_assault", "robbery", "burglary",
                                   "motor_vehicle_theft", "theft"}
    assert training > 1000


def test_plan_draws_missions_in_named_divisions(foreign_warehouse, foreign_env, foreign_fast_config, tmp_path):
    """The shift after the history, scored by the run: missions per named division, in 150 m cells."""
    out = tmp_path / "plan.json"
    beatwise("plan", "--config", str(foreign_fast_config), "--shift", "2017-01-01 06:00", "--out", str(out),
             env=foreign_env)
    plan = json.loads(out.read_text(encoding="utf-8"))
    missions = plan["missions"]
    assert missions and {m["district"] for m in missions} <= set(FOREIGN_DIVISIONS)
    assert len({m["district"] for m in missions}) > 1


def test_score_scores_a_chosen_shift_for_every_crime_type(foreign_warehouse, foreign_env, foreign_fast_config):
    result = beatwise("score", "--config", str(foreign_fast_config), "--shift", "2017-01-01 14:00", env=foreign_env)
    assert "risk surfaces for the shift 2017-01-01 14:00" in result.stdout
    with duckdb.connect(str(foreign_warehouse), read_only=True) as con:
        scored = dict(con.execute("select crime_type, count(*) from forecast.risk_surfaces "
                                  "where shift_start = '2017-01-01 14:00' group by 1").fetchall())
    assert len(scored) == 6 and len(set(scored.values())) == 1 and min(scored.values()) > 100


def test_forecast_runs_on_the_foreign_city_without_weather_or_environment(foreign_env, foreign_fast_config,
                                                                           tmp_path):
    out = tmp_path / "forecast.parquet"
    beatwise("forecast", "--config", str(foreign_fast_config), "--train-until", "2016-11-30", "--start", "2016-12-01",
             "--end", "2016-12-02", "--method", "kernel_decay", "--out", str(out), env=foreign_env)
    forecast = pd.read_parquet(out)
    assert forecast["shift_start"].nunique() == 6 and forecast["crime_type"].nunique() == 6
    assert forecast["expected_count"].notna().all() and forecast["expected_count"].sum() > 0
    assert (forecast["x_max"] - forecast["x_min"]).eq(150.0).all()
