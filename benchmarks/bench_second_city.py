"""Forecasting in the second city (issue 14's second target: 1.10x the best baseline, with tuned models).

The second city is the synthetic city exported as a police service outside the US would publish it
(config/foreign_city.yaml: `beatwise simulate city --layout foreign`, 60,000 incidents over 2015-2016),
generated once into BEATWISE_HOME/bench/second_city. Read with the config's mapping, as any city is.

The search (models/forecasting/tuning.py) chooses the model's settings on rolling folds of March-June 2016,
within BEATWISE_TUNING_BUDGET seconds (default 900). The models are then trained to 30 June 2016 with the
chosen settings and, as Chicago's are, evaluated through the champion gate on the three shifts of every 2nd
day of July-December 2016, which the search never saw. The same evaluation with the default settings says
what the tuning contributed.
"""

from __future__ import annotations

import os
import time
from datetime import date, timedelta

from beatwise import paths
from beatwise.config import load_config
from beatwise.simulate import CityPlan, simulate_city
from benchmarks.bench_forecast import backtest_figures
from models.forecasting.cells import cells_from_files
from models.forecasting.evaluate import format_table, run_backtest
from models.forecasting.events import read_incident_files
from models.forecasting.features import load_calendar
from models.forecasting.gbm import fit_models
from models.forecasting.history import EventHistory
from models.forecasting.tuning import configured, tune

ROOT = paths.PROJECT_ROOT
CONFIG = ROOT / "config" / "foreign_city.yaml"
INCIDENTS, CITY_SEED = 60_000, 1
TUNING_ORIGINS, TUNING_END = [date(2016, 3, 1), date(2016, 5, 1)], date(2016, 6, 30)
TRAIN_UNTIL = date(2016, 6, 30)
EVALUATION_START, EVALUATION_END, EVALUATION_EVERY_DAYS = date(2016, 7, 1), date(2016, 12, 31), 2


def _city() -> str:
    """The second city's files (generated once; the simulator is deterministic for a seed)."""
    folder = paths.home() / "bench" / "second_city"
    if not (folder / "occurrences.csv.gz").exists():
        config = load_config(CONFIG)
        simulate_city(folder, INCIDENTS, config.history_start, config.history_end + timedelta(days=1),
                      seed=CITY_SEED, plan=CityPlan(), layout="foreign")
    return str(folder)


def _evaluate(history, config, calendar, crime_types, setting: dict):
    trial = configured(config, setting)
    settings = {k: v for k, v in setting.items() if k != "windows_days"}
    models = fit_models(history, trial, calendar, crime_types, TRAIN_UNTIL, config.forecasting.seed,
                        settings=settings)
    return run_backtest(history, trial, crime_types, [EVALUATION_START], EVALUATION_END,
                        trainer=lambda types, until: {t: models[t] for t in types if t in models},
                        every_days=EVALUATION_EVERY_DAYS)


def bench_second_city() -> dict:
    os.environ["BEATWISE_FOREIGN_DATA"] = _city()
    config = load_config(CONFIG)
    crime_types = config.modelled_crime_types()
    events = read_incident_files(config, signal=True)
    history = EventHistory(events, cells_from_files(config), crime_types=crime_types)
    calendar = load_calendar(config)
    out: dict = {"second_city_incidents": float(len(events)), "second_city_cells": float(len(history.cells))}

    clock = time.perf_counter()
    budget = float(os.environ.get("BEATWISE_TUNING_BUDGET", 900))
    tuning = tune(history, config, calendar, crime_types, TUNING_ORIGINS, TUNING_END, budget_seconds=budget,
                  log=False)
    out["second_city_tuning_seconds"] = time.perf_counter() - clock
    out["second_city_tuning_chosen"] = tuning.chosen
    out["second_city_tuning_tried"] = [
        {"setting": r["setting"], "harm_capture_1": r["harm_capture_1"], "seconds": round(r["seconds"], 1)}
        for r in tuning.table.to_dict("records")
    ]
    out["second_city_tuning_skipped"] = tuning.skipped
    print(tuning.table.to_string(), flush=True)

    clock = time.perf_counter()
    tuned = _evaluate(history, config, calendar, crime_types, tuning.chosen)
    out["second_city_backtest_seconds"] = time.perf_counter() - clock
    print(format_table(tuned), flush=True)
    out.update(backtest_figures(tuned, "second_city"))
    defaults = tuned if not tuning.chosen else _evaluate(history, config, calendar, crime_types, {})
    out["second_city_defaults_harm_capture_1_ratio"] = (
        defaults.harm_capture["champion"]["1"] / defaults.harm_capture["best_baseline"]["1"]
    )
    out["second_city_target_harm_capture_1_ratio_1_10_met"] = out["second_city_harm_capture_1_ratio"] >= 1.10
    out["second_city_target_champion_pai_1_every_type_met"] = all(
        out[f"second_city_{t}_champion_pai_1"] >= out[f"second_city_{t}_baseline_pai_1"] for t in crime_types
    )
    return out


if __name__ == "__main__":
    import json

    print(json.dumps(bench_second_city(), indent=1, default=str))
