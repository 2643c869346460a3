"""One gradient-boosted Poisson model per crime type.

Why LightGBM rather than scikit-learn's HistGradientBoostingRegressor (both fit Poisson boosted trees
on binned features with sample weights and missing values): LightGBM gives exact per-feature
contributions for every prediction (`pred_contrib=True`, TreeSHAP) which the briefings need as each
cell's top risk drivers, and HistGradientBoostingRegressor has no such output without an extra package;
LightGBM has a `deterministic` mode (identical models for a seed on the same machine), trains faster on
two cores at our sizes, and MLflow has a native flavour for it.

Training data: every cell-shift with at least one event of the crime type plus a sample of the rest, drawn
per cell (more where crime is frequent, see `sample_zeros`), each sampled row weighted by the inverse of its
sampling probability, so that the weighted data has the full panel's totals. Rare crime types get shallower trees and
stronger regularisation; if that is still not enough, a baseline wins the champion gate honestly.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

import lightgbm as lgb
import numpy as np
import pandas as pd

from beatwise.config.schema import AgencyConfig, Forecasting
from models.forecasting.baselines import Forecaster
from models.forecasting.features import Calendar, feature_names, rows_matrix, shift_features, shift_matrix
from models.forecasting.history import EventHistory, to_minutes
from models.forecasting.shifts import shift_minutes, shift_starts

RARE_POSITIVES = 5_000
# Draws per cell at most, as in the training mart (dbt var max_draws_per_cell, the size of its draw-number series):
# more than the shifts of seven years, so only a cell with crime in most shifts of a longer history reaches it.
MAX_DRAWS_PER_CELL = 16_384
# Few, shallow-enough trees: scoring a whole city (27k cells) must take tens of milliseconds per crime type.
# (Against 120 rounds at 0.1 on the 2016 Chicago backtest: 40% faster to score and train, harm-weighted capture
# at 1% 0.127 instead of 0.129; the forecast command over 300 shifts needs the speed.)
ROUNDS = 60
PREDICT_THREADS = 2  # predictions are per row: identical with any number of threads
# Deterministic mode gives identical models for a seed and a thread count: the count is logged with the params.
TRAIN_THREADS = 2


def training_window(history: EventHistory, config: AgencyConfig, train_until: date) -> tuple[date, date]:
    """First and last training day: the first full year of history is spent on the 364-day features."""
    first_event = pd.Timestamp(history.span()[0], unit="m").date()
    start = first_event + timedelta(days=max(config.forecasting.windows_days))
    if config.forecasting.train_start:
        start = max(start, config.forecasting.train_start)
    if start > train_until:
        raise ValueError(
            f"no training shifts: history starts {first_event}, the first full-featured "
            f"day is {start}, after train_until {train_until}"
        )
    return start, train_until


def training_frames(
    history: EventHistory,
    config: AgencyConfig,
    calendar: Calendar,
    crime_types: Sequence[str],
    train_until: date,
    seed: int,
    every_days: int = 1,
) -> dict[str, pd.DataFrame]:
    """Per crime type: features, `incident_count` and `sample_weight` of the positives and sampled negatives.

    Negatives are drawn per cell (`sample_zeros`) without enumerating the cell x shift panel; draws that hit a
    positive are dropped.
    """
    start, end = training_window(history, config, train_until)
    last_minute = to_minutes(datetime.combine(end + timedelta(days=1), datetime.min.time()))
    shifts = [
        s
        for s in shift_starts(config, start, end, every_days)
        if to_minutes(s) + shift_minutes(config, s) <= last_minute
    ]
    starts = np.array([to_minutes(s) for s in shifts], dtype=np.int64)
    ends = starts + np.array([shift_minutes(config, s) for s in shifts], dtype=np.int64)
    n_cells = len(history.cells)
    position = np.full(history.grid.size, -1, dtype=np.int64)
    position[history.cell_index] = np.arange(n_cells)
    names = [*feature_names(config), "incident_count", "sample_weight"]
    frames = {}
    for j, t in enumerate(crime_types):
        times, where = history.window(t, int(starts[0]), int(ends[-1]))
        shift_index = np.searchsorted(starts, times, side="right") - 1
        inside = (position[where] >= 0) & (times < ends[shift_index])
        positives, counts = np.unique(
            shift_index[inside] * n_cells + position[where][inside], return_counts=True
        )
        zeros, weight = sample_zeros(
            positives, n_cells, len(shifts), config.forecasting, np.random.default_rng([seed, j])
        )
        pairs = np.concatenate([positives, zeros])
        weight = np.concatenate([np.ones(len(positives)), weight])
        matrix = rows_matrix(history, config, calendar, t, pairs % n_cells, shifts, pairs // n_cells)
        label = np.concatenate([counts, np.zeros(len(zeros))])
        frames[t] = pd.DataFrame(np.column_stack([matrix, label, weight]), columns=names)
    return frames


def sample_zeros(
    positives: np.ndarray, n_cells: int, n_shifts: int, settings: Forecasting, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Zero cell-shifts (as shift x n_cells + cell) drawn per cell, and their weights.

    A cell gets `negatives_per_crime_type / cells` draws plus `negatives_per_positive` per cell-shift with crime
    there (at most MAX_DRAWS_PER_CELL), uniform over the shifts with replacement. Busy cells thus keep enough of
    their zeros: sampled evenly, a cell with crime in half its shifts kept a handful of zeros, trees split them
    off, and the model overrated the hottest cells twofold. A zero of a cell with m draws was drawn with
    probability 1 - (1 - 1/shifts)^m; weights are the inverse, scaled so that they add up to the number of zero
    cell-shifts.
    """
    per_cell = np.bincount(positives % n_cells, minlength=n_cells)
    draws = np.minimum(
        -(-settings.negatives_per_crime_type // n_cells) + settings.negatives_per_positive * per_cell,
        MAX_DRAWS_PER_CELL,
    )
    cells = np.repeat(np.arange(n_cells, dtype=np.int64), draws)
    zeros = np.setdiff1d(rng.integers(0, n_shifts, size=len(cells)) * n_cells + cells, positives)
    weight = 1.0 / -np.expm1(draws[zeros % n_cells] * np.log1p(-1.0 / n_shifts))
    if len(zeros):
        weight *= (n_cells * n_shifts - len(positives)) / weight.sum()
    return zeros, weight


def lightgbm_params(positives: int, seed: int, settings: dict | None = None) -> dict[str, object]:
    """LightGBM parameters: Poisson loss, deterministic, regularised harder for rare crime types; `settings`
    (from the tuning search, models/forecasting/tuning.py) override the defaults."""
    rare = positives < RARE_POSITIVES
    return {
        "objective": "poisson",
        "learning_rate": 0.2,
        "num_leaves": 7 if rare else 31,
        "min_child_samples": 200 if rare else 100,
        "lambda_l2": 10.0 if rare else 1.0,
        # Caps each tree's step in log space (x learning rate). Without it a leaf of a few hot cells the earlier
        # trees underrated gets a step of tens of log units: theft predicted millions in the Loop.
        "max_delta_step": 2.0,
        "feature_fraction": 0.8,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "num_threads": TRAIN_THREADS,
        "seed": seed,
        "deterministic": True,
        "force_row_wise": True,
        "verbosity": -1,
        **{k: v for k, v in (settings or {}).items() if k != "rounds"},
    }


class GradientBoostedPoisson(Forecaster):
    """LightGBM with a Poisson objective over the shift features of one crime type."""

    method = "lightgbm_poisson"

    def __init__(self, crime_type: str, calendar: Calendar, seed: int, rounds: int = ROUNDS,
                 settings: dict | None = None):
        self.crime_type = crime_type
        self.calendar = calendar
        self.seed = seed
        self.settings = dict(settings or {})
        self.rounds = int(self.settings.get("rounds", rounds))
        self.booster: lgb.Booster | None = None
        self.features: list[str] = []
        self.lgb_params: dict[str, object] = {}
        self.training_rows = 0
        self.training_frame: pd.DataFrame | None = None
        self._config: AgencyConfig | None = None

    def fit_frame(
        self, frame: pd.DataFrame, config: AgencyConfig, keep_frame: bool = False
    ) -> GradientBoostedPoisson:
        """Train on a prepared frame (features, `incident_count`, `sample_weight`); keep it if asked."""
        self.features = [c for c in feature_names(config) if c in frame.columns]
        positives = int((frame["incident_count"] > 0).sum())
        self.lgb_params = lightgbm_params(positives, self.seed, self.settings)
        data = lgb.Dataset(
            frame[self.features],
            label=frame["incident_count"],
            weight=frame["sample_weight"],
            feature_name=self.features,
            free_raw_data=True,
        )
        self.booster = lgb.train(self.lgb_params, data, num_boost_round=self.rounds)
        self.training_rows = len(frame)
        self.training_frame = frame if keep_frame else None
        self._config = config
        names = feature_names(config)
        self._columns = [names.index(f) for f in self.features]
        return self

    def fit(self, history: EventHistory, config: AgencyConfig, train_until: date) -> GradientBoostedPoisson:
        frame = training_frames(history, config, self.calendar, [self.crime_type], train_until, self.seed)
        return self.fit_frame(frame[self.crime_type], config)

    def shift_frame(
        self, history: EventHistory, shift_start: datetime, pooled: dict[str, np.ndarray] | None = None
    ) -> pd.DataFrame:
        if self._config is None:
            raise RuntimeError(f"{self.method} for {self.crime_type} is not fitted")
        return shift_features(history, self._config, self.calendar, self.crime_type, shift_start, pooled)

    def predict(
        self, history: EventHistory, shift_start: datetime, pooled: dict[str, np.ndarray] | None = None
    ) -> np.ndarray:
        matrix = shift_matrix(history, self._config, self.calendar, self.crime_type, shift_start, pooled)
        return self.booster.predict(matrix[:, self._columns], num_threads=PREDICT_THREADS)

    def contributions(self, frame: pd.DataFrame) -> np.ndarray:
        return tree_contributions(self.booster, frame)

    def params(self) -> dict[str, object]:
        return {
            **super().params(),
            **self.lgb_params,
            "rounds": self.rounds,
            "training_rows": self.training_rows,
        }


def tree_contributions(booster: lgb.Booster, frame: pd.DataFrame) -> np.ndarray:
    """Per-feature contributions (TreeSHAP) to the log expected count of each row of `frame`, which holds
    the booster's feature columns: rows x features, the bias column dropped."""
    matrix = frame[booster.feature_name()].to_numpy(dtype=float)
    return booster.predict(matrix, pred_contrib=True, num_threads=PREDICT_THREADS)[:, :-1]


def fit_models(
    history: EventHistory,
    config: AgencyConfig,
    calendar: Calendar,
    crime_types: Sequence[str],
    train_until: date,
    seed: int,
    every_days: int = 1,
    keep_frames: bool = False,
    settings: dict | None = None,
) -> dict[str, GradientBoostedPoisson]:
    """One fitted model per crime type, sharing one pass over the training shifts (`settings`: tuned
    LightGBM settings for every type)."""
    frames = training_frames(history, config, calendar, crime_types, train_until, seed, every_days)
    # A crime type without a single training event has nothing to learn: its baselines serve.
    return {
        t: GradientBoostedPoisson(t, calendar, seed, settings=settings).fit_frame(frames.pop(t), config, keep_frames)
        for t in crime_types
        if frames[t]["incident_count"].gt(0).any()
    }
