"""The forecasting steps the pipeline runs against the warehouse: train and gate, then score a shift.

- `train_and_register`: the candidate models train on `marts.fct_training_set` (the feature mart, with
  its sampling weights) up to the backtest origin; every method is scored on the backtest shifts; each
  run goes to MLflow; the champion gate moves the `champion` alias; `forecast.backtest_metrics` gets
  the table.
- `score_shift`: the champion of each crime type scores every cell for one shift (models through
  `marts.fct_scoring_features` after writing `raw.scoring_shifts`; baselines from the event history),
  into `forecast.risk_surfaces` and `forecast.risk_drivers`, with inputs and outputs kept and audited.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta

import duckdb
import mlflow
import pandas as pd

from beatwise import audit
from beatwise.config.schema import AgencyConfig
from models.forecasting import tracking
from models.forecasting.baselines import Forecaster, ScoreBaseline, baselines_for
from models.forecasting.cells import cells_from_warehouse
from models.forecasting.champion import CANDIDATE
from models.forecasting.evaluate import Backtest, gate_reasons, run_backtest
from models.forecasting.events import read_warehouse_events
from models.forecasting.features import Calendar, feature_names, load_calendar
from models.forecasting.gbm import GradientBoostedPoisson, training_window
from models.forecasting.history import EventHistory, to_minutes
from models.forecasting.shifts import next_shift
from models.forecasting.surfaces import (
    explained_cells,
    keep_scoring_run,
    replace_rows,
    risk_drivers,
    risk_surface,
    surface_frame,
    top_drivers,
)
from models.forecasting.tuning import GRID, save_choice, serving_settings, tune, tuned_record


def load_history(con: duckdb.DuckDBPyConnection, config: AgencyConfig) -> tuple[EventHistory, Calendar]:
    return EventHistory(read_warehouse_events(con, signal=True), cells_from_warehouse(con)), load_calendar(config)


def last_data_day(history: EventHistory, config: AgencyConfig) -> date:
    last = pd.Timestamp(history.span()[1], unit="m").date()
    return min(last, config.history_end) if config.history_end else last


def mart_training_frame(
    con: duckdb.DuckDBPyConnection, config: AgencyConfig, crime_type: str, first: date, last: date
) -> pd.DataFrame:
    """Training rows of one crime type from `marts.fct_training_set`, shifts within [first, last]."""
    names = feature_names(config)
    columns = ", ".join(f"cast({c} as double) as {c}" for c in names)
    frame = con.execute(
        f"""select {columns}, cast(incident_count as double) as incident_count,
                   cast(sample_weight as double) as sample_weight
            from marts.fct_training_set
            where crime_type = ? and shift_start >= ? and shift_start < ?
            order by shift_start, cell_id""",
        [crime_type, first, last + timedelta(days=1)],
    ).df()
    if frame.empty:
        raise ValueError(f"marts.fct_training_set has no {crime_type} rows between {first} and {last}")
    return frame


def mart_trainer(con, config: AgencyConfig, history: EventHistory, calendar: Calendar, settings: dict | None = None):
    def train(crime_types: Sequence[str], train_until: date) -> dict[str, GradientBoostedPoisson]:
        first, last = training_window(history, config, train_until)
        return {
            t: GradientBoostedPoisson(t, calendar, config.forecasting.seed, settings=settings).fit_frame(
                mart_training_frame(con, config, t, first, last), config, keep_frame=True
            )
            for t in crime_types
        }

    return train


def write_backtest_metrics(con: duckdb.DuckDBPyConnection, backtest: Backtest) -> pd.DataFrame:
    table = backtest.table()
    metric_columns = [c for c in table.columns if c not in ("crime_type", "method", "role")]
    long = table.melt(
        id_vars=["crime_type", "method", "role"],
        value_vars=metric_columns,
        var_name="metric",
        value_name="value",
    )
    long["evaluated_at"] = pd.Timestamp(datetime.now().replace(microsecond=0))
    long["first_shift"] = pd.Timestamp(backtest.shifts[0])
    long["last_shift"] = pd.Timestamp(backtest.shifts[-1])
    long["shifts"] = len(backtest.shifts)
    replace_rows(con, "forecast.backtest_metrics", long, ["first_shift", "last_shift"])
    reasons = gate_reasons(backtest).assign(
        evaluated_at=long["evaluated_at"].iloc[0], first_shift=long["first_shift"].iloc[0],
        last_shift=long["last_shift"].iloc[0])
    replace_rows(con, "forecast.champion_gate", reasons, ["first_shift", "last_shift"])
    return long


def train_and_register(
    con: duckdb.DuckDBPyConnection, config: AgencyConfig, trainer=None
) -> tuple[Backtest, dict[str, dict]]:
    """Backtest every method over the config's backtest window, log to MLflow, gate the champions; the
    models train with the settings the agency's last tuning chose (tuning.serving_settings)."""
    config, settings = serving_settings(config)
    history, calendar = load_history(con, config)
    end = last_data_day(history, config)
    origin = end - timedelta(days=config.forecasting.backtest_days - 1)
    crime_types = [t for t in config.modelled_crime_types() if t in history.crime_types]
    trainer = trainer or mart_trainer(con, config, history, calendar, settings)
    backtest = run_backtest(
        history, config, crime_types, [origin], end, trainer, config.forecasting.backtest_every_days,
        blend=False,  # the registry serves single forecasters: a blend is weighed in the bench and the command
    )
    write_backtest_metrics(con, backtest)
    tracking.use_experiment(config)
    train_until = origin - timedelta(days=1)
    registered = {}
    for t in crime_types:
        uris, runs = {}, {}
        for forecaster in backtest.fitted[t]:
            runs[forecaster.method], uris[forecaster.method] = tracking.log_method(
                config, t, forecaster, backtest, train_until, getattr(forecaster, "training_frame", None),
                data_until=end,  # the gate's window runs to the last day, though it scores every N-th day
            )
        registered[t] = {
            **tracking.register_champion(config, backtest.decisions[t], uris),
            "model_uris": uris,
            "runs": runs,
        }
    record = training_record(config, registered)
    record["tuned"] = tuned_record(config) or {"setting": {}, "note": "never tuned: the defaults"}
    audit.append(con, "training", "forecast", tracking.experiment_name(config), record)
    return backtest, registered


