"""The classic baselines: the bar every model must clear, and the fallback when one does not.

Each is a forecaster with the same interface as the models (`fit`, then `predict(history, shift_start)`
-> expected counts per jurisdiction cell). A baseline ranks cells by a score computed only from events
before the shift start; `fit` turns the score into expected counts with a calibration learned on the
year before `train_until`, per shift of the day: cells with a positive score get alpha x score, cells
with none get the rate observed in such cells.

- prior counts: events in the cell over the last 28 or 364 days;
- kernel: events in the last year, decaying exponentially with age, spread over nearby cells by a
  Gaussian kernel;
- prospective hotspot (Bowers, Johnson & Pease 2004): events of the last 8 weeks, each weighted
  1 / (1 + cell distance) x 1 / (1 + weeks elapsed), within a 400 m bandwidth;
- pooled shrinkage: the cell's own count of the last year shrunk, by empirical Bayes, towards the
  neighbourhood's count of every modelled crime type scaled to this type's total. Rare types (homicide)
  borrow strength from the related types around them instead of ranking on a handful of past events.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np

from beatwise.config.schema import AgencyConfig
from beatwise.geography.grid import metres_per_unit
from models.forecasting.history import ALL, MINUTES_PER_DAY, EventHistory, to_minutes
from models.forecasting.shifts import shift_minutes, shift_of_day, shift_starts

CALIBRATION_DAYS = 364
CALIBRATION_EVERY_DAYS = 7
FLOOR = 1e-6


def expected_counts(score: np.ndarray, alpha, beta) -> np.ndarray:
    """A baseline's calibration: alpha x score where the score is positive, beta elsewhere."""
    return np.where(score > 0, np.maximum(alpha * score, FLOOR), beta)


class Forecaster:
    """Interface shared by baselines and models: expected counts of one crime type per cell and shift."""

    method: str = "forecaster"
    crime_type: str

    def fit(self, history: EventHistory, config: AgencyConfig, train_until: date) -> Forecaster:
        raise NotImplementedError

    def predict(self, history: EventHistory, shift_start: datetime) -> np.ndarray:
        """Expected counts for the jurisdiction's cells (`history.cells` order)."""
        raise NotImplementedError

    def params(self) -> dict[str, object]:
        return {"method": self.method, "crime_type": self.crime_type}


def calibration_shifts(config: AgencyConfig, train_until: date) -> list[datetime]:
    """Shifts of every 7th day in the year before `train_until` (the calibration sample)."""
    first = train_until - timedelta(days=CALIBRATION_DAYS - 1)
    return [
        s
        for s in shift_starts(config, first, train_until, CALIBRATION_EVERY_DAYS)
        if s + timedelta(minutes=shift_minutes(config, s))
        <= datetime.combine(train_until, datetime.max.time())
    ]


class ScoreBaseline(Forecaster):
    """A baseline whose ranking is a score over the grid, calibrated into expected counts."""

    def __init__(self, crime_type: str):
        self.crime_type = crime_type
        self.alpha: list[float] = []
        self.beta: list[float] = []
        self._config: AgencyConfig | None = None

    def score(self, history: EventHistory, start: int) -> np.ndarray:
        """Risk score per grid cell from events strictly before minute `start`."""
        raise NotImplementedError

    def fit(self, history: EventHistory, config: AgencyConfig, train_until: date) -> ScoreBaseline:
        n_shifts = len(config.shifts)
        scored = [0.0] * n_shifts
        observed_scored = [0.0] * n_shifts
        observed_zero = [0.0] * n_shifts
        zero_cells = [0] * n_shifts
        for shift_start in calibration_shifts(config, train_until):
            k = shift_of_day(config, shift_start)
            start = to_minutes(shift_start)
            score = self.score(history, start)[history.cell_index]
            observed = history.observed(self.crime_type, start, shift_minutes(config, shift_start))
            positive = score > 0
            scored[k] += float(score[positive].sum())
            observed_scored[k] += float(observed[positive].sum())
            observed_zero[k] += float(observed[~positive].sum())
            zero_cells[k] += int((~positive).sum())
        # Floors keep expected counts positive (deviance stays finite where crime is new) and keep the
        # baseline's ranking even when no calibration shift had crime in its scored cells.
        self.alpha = [
            max(observed_scored[k] / scored[k] if scored[k] else 0.0, FLOOR) for k in range(n_shifts)
        ]
        self.beta = [
            max(observed_zero[k] / zero_cells[k] if zero_cells[k] else 0.0, FLOOR) for k in range(n_shifts)
        ]
        self._config = config
        return self

    def predict(self, history: EventHistory, shift_start: datetime) -> np.ndarray:
        if self._config is None:
            raise RuntimeError(f"{self.method} for {self.crime_type} is not fitted")
        k = shift_of_day(self._config, shift_start)
        score = self.score(history, to_minutes(shift_start))[history.cell_index]
        return expected_counts(score, self.alpha[k], self.beta[k])

    def params(self) -> dict[str, object]:
        return {**super().params(), "alpha": self.alpha, "beta": self.beta}


class PriorCounts(ScoreBaseline):
    """Events in the cell over the last `days` days."""

    def __init__(self, crime_type: str, days: int):
        super().__init__(crime_type)
        self.days = days
        self.method = f"prior_{days}d"

    def score(self, history: EventHistory, start: int) -> np.ndarray:
        return history.counts(self.crime_type, start - self.days * MINUTES_PER_DAY, start)


