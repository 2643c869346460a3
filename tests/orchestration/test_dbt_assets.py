"""The dbt assets: vars from the agency config, asset keys, raw dependencies, and a real materialization."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dbt.cli.main import dbtRunner

from beatwise.config import AgencyConfig

ROOT = Path(__file__).resolve().parents[2]
DBT_DIR = ROOT / "dbt_project"


@pytest.fixture(scope="module", autouse=True)
def dbt_manifest() -> None:
    """The manifest must exist before orchestration.defs.dbt imports (make setup does the same)."""
    where = ["--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR)]
    result = dbtRunner().invoke(["parse", *where, "--quiet"])
    assert result.success, result.exception


def test_vars_come_from_the_agency_config(sample_config: AgencyConfig) -> None:
    from orchestration.defs.dbt import dbt_build_args, dbt_vars

    found = dbt_vars(sample_config)
    # Only directed-patrol tactics count as mission activity; roll call, reports and stops never do.
    tactics = found.pop("patrol_tactics")
    assert "foot_patrol" in tactics and not {"roll_call", "report_writing", "traffic_stop"} & set(tactics)
    assert found == {
        "cell_size": 500.0, "shift_start_hours": [6, 14, 22], "windows_days": [7, 28, 91, 364],
        "signal_feeds": [],  # Chicago lists no files of calls for service or gunfire detections
        "negatives_per_crime_type": 50000, "negatives_per_positive": 2, "sample_seed": 20161231,
        "refresh_lookback_days": 3,
        "history_start": "2015-01-01", "history_end": "2016-12-31",
        "dosage_buffer": 50.0, "dosage_bridge_seconds": 120, "dosage_max_speed_mph": 100.0,
        "crs_units_per_mile": 5279.98944,
    }
    args = dbt_build_args(sample_config)
    assert args[0] == "build" and json.loads(args[args.index("--vars") + 1]) == {**found, "patrol_tactics": tactics}
    assert "--full-refresh" in args and "--full-refresh" not in dbt_build_args(sample_config, full_refresh=False)


def test_models_are_keyed_by_schema_and_depend_on_the_raw_assets() -> None:
    from orchestration.defs.dbt import warehouse_models

    keys = {key.to_user_string() for key in warehouse_models.keys}
    assert {"staging/stg_incidents", "intermediate/int_incidents", "marts/dim_cells", "marts/dim_shifts",
            "marts/fct_cell_shift_counts", "marts/fct_training_set", "marts/fct_scoring_features"} <= keys
    def deps(*key: str) -> set[str]:
        return {dep.to_user_string() for dep in warehouse_models.asset_deps[dg.AssetKey(list(key))]}

    assert deps("staging", "stg_incidents") == {"raw/incidents"}
    int_deps = deps("intermediate", "int_incidents")
    assert {"staging/stg_incidents", "raw/cells", "raw/agency_config"} <= int_deps
    checks = {check.name for check in warehouse_models.check_specs}
    assert any(name.startswith("unique_combination_fct_training_set") for name in checks)


def test_materializes_into_the_warehouse_resource(sample_config: AgencyConfig, beatwise_home: Path) -> None:
    import sys

    sys.path.insert(0, str(ROOT / "tests" / "dbt"))
    from raw_warehouse import build_raw_warehouse

    from orchestration.defs.dbt import defs, warehouse_models
    from orchestration.resources import AgencyResource, WarehouseResource

    path = build_raw_warehouse(sample_config, beatwise_home / "dagster_dbt.duckdb",
                               incidents_where="occurred_at >= '2016-06-01'")
    result = dg.materialize(
        [warehouse_models],
        resources={"dbt": defs.resources["dbt"], "agency": AgencyResource(),
                   "warehouse": WarehouseResource(path=str(path))},
        # Staging only: its tests need no other model (a relationships test needs both of its models).
        selection=["staging/stg_incidents", "staging/stg_weather_daily"],
    )
    assert result.success
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert materialized == {"staging/stg_incidents", "staging/stg_weather_daily"}
    checks = {e.check_name: e.passed
              for e in result.get_asset_check_evaluations()}
    assert checks["unique_stg_incidents_incident_id"] and checks["not_null_stg_incidents_occurred_at"]
    with duckdb.connect(str(path), read_only=True) as con:
        staged = con.execute("select count(*) from staging.stg_incidents").fetchall()[0][0]
        raw = con.execute("select count(*) from raw.incidents").fetchall()[0][0]
    assert staged == raw > 0
