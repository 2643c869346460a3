"""Rolling-origin backtests: every method scored on the same unseen shifts, then the champion gate.

Each fold trains (models and baseline calibrations) on events up to the day before its origin and is
scored on the three shifts of every N-th day from the origin to the next origin (or the end). Forecasts
for a shift use only events before that shift's start, whatever the fold.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from beatwise.config.schema import AgencyConfig
from models.forecasting.baselines import Forecaster, baselines_for
from models.forecasting.candidates import AUGMENT_WEIGHTS, AugmentedCounts, Blend
from models.forecasting.champion import (
    AUGMENTED,
    BLEND,
    BLEND_WEIGHTS,
    CANDIDATE,
    CANDIDATES,
    ChampionDecision,
    GateEvidence,
    ShiftFigures,
    best_baseline,
    choose_champion,
)
from models.forecasting.features import Calendar
from models.forecasting.gbm import GradientBoostedPoisson, fit_models
from models.forecasting.history import EventHistory, to_minutes
from models.forecasting.metrics import SHARES, Scorecard, capture, flagged_count, harm_weighted_capture
from models.forecasting.shifts import shift_minutes, shift_starts


@dataclass
class Backtest:
    """Per crime type and method: pooled metrics; plus the combined harm-weighted capture."""

    metrics: dict[str, dict[str, dict[str, float]]]  # crime type -> method -> metrics
    decisions: dict[str, ChampionDecision]
    harm_capture: dict[str, dict[str, float]]  # "champion" / "best_baseline" / method -> {"1": x, "5": y}
    shifts: list = field(default_factory=list)
    fitted: dict[str, list[Forecaster]] = field(default_factory=dict)  # the last fold's forecasters
    blend_weights: dict[str, float] = field(default_factory=dict)  # crime type -> the blend's model weight
    blend_partners: dict[str, str] = field(default_factory=dict)  # crime type -> what the model is blended with
    augment_weights: dict[str, float] = field(default_factory=dict)  # crime type -> the augmented count's weight

    def table(self) -> pd.DataFrame:
        rows = []
        for crime_type, methods in self.metrics.items():
            decision = self.decisions[crime_type]
            for method, values in methods.items():
                roles = [
                    r
                    for r, m in (("champion", decision.champion), ("best baseline", decision.best_baseline))
                    if m == method
                ]
                role = ", ".join(roles)
                gate = {f"gate_{k}": v for k, v in decision.evidence.get(method, {}).items()}
                rows.append({"crime_type": crime_type, "method": method, "role": role, **values, **gate})
        return pd.DataFrame(rows)


def gate_reasons(backtest: Backtest) -> pd.DataFrame:
    """The gate's decision per crime type, with its reasons (forecast.champion_gate)."""
    return pd.DataFrame(
        [(t, d.champion, d.best_baseline, d.candidate_wins, backtest.blend_weights.get(t, np.nan), d.reason)
         for t, d in backtest.decisions.items()],
        columns=["crime_type", "champion", "best_baseline", "candidate_wins", "blend_weight", "reason"],
    )


def fold_bounds(origins: Sequence[date], end: date) -> list[tuple[date, date]]:
    """(first, last) evaluation day of each fold."""
    origins = sorted(origins)
    return [
        (o, (origins[i + 1] - timedelta(days=1)) if i + 1 < len(origins) else end)
        for i, o in enumerate(origins)
    ]


GATE_PASSES = 2  # with the composite candidates: the first against the best baselines, then the champions

# Trains the models of the given crime types on data up to a day: (crime types, train_until) -> models.
ModelTrainer = Callable[[Sequence[str], date], Mapping[str, Forecaster]]


def event_trainer(
    history: EventHistory, config: AgencyConfig, calendar: Calendar, seed: int, keep_frames: bool = False
) -> ModelTrainer:
    """Models trained on features computed from the event history."""
    return lambda crime_types, train_until: fit_models(
        history, config, calendar, crime_types, train_until, seed, keep_frames=keep_frames
    )


