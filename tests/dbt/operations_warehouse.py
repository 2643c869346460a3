"""Helpers for the operations tests: a small warehouse (raw tables of the embedded sample written by the
real ingest, via tests/dbt/raw_warehouse.py), plans, pings and activity written as the pipeline writes
them, and a real `dbt build` of the operations models on it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd

from beatwise.config import AgencyConfig
from beatwise.contracts import CONTRACTS
from beatwise.ingest import upsert
from models.planning import store
from tests.dbt.raw_warehouse import build_raw_warehouse

DBT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
OPERATIONS = "path:models/operations"


def sample_warehouse(config: AgencyConfig, path: Path, first_day: str, last_day: str) -> Path:
    """Raw tables of the embedded sample with the incidents of [first_day, last_day)."""
    where = f"occurred_at >= timestamp '{first_day}' and occurred_at < timestamp '{last_day}'"
    return build_raw_warehouse(config, path, incidents_where=where)


def write_plan(con: duckdb.DuckDBPyConnection, plan_id: str, shift_start, missions: pd.DataFrame) -> None:
    """A published plan with `missions` (mission_id, cell_id, district, ... as plans.missions)."""
    store.ensure_tables(con)
    con.execute(
        "insert into plans.plans (plan_id, shift_start, created_at, seed, status, created_by) "
        "values (?, ?, now(), 1, 'published', 'test')",
        [plan_id, shift_start],
    )
    defaults = {
        "plan_id": plan_id,
        "shift_start": pd.Timestamp(shift_start),
        "beat": None,
        "crime_types": json.dumps({"robbery": 0.7, "theft": 0.3}),
        "dose_minutes": 15.0,
        "visits": 1,
        "tactics": json.dumps(["foot_patrol"]),
        "inclusion_probability": 0.5,
        "stratum": "high",
        "draw": 0,
        "status": "planned",
    }
    frame = missions.assign(**{k: v for k, v in defaults.items() if k not in missions})
    con.register("new_missions", frame)
    con.execute("insert into plans.missions by name select * from new_missions")
    con.unregister("new_missions")


def write_feed(con: duckdb.DuckDBPyConnection, feed: str, rows: pd.DataFrame) -> None:
    """Rows straight into raw.<feed> (the contract's table), bypassing the ingest's own checks."""
    upsert.ensure_tables(con, CONTRACTS[feed])
    frame = rows.assign(_source_file="test", _row_digest="test", _loaded_at=pd.Timestamp("2016-06-30"))
    con.register("new_rows", frame)
    con.execute(f"insert into raw.{feed} by name select * from new_rows")
    con.unregister("new_rows")


def dbt_build(
    warehouse: Path, select: str = f"+{OPERATIONS}", variables: dict | None = None, command: str = "build"
) -> None:
    """Run dbt on `warehouse`; raise with dbt's own message if anything fails."""
    env = {**os.environ, "BEATWISE_WAREHOUSE": str(warehouse)}
    # A separate process, as the pipeline runs it: dbt-duckdb keeps its connection open in-process.
    args = [
        str(Path(sys.executable).parent / "dbt"),
        command,
        "--project-dir",
        str(DBT_DIR),
        "--profiles-dir",
        str(DBT_DIR),
        "--select",
        select,
        "--no-use-colors",
        "--indirect-selection",
        "cautious",
    ]
    if variables:
        args += ["--vars", json.dumps(variables)]
    done = subprocess.run(args, env=env, capture_output=True, text=True, cwd=DBT_DIR)
    if done.returncode != 0:
        problems = [
            line for line in done.stdout.splitlines() if "ERROR" in line or "FAIL" in line or "Error" in line
        ]
        raise AssertionError(
            f"dbt {command} failed:\n" + "\n".join(problems[-30:] or done.stdout.splitlines()[-30:])
        )
