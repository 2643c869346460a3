"""Calls for service and gunfire detections as features, on the synthetic city (which has both feeds).

The warehouse path (ingest, int_feed_signals, the feature marts) and the in-memory path (rows_matrix,
shift_matrix) give the same values; an agency without the feeds has no such columns; and the detections
improve the backtest of the crime types that share their places (the simulator's hotspots).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from dbt.cli.main import dbtRunner

from beatwise.config import load_config
from beatwise.geography import write_cell_environment, write_cells, write_holidays
from beatwise.ingest import load_feed
from beatwise.ingest.agency_config import load_agency_config
from beatwise.simulate import CityPlan, simulate_city
from models.forecasting.cells import cells_from_files
from models.forecasting.evaluate import run_backtest
from models.forecasting.events import read_incident_files
from models.forecasting.features import feature_names, load_calendar, rows_matrix, shift_matrix, signal_feeds
from models.forecasting.gbm import fit_models
from models.forecasting.history import FEED_SIGNALS, EventHistory
from models.forecasting.pipeline import load_history, write_scoring_shifts
from orchestration.defs.dbt import dbt_vars

ROOT = Path(__file__).resolve().parents[3]
DBT_DIR = ROOT / "dbt_project"
SMALL = CityPlan(districts_x=2, districts_y=1, district_cells=10)  # 200 cells


@pytest.fixture(scope="module")
def synthetic_env(tmp_path_factory) -> Iterator[Path]:
    data = tmp_path_factory.mktemp("synthetic_signals")
    simulate_city(data, 6_000, date(2015, 1, 1), date(2017, 1, 1), seed=2, plan=SMALL)
    before = os.environ.get("BEATWISE_SYNTHETIC_DATA")
    os.environ["BEATWISE_SYNTHETIC_DATA"] = str(data)
    yield data
    # A later test may have pointed it elsewhere or removed it: restore what was there before this module.
    os.environ.pop("BEATWISE_SYNTHETIC_DATA", None)
    if before is not None:
        os.environ["BEATWISE_SYNTHETIC_DATA"] = before


@pytest.fixture(scope="module")
def synthetic_config(synthetic_env):
    config = load_config(ROOT / "config" / "synthetic.yaml")
    forecasting = config.forecasting.model_copy(update={"negatives_per_crime_type": 2000})
    return config.model_copy(update={"forecasting": forecasting})


@pytest.fixture(scope="module")
def synthetic_warehouse(synthetic_config, beatwise_home) -> Path:
    path = beatwise_home / "synthetic_signals.duckdb"
    path.unlink(missing_ok=True)
    located = ("incidents", "calls_for_service", "gunfire_detections")  # need the cells to be placed
    with duckdb.connect(str(path)) as con:
        load_agency_config(con, synthetic_config)
        for feed in synthetic_config.feeds:
            if feed not in located:
                load_feed(con, synthetic_config, feed)
        write_cells(con, synthetic_config)
        write_cell_environment(con, synthetic_config)
        write_holidays(con, synthetic_config)
        for feed in located:
            assert load_feed(con, synthetic_config, feed).total("rows_inserted") > 0, feed
    before = os.environ.get("BEATWISE_WAREHOUSE")
    os.environ["BEATWISE_WAREHOUSE"] = str(path)
    try:
        result = dbtRunner().invoke([
            "run", "--select", "+fct_training_set", "+fct_scoring_features",
            "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR), "--quiet",
            "--vars", json.dumps(dbt_vars(synthetic_config)),
        ])
        assert result.success, result.exception
    finally:
        os.environ.pop("BEATWISE_WAREHOUSE") if before is None else os.environ.update(BEATWISE_WAREHOUSE=before)
    return path


def test_the_feeds_are_features_only_where_the_agency_has_them(synthetic_config, sample_config):
    assert signal_feeds(synthetic_config) == ["calls_for_service", "gunfire_detections"]
    names = feature_names(synthetic_config)
    assert {"n_calls_cell_7d", "n_calls_nbhd_364d", "n_detections_cell_28d", "n_detections_nbhd_91d"} <= set(names)
    # Chicago declares both feeds' layouts but lists no files: no columns for them.
    assert signal_feeds(sample_config) == []
    assert not [n for n in feature_names(sample_config) if n.startswith(("n_calls", "n_detections"))]


def test_in_memory_features_equal_the_marts_with_calls_and_detections(synthetic_warehouse, synthetic_config):
    """rows_matrix equals fct_training_set and shift_matrix equals fct_scoring_features, feed counts included."""
    config = synthetic_config
    names = feature_names(config)
    with duckdb.connect(str(synthetic_warehouse)) as con:
        history, calendar = load_history(con, config)
        training = con.execute("select * from marts.fct_training_set").df()
        write_scoring_shifts(con, config, datetime(2016, 7, 4, 22))
        scoring = con.execute("select * from marts.fct_scoring_features").df()
    position = {cell: i for i, cell in enumerate(history.cells["cell_id"])}
    types = [t for t in config.modelled_crime_types() if t in history.crime_types]
    assert len(types) >= 5 and "gunfire" in types  # the gunfire crime type's events are the detections
    for crime_type in types:
        rows = training[training["crime_type"] == crime_type]
        starts, shift_of_row = np.unique(rows["shift_start"].to_numpy(), return_inverse=True)
        matrix = rows_matrix(history, config, calendar, crime_type, rows["cell_id"].map(position).to_numpy(),
                             list(pd.to_datetime(starts)), shift_of_row)
        np.testing.assert_allclose(matrix, rows[names].to_numpy(dtype=float), rtol=1e-9, err_msg=crime_type)
        cells = scoring[scoring["crime_type"] == crime_type].set_index("cell_id").reindex(history.cells["cell_id"])
        np.testing.assert_allclose(shift_matrix(history, config, calendar, crime_type, datetime(2016, 7, 4, 22)),
                                   cells[names].to_numpy(dtype=float), rtol=1e-9, err_msg=crime_type)
    for column in ("n_calls_cell_364d", "n_calls_nbhd_7d", "n_detections_cell_364d", "n_detections_nbhd_28d"):
        assert training[column].sum() > 0 and scoring[column].sum() > 0, column


INFORMED = ["homicide", "aggravated_assault", "robbery"]  # the types that share the shots' hotspots


def _backtest(config, events, cells, calendar):
    history = EventHistory(events, cells, crime_types=INFORMED)
    return run_backtest(
        history, config, INFORMED, [date(2016, 7, 1)], date(2016, 12, 31),
        trainer=lambda types, until: fit_models(history, config, calendar, types, until, config.forecasting.seed),
        every_days=2, blend=False)


def test_gunfire_detections_improve_the_forecast_of_the_types_they_inform(tmp_path_factory, monkeypatch):
    """The same backtest (train to June 2016, score July-December) with and without the detections as
    features, on a synthetic city of 40,000 incidents; the effect size per type is printed."""
    data = tmp_path_factory.mktemp("synthetic_effect")
    simulate_city(data, 40_000, date(2015, 1, 1), date(2017, 1, 1), seed=1)
    monkeypatch.setenv("BEATWISE_SYNTHETIC_DATA", str(data))
    config = load_config(ROOT / "config" / "synthetic.yaml")
    forecasting = config.forecasting.model_copy(update={"negatives_per_crime_type": 20_000,
                                                        "train_start": date(2016, 1, 1)})
    with_detections = config.model_copy(update={
        "forecasting": forecasting, "feeds": {k: v for k, v in config.feeds.items() if k != "calls_for_service"}})
    without = with_detections.model_copy(update={
        "feeds": {k: v for k, v in with_detections.feeds.items() if k != "gunfire_detections"}})
    events = read_incident_files(with_detections, signal=True)
    cells, calendar = cells_from_files(config), load_calendar(config)
    # Without the feed, neither its features nor the gunfire crime type (its events are the detections).
    shots = events["crime_type"].isin([FEED_SIGNALS["gunfire_detections"], "gunfire"])
    assert (events["crime_type"] == "gunfire").sum() > 1000
    base = _backtest(without, events[~shots], cells, calendar)
    informed = _backtest(with_detections, events, cells, calendar)
    model = "lightgbm_poisson"
    print("\ntype: Poisson deviance without -> with detections (change); PAI at 5%; PAI at 1%")
    for t in INFORMED:
        a, b = base.metrics[t][model], informed.metrics[t][model]
        print(f"  {t}: {a['deviance']:.6f} -> {b['deviance']:.6f} ({b['deviance'] / a['deviance'] - 1:+.2%}); "
              f"{a['pai_5']:.2f} -> {b['pai_5']:.2f}; {a['pai_1']:.2f} -> {b['pai_1']:.2f}")
    print(f"  harm-weighted capture at 1% of the models: {base.harm_capture[model]['1']:.4f} -> "
          f"{informed.harm_capture[model]['1']:.4f}")
    # Deviance (every cell-shift) is the stable measure on a half-year; PAI at 1% moves with a few cells.
    for t in INFORMED:
        assert informed.metrics[t][model]["deviance"] < base.metrics[t][model]["deviance"], t
    assert sum(informed.metrics[t][model]["pai_5"] for t in INFORMED) > sum(
        base.metrics[t][model]["pai_5"] for t in INFORMED)
