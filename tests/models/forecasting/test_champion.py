"""Champion gating: the model takes the `champion` alias only when it beats every baseline."""

from datetime import date, datetime

import mlflow
import pytest
from mlflow import MlflowClient

from models.forecasting import tracking
from models.forecasting.baselines import baselines_for
from models.forecasting.champion import choose_champion
from models.forecasting.evaluate import Backtest
from models.forecasting.gbm import fit_models

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


def test_the_model_must_beat_every_baseline_on_pai_and_deviance():
    wins = choose_champion(
        "theft",
        {
            "prior_28d": metrics(10, 0.04),
            "kernel_decay": metrics(12, 0.039),
            "lightgbm_poisson": metrics(13, 0.038),
        },
    )
    assert (
        wins.candidate_wins and wins.champion == "lightgbm_poisson" and wins.best_baseline == "kernel_decay"
    )
    worse_ranking = choose_champion(
        "theft",
        {
            "prior_28d": metrics(10, 0.04),
            "kernel_decay": metrics(12, 0.039),
            "lightgbm_poisson": metrics(11, 0.030),
        },
    )
    assert not worse_ranking.candidate_wins and worse_ranking.champion == "kernel_decay"
    assert "kernel_decay" in worse_ranking.reason
    worse_deviance = choose_champion(
        "theft", {"prior_28d": metrics(10, 0.04), "lightgbm_poisson": metrics(11, 0.05)}
    )
    assert worse_deviance.champion == "prior_28d"
    tie_goes_to_baseline = choose_champion(
        "theft", {"prior_28d": metrics(10, 0.04), "lightgbm_poisson": metrics(10, 0.03)}
    )
    assert tie_goes_to_baseline.champion == "prior_28d"


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
    backtest = Backtest(
        {"robbery": table},
        {"robbery": choose_champion("robbery", table)},
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
    assert losing["champion"] == "prospective_hotspot"  # the highest baseline PAI in the table above
    assert tracking.champion(small_config, "robbery") == ("prospective_hotspot", losing["version"])
    versions = {
        v.tags["method"] for v in client.search_model_versions(f"name = '{name}'") if v.version not in earlier
    }
    assert versions == {"lightgbm_poisson", "prospective_hotspot"}  # the loser is on record, not aliased

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
