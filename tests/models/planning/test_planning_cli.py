"""`beatwise plan` and `beatwise plan replay` on the sample warehouse."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml
from click.testing import CliRunner

from models.planning.cli import plan
from tests.conftest import SAMPLE_CONFIG


@pytest.fixture
def home(tmp_path, monkeypatch, sample_warehouse_template):
    monkeypatch.setenv("BEATWISE_HOME", str(tmp_path))
    shutil.copy(sample_warehouse_template, tmp_path / "warehouse.duckdb")
    return tmp_path


def test_plan_prints_json_writes_out_and_replays_identical(home):
    runner = CliRunner()
    out = home / "plan.json"
    result = runner.invoke(
        plan, ["--config", str(SAMPLE_CONFIG), "--shift", "2016-12-01 14:00", "--json", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["shift_start"] == "2016-12-01 14:00" and len(doc["missions"]) == 24
    assert sum(c["selected"] for c in doc["candidates"]) == 24
    assert json.loads(out.read_text()) == doc
    replay = runner.invoke(plan, ["replay", doc["plan_id"], "--json"])
    assert replay.exit_code == 0, replay.output
    assert json.loads(replay.stdout)["identical"] is True


def test_plan_prints_a_mission_table(home):
    result = CliRunner().invoke(plan, ["--config", str(SAMPLE_CONFIG), "--shift", "2016-12-01 14:00"])
    assert result.exit_code == 0, result.output
    assert "24 missions" in result.output and "briefings:" in result.output


def test_bad_input_gets_a_message_not_a_traceback(home):
    # (A shift without risk surfaces is scored first: tests/orchestration/test_production.py.)
    runner = CliRunner()
    bad_time = runner.invoke(plan, ["--config", str(SAMPLE_CONFIG), "--shift", "tomorrow"])
    assert bad_time.exit_code == 1 and 'is not "YYYY-MM-DD HH:MM"' in bad_time.output
    unknown = runner.invoke(plan, ["replay", "P-none"])
    assert unknown.exit_code == 1 and "unknown plan 'P-none'" in unknown.output
    no_reason = runner.invoke(
        plan, ["override", "--suppress", "M1", "--reason", "", "--user", "analyst", "--password", "analyst-demo"]
    )
    assert no_reason.exit_code == 1 and "needs a reason" in no_reason.output


def test_zero_capacity_is_explained(home, tmp_path):
    raw = yaml.safe_load(SAMPLE_CONFIG.read_text())
    raw.update(
        extends=str(SAMPLE_CONFIG.parent / raw["extends"]),
        capacity={"units_per_shift": 0},
        data_root=str((SAMPLE_CONFIG.parent / raw["data_root"]).resolve()),
    )
    config = tmp_path / "zero.yaml"
    config.write_text(yaml.safe_dump(raw))
    result = CliRunner().invoke(plan, ["--config", str(config), "--shift", "2016-12-01 14:00"])
    assert result.exit_code == 1 and "zero capacity" in result.output
