"""The whole code location loads the way the Dagster UI loads it: every job, schedule and sensor resolves."""

from __future__ import annotations


def test_every_job_schedule_and_sensor_resolves():
    from orchestration.definitions import defs

    repository = defs.get_repository_def()
    jobs = {job.name for job in repository.get_all_jobs()}
    assert {"main", "plan_missions", "apply_overrides", "refresh_forecasts_and_plans"} <= jobs
    assert {s.name for s in repository.schedule_defs} >= {"plan_each_shift"}
    assert {s.name for s in repository.sensor_defs} >= {"override_inbox", "new_feed_files"}


def test_the_main_job_covers_the_whole_path_from_feeds_to_the_serving_snapshot():
    from orchestration.definitions import defs

    keys = {key.to_user_string() for key in defs.resolve_job_def("main").asset_layer.executable_asset_keys}
    for expected in ("raw/incidents", "raw/cells", "marts/fct_training_set", "forecast/risk_surfaces",
                     "plans/missions", "marts/rpt_shift", "marts/rpt_impact", "serving/snapshot"):
        assert expected in keys, expected
