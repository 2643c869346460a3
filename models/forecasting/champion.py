"""Champion gating: a model serves a crime type only if it beats every baseline on the backtest.

"Beats" means a higher PAI at 1% of cells (what patrols act on) and a Poisson deviance no worse (the
expected counts are honest too). Otherwise the best baseline serves: the one with the highest PAI at
1%, ties going to the lower deviance, then the name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

CANDIDATE = "lightgbm_poisson"


@dataclass(frozen=True)
class ChampionDecision:
    crime_type: str
    champion: str
    best_baseline: str
    candidate_wins: bool
    reason: str


def best_baseline(metrics: Mapping[str, Mapping[str, float]], candidate: str = CANDIDATE) -> str:
    baselines = {m: v for m, v in metrics.items() if m != candidate}
    if not baselines:
        raise ValueError("no baseline was evaluated: the candidate has nothing to beat")
    return min(baselines, key=lambda m: (-baselines[m]["pai_1"], baselines[m]["deviance"], m))


def choose_champion(
    crime_type: str, metrics: Mapping[str, Mapping[str, float]], candidate: str = CANDIDATE
) -> ChampionDecision:
    """Decide who serves `crime_type` from the backtest metrics of every method (method -> metrics)."""
    best = best_baseline(metrics, candidate)
    if candidate not in metrics:
        return ChampionDecision(crime_type, best, best, False, f"no {candidate} was evaluated")
    mine = metrics[candidate]
    losses = [
        f"PAI@1% {mine['pai_1']:.3f} <= {m}'s {v['pai_1']:.3f}"
        for m, v in metrics.items()
        if m != candidate and not mine["pai_1"] > v["pai_1"]
    ] + [
        f"deviance {mine['deviance']:.5f} > {m}'s {v['deviance']:.5f}"
        for m, v in metrics.items()
        if m != candidate and mine["deviance"] > v["deviance"]
    ]
    if losses:
        return ChampionDecision(
            crime_type, best, best, False, f"{candidate} does not beat every baseline: " + "; ".join(losses)
        )
    return ChampionDecision(
        crime_type,
        candidate,
        best,
        True,
        f"{candidate} beats every baseline (best: {best}, PAI@1% "
        f"{metrics[best]['pai_1']:.3f} -> {mine['pai_1']:.3f})",
    )