def fit_forecasters(
    history: EventHistory,
    config: AgencyConfig,
    crime_types: Sequence[str],
    train_until: date,
    trainer: ModelTrainer | None,
) -> dict[str, list[Forecaster]]:
    """Every baseline and (given a trainer) the model of each crime type, fitted up to `train_until`."""
    fitted = {t: [b.fit(history, config, train_until) for b in baselines_for(t, config)] for t in crime_types}
    if trainer is not None:
        for t, model in trainer(crime_types, train_until).items():
            fitted[t].append(model)
    return fitted


def run_backtest(
    history: EventHistory,
    config: AgencyConfig,
    crime_types: Sequence[str],
    origins: Sequence[date],
    end: date,
    trainer: ModelTrainer | None,
    every_days: int = 7,
    blend: bool = True,
) -> Backtest:
    """Score every method on the evaluation shifts of every fold; decide the champion per crime type.

    `trainer` trains the candidate models of a fold (None: baselines only). With `blend`, the composite
    candidates are weighed too (models/forecasting/candidates.py): the augmented count, its weight chosen on
    the folds' shifts, and the model mixed with the best baseline or the augmented count, the partner and
    weight chosen likewise (by the gate's objective, the harm captured at 1% with the other types' best
    baselines).
    """
    severity = config.harm_weights()
    cards: dict[str, dict[str, Scorecard]] = {t: {} for t in crime_types}
    # Kept as float32 (shifts x cells) per method and type, to score the combined harm surfaces after gating.
    predictions: dict[str, dict[str, list[np.ndarray]]] = {}
    observed: dict[str, list[np.ndarray]] = {t: [] for t in crime_types}
    # The augmented count at each trial weight: crime type -> weight -> per-shift surfaces.
    augmented: dict[str, dict[float, list[np.ndarray]]] = {t: {w: [] for w in AUGMENT_WEIGHTS} for t in crime_types}
    all_shifts = []
    fitted_by_fold: list[dict[str, list[Forecaster]]] = []
    trials_by_fold: list[dict[str, list[AugmentedCounts]]] = []
    for first, last in fold_bounds(origins, end):
        until = first - timedelta(days=1)
        fitted = fit_forecasters(history, config, crime_types, until, trainer)
        trials = {t: [AugmentedCounts(t, w).fit(history, config, until) for w in AUGMENT_WEIGHTS]
                  for t in crime_types} if blend else {}
        fitted_by_fold.append(fitted)
        trials_by_fold.append(trials)
        for shift_start in shift_starts(config, first, last, every_days):
            all_shifts.append(shift_start)
            start = to_minutes(shift_start)
            pooled: dict[str, np.ndarray] = {}  # the shift's all-crime and signal counts, shared by the types' models
            for t in crime_types:
                actual = history.observed(t, start, shift_minutes(config, shift_start))
                observed[t].append(actual.astype(np.float32))
                for forecaster in fitted[t]:
                    expected = (forecaster.predict(history, shift_start, pooled)
                                if isinstance(forecaster, GradientBoostedPoisson)
                                else forecaster.predict(history, shift_start))
                    card = cards[t].setdefault(forecaster.method, Scorecard(severity[t]))
                    card.add(expected, actual)
                    predictions.setdefault(forecaster.method, {}).setdefault(t, []).append(
                        expected.astype(np.float32)
                    )
                for trial in trials.get(t, []):
                    augmented[t][trial.weight].append(trial.predict(history, shift_start).astype(np.float32))
    best = {t: best_baseline({m: c.summary() for m, c in cards[t].items()}) for t in crime_types}
    blend_weights: dict[str, float] = {}
    blend_partners: dict[str, str] = {}
    augment_weights: dict[str, float] = {}
    labels: dict[str, dict[str, str]] = {t: {} for t in crime_types}

    def enter(method: str, t: str, surfaces: list[np.ndarray]) -> None:
        predictions.setdefault(method, {})[t] = surfaces
        card = cards[t][method] = Scorecard(severity[t])
        for expected, actual in zip(surfaces, observed[t], strict=True):
            card.add(expected, actual)

    def compose(t: str, context: dict[str, str]) -> None:
        """The augmented count's weight, then the blend's partner and weight, by the gate's objective with the
        other types forecast as `context` says."""
        weight = _by_objective(augmented[t], predictions, observed, context, t, severity)
        enter(AUGMENTED, t, augmented[t][weight])
        augment_weights[t] = weight
        labels[t][AUGMENTED] = f"{AUGMENTED} (364-day count + {weight:g} x the signal offences')"
        if CANDIDATE not in cards[t]:
            return
        options = {
            (partner, w): [w * m + (1 - w) * b for m, b in zip(
                predictions[CANDIDATE][t], predictions[partner][t], strict=True)]
            for partner in (best[t], AUGMENTED) for w in BLEND_WEIGHTS
        }
        partner, weight = _by_objective(options, predictions, observed, context, t, severity)
        enter(BLEND, t, options[partner, weight])
        blend_weights[t], blend_partners[t] = weight, partner
        labels[t][BLEND] = f"{BLEND} ({weight:g} x {CANDIDATE} + {1 - weight:g} x {partner})"

    # First pass: every other type at its best baseline. Later passes: every other type as its champion of
    # the pass before (the surface the agency would be served), so that weights and choices are made on the
    # combined harm-weighted objective; each type is decided in turn, on the latest choices of the others.
    context = dict(best)
    decisions: dict[str, ChampionDecision] = {}
    for gate_pass in range(GATE_PASSES if blend else 1):
        for t in crime_types:
            if blend:
                compose(t, context)
            evidence, figures = gate_figures(predictions, observed, context, t, severity)
            decisions[t] = choose_champion(t, figures, evidence, best[t], CANDIDATES, config.forecasting.seed,
                                           labels[t])
            if gate_pass:
                context[t] = decisions[t].champion
        context = {t: d.champion for t, d in decisions.items()}
    if blend:
        for t in crime_types:
            for fold, trials in zip(fitted_by_fold, trials_by_fold, strict=True):
                fold[t].append(next(a for a in trials[t] if a.weight == augment_weights[t]))
                if t in blend_partners:
                    fold[t].append(Blend(t, _method(fold[t], CANDIDATE), _method(fold[t], blend_partners[t]),
                                         blend_weights[t]))
    metrics = {t: {m: card.summary() for m, card in cards[t].items()} for t in crime_types}

    def harm(choice: dict[str, str]) -> dict[str, float]:
        per_shift = [
            ({t: predictions[choice[t]][t][i] for t in crime_types}, {t: observed[t][i] for t in crime_types})
            for i in range(len(all_shifts))
        ]
        return {name: harm_weighted_capture(per_shift, severity, share) for name, share in SHARES.items()}

    harm_capture = {m: harm({t: m for t in crime_types}) for m in predictions
                    if all(t in predictions[m] for t in crime_types)}
    harm_capture["champion"] = harm({t: d.champion for t, d in decisions.items()})
    harm_capture["best_baseline"] = harm({t: d.best_baseline for t, d in decisions.items()})
    return Backtest(metrics, decisions, harm_capture, all_shifts, fitted, blend_weights, blend_partners,
                    augment_weights)


