"""Every feature a model can be explained by has a sentence: a briefing never shows a feature's code name."""

from datetime import datetime
from pathlib import Path

import pytest

from beatwise.config import load_config
from models.forecasting.explain import driver_text, method_words
from models.forecasting.features import feature_names

CONFIG = Path(__file__).resolve().parents[3] / "config"


@pytest.mark.parametrize("name", ["chicago_sample.yaml", "synthetic.yaml"])
def test_every_feature_reads_as_a_sentence(name):
    config = load_config(CONFIG / name)
    for feature in feature_names(config):
        text = driver_text(feature, "robbery", {}, 150.0, datetime(2017, 1, 1, 6))
        assert "_" not in text and text != feature.replace("_", " "), feature


def test_the_synthetic_city_explains_its_reporting_feeds():
    config = load_config(CONFIG / "synthetic.yaml")
    names = feature_names(config)
    assert {"n_calls_nbhd_28d", "n_detections_cell_28d"} <= set(names)
    assert driver_text("n_calls_nbhd_28d", "robbery", {}, 150.0, datetime(2017, 1, 1, 6)) == (
        "calls for service within 225 m in the last 28 days")
    assert "related reports" in method_words("blend")
