"""The whole code location loads the way the Dagster UI loads it: every job, schedule and sensor resolves."""

from __future__ import annotations

SIMULATED = "operations/simulated_shifts"


def _keys(defs, job: str) -> set[str]:
    return {key.to_user_string() for key in defs.resolve_job_def(job).asset_layer.executable_asset_keys}


def test_every_job_schedule_and_sensor_resolves():
    from orchestration.definitions import defs

    repository = defs.get_repository_def()
    jobs = {job.name for job in repository.get_all_jobs()}
    assert {"main", "demo", "field_operations", "score_shift", "plan_missions", "apply_overrides",
            "refresh_forecasts_and_plans"} <= jobs
    assert {s.name for s in repository.schedule_defs} >= {"plan_each_shift"}
    assert {s.name for s in repository.sensor_defs} >= {"override_inbox", "new_feed_files", "new_field_files"}


def test_the_main_job_covers_the_whole_path_from_feeds_to_the_serving_snapshot():
    from orchestration.definitions import defs

    keys = _keys(defs, "main")
    for expected in ("raw/incidents", "raw/cells", "marts/fct_training_set", "forecast/risk_surfaces",
                     "plans/missions", "marts/rpt_shift", "marts/rpt_impact", "serving/snapshot",
                     "raw/avl_pings", "raw/patrol_activity"):
        assert expected in keys, expected


def test_only_the_demo_job_writes_simulated_operations_and_before_the_next_plan():
    import dagster as dg

    from orchestration.definitions import defs

    assert SIMULATED not in _keys(defs, "main")
    assert SIMULATED not in _keys(defs, "refresh_forecasts_and_plans")
    assert SIMULATED not in _keys(defs, "field_operations")
    assert _keys(defs, "demo") == _keys(defs, "main") | {SIMULATED}
    missions = defs.resolve_asset_graph().get(dg.AssetKey(["plans", "missions"]))
    assert dg.AssetKey(["operations", "simulated_shifts"]) in missions.parent_keys


def test_field_operations_runs_real_avl_and_activity_files_to_the_reports():
    from orchestration.definitions import defs

    keys = _keys(defs, "field_operations")
    assert {"raw/avl_pings", "raw/patrol_activity", "marts/fct_mission_dosage", "marts/rpt_shift",
            "marts/rpt_officer", "serving/snapshot"} <= keys
    assert not keys & {"raw/incidents", "forecast/models", "plans/missions"}
    assert _keys(defs, "score_shift") == {"raw/scoring_shifts", "marts/fct_scoring_features",
                                          "forecast/risk_surfaces"}


def test_a_config_without_a_demo_block_has_no_demo_job(tmp_path, monkeypatch):
    """The code location loaded for a real agency's config (a fresh process: definitions load at import)."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    code = ("from orchestration.definitions import defs; "
            "print(sorted(j.name for j in defs.get_repository_def().get_all_jobs()))")
    env = {**__import__("os").environ, "BEATWISE_CONFIG": str(root / "config" / "chicago.yaml")}
    out = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True,
                         timeout=300, check=True).stdout
    assert "'main'" in out and "'demo'" not in out and "'field_operations'" in out
