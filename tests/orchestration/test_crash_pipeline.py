"""`beatwise run` killed with SIGKILL in each phase, then run again with nothing done by hand: the rerun
succeeds, every table's digest equals a clean run's, and the serving snapshot is never half-written.

One chain keeps this affordable: a run is killed in ingest, its rerun (which must first recover from the
dead run) is killed in dbt, that one's rerun in training, and so on to publishing; a last rerun completes.
Every kill leaves a dead run, its pids and whatever slots it held for the next run to reclaim, so a stale
slot that was not reclaimed would hang the next run (each run has a deadline). A clean run of the same
config runs alongside in its own home, as the baseline.

Each kill lands inside its phase, never after it: the run is started with BEATWISE_PAUSE_AT=<phase>, so
the phase's pause point (beatwise.recovery.pause_point, a test hook inert otherwise) says it has arrived
and waits there for the kill. In dbt it waits with `dbt build` running; in publishing, with the new
snapshot half-copied.

The city is the smallest real one that passes every phase (tests/orchestration/crash_city.yaml). Only the
run's own process is killed, as `kill -9 PID` does: its `dbt build` child is left running for the
rerun's recovery to find.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from beatwise import recovery

ROOT = Path(__file__).resolve().parents[2]
CONFIG = Path(__file__).with_name("crash_city.yaml")
PHASES = ["ingest", "dbt", "training", "planning", "publishing"]
# What differs between two clean runs by nature: the append-only logs (a killed run's records stay in
# them, as they should) and wall-clock columns.
UNCOMPARED_TABLES = {"raw.audit_log", "raw.load_log"}
WALL_CLOCK = {"_loaded_at", "loaded_at", "quarantined_at", "evaluated_at", "computed_at", "created_at",
              "changed_at", "requested_at", "applied_at", "recorded_at"}
# The registry's version numbers count registrations (a run killed in training registered some): the
# model's content is named by its digest in the audit chain instead. MLflow run ids and load ids are
# random ids, new in every run.
UNCOMPARED_COLUMNS = WALL_CLOCK | {"model_version", "mlflow_run_id", "load_id"}
# Floats are compared to 12 significant digits: DuckDB's parallel sums add in any order (last-bit noise).
FLOAT_DIGITS = 12
RUN_DEADLINE = 1800  # seconds: a run waiting on a slot nobody will free fails here instead of hanging


def environment(home: Path, pause_at: str | None = None) -> dict[str, str]:
    env = {**os.environ, "BEATWISE_HOME": str(home), "DAGSTER_HOME": str(home / "dagster"), "PYTHONUNBUFFERED": "1",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("BEATWISE_PAUSE_AT", None)
    return env | ({"BEATWISE_PAUSE_AT": pause_at} if pause_at else {})


def start_run(home: Path, pause_at: str | None = None) -> subprocess.Popen:
    """`beatwise run` in `home` (paused in phase `pause_at`, if given); its output goes to a file (an unread
    pipe would block it when full)."""
    log = (home.parent / f"{home.name}-run-{len(list(home.parent.glob(f'{home.name}-run-*')))}.log").open("w+")
    run = subprocess.Popen(
        [str(Path(sys.executable).parent / "beatwise"), "run", "--config", str(CONFIG)],
        env=environment(home, pause_at), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, text=True,
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
    """Each table's digest, with the state folder's own path (in file columns) written as `<home>`."""
    home = str(warehouse_file.parent)
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
            text = frame.to_csv(index=False, float_format=f"%.{FLOAT_DIGITS}g").replace(home, "<home>")
            digests[table] = hashlib.sha256(text.encode()).hexdigest()
    return digests


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


def children(pid: int) -> dict[int, str | None]:
    """The live processes whose parent is `pid`, with their start times."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found[int(stat.parent.name)] = recovery.process_start(int(stat.parent.name))
    return found


def is_dbt(pid: int) -> bool:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return any(Path(a.decode(errors="replace")).name == "dbt" for a in argv)


def kill_in(run: subprocess.Popen, home: Path, phase: str) -> dict[int, str | None]:
    """SIGKILL the run where it waits at `phase`'s pause point; the children it leaves behind."""
    marker = home / "runs" / f"{run.pid}.{phase}.paused"
    deadline = time.time() + RUN_DEADLINE
    while not marker.exists():
        assert run.poll() is None, f"the run ended before {phase}: {output_of(run)[-3000:]}"
        assert time.time() < deadline, f"the run did not reach {phase} in {RUN_DEADLINE} s"
        time.sleep(0.2)
    left = children(run.pid)
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    return left


def assert_recovered(output: str, left: dict[int, str | None]) -> None:
    """The run recovered from the one killed before it: it freed the warehouse slot the dead run held, and
    no child the dead run left (`left`) lives on."""
    assert "recovered from 1 dead run" in output, output[-3000:]
    assert "1 stale Dagster run(s) marked failed, their pool slots freed" in output, output[-3000:]
    alive = [pid for pid, start in left.items() if start and recovery.process_start(pid) == start]
    assert alive == [], f"children of the dead run still alive: {alive}\n{output[-3000:]}"


@pytest.mark.kill_chain
def test_a_run_killed_in_each_phase_is_rerun_by_itself(tmp_path):
    clean_home, home = tmp_path / "clean", tmp_path / "home"
    clean_home.mkdir()
    home.mkdir()
    clean = start_run(clean_home)
    try:
        left: dict[int, str | None] = {}
        for phase in PHASES:
            run = start_run(home, pause_at=phase)
            left_now = kill_in(run, home, phase)
            if phase != "ingest":
                assert_recovered(output_of(run), left)
            left = left_now
            assert snapshot_is_whole(home), f"serving snapshot half-written after a kill in {phase}"
            if phase == "dbt":
                assert any(is_dbt(pid) for pid in left), "no `dbt build` child was running at the kill in dbt"
            if phase == "publishing":
                assert (home / "serving.duckdb.next").exists(), "the kill in publishing missed the snapshot's copy"
        output = finish(start_run(home))
        assert snapshot_is_whole(home)
        assert not (home / "serving.duckdb.next").exists()
        assert re.search(r"removed [1-9][0-9]* half-written file", output), output[-3000:]
    except BaseException:
        clean.kill()
        raise
    clean_output = finish(clean)
    assert "recovered from" not in clean_output
    assert_recovered(output, left)

    clean_digests = table_digests(clean_home / "warehouse.duckdb")
    digests = table_digests(home / "warehouse.duckdb")
    assert set(digests) == set(clean_digests)
    assert [t for t in digests if digests[t] != clean_digests[t]] == []
    result = subprocess.run([str(Path(sys.executable).parent / "beatwise"), "audit", "verify"],
                            env=environment(home), capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