def rolling_origins(end: date, days: int, folds: int) -> list[date]:
    """The first days of `folds` consecutive folds covering the last `days` days up to `end`."""
    first = end - timedelta(days=days - 1)
    return [first + timedelta(days=i * days // folds) for i in range(folds)]


def tune_settings(con: duckdb.DuckDBPyConnection, config: AgencyConfig, budget_seconds: float, folds: int = 2,
                  grid: Sequence[dict] = GRID):
    """The tuning search (models/forecasting/tuning.py) on the warehouse's history, over rolling folds; the
    choice is recorded (MLflow, the agency's state file) for the next training, and in the audit log."""
    history, calendar = load_history(con, config)
    end = last_data_day(history, config)
    crime_types = [t for t in config.modelled_crime_types() if t in history.crime_types]
    origins = rolling_origins(end, config.forecasting.backtest_days, folds)
    tuning = tune(history, config, calendar, crime_types, origins, end, grid, budget_seconds=budget_seconds)
    record = save_choice(config, tuning)
    audit.append(con, "tuning", "forecast", tracking.experiment_name(config), record)
    return tuning


def training_record(config: AgencyConfig, registered: Mapping[str, dict]) -> dict:
    """What the audit chain keeps of a training: per crime type the champion, its model's digest, and the
    digest and content address of the candidate's training data."""
    client = mlflow.MlflowClient()
    out = {"config_sha256": audit.config_digest(config), "crime_types": {}}
    for t, reg in registered.items():
        tags = client.get_run(reg["runs"][CANDIDATE]).data.tags if CANDIDATE in reg["runs"] else {}
        out["crime_types"][t] = {
            "champion": reg["champion"],
            "registered_model": reg["registered_model"],
            "version": reg["version"],
            "model_sha256": reg["model_sha256"],
            "mlflow_runs": reg["runs"],
            "training_data_sha256": tags.get("training_data_sha256", ""),
            "training_data_address": tags.get("training_data_address", ""),
        }
    return out


def champion_forecasters(
    config: AgencyConfig, calendar: Calendar, crime_types: Sequence[str]
) -> dict[str, tuple[Forecaster, str]]:
    """Each crime type's champion from the registry (rebuilt as a forecaster) and its version."""
    mlflow.set_tracking_uri(tracking.tracking_uri())
    out = {}
    for t in crime_types:
        method, version = tracking.champion(config, t)
        uri = f"models:/{tracking.registered_name(config, t)}/{version}"
        if method == GradientBoostedPoisson.method:
            model = GradientBoostedPoisson(t, calendar, config.forecasting.seed)
            model.booster = mlflow.lightgbm.load_model(uri)
            model.features = model.booster.feature_name()
            model._config = config
            names = feature_names(config)
            model._columns = [names.index(f) for f in model.features]
            out[t] = (model, version)
        else:
            # The model's pip requirements are not compared with every installed package (0.6 s a shift):
            # the environment is the lock file's, and the audit log has the model's sha256.
            stored = mlflow.pyfunc.load_model(uri, suppress_warnings=True).unwrap_python_model()
            baseline = next(b for b in baselines_for(t, config) if b.method == method)
            baseline.alpha, baseline.beta, baseline._config = stored.alpha, stored.beta, config
            out[t] = (baseline, version)
    return out


def write_scoring_shifts(
    con: duckdb.DuckDBPyConnection, config: AgencyConfig, shift_start: datetime | None = None
) -> datetime:
    """Set `raw.scoring_shifts` to the shift to score (default: the first after the last incident)."""
    if shift_start is None:
        # raw.incidents, not the dbt models: the scoring shift is an input of the dbt scoring view.
        last = con.execute("select max(occurred_at) from raw.incidents").fetchall()[0][0]
        if last is None:
            raise ValueError("raw.incidents is empty: nothing to forecast from")
        end = pd.Timestamp(last).to_pydatetime()
        if config.history_end:
            end = min(end, datetime.combine(config.history_end, datetime.max.time()))
        shift_start = next_shift(config, end)
    con.execute("create schema if not exists raw")
    con.execute("create table if not exists raw.scoring_shifts (shift_start timestamp)")
    con.execute("delete from raw.scoring_shifts")
    con.execute("insert into raw.scoring_shifts values (?)", [shift_start])
    return shift_start


class LookAheadError(ValueError):
    """A shift to score that the registered champions have already seen."""


def refuse_look_ahead(config: AgencyConfig, crime_types: Sequence[str], shift_start: datetime) -> None:
    """Raise LookAheadError if a champion was trained or gated on incidents on or after the shift's day:
    its risk surface would use the future of that shift."""
    for t in crime_types:
        version, data_until = tracking.champion_data_until(config, t)
        if data_until is not None and shift_start < datetime.combine(data_until + timedelta(days=1),
                                                                     datetime.min.time()):
            raise LookAheadError(
                f"the {t} champion (model version {version}) was trained and gated on incidents up to "
                f"{data_until}: scoring the shift {shift_start:%Y-%m-%d %H:%M} with it would look ahead. "
                f"Score a shift after {data_until}, or forecast a past shift from a model trained before it: "
                f"beatwise forecast --train-until <the day before> --start {shift_start:%Y-%m-%d} ..."
            )


def score_shift(con: duckdb.DuckDBPyConnection, config: AgencyConfig) -> dict:
    """Risk surfaces and drivers of every crime type for the shift in `raw.scoring_shifts`."""
    shifts = [row[0] for row in con.execute("select shift_start from raw.scoring_shifts").fetchall()]
    if len(shifts) != 1:
        raise ValueError(f"raw.scoring_shifts must hold exactly one shift to score, not {len(shifts)}")
    shift_start = pd.Timestamp(shifts[0]).to_pydatetime()
    config = serving_settings(config)[0]  # the feature windows the champions were trained on
    history, calendar = load_history(con, config)
    crime_types = [t for t in config.modelled_crime_types() if t in history.crime_types]
    refuse_look_ahead(config, crime_types, shift_start)
    champions = champion_forecasters(config, calendar, crime_types)
    mart = con.execute("select * from marts.fct_scoring_features order by crime_type, cell_id").df()
    surfaces, drivers, inputs = [], [], {"scoring_features": mart}
    for t, (forecaster, version) in champions.items():
        if isinstance(forecaster, GradientBoostedPoisson):
            rows = mart[mart["crime_type"] == t].set_index("cell_id").reindex(history.cells["cell_id"])
            if rows[forecaster.features].isna().all(axis=1).any():
                raise ValueError(
                    f"marts.fct_scoring_features lacks cells of the jurisdiction for {t} at {shift_start}"
                )
            expected = forecaster.booster.predict(rows[forecaster.features].to_numpy(dtype=float))
            cell_ids = history.cells["cell_id"].to_numpy()
            surface = surface_frame(t, cell_ids, shift_start, expected, forecaster.method, version)
            # TreeSHAP costs seconds per type on a city: only the cells someone reads are explained now.
            explained = explained_cells(expected, history.cells["district"].to_numpy())
            contributions = forecaster.contributions(rows.iloc[explained].reset_index())
            drivers.append(top_drivers(t, cell_ids[explained], shift_start, contributions, forecaster.features))
        else:
            surface = risk_surface(forecaster, history, shift_start, version)
            drivers.append(risk_drivers(forecaster, history, shift_start))
            if isinstance(forecaster, ScoreBaseline):
                inputs[f"{t}_baseline_score"] = pd.DataFrame(
                    {
                        "cell_id": history.cells["cell_id"],
                        "score": forecaster.score(history, to_minutes(shift_start))[history.cell_index],
                    }
                )
        surfaces.append(surface)
    all_surfaces = pd.concat(surfaces, ignore_index=True)
    all_drivers = pd.concat(drivers, ignore_index=True)
    replace_rows(con, "forecast.risk_surfaces", all_surfaces, ["shift_start"])
    replace_rows(con, "forecast.risk_drivers", all_drivers, ["shift_start"])
    kept = keep_scoring_run(
        con,
        shift_start,
        inputs,
        {"risk_surfaces": all_surfaces, "risk_drivers": all_drivers},
        {
            t: {
                "method": f.method,
                "version": v,
                "model_sha256": tracking.version_tags(config, t, v).get("model_sha256", ""),
            }
            for t, (f, v) in champions.items()
        },
    )
    return {
        "shift_start": shift_start,
        "cells": len(history.cells),
        "rows": len(all_surfaces),
        "champions": {t: f.method for t, (f, _) in champions.items()},
        "audit_seq": kept["audit_seq"],
    }


def accuracy_summary(con: duckdb.DuckDBPyConnection) -> str:
    """The latest backtest's champion against the best baseline per crime type, as text (for `make run`)."""
    metrics = con.execute("""
        select crime_type, method, role, metric, value from forecast.backtest_metrics
        where evaluated_at = (select max(evaluated_at) from forecast.backtest_metrics) and role <> ''
    """).df()
    if metrics.empty:
        return "no backtest yet: materialize forecast/models"
    wide = metrics.pivot_table(
        index=["crime_type", "role", "method"], columns="metric", values="value"
    ).reset_index()
    columns = [
        "crime_type",
        "role",
        "method",
        "pai_1",
        "pai_5",
        "hit_rate_1",
        "harm_captured_1",
        "deviance",
        "calibration",
    ]
    with pd.option_context("display.width", 160, "display.precision", 4):
        return (
            wide[columns].sort_values(["crime_type", "role"], ascending=[True, False]).to_string(index=False)
        )
