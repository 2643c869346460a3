"""Champion gating: who serves each crime type, chosen on what the agency cares about.

The objective of a method for a crime type is the agency's harm-weighted capture at 1% of cells: the
share of all severity-weighted crime that falls in the top 1% of the combined harm surface when this
method forecasts this type and every other type keeps its best baseline (with the composite candidates, a
second pass puts every other type at its champion of the first: evaluate.run_backtest). The best baseline
is the baseline with the highest PAI at 1% (ties: lower deviance, then the name). A candidate (the model, the augmented
count, or the model blended with the best baseline or the augmented count: models/forecasting/candidates.py)
serves when its objective is higher than the best baseline's and its PAI
at 1% is not below the baseline's beyond a 90% bootstrap interval over the backtest's shifts; among
candidates that pass, the highest objective serves. Otherwise the best baseline does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

CANDIDATE = "lightgbm_poisson"
BLEND = "blend"  # the candidate mixed with a partner: w x model + (1 - w) x (best baseline or augmented count)
AUGMENTED = "augmented_count"  # the 364-day count plus w x the signal offences' 364-day count
CANDIDATES = (CANDIDATE, BLEND, AUGMENTED)  # never a baseline: the bar stays the classic baselines
BLEND_WEIGHTS = (0.25, 0.5, 0.75, 0.9)
LEVEL = 0.90
BOOTSTRAP_DRAWS = 400


@dataclass(frozen=True)
class ShiftFigures:
    """One method's figures for one crime type, per backtest shift: harm captured at 1% of the combined
    surface (this method for this type, best baselines for the others) and this type's crimes captured in
    the top 1% of its own surface."""

    harm_captured: np.ndarray
    captured: np.ndarray


@dataclass(frozen=True)
class GateEvidence:
    """Per-shift totals shared by every method of one crime type: all harm, this type's crimes, and the
    share of cells flagged at 1%."""

    harm_total: np.ndarray
    crimes: np.ndarray
    area_share: float


@dataclass(frozen=True)
class ChampionDecision:
    crime_type: str
    champion: str
    best_baseline: str
    candidate_wins: bool
    reason: str
    # method -> objective, pai_1 and the 90% interval of each one's difference to the best baseline
    evidence: dict[str, dict[str, float]] = field(default_factory=dict)


def best_baseline(metrics: Mapping[str, Mapping[str, float]], candidates: Sequence[str] = CANDIDATES) -> str:
    baselines = {m: v for m, v in metrics.items() if m not in candidates}
    if not baselines:
        raise ValueError("no baseline was evaluated: the candidate has nothing to beat")
    return min(baselines, key=lambda m: (-baselines[m]["pai_1"], baselines[m]["deviance"], m))


def _ratios(numerator: np.ndarray, denominator: np.ndarray, draws: np.ndarray) -> tuple[float, np.ndarray]:
    """The pooled ratio and its bootstrap replicates (draws: replicate x shift indexes)."""
    point = numerator.sum() / denominator.sum() if denominator.sum() else np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        replicates = numerator[draws].sum(axis=1) / denominator[draws].sum(axis=1)
    return float(point), replicates


def choose_champion(
    crime_type: str,
    figures: Mapping[str, ShiftFigures],
    evidence: GateEvidence,
    best: str,
    candidates: Sequence[str] = CANDIDATES,
    seed: int = 0,
    labels: Mapping[str, str] | None = None,
) -> ChampionDecision:
    """Decide who serves `crime_type` from every method's per-shift figures (the same shifts for all);
    `labels` name candidates in the reasons with what they are made of (a blend's partner and weight)."""
    labels = labels or {}
    shifts = len(evidence.crimes)
    draws = np.random.default_rng(seed).integers(0, max(shifts, 1), size=(BOOTSTRAP_DRAWS, shifts))
    low, high = 100 * (1 - LEVEL) / 2, 100 * (1 + LEVEL) / 2
    base_objective, base_objective_r = _ratios(figures[best].harm_captured, evidence.harm_total, draws)
    base_pai, base_pai_r = _ratios(figures[best].captured, evidence.crimes, draws)
    table: dict[str, dict[str, float]] = {}
    for method, f in figures.items():
        objective, objective_r = _ratios(f.harm_captured, evidence.harm_total, draws)
        pai, pai_r = _ratios(f.captured, evidence.crimes, draws)
        pai, pai_r = pai / evidence.area_share, pai_r / evidence.area_share
        d_objective = np.nanpercentile(objective_r - base_objective_r, [low, high]) if shifts else [np.nan] * 2
        d_pai = np.nanpercentile(pai_r - base_pai_r / evidence.area_share, [low, high]) if shifts else [np.nan] * 2
        table[method] = {
            "objective": objective, "objective_gain_low": float(d_objective[0]),
            "objective_gain_high": float(d_objective[1]),
            "pai_1": pai, "pai_gain_low": float(d_pai[0]), "pai_gain_high": float(d_pai[1]),
        }
    base_pai /= evidence.area_share

    reasons, passing = [], []
    for method in [c for c in candidates if c in figures]:
        row, name = table[method], labels.get(method, method)
        if not row["objective"] > base_objective:
            reasons.append(f"{name}: harm capture {row['objective']:.4f} <= {best}'s {base_objective:.4f}")
        elif row["pai_gain_high"] < 0:
            reasons.append(f"{name}: PAI@1% {row['pai_1']:.2f} below {best}'s {base_pai:.2f} beyond the "
                           f"{LEVEL:.0%} interval ({row['pai_gain_low']:+.2f} .. {row['pai_gain_high']:+.2f})")
        else:
            passing.append(method)
            reasons.append(f"{name}: harm capture {base_objective:.4f} -> {row['objective']:.4f} "
                           f"({row['objective_gain_low']:+.4f} .. {row['objective_gain_high']:+.4f}), PAI@1% "
                           f"{base_pai:.2f} -> {row['pai_1']:.2f}")
    if not reasons:
        reasons.append(f"no candidate was evaluated; {best} serves")
    if passing:
        winner = max(passing, key=lambda m: (table[m]["objective"], m == CANDIDATE))
        return ChampionDecision(crime_type, winner, best, True, f"{winner} serves; " + "; ".join(reasons), table)
    return ChampionDecision(crime_type, best, best, False, f"{best} serves; " + "; ".join(reasons), table)
