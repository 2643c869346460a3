"""Accuracy of risk surfaces, per shift and pooled over many shifts.

For one shift, `predicted` and `observed` are aligned arrays over the jurisdiction's cells. Flagging the
top `share` of cells means flagging k = ceil(share x cells) cells. Ties at the boundary are shared
fractionally (each tied cell counts in proportion to the places left), i.e. the expected capture under
random tie-breaking: a surface with many equal values (prior counts) is neither flattered nor punished
by an arbitrary order.

- hit rate: share of the shift's crimes that fell in flagged cells.
- PAI (Chainey et al. 2008): hit rate / share of area flagged.
- PEI* (Joshi et al. 2021): PAI / the best PAI possible that shift, where the best flags only cells that
  had crime (at most k of them): 1 means no surface could have done better.
- harm-weighted capture: severity-weighted crimes captured / severity-weighted crimes.
- Poisson deviance: mean per cell-shift; calibration: predicted total / observed total.
Pooled figures sum numerators and denominators over shifts (shifts with more crime weigh more).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np

SHARES = {"1": 0.01, "5": 0.05}


def flagged_count(n_cells: int, share: float) -> int:
    return max(1, math.ceil(share * n_cells - 1e-9))


def capture(predicted: np.ndarray, observed: np.ndarray, k: int) -> float:
    """Crimes in the top-k cells by prediction, ties at the boundary shared fractionally."""
    predicted = np.asarray(predicted, dtype=float)
    observed = np.asarray(observed, dtype=float)
    if k >= len(predicted):
        return float(observed.sum())
    threshold = np.partition(predicted, len(predicted) - k)[len(predicted) - k]
    above = predicted > threshold
    tied = predicted == threshold
    places_left = k - int(above.sum())
    return float(observed[above].sum() + observed[tied].sum() * places_left / tied.sum())


def best_capture(observed: np.ndarray, k: int) -> float:
    """The most crimes any surface could capture with k cells."""
    observed = np.asarray(observed, dtype=float)
    return float(np.sort(observed)[::-1][:k].sum())


def poisson_deviance(predicted: np.ndarray, observed: np.ndarray, floor: float = 1e-9) -> float:
    """Summed unit Poisson deviance 2 * (y log(y/mu) - (y - mu))."""
    mu = np.maximum(np.asarray(predicted, dtype=float), floor)
    y = np.asarray(observed, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(y > 0, y * np.log(y / mu), 0.0)
    return float(2.0 * np.sum(term - (y - mu)))


class Scorecard:
    """Accumulates one method's accuracy for one crime type over evaluation shifts."""

    def __init__(self, severity: float = 1.0, shares: Mapping[str, float] = SHARES):
        self.severity = severity
        self.shares = dict(shares)
        self.crimes = 0.0
        self.predicted = 0.0
        self.deviance = 0.0
        self.cell_shifts = 0
        self.shifts = 0
        self.captured = {name: 0.0 for name in self.shares}
        self.best = {name: 0.0 for name in self.shares}
        self.area = {name: 0.0 for name in self.shares}
        self.best_area = {name: 0.0 for name in self.shares}

    def add(self, predicted: np.ndarray, observed: np.ndarray) -> None:
        n = len(observed)
        total = float(np.sum(observed))
        self.crimes += total
        self.predicted += float(np.sum(predicted))
        self.deviance += poisson_deviance(predicted, observed)
        self.cell_shifts += n
        self.shifts += 1
        with_crime = int(np.count_nonzero(observed))
        for name, share in self.shares.items():
            k = flagged_count(n, share)
            self.captured[name] += capture(predicted, observed, k)
            self.best[name] += best_capture(observed, k)
            # Area weighted by the shift's crimes, so that pooled PAI = pooled hit rate / area share.
            self.area[name] += k / n * total
            self.best_area[name] += max(min(k, with_crime), 1) / n * total

    def summary(self) -> dict[str, float]:
        """Pooled metrics: hit_rate_, pai_, pei_star_, harm_captured_ (severity x crimes captured) at 1 and
        5%, deviance, calibration."""
        out: dict[str, float] = {}
        for name in self.shares:
            hit = self.captured[name] / self.crimes if self.crimes else float("nan")
            area = self.area[name] / self.crimes if self.crimes else float("nan")
            best_hit = self.best[name] / self.crimes if self.crimes else float("nan")
            best_area = self.best_area[name] / self.crimes if self.crimes else float("nan")
            pai = hit / area if self.crimes else float("nan")
            best_pai = best_hit / best_area if self.crimes and best_hit else float("nan")
            out[f"hit_rate_{name}"] = hit
            out[f"pai_{name}"] = pai
            out[f"pei_star_{name}"] = (
                pai / best_pai if best_pai and not math.isnan(best_pai) else float("nan")
            )
            out[f"harm_captured_{name}"] = self.severity * self.captured[name]
        out["deviance"] = self.deviance / self.cell_shifts if self.cell_shifts else float("nan")
        out["calibration"] = self.predicted / self.crimes if self.crimes else float("nan")
        out["crimes"] = self.crimes
        out["shifts"] = float(self.shifts)
        return out


def harm_weighted_capture(
    surfaces: Iterable[tuple[Mapping[str, np.ndarray], Mapping[str, np.ndarray]]],
    severity: Mapping[str, float],
    share: float = 0.01,
) -> float:
    """Share of all severity-weighted crime captured by flagging the top cells of the harm surface.

    Each item is one shift: (predicted per crime type, observed per crime type). The harm surface is
    sum over types of severity x expected count; the flagged cells are its top `share`.
    """
    captured = total = 0.0
    for predicted, observed in surfaces:
        harm_pred = sum(severity[t] * np.asarray(predicted[t], dtype=float) for t in predicted)
        harm_obs = sum(severity[t] * np.asarray(observed[t], dtype=float) for t in predicted)
        captured += capture(harm_pred, harm_obs, flagged_count(len(harm_obs), share))
        total += float(np.sum(harm_obs))
    return captured / total if total else float("nan")
