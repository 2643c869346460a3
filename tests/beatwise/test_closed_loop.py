"""The closed loop on a small synthetic city: greedy top-k concentrates patrol, beatwise's caps hold."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from beatwise.cli.simulate import simulate
from beatwise.config import load_config
from beatwise.paths import PROJECT_ROOT, closed_loop_result
from models.closed_loop.loop import ClosedLoop, LoopSettings
from models.closed_loop.measures import gini, interval, top_share

CONFIG = PROJECT_ROOT / "config" / "synthetic.yaml"


@pytest.fixture(scope="module")
def result(beatwise_home):
    runner = CliRunner()
    out = runner.invoke(
        simulate,
        ["closed-loop", "--config", str(CONFIG), "--days", "21", "--seeds", "3", "--cells", "1200",
         "--policy", "beatwise", "--policy", "greedy", "--json"],
    )
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)


def test_the_command_prints_the_contract(result):
    assert result["days"] == 21 and result["seeds"] == 3
    assert set(result["policies"]) == {"beatwise", "greedy"}
    for entry in result["policies"].values():
        for key in ("top1_share", "gini", "max_cell_share", "recorded_true_drift", "crime_prevented"):
            assert entry[f"{key}_low"] <= entry[key] <= entry[f"{key}_high"]
        assert entry["top1_share_cap"] == 0.5


def test_greedy_concentrates_more_than_beatwise(result):
    beatwise, greedy = result["policies"]["beatwise"], result["policies"]["greedy"]
    assert greedy["top1_share_low"] > beatwise["top1_share_high"]
    assert greedy["max_cell_share_low"] > beatwise["max_cell_share_high"]
    assert greedy["gini"] > beatwise["gini"]
    assert beatwise["top1_share_high"] < beatwise["top1_share_cap"]
    assert beatwise["caps_held"] and not greedy["caps_held"]


def test_the_result_is_kept_for_the_exposure_page(result):
    kept = json.loads(closed_loop_result("synthetic").read_text())
    assert kept["policies"]["greedy"]["top1_share"] == result["policies"]["greedy"]["top1_share"]


def test_same_seed_same_run():
    loop = ClosedLoop(load_config(CONFIG), cells=400, settings=LoopSettings(days=3, warmup_days=28))
    a, b = loop.run("beatwise", 5), loop.run("beatwise", 5)
    assert np.array_equal(a.minutes, b.minutes) and a.true_crime == b.true_crime
    with pytest.raises(ValueError, match="unknown policy 'hotspot'"):
        loop.run("hotspot", 5)


def test_measures():
    assert gini(np.ones(10)) == pytest.approx(0.0)
    assert gini(np.r_[np.zeros(99), 1.0]) == pytest.approx(0.99)
    assert top_share(np.r_[np.ones(99), 101.0], 0.01) == pytest.approx(0.505)
    mean, low, high = interval([1.0, 2.0, 3.0])
    assert mean == 2.0 and low < 2.0 < high
