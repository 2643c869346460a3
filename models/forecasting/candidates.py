"""Candidates beside the model: the augmented count, and the model blended with a baseline or that count.

- augmented count: the cell's 364-day count of the crime type plus w x its 364-day count of the signal
  offences (community-reported offences that are not modelled: simple assault, criminal damage, deceptive
  practice). Where a type's own history is thin, the related reports separate cells its own count ties.
  The weight is chosen per crime type on the gate's shifts, by the gate's objective.
- blend: w x model + (1 - w) x partner, the partner being the best baseline or the augmented count, the
  pair and weight chosen on the gate's shifts by the gate's objective.

They are candidates, never baselines: the bar stays the best of the classic baselines.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np

from models.forecasting.baselines import Forecaster, ScoreBaseline
from models.forecasting.champion import AUGMENTED, BLEND
from models.forecasting.history import MINUTES_PER_DAY, SIGNAL, EventHistory

AUGMENT_WEIGHTS = (0.05, 0.1, 0.2)


class AugmentedCounts(ScoreBaseline):
    """Events of the crime type in the cell over the last `days` days, plus `weight` x the signal offences'."""

    method = AUGMENTED

    def __init__(self, crime_type: str, weight: float, days: int = 364):
        super().__init__(crime_type)
        self.weight, self.days = weight, days

    def score(self, history: EventHistory, start: int) -> np.ndarray:
        first = start - self.days * MINUTES_PER_DAY
        own = history.counts(self.crime_type, first, start).astype(float)
        return own + self.weight * history.counts(SIGNAL, first, start)

    def params(self) -> dict[str, object]:
        return {**super().params(), "weight": self.weight, "days": self.days}


class Blend(Forecaster):
    """The model mixed with a partner (the best baseline or the augmented count): weight x model +
    (1 - weight) x partner, both fitted."""

    method = BLEND

    def __init__(self, crime_type: str, model: Forecaster, baseline: Forecaster, weight: float):
        self.crime_type, self.model, self.baseline, self.weight = crime_type, model, baseline, weight

    def predict(self, history: EventHistory, shift_start: datetime) -> np.ndarray:
        return (self.weight * self.model.predict(history, shift_start)
                + (1 - self.weight) * self.baseline.predict(history, shift_start))

    def params(self) -> dict[str, object]:
        return {**super().params(), "weight": self.weight, "model": self.model.method,
                "baseline": self.baseline.method}
