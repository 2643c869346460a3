"""Champion gating: the harm-weighted gate on hand-made cases; the model takes the `champion` alias only
when it wins the gate."""

from datetime import date, datetime

import mlflow
import pytest
from mlflow import MlflowClient

from models.forecasting import tracking
from models.forecasting.baselines import baselines_for
from models.forecasting.champion import (
    BLEND,
    CANDIDATE,
    best_baseline,
    choose_champion,
)
from models.forecasting.evaluate import Backtest
from models.forecasting.gbm import fit_models
from tests.models.forecasting.gate_cases import EVIDENCE, figures

TRAIN_UNTIL = date(2016, 2, 29)


def metrics(pai_1: float, deviance: float) -> dict[str, float]:
    return {
        "pai_1": pai_1,
        "pai_5": pai_1 / 3,
        "hit_rate_1": pai_1 / 100,
        "pei_star_1": 0.1,
        "harm_captured_1": pai_1,
        "deviance": deviance,
        "calibration": 1.0,
        "crimes": 10.0,
    }




def test_the_gate_serves_the_best_harm_capture_whose_pai_is_not_worse_beyond_the_interval():
    """A hand-made case: the model captures more harm but flags fewer of its own crimes on every shift
    (its PAI is below the baseline's beyond any interval): refused. The blend captures more harm than the
    baseline at the same PAI: it serves."""
    table = {"prior_364d": figures(1.0, 0.5), CANDIDATE: figures(1.2, 0.4), BLEND: figures(1.1, 0.5)}
    decision = choose_champion("theft", table, EVIDENCE, "prior_364d")
    assert decision.champion == BLEND and decision.candidate_wins
    assert f"{CANDIDATE}: PAI@1% 20.00 below prior_364d's 25.00 beyond the 90% interval" in decision.reason
    assert decision.evidence[BLEND]["objective"] == pytest.approx(0.11)
    assert decision.evidence[BLEND]["pai_1"] == pytest.approx(25.0)

    # A model whose PAI is lower on average but within the noise of the shifts serves: the best harm capture.
    table[CANDIDATE] = figures(1.3, 0.48, noise=0.3)
    decision = choose_champion("theft", table, EVIDENCE, "prior_364d")
    assert decision.champion == CANDIDATE
    assert decision.evidence[CANDIDATE]["pai_gain_low"] < 0 < decision.evidence[CANDIDATE]["pai_gain_high"]

    # No more harm captured than the baseline (a tie included): the baseline serves.
    tie = {"prior_364d": figures(1.0, 0.5), CANDIDATE: figures(1.0, 0.9), BLEND: figures(0.9, 0.6)}
    decision = choose_champion("theft", tie, EVIDENCE, "prior_364d")
    assert decision.champion == "prior_364d" and not decision.candidate_wins
    assert "harm capture 0.1000 <= prior_364d's 0.1000" in decision.reason


def test_the_gates_intervals_are_reproducible_and_cover_the_point():
    table = {"prior_364d": figures(1.0, 0.5, noise=0.2), CANDIDATE: figures(1.1, 0.55, noise=0.4)}
    first = choose_champion("theft", table, EVIDENCE, "prior_364d", seed=7)
    again = choose_champion("theft", table, EVIDENCE, "prior_364d", seed=7)
    assert first == again
    row = first.evidence[CANDIDATE]
    assert row["objective_gain_low"] <= 0.01 <= row["objective_gain_high"]


def test_the_best_baseline_has_the_highest_pai_then_the_lower_deviance():
    table = {"prior_28d": metrics(10, 0.04), "kernel_decay": metrics(12, 0.039), "prior_364d": metrics(12, 0.03),
             CANDIDATE: metrics(30, 0.01)}
    assert best_baseline(table) == "prior_364d"


@pytest.fixture(scope="module")
def fitted(sample_history, small_config, calendar):
    forecasters = [
        b.fit(sample_history, small_config, TRAIN_UNTIL) for b in baselines_for("robbery", small_config)
    ]
    model = fit_models(
        sample_history,
        small_config,
        calendar,
        ["robbery"],
        TRAIN_UNTIL,
        small_config.forecasting.seed,
        keep_frames=True,
    )["robbery"]
    return [*forecasters, model]


def register(config, fitted, candidate_pai: float):
    table = {f.method: metrics(5.0 + i, 0.02) for i, f in enumerate(fitted[:-1])}
    table["lightgbm_poisson"] = metrics(candidate_pai, 0.01)
    best = best_baseline(table)
    by_pai = {m: figures(v["pai_1"] / 100, v["pai_1"] / 100) for m, v in table.items()}
    backtest = Backtest(
        {"robbery": table},
        {"robbery": choose_champion("robbery", by_pai, EVIDENCE, best)},
        {},
        [datetime(2016, 3, 1, 6), datetime(2016, 3, 29, 22)],
        {"robbery": fitted},
    )
    tracking.use_experiment(config)
    uris = {
        f.method: tracking.log_method(
            config, "robbery", f, backtest, TRAIN_UNTIL, getattr(f, "training_frame", None)
        )[1]
        for f in fitted
    }
    return tracking.register_champion(config, backtest.decisions["robbery"], uris)


def test_a_worse_candidate_leaves_the_alias_to_the_best_baseline_then_a_better_one_takes_it(
    small_config, fitted
):
    tracking.use_experiment(small_config)
    client = MlflowClient()
    name = tracking.registered_name(small_config, "robbery")
    earlier = {v.version for v in client.search_model_versions(f"name = '{name}'")}  # other tests' runs
    losing = register(small_config, fitted, candidate_pai=1.0)
    assert losing["champion"] == fitted[-2].method  # the last baseline: the highest PAI in the table above
    assert tracking.champion(small_config, "robbery") == (fitted[-2].method, losing["version"])
    versions = {
        v.tags["method"] for v in client.search_model_versions(f"name = '{name}'") if v.version not in earlier
    }
    assert versions == {"lightgbm_poisson", fitted[-2].method}  # the loser is on record, not aliased

    winning = register(small_config, fitted, candidate_pai=50.0)
    assert tracking.champion(small_config, "robbery") == ("lightgbm_poisson", winning["version"])
    # The model run carries its training data, features and card.
    runs = mlflow.search_runs(
        experiment_names=[tracking.experiment_name(small_config)],
        filter_string="tags.method = 'lightgbm_poisson'",
    )
    run = client.get_run(runs["run_id"].iloc[0])
    assert run.inputs.dataset_inputs[0].dataset.digest
    assert run.data.tags["training_data_sha256"]
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"model_card.md", "features.json"} <= artifacts
    assert str(tracking.tracking_uri()).startswith("sqlite:///")
