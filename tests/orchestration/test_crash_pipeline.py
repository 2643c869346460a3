"""`beatwise run` killed with SIGKILL in each phase, then run again with nothing done by hand: the rerun
succeeds, every table's digest equals a clean run's, and the serving snapshot is never half-written.

The city is the smallest real one that passes every phase (tests/orchestration/crash_city.yaml). Only the
run's own process is killed, as `kill -9 PID` does: its `dbt build` child is left running for the
rerun's recovery to find.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster._core.events import DagsterEventType

ROOT = Path(__file__).resolve().parents[2]
CONFIG = Path(__file__).with_name("crash_city.yaml")
PHASES = {
    "ingest": lambda step: step == "raw__incidents",
    "dbt": lambda step: step.startswith("warehouse_models"),
    "training": lambda step: step == "forecast_models",
    "planning": lambda step: step == "plans__missions",
    "publishing": lambda step: step == "serving__snapshot",
}
# What differs between two clean runs by nature: the append-only logs (a killed run's records stay in
# them, as they should) and wall-clock columns.
UNCOMPARED_TABLES = {"raw.audit_log", "raw.load_log"}
WALL_CLOCK = {"_loaded_at", "loaded_at", "quarantined_at", "evaluated_at", "computed_at", "created_at",
              "changed_at", "requested_at", "applied_at", "recorded_at"}
# The registry's version numbers count registrations (a run killed in training registered some): the
# model's content is named by its digest in the audit chain instead.
UNCOMPARED_COLUMNS = WALL_CLOCK | {"model_version"}


def environment(home: Path) -> dict[str, str]:
    return {**os.environ, "BEATWISE_HOME": str(home), "DAGSTER_HOME": str(home / "dagster"),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}


def start_run(home: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "beatwise"), "run", "--config", str(CONFIG)],
        env=environment(home), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def finish(run: subprocess.Popen) -> str:
    output, _ = run.communicate(timeout=3600)
    assert run.returncode == 0, output[-3000:]
    return output


def table_digests(warehouse_file: Path) -> dict[str, str]:
    with duckdb.connect(str(warehouse_file), read_only=True) as con:
        columns: dict[str, list[str]] = {}
        for schema, table, column in con.execute(
            """select table_schema, table_name, column_name from information_schema.columns
               order by table_schema, table_name, ordinal_position"""
        ).fetchall():
            columns.setdefault(f"{schema}.{table}", []).append(column)
        digests = {}
        for table, names in columns.items():
            kept = [f'"{c}"' for c in names if c not in UNCOMPARED_COLUMNS]
            if table in UNCOMPARED_TABLES or not kept:
                continue
            frame = con.execute(f"select {', '.join(kept)} from {table} order by all").df()
            digests[table] = hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()
    return digests


def started_steps(home: Path) -> list[str]:
    if not (home / "dagster" / "dagster.yaml").exists():
        return []  # the run has not prepared its instance yet
    os.environ["DAGSTER_HOME"] = str(home / "dagster")
    with dg.DagsterInstance.get() as instance:
        steps = []
        for run in instance.get_runs():
            records = instance.get_records_for_run(run.run_id, of_type=DagsterEventType.STEP_START).records
            steps += [r.event_log_entry.step_key for r in records]
    return steps


def snapshot_is_whole(home: Path) -> bool:
    """The serving snapshot is absent or a complete DuckDB file whose every table reads."""
    snapshot = home / "serving.duckdb"
    if not snapshot.exists():
        return True
    with duckdb.connect(str(snapshot), read_only=True) as con:
        tables = con.execute("select table_schema, table_name from information_schema.tables").fetchall()
        for schema, table in tables:
            con.execute(f'select count(*) from "{schema}"."{table}"').fetchall()
    return bool(tables)


@pytest.fixture(scope="module")
def clean_digests(tmp_path_factory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("clean")
    finish(start_run(home))
    return table_digests(home / "warehouse.duckdb")


@pytest.mark.parametrize("phase", list(PHASES))
def test_a_run_killed_in_each_phase_is_rerun_by_itself(phase, clean_digests, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    saved = os.environ.get("DAGSTER_HOME")
    try:
        run = start_run(home)
        deadline = time.time() + 3600
        while not any(PHASES[phase](s) for s in started_steps(home)):
            assert run.poll() is None, f"the run ended before {phase}: {run.stdout.read()[-3000:]}"
            assert time.time() < deadline
            time.sleep(0.5)
        time.sleep(1.0)  # inside the phase, not at its first line
        os.kill(run.pid, signal.SIGKILL)
        run.wait()
        assert snapshot_is_whole(home)

        output = finish(start_run(home))
        assert snapshot_is_whole(home)
    finally:
        if saved is not None:
            os.environ["DAGSTER_HOME"] = saved
    assert "recovered from 1 dead run" in output
    digests = table_digests(home / "warehouse.duckdb")
    assert set(digests) == set(clean_digests)
    assert [t for t in digests if digests[t] != clean_digests[t]] == []
    result = subprocess.run([str(Path(sys.executable).parent / "beatwise"), "audit", "verify"],
                            env=environment(home), capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
