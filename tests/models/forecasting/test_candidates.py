"""The augmented count and the blends: what they rank on, when the gate serves them, and that the backtest
chooses their weights and partners the same way twice."""

from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

from models.forecasting.candidates import AUGMENT_WEIGHTS, AugmentedCounts
from models.forecasting.champion import (
    AUGMENTED,
    BLEND,
    CANDIDATE,
    best_baseline,
    choose_champion,
)
from models.forecasting.evaluate import event_trainer, run_backtest
from models.forecasting.events import read_incident_files
from models.forecasting.forecast_command import serving_forecasters
from models.forecasting.history import SIGNAL, EventHistory, to_minutes
from tests.models.forecasting.gate_cases import EVIDENCE, figures


def hand_made_history() -> EventHistory:
    """Three cells with one burglary each in 2015; the first also had five signal offences, the third one
    burglary more but long ago (more than 364 days before the shift)."""
    cells = pd.DataFrame({"cell_id": ["a", "b", "c"], "cell_col": [0, 5, 10], "cell_row": [0, 0, 0]})
    rows = [("burglary", 0, "2015-06-01"), ("burglary", 5, "2015-07-01"), ("burglary", 10, "2015-08-01"),
            ("burglary", 10, "2014-01-01"), *[(SIGNAL, 0, f"2015-0{m}-10") for m in range(1, 6)]]
    events = pd.DataFrame(rows, columns=["crime_type", "cell_col", "occurred_at"]).assign(cell_row=0)
    events["occurred_at"] = pd.to_datetime(events["occurred_at"])
    return EventHistory(events, cells, crime_types=["burglary"])


def test_the_augmented_count_separates_cells_their_own_count_ties_by_the_signal_offences():
    history = hand_made_history()
    start = to_minutes(datetime(2016, 1, 4, 6))
    score = AugmentedCounts("burglary", 0.1).score(history, start)[history.cell_index]
    assert score == pytest.approx([1.5, 1.0, 1.0])  # 1 + 0.1 x 5 signal offences; the 2014 burglary is too old
    assert AugmentedCounts("burglary", 0.0).score(history, start)[history.cell_index] == pytest.approx([1, 1, 1])


def test_the_gate_serves_the_augmented_count_only_when_it_captures_more_harm_and_never_takes_it_as_baseline():
    labels = {AUGMENTED: f"{AUGMENTED} (364-day count + 0.1 x the signal offences')"}
    table = {"prior_364d": figures(1.0, 0.5), CANDIDATE: figures(1.05, 0.5), AUGMENTED: figures(1.1, 0.55)}
    decision = choose_champion("burglary", table, EVIDENCE, "prior_364d", labels=labels)
    assert decision.champion == AUGMENTED and decision.candidate_wins
    assert f"{labels[AUGMENTED]}: harm capture 0.1000 -> 0.1100" in decision.reason

    table[AUGMENTED] = figures(0.95, 0.9)  # a higher PAI for its own type but less harm captured: refused
    decision = choose_champion("burglary", table, EVIDENCE, "prior_364d", labels=labels)
    assert decision.champion == CANDIDATE
    assert f"{labels[AUGMENTED]}: harm capture 0.0950 <= prior_364d's 0.1000" in decision.reason

    pai = {"prior_364d": {"pai_1": 5.0, "deviance": 0.1}, AUGMENTED: {"pai_1": 9.0, "deviance": 0.01},
           BLEND: {"pai_1": 9.5, "deviance": 0.01}}
    assert best_baseline(pai) == "prior_364d"


@pytest.fixture(scope="module")
def backtests(small_config, sample_cells, calendar):
    """The composite candidates on the sample slice with its signal offences, twice."""
    events = read_incident_files(small_config, signal=True)
    assert (events["crime_type"] == SIGNAL).any()
    history = EventHistory(events, sample_cells, crime_types=small_config.modelled_crime_types())
    trainer = event_trainer(history, small_config, calendar, small_config.forecasting.seed)
    return history, [run_backtest(history, small_config, ["robbery", "theft"], [date(2016, 3, 1)],
                                  date(2016, 3, 28), trainer, every_days=7) for _ in range(2)]


def test_the_backtest_chooses_the_augmented_weight_by_the_gates_objective_and_the_same_way_twice(backtests):
    _, (first, again) = backtests
    assert first.augment_weights == again.augment_weights
    assert set(first.augment_weights.values()) <= set(AUGMENT_WEIGHTS)
    assert {t: d.champion for t, d in first.decisions.items()} == {t: d.champion for t, d in again.decisions.items()}
    assert [d.reason for d in first.decisions.values()] == [d.reason for d in again.decisions.values()]
    for t, decision in first.decisions.items():
        assert AUGMENTED in first.metrics[t] and decision.best_baseline != AUGMENTED
        assert f"{AUGMENTED} (364-day count + {first.augment_weights[t]:g} x" in decision.reason
        # The fold's fitted augmented count is the one at the chosen weight.
        served = next(f for f in first.fitted[t] if f.method == AUGMENTED)
        assert served.weight == first.augment_weights[t]


def test_the_blend_partner_and_weight_are_chosen_by_the_gates_objective_and_the_same_way_twice(backtests):
    history, (first, again) = backtests
    assert first.blend_partners == again.blend_partners and first.blend_weights == again.blend_weights
    for t, decision in first.decisions.items():
        partner, weight = first.blend_partners[t], first.blend_weights[t]
        assert partner in (decision.best_baseline, AUGMENTED)
        assert f"{BLEND} ({weight:g} x {CANDIDATE} + {1 - weight:g} x {partner})" in decision.reason
        blend = next(f for f in first.fitted[t] if f.method == BLEND)
        assert (blend.baseline.method, blend.weight) == (partner, weight)
        # The blend scored in the backtest is the mix of the model and the partner it names.
        shift = first.shifts[0]
        model = next(f for f in first.fitted[t] if f.method == CANDIDATE)
        other = next(f for f in first.fitted[t] if f.method == partner)
        assert np.allclose(blend.predict(history, shift),
                           weight * model.predict(history, shift) + (1 - weight) * other.predict(history, shift))


def test_the_command_serves_the_composite_candidates_as_the_backtest_chose_them(backtests, small_config):
    history, (backtest, _) = backtests
    serving = serving_forecasters(history, small_config, ["robbery", "theft"], date(2016, 3, 28),
                                  {"robbery": AUGMENTED, "theft": BLEND}, backtest)
    assert serving["robbery"].method == AUGMENTED and serving["robbery"].weight == backtest.augment_weights["robbery"]
    blend = serving["theft"]
    assert (blend.method, blend.weight) == (BLEND, backtest.blend_weights["theft"])
    assert (blend.model.method, blend.baseline.method) == (CANDIDATE, backtest.blend_partners["theft"])
    assert blend.baseline.params()["alpha"]  # refitted up to the day before the forecast
