"""`beatwise run` killed with SIGKILL in each phase, then run again with nothing done by hand: the rerun
succeeds, every table's digest equals a clean run's, and the serving snapshot is never half-written.

One chain keeps this affordable: a run is killed in ingest, its rerun (which must first recover from the
dead run) is killed in dbt, that one's rerun in training, and so on to publishing; a last rerun completes.
Every kill leaves a dead run, its pids and whatever slots it held for the next run to reclaim, so a stale
slot that was not reclaimed would hang the next run (each run has a deadline). A clean run of the same
config runs alongside in its own home, as the baseline.

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
RUN_DEADLINE = 1800  # seconds: a run waiting on a slot nobody will free fails here instead of hanging


def environment(home: Path) -> dict[str, str]:
    return {**os.environ, "BEATWISE_HOME": str(home), "DAGSTER_HOME": str(home / "dagster"), "PYTHONUNBUFFERED": "1",
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}


def start_run(home: Path) -> subprocess.Popen:
    """`beatwise run` in `home`; its output goes to a file (an unread pipe would block it when full)."""
    log = (home.parent / f"{home.name}-run-{len(list(home.parent.glob(f'{home.name}-run-*')))}.log").open("w+")
    run = subprocess.Popen(
        [str(Path(sys.executable).parent / "beatwise"), "run", "--config", str(CONFIG)],
        env=environment(home), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, text=True,
    )
    run.log = log
    return run


def output_of(run: subprocess.Popen) -> str:
    run.log.seek(0)
    return run.log.read()


def finish(run: subprocess.Popen) -> str:
    run.wait(timeout=RUN_DEADLINE)
    output = output_of(run)
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


def dagster_runs(home: Path) -> dict[str, list[str]]:
    """Each Dagster run of `home`'s instance with the steps it started."""
    if not (home / "dagster" / "dagster.yaml").exists():
        return {}  # the run has not prepared its instance yet
    os.environ["DAGSTER_HOME"] = str(home / "dagster")
    with dg.DagsterInstance.get() as instance:
        return {
            run.run_id: [r.event_log_entry.step_key for r in instance.get_records_for_run(
                run.run_id, of_type=DagsterEventType.STEP_START).records]
            for run in instance.get_runs()
        }


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


def kill_in(run: subprocess.Popen, home: Path, phase: str, earlier_runs: set[str]) -> None:
    """SIGKILL the run once a step of `phase` has started in a Dagster run not in `earlier_runs`."""
    deadline = time.time() + RUN_DEADLINE
    while not any(PHASES[phase](step) for run_id, steps in dagster_runs(home).items()
                  if run_id not in earlier_runs for step in steps):
        assert run.poll() is None, f"the run ended before {phase}: {output_of(run)[-3000:]}"
        assert time.time() < deadline, f"the run did not reach {phase} in {RUN_DEADLINE} s"
        time.sleep(0.5)
    time.sleep(1.0)  # inside the phase, not at its first line
    os.kill(run.pid, signal.SIGKILL)
    run.wait()


def assert_recovered(output: str) -> None:
    """The run recovered from the one killed before it, freeing the warehouse slot it held."""
    assert "recovered from 1 dead run" in output, output[-3000:]
    assert "1 stale Dagster run(s) marked failed, their pool slots freed" in output, output[-3000:]


# Not in `make test` yet: its one full pass (25 min on a loaded machine) found that the kill meant for the
# publishing phase can miss it (the run finishes first), so the last rerun has nothing to recover from.
# `make test-crash` runs it.
@pytest.mark.kill_chain
def test_a_run_killed_in_each_phase_is_rerun_by_itself(tmp_path):
    clean_home, home = tmp_path / "clean", tmp_path / "home"
    clean_home.mkdir()
    home.mkdir()
    saved = os.environ.get("DAGSTER_HOME")
    clean = start_run(clean_home)
    try:
        for phase in PHASES:
            earlier = set(dagster_runs(home))
            run = start_run(home)
            kill_in(run, home, phase, earlier)
            assert snapshot_is_whole(home), f"serving snapshot half-written after a kill in {phase}"
            if phase != "ingest":
                assert_recovered(output_of(run))
        output = finish(start_run(home))
        assert snapshot_is_whole(home)
    except BaseException:
        clean.kill()
        raise
    finally:
        if saved is not None:
            os.environ["DAGSTER_HOME"] = saved
    clean_output = finish(clean)
    assert "recovered from" not in clean_output
    assert_recovered(output)

    clean_digests = table_digests(clean_home / "warehouse.duckdb")
    digests = table_digests(home / "warehouse.duckdb")
    assert set(digests) == set(clean_digests)
    assert [t for t in digests if digests[t] != clean_digests[t]] == []
    result = subprocess.run([str(Path(sys.executable).parent / "beatwise"), "audit", "verify"],
                            env=environment(home), capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
