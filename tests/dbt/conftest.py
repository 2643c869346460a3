"""dbt fixtures: the manifest, and a warehouse built from a slice of the embedded sample."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from dbt.cli.main import dbtRunner
from raw_warehouse import build_raw_warehouse

from beatwise.config import AgencyConfig

DBT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
# Half a year keeps the build to seconds; the windows still reach back over real history.
SLICE_VARS = {"history_start": "2016-01-01", "history_end": "2016-06-30", "negatives_per_crime_type": 3000}


def run_dbt(*args: str) -> None:
    """Run dbt in-process against $BEATWISE_WAREHOUSE; fail with dbt's own message."""
    where = ["--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR)]
    result = dbtRunner().invoke([*args, *where, "--quiet"])
    if not result.success:
        raise AssertionError(f"dbt {' '.join(args)} failed: {result.exception or result.result}")


@pytest.fixture(scope="session", autouse=True)
def dbt_manifest() -> Path:
    run_dbt("parse")
    return DBT_DIR / "target" / "manifest.json"


@pytest.fixture(scope="session")
def built_warehouse(sample_config: AgencyConfig, beatwise_home: Path) -> Path:
    """A warehouse of the sample's incidents 2015-07-01 .. 2016-06-30, after a full `dbt build`."""
    path = build_raw_warehouse(sample_config, beatwise_home / "dbt_test_warehouse.duckdb",
                               incidents_where="occurred_at >= '2015-07-01' and occurred_at < '2016-07-01'")
    os.environ["BEATWISE_WAREHOUSE"] = str(path)
    run_dbt("build", "--vars", json.dumps(SLICE_VARS))
    return path
