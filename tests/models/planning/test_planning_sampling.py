"""The randomization proof: recorded inclusion probabilities are the true selection frequencies."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from beatwise.config.schema import Exposure
from models.planning import PlanningError
from models.planning.sampling import inclusion_probabilities, systematic_sample
from models.planning.selection import design_selection, select_missions

DRAWS = 4000


def sigma_bound(pi: np.ndarray, draws: int, sigmas: float = 4.0) -> np.ndarray:
    """A binomial 4-sigma bound on |frequency - pi| (plus one draw's worth for pi near 0 or 1)."""
    return sigmas * np.sqrt(pi * (1 - pi) / draws) + 1.0 / draws


def test_inclusion_probabilities_are_proportional_capped_and_sum_to_n():
    weights = np.array([50.0, 10, 5, 4, 3, 2, 1, 0])
    pi = inclusion_probabilities(weights, 3)
    assert pi.sum() == pytest.approx(3)
    assert pi[0] == 1.0 and pi[-1] == 0.0  # a certainty, and a zero weight never drawn
    rest = pi[1:-1] / weights[1:-1]
    assert np.allclose(rest, rest[0])  # proportional to weight below the cap


def test_too_few_positive_weights_is_refused():
    with pytest.raises(PlanningError, match="cannot draw 3 units from 2"):
        inclusion_probabilities(np.array([1.0, 2.0, 0.0]), 3)


def test_systematic_sample_has_fixed_size_and_matches_probabilities():
    rng = np.random.default_rng(7)
    pi = inclusion_probabilities(rng.gamma(0.5, 1.0, 40), 6)
    hits = np.zeros(40)
    for seed in range(DRAWS):
        chosen = systematic_sample(pi, np.random.default_rng(seed))
        assert chosen.sum() == 6
        hits += chosen
    assert np.all(np.abs(hits / DRAWS - pi) <= sigma_bound(pi, DRAWS))


def city(seed: int, districts: int = 2, cells: int = 120) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = districts * cells
    priority = rng.pareto(1.5, n) * (rng.random(n) < 0.6)  # heavy-tailed, with many zero cells
    return pd.DataFrame(
        {
            "cell_id": [f"{i}_0" for i in range(n)],
            "district": [str(i % districts) for i in range(n)],
            "beat": "0101",
            "priority": priority,
        }
    )


def test_selection_frequencies_match_recorded_inclusion_probabilities():
    """Over 4,000 plans with different seeds, every candidate's selection frequency is within a binomial
    4-sigma bound of the probability the plan recorded for it (top cap, pool and low stratum all active)."""
    priority = city(1)
    exposure = Exposure(
        candidate_pool_size=25,
        top_cells_share=0.05,
        top_cells_max_mission_share=0.25,
        low_risk_reserved_share=0.25,
        max_missions_per_cell=1,
    )
    recent = pd.Series(1, index=priority["cell_id"].iloc[::17])  # some cells capped
    capacity = {"0": 8, "1": 5}
    design = design_selection(priority, capacity, recent, exposure)
    first = design.candidates
    pi = first["inclusion_probability"].to_numpy()
    hits = np.zeros(len(first))
    for seed in range(DRAWS):
        hits += design.draw(seed)
    planned = select_missions(priority, capacity, recent, exposure, seed=123).candidates
    assert np.array_equal(planned["inclusion_probability"].to_numpy(), pi)  # what a plan records
    assert np.array_equal(planned["selected"].to_numpy(), design.draw(123))
    assert set(first["stratum"]) == {"top", "high", "low", "excluded"}
    assert np.all(np.abs(hits / DRAWS - pi) <= sigma_bound(pi, DRAWS))
    assert hits[~first["eligible"].to_numpy()].sum() == 0