def _method(forecasters: Sequence[Forecaster], method: str) -> Forecaster:
    return next(f for f in forecasters if f.method == method)


def gate_figures(
    predictions: Mapping[str, Mapping[str, Sequence[np.ndarray]]],
    observed: Mapping[str, Sequence[np.ndarray]],
    best: Mapping[str, str],
    crime_type: str,
    severity: Mapping[str, float],
    share: float = SHARES["1"],
) -> tuple[GateEvidence, dict[str, ShiftFigures]]:
    """The per-shift figures the gate weighs, for every method of `crime_type` (see champion.py)."""
    types = list(observed)
    shifts = len(observed[crime_type])
    n = len(observed[crime_type][0]) if shifts else 1
    k = flagged_count(n, share)
    harm_obs = [sum(severity[t] * observed[t][i].astype(float) for t in types) for i in range(shifts)]
    others = [sum((severity[t] * predictions[best[t]][t][i].astype(float) for t in types if t != crime_type),
                  np.zeros(n)) for i in range(shifts)]
    figures = {}
    for method, by_type in predictions.items():
        if crime_type not in by_type:
            continue
        mine = by_type[crime_type]
        figures[method] = ShiftFigures(
            np.array([capture(others[i] + severity[crime_type] * mine[i], harm_obs[i], k) for i in range(shifts)]),
            np.array([capture(mine[i], observed[crime_type][i], k) for i in range(shifts)]),
        )
    evidence = GateEvidence(np.array([h.sum() for h in harm_obs]),
                            np.array([o.sum() for o in observed[crime_type]], dtype=float), k / n)
    return evidence, figures


