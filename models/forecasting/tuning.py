"""A small search over the model's settings, per city, chosen on the backtest folds.

Settings are tried in a fixed order (the defaults first); each is scored by the harm-weighted capture at
1% of cells of the models alone (every crime type forecast by its model) on the same rolling folds. The
time budget only stops the search from starting another setting: what was tried is decided by the order,
and the choice among the tried ones by the score (ties: the earlier), so the same seed and budget give the
same choice on the same machine. Each setting is an MLflow run of the agency's experiment.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import mlflow
import pandas as pd

from beatwise.config.schema import AgencyConfig
from models.forecasting import tracking
from models.forecasting.champion import CANDIDATE
from models.forecasting.evaluate import run_backtest
from models.forecasting.features import Calendar
from models.forecasting.gbm import ROUNDS, fit_models
from models.forecasting.history import EventHistory

# The search: rounds, leaves, L2 regularisation and the count windows (the defaults are the first entry).
GRID: tuple[dict, ...] = (
    {},
    {"rounds": 120, "learning_rate": 0.1},
    {"num_leaves": 15, "lambda_l2": 5.0},
    {"num_leaves": 63, "min_child_samples": 50},
    {"rounds": 30},
    {"windows_days": [7, 28, 91, 182, 364]},
    {"lambda_l2": 20.0, "min_child_samples": 300},
)
BUDGET_SECONDS = 1800.0


@dataclass
class Tuning:
    chosen: dict
    table: pd.DataFrame  # one row per setting tried: setting, harm_capture_1, seconds
    skipped: list[dict] = field(default_factory=list)  # settings the budget left untried


def configured(config: AgencyConfig, setting: dict) -> AgencyConfig:
    """The config a setting trains under (only the windows live in the config; the rest are LightGBM's)."""
    if "windows_days" not in setting:
        return config
    forecasting = config.forecasting.model_copy(update={"windows_days": list(setting["windows_days"])})
    return config.model_copy(update={"forecasting": forecasting})


def tune(
    history: EventHistory,
    config: AgencyConfig,
    calendar: Calendar,
    crime_types: Sequence[str],
    origins: Sequence[date],
    end: date,
    grid: Sequence[dict] = GRID,
    budget_seconds: float = BUDGET_SECONDS,
    log: bool = True,
) -> Tuning:
    """Try the settings of `grid` in order within `budget_seconds`; choose the best on the folds."""
    rows, skipped, started = [], [], time.perf_counter()
    seed = config.forecasting.seed
    for setting in grid:
        if rows and time.perf_counter() - started > budget_seconds:
            skipped.append(setting)
            continue
        clock = time.perf_counter()
        trial = configured(config, setting)
        lgb_settings = {k: v for k, v in setting.items() if k != "windows_days"}

        def trainer(types, until, trial=trial, lgb_settings=lgb_settings):
            return fit_models(history, trial, calendar, types, until, seed, settings=lgb_settings)

        backtest = run_backtest(history, trial, crime_types, origins, end, trainer,
                                trial.forecasting.backtest_every_days, blend=False)
        score = backtest.harm_capture.get(CANDIDATE, {}).get("1", float("nan"))
        rows.append({"setting": setting, "harm_capture_1": score, "seconds": time.perf_counter() - clock})
        if log:
            _log(config, setting, score, rows[-1]["seconds"])
    table = pd.DataFrame(rows)
    best = max(range(len(rows)), key=lambda i: (rows[i]["harm_capture_1"], -i))
    return Tuning(rows[best]["setting"], table, skipped)


def _log(config: AgencyConfig, setting: dict, score: float, seconds: float) -> None:
    tracking.use_experiment(config)
    with mlflow.start_run(run_name="tuning"):
        mlflow.set_tag("kind", "tuning")
        mlflow.log_params({"rounds": ROUNDS, **{k: str(v) for k, v in setting.items()}})
        mlflow.log_metrics({"harm_capture_1": score, "seconds": seconds})
