"""The planning assets, schedule and sensors, in process, on a warehouse cut from the embedded sample."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import pytest

from beatwise import paths
from models.planning.overrides import pending, submit_override
from orchestration.defs.missions import (
    missions,
    new_feed_files,
    override_inbox,
    overrides,
    plan_each_shift_schedule,
    planning_times,
)
from orchestration.resources import AgencyResource, WarehouseResource
from tests.conftest import SAMPLE_CONFIG
from tests.models.planning.warehouse_sample import build_warehouse


@pytest.fixture(scope="module")
def template(tmp_path_factory, sample_config):
    return build_warehouse(tmp_path_factory.mktemp("missions") / "template.duckdb", sample_config)


@pytest.fixture
def home(tmp_path, monkeypatch, template):
    monkeypatch.setenv("BEATWISE_HOME", str(tmp_path))
    monkeypatch.setenv("BEATWISE_NOW", "2016-12-01T12:00:00")
    shutil.copy(template, tmp_path / "warehouse.duckdb")
    return tmp_path


def resources(home):
    return {
        "agency": AgencyResource(config_path=str(SAMPLE_CONFIG)),
        "warehouse": WarehouseResource(path=str(home / "warehouse.duckdb")),
    }


def test_override_in_the_inbox_is_applied_within_one_tick_and_republished(home):
    planned = dg.materialize(
        [missions],
        resources=resources(home),
        run_config={"ops": {"plans__missions": {"config": {"shift": "2016-12-01 14:00"}}}},
    )
    assert planned.success
    meta = planned.asset_materializations_for_node("plans__missions")[0].metadata
    assert meta["missions"].value == 24
    with duckdb.connect(str(paths.serving_path()), read_only=True) as serving:
        mission_id = serving.execute(
            "select mission_id from plans.missions order by mission_id limit 1"
        ).fetchall()[0][0]

    assert isinstance(override_inbox(dg.build_sensor_context()), dg.SkipReason)
    submit_override("suppress", "analyst", "analyst", "street festival", mission_id=mission_id)
    tick = override_inbox(dg.build_sensor_context())
    assert len(tick.run_requests) == 1  # the first tick after the file lands asks for a run
    applied = dg.materialize([overrides], resources=resources(home))
    assert applied.success and not pending()

    with duckdb.connect(str(paths.serving_path()), read_only=True) as serving:
        status = serving.execute(
            "select status, changed_reason from plans.missions where mission_id = ?", [mission_id]
        ).fetchall()[0]
        active = serving.execute(
            "select count(*) from plans.missions where status <> 'suppressed'"
        ).fetchall()[0][0]
        logged = serving.execute(
            "select actor, payload from raw.audit_log where kind = 'override'"
        ).fetchall()
    assert status == ("suppressed", "street festival") and active == 24
    assert logged[0][0] == "analyst" and json.loads(logged[0][1])["reason"] == "street festival"


def test_landing_sensor_fires_once_per_new_file(home):
    first = new_feed_files(dg.build_sensor_context())
    assert isinstance(first, dg.SkipReason)
    (paths.landing_dir() / "incidents").mkdir()
    (paths.landing_dir() / "incidents" / "2016-12-02.csv").write_text("ID\n1\n")
    fired = new_feed_files(dg.build_sensor_context())
    assert len(fired.run_requests) == 1 and "incidents/2016-12-02.csv" in fired.run_requests[0].tags["landed"]
    again = new_feed_files(dg.build_sensor_context(cursor=fired.cursor))
    assert isinstance(again, dg.SkipReason)
    # Field operations files (a replay lands them every run) do not refresh forecasts and plans.
    (paths.landing_dir() / "avl_pings").mkdir()
    (paths.landing_dir() / "avl_pings" / "replay.parquet").write_bytes(b"PAR1")
    assert isinstance(new_feed_files(dg.build_sensor_context(cursor=fired.cursor)), dg.SkipReason)


def test_schedule_plans_each_shift_its_lead_time_ahead():
    assert planning_times([6, 14, 22], 60) == ["0 13 * * *", "0 21 * * *", "0 5 * * *"]
    assert planning_times([6], 90) == ["30 4 * * *"]
    fires = datetime(2016, 12, 1, 13, 0, tzinfo=ZoneInfo("America/Chicago"))
    request = plan_each_shift_schedule(dg.build_schedule_context(scheduled_execution_time=fires))
    assert request.run_config["ops"]["plans__missions"]["config"]["shift"] == "2016-12-01 14:00"


def test_definitions_load_with_the_planning_jobs():
    from orchestration.definitions import defs

    for job in ("plan_missions", "apply_overrides", "refresh_forecasts_and_plans"):
        assert defs.resolve_job_def(job) is not None
    assert defs.resolve_sensor_def("override_inbox") and defs.resolve_schedule_def("plan_each_shift")