def _by_objective(trials, predictions, observed, context, crime_type, severity):
    """The key of `trials` (key -> per-shift surfaces of `crime_type`) with the most harm captured at 1% by the
    gate's reckoning, the other types forecast by `context`'s methods (ties: the first key)."""
    baselines = {m: predictions[m] for m in set(context.values())}
    scores = {}
    for key, surfaces in trials.items():
        _, figures = gate_figures({"trial": {crime_type: surfaces}, **baselines}, observed, context, crime_type,
                                  severity)
        scores[key] = figures["trial"].harm_captured.sum()
    return max(trials, key=lambda key: scores[key])  # max keeps the first of equal scores


def accuracy_table(backtest: Backtest) -> pd.DataFrame:
    """Champion against the best baseline, per crime type (the table the closing note quotes)."""
    rows = []
    for t, decision in backtest.decisions.items():
        champion = backtest.metrics[t][decision.champion]
        baseline = backtest.metrics[t][decision.best_baseline]
        candidate = backtest.metrics[t].get("lightgbm_poisson", {})
        rows.append(
            {
                "crime_type": t,
                "champion": decision.champion,
                "best_baseline": decision.best_baseline,
                "champion_pai_1": champion["pai_1"],
                "baseline_pai_1": baseline["pai_1"],
                "model_pai_1": candidate.get("pai_1", np.nan),
                "champion_pai_5": champion["pai_5"],
                "baseline_pai_5": baseline["pai_5"],
                "champion_hit_1": champion["hit_rate_1"],
                "baseline_hit_1": baseline["hit_rate_1"],
                "champion_pei_star_1": champion["pei_star_1"],
                "champion_harm_1": champion["harm_captured_1"],
                "baseline_harm_1": baseline["harm_captured_1"],
                "champion_deviance": champion["deviance"],
                "baseline_deviance": baseline["deviance"],
                "champion_calibration": champion["calibration"],
                "crimes": champion["crimes"],
            }
        )
    return pd.DataFrame(rows)


def format_table(backtest: Backtest) -> str:
    """The accuracy table and the combined harm-weighted capture, as text."""
    table = accuracy_table(backtest)
    with pd.option_context("display.width", 200, "display.max_columns", 30, "display.precision", 3):
        text = table.to_string(index=False)
    harm = backtest.harm_capture
    return (
        f"{text}\n\nharm-weighted capture of the harm surface at 1% / 5% of cells: "
        f"champions {harm['champion']['1']:.3f} / {harm['champion']['5']:.3f}, "
        f"best baselines {harm['best_baseline']['1']:.3f} / {harm['best_baseline']['5']:.3f}"
    )
