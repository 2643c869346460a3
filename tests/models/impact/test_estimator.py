"""The IPW estimator: unbiased, with honest intervals, on a design whose probabilities are known; and a
quick version of the closed-loop proof on the synthetic city."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.impact.estimator import assignment_effect, dose_response, estimate_effects, randomized
from models.impact.proof import quick_settings, seed_result
from models.planning.sampling import inclusion_probabilities, systematic_sample

EFFECT = -0.3


def _design(rng: np.random.Generator, plans: int = 60, cells: int = 80, missions: int = 8) -> pd.DataFrame:
    """Plans drawn with the planner's own sampler (pi proportional to risk); outcomes Poisson(risk), times
    (1 + EFFECT) where assigned: the true relative effect is EFFECT for every cell."""
    frames = []
    for plan in range(plans):
        risk = rng.gamma(0.8, 0.5, cells) + 0.02
        pi = inclusion_probabilities(risk, missions)
        selected = systematic_sample(pi, rng)
        y = rng.poisson(risk * np.where(selected, 1 + EFFECT, 1.0))
        frames.append(
            pd.DataFrame(
                {
                    "plan_id": plan,
                    "inclusion_probability": pi,
                    "selected": selected,
                    "eligible": True,
                    "stratum": "high",
                    "all": y,
                }
            )
        )
    return randomized(pd.concat(frames, ignore_index=True).assign(draw=0))


def test_randomized_keeps_only_candidates_with_both_arms_possible():
    frame = pd.DataFrame(
        {
            "inclusion_probability": [0.0, 0.3, 1.0, 0.5],
            "eligible": [True, True, True, False],
            "selected": [False, True, True, False],
            "draw": 0,
        }
    )
    assert randomized(frame)["inclusion_probability"].tolist() == [0.3]


def test_unbiased_and_covering_on_a_known_design():
    rng = np.random.default_rng(7)
    effects = [assignment_effect(_design(rng), "all") for _ in range(150)]
    estimates = np.array([e.estimate for e in effects])
    covered = np.mean([e.ci_low <= EFFECT <= e.ci_high for e in effects])
    # 150 replications: the mean is within 3 standard errors of the truth, coverage near 95%.
    assert abs(estimates.mean() - EFFECT) < 3 * estimates.std() / np.sqrt(len(estimates)) + 0.005
    assert 0.88 <= covered <= 0.995


def test_no_effect_is_not_found_where_there_is_none():
    rng = np.random.default_rng(11)
    frame = _design(rng)
    frame["all"] = rng.poisson(0.5, len(frame))  # outcomes unrelated to assignment
    effect = assignment_effect(frame, "all")
    assert effect.ci_low < 0 < effect.ci_high and effect.p_value > 0.01


def test_estimate_effects_reports_windows_and_populations():
    frame = _design(np.random.default_rng(3)).assign(all_next=lambda f: f["all"])
    frame.loc[frame.index % 10 == 0, "stratum"] = "low"
    table = estimate_effects(frame, ["all"])
    assert set(table["outcome_window"]) == {"same_shift", "next_shift"}
    assert set(table["population"]) == {"pool", "low", "all"}


def test_refuses_a_design_with_one_arm():
    frame = _design(np.random.default_rng(5)).assign(selected=True)
    with pytest.raises(ValueError, match="both assigned and unassigned"):
        assignment_effect(frame, "all")


def test_dose_response_bins_missions_by_delivered_minutes_in_dose_order():
    missions = pd.DataFrame(
        {"delivered_minutes": [0, 3, 4, 12, 20, 45], "crime_count": [1, 0, 2, 0, 1, 0]}
    )
    curve = dose_response(missions)
    assert list(curve["dose_bin"]) == ["0", "0-5", "10-15", "15-30", "30+"]  # the empty 5-10 bin is left out
    assert list(curve["bin_order"]) == [0, 1, 3, 4, 5]
    assert list(curve["missions"]) == [1, 2, 1, 1, 1]
    assert list(curve["mean_crime"]) == [1.0, 1.0, 0.0, 1.0, 0.0]
    assert curve["observational"].all()


def test_quick_proof_recovers_the_effect_and_the_null():
    """Two seeds each on a small city, 24 shifts: a generous tolerance (the full proof is the CLI's)."""
    settings = quick_settings()
    effect = [seed_result("effect", seed, settings) for seed in (1, 2)]
    null = [seed_result("null", seed, settings) for seed in (1, 2)]
    assert all(-0.5 < r["estimate"] < -0.12 for r in effect)
    assert all(r["ci_high"] < 0 for r in effect)  # the effect is found
    assert all(abs(r["estimate"]) < 0.15 for r in null)
    assert sum(r["excludes_zero"] for r in null) <= 1


def test_no_interval_when_an_arm_has_too_few_events():
    frame = _design(np.random.default_rng(13))
    frame["all"] = np.where(frame["selected"], 0, frame["all"])  # not one event where assigned
    effect = assignment_effect(frame, "all")
    assert effect.estimate == -1.0 and np.isnan(effect.ci_low) and np.isnan(effect.ci_high)
    assert effect.events_assigned == 0


def test_the_mixture_has_no_interval_when_a_stratum_has_none():
    frame = _design(np.random.default_rng(17))
    low = frame.index % 4 == 0
    frame.loc[low, "stratum"] = "low"
    frame.loc[low & frame["selected"], "all"] = 0  # the low stratum: no event where assigned
    table = estimate_effects(frame, ["all"], windows={"same_shift": ""}).set_index("population")
    assert np.isnan(table.loc["low", "ci_low"]) and np.isnan(table.loc["all", "ci_low"])
    assert not np.isnan(table.loc["pool", "ci_low"])
