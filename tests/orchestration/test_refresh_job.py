"""The shift refresh job: the landed feeds, the incremental incident models and the scoring view (dbt
without --full-refresh), then scoring and planning; no retraining and no other mart. Its equality with a
full rebuild: tests/dbt/test_incremental_refresh.py; its time on the full city: benchmarks/bench_refresh.py."""

from __future__ import annotations


def test_the_refresh_job_scores_and_plans_from_the_incremental_models_only():
    from orchestration.definitions import defs

    job = defs.resolve_job_def("refresh_forecasts_and_plans")
    keys = {key.to_user_string() for key in job.asset_layer.executable_asset_keys}
    assert keys == {
        "raw/incidents", "raw/calls_for_service", "raw/gunfire_detections",
        "intermediate/int_incidents", "intermediate/int_feed_signals", "marts/fct_cell_shift_counts",
        "marts/dim_shifts", "marts/fct_scoring_features",
        "raw/scoring_shifts", "forecast/risk_surfaces", "plans/missions",
    }
    assert job.run_config["ops"]["warehouse_models"]["config"] == {"full_refresh": False}
    # The main job rebuilds everything in full (the model's default).
    assert "warehouse_models" not in (defs.resolve_job_def("main").run_config or {}).get("ops", {})


def test_the_incident_models_are_incremental_with_the_lookback_of_the_config(sample_config):
    import json
    from pathlib import Path

    from orchestration.defs.dbt import dbt_project, dbt_vars

    manifest = json.loads(Path(dbt_project.manifest_path).read_text())
    models = {node["name"]: node for node in manifest["nodes"].values() if node["resource_type"] == "model"}
    for name in ("int_incidents", "int_feed_signals", "fct_cell_shift_counts"):
        assert models[name]["config"]["materialized"] == "incremental"
        assert models[name]["config"]["unique_key"]
    assert models["fct_scoring_features"]["config"]["materialized"] == "view"
    assert dbt_vars(sample_config)["refresh_lookback_days"] == sample_config.forecasting.refresh_lookback_days
