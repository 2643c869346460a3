"""A small search over the model's settings, per city, chosen on the backtest folds.

Settings are tried in a fixed order (the defaults first); each is scored by the harm-weighted capture at
1% of cells of the models alone (every crime type forecast by its model) on the same rolling folds. The
time budget only stops the search from starting another setting: what was tried is decided by the order,
and the choice among the tried ones by the score (ties: the earlier), so the same seed and budget give the
same choice on the same machine. Each setting is an MLflow run of the agency's experiment.

The choice is served: `save_choice` records it (an MLflow run tagged `tuning_choice`, and the state file
paths.tuned_settings under the agency's home), and the next training reads it back with `serving_settings`
(windows into the config, the rest into LightGBM), so a city is served its own settings, not the defaults.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import mlflow
import pandas as pd

from beatwise import paths
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
SETTING_KEYS = frozenset({"rounds", "learning_rate", "num_leaves", "lambda_l2", "min_child_samples", "windows_days"})


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


def save_choice(config: AgencyConfig, tuning: Tuning, log: bool = True) -> dict:
    """Record the chosen setting as what this agency's next training uses: an MLflow run and the state file."""
    best = tuning.table.loc[tuning.table["setting"].map(lambda s: s == tuning.chosen)].iloc[0]
    record = {
        "agency": config.agency.slug,
        "setting": tuning.chosen,
        "harm_capture_1": float(best["harm_capture_1"]),
        "tried": len(tuning.table),
        "skipped": len(tuning.skipped),
        "mlflow_run_id": "",
    }
    if log:
        tracking.use_experiment(config)
        with mlflow.start_run(run_name="tuning_choice") as run:
            mlflow.set_tag("kind", "tuning_choice")
            mlflow.log_params({k: str(v) for k, v in tuning.chosen.items()} or {"setting": "defaults"})
            mlflow.log_metric("harm_capture_1", record["harm_capture_1"])
            record["mlflow_run_id"] = run.info.run_id
    path = paths.tuned_settings(config.agency.slug)
    path.write_text(json.dumps(record, indent=1, sort_keys=True), encoding="utf-8")
    return record


def tuned_record(config: AgencyConfig) -> dict | None:
    """The last recorded choice of this agency (None before its first tuning)."""
    path = paths.tuned_settings(config.agency.slug)
    if not path.exists():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not a tuning record ({error}); run the tune job again or delete it") from error
    unknown = set(record.get("setting", {})) - SETTING_KEYS
    if unknown:
        raise ValueError(f"{path}: unknown setting {sorted(unknown)}; known: {sorted(SETTING_KEYS)}")
    return record


def serving_settings(config: AgencyConfig) -> tuple[AgencyConfig, dict]:
    """The config (with the tuned windows) and LightGBM settings this agency trains and serves with."""
    record = tuned_record(config)
    setting = record["setting"] if record else {}
    return configured(config, setting), {k: v for k, v in setting.items() if k != "windows_days"}