def _gaussian_kernel(sigma_cells: float, radius: int) -> np.ndarray:
    offsets = np.arange(-radius, radius + 1)
    dx, dy = np.meshgrid(offsets, offsets, indexing="ij")
    return np.exp(-(dx**2 + dy**2) / (2 * sigma_cells**2))


class KernelDecay(ScoreBaseline):
    """Kernel density with time decay: recent events nearby count most."""

    method = "kernel_decay"

    def __init__(
        self, crime_type: str, half_life_days: float = 60.0, sigma_cells: float = 1.0, window_days: int = 364
    ):
        super().__init__(crime_type)
        self.half_life_days = half_life_days
        self.sigma_cells = sigma_cells
        self.window_days = window_days
        self.kernel = _gaussian_kernel(sigma_cells, radius=max(1, int(np.ceil(3 * sigma_cells))))

    def score(self, history: EventHistory, start: int) -> np.ndarray:
        rate = np.log(2) / (self.half_life_days * MINUTES_PER_DAY)
        decayed = history.counts(
            self.crime_type,
            start - self.window_days * MINUTES_PER_DAY,
            start,
            weights=lambda t: np.exp(-rate * (start - t)),
        )
        return history.grid.neighbourhood_sum(decayed, self.kernel)

    def params(self) -> dict[str, object]:
        return {
            **super().params(),
            "half_life_days": self.half_life_days,
            "sigma_cells": self.sigma_cells,
            "window_days": self.window_days,
        }


class ProspectiveHotspot(ScoreBaseline):
    """Bowers, Johnson & Pease (2004): risk = sum 1/(1 + cells away) x 1/(1 + weeks ago), 400 m, 8 weeks."""

    method = "prospective_hotspot"

    def __init__(self, crime_type: str, cell_size_m: float, bandwidth_m: float = 400.0, weeks: int = 8):
        super().__init__(crime_type)
        self.weeks = weeks
        self.bandwidth_m = bandwidth_m
        reach = bandwidth_m / cell_size_m
        radius = int(np.floor(reach))
        offsets = np.arange(-radius, radius + 1)
        dx, dy = np.meshgrid(offsets, offsets, indexing="ij")
        distance = np.hypot(dx, dy)
        self.kernel = np.where(distance <= reach, 1.0 / (1.0 + distance), 0.0)

    def score(self, history: EventHistory, start: int) -> np.ndarray:
        week = 7 * MINUTES_PER_DAY
        aged = history.counts(
            self.crime_type,
            start - self.weeks * week,
            start,
            weights=lambda t: 1.0 / (1.0 + (start - 1 - t) // week),
        )
        return history.grid.neighbourhood_sum(aged, self.kernel)

    def params(self) -> dict[str, object]:
        return {**super().params(), "bandwidth_m": self.bandwidth_m, "weeks": self.weeks}


class PooledShrinkage(ScoreBaseline):
    """Gamma-Poisson shrinkage of the cell's own count towards a prior from the pooled crime types nearby.

    The prior mean mu is the Gaussian-smoothed count of every modelled type, scaled to this type's total;
    the prior's shape s comes from the moments (Var n = mu + mu^2 / s), so the posterior mean
    mu (n + s) / (mu + s) leans on the prior where the type's own counts are no more spread than Poisson.
    """

    method = "pooled_shrinkage"

    def __init__(self, crime_type: str, window_days: int = 364, sigma_cells: float = 2.0):
        super().__init__(crime_type)
        self.window_days = window_days
        self.sigma_cells = sigma_cells
        kernel = _gaussian_kernel(sigma_cells, radius=max(1, int(np.ceil(3 * sigma_cells))))
        self.kernel = kernel / kernel.sum()

    def score(self, history: EventHistory, start: int) -> np.ndarray:
        first = start - self.window_days * MINUTES_PER_DAY
        own = history.counts(self.crime_type, first, start)
        own = own.astype(float)
        # As floats: convolving integer counts would truncate the kernel's fractions.
        nearby = history.grid.neighbourhood_sum(history.counts(ALL, first, start).astype(float), self.kernel)
        # Scaled to this type's total over the grid (the kernel's mass past the grid's edge is not lost).
        mu = nearby * (own.sum() / nearby.sum()) if nearby.sum() else np.zeros_like(own)
        excess = float(((own - mu) ** 2 - mu).sum())
        if excess <= 0:  # no more spread than Poisson: the prior alone
            return mu
        shape = float((mu**2).sum()) / excess
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(mu > 0, mu * (own + shape) / (mu + shape), own)

    def params(self) -> dict[str, object]:
        return {**super().params(), "window_days": self.window_days, "sigma_cells": self.sigma_cells}


def cell_size_metres(config: AgencyConfig) -> float:
    """The grid cell edge in metres."""
    return config.grid.cell_size * metres_per_unit(config.crs)


def baselines_for(crime_type: str, config: AgencyConfig) -> list[ScoreBaseline]:
    """Every baseline, unfitted, for one crime type."""
    return [
        PriorCounts(crime_type, 28),
        PriorCounts(crime_type, 364),
        KernelDecay(crime_type),
        ProspectiveHotspot(crime_type, cell_size_metres(config)),
        PooledShrinkage(crime_type),
    ]
