"""What a SIGKILLed run leaves (a child still writing, a pool slot held, half-written files) is cleared by
the next run's recovery, with real processes and a real Dagster instance."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import dagster as dg

from beatwise import recovery
from orchestration.cli import DAGSTER_YAML
from orchestration.recovery import reclaim_dead_runs

ROOT = Path(__file__).resolve().parents[2]


def start(script: str, home: Path) -> subprocess.Popen:
    env = {**os.environ, "BEATWISE_HOME": str(home), "DAGSTER_HOME": str(home / "dagster")}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script)], env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True
    )


def wait_for(condition, timeout: float = 120.0) -> None:
    deadline = time.time() + timeout
    while not condition():
        assert time.time() < deadline, "timed out"
        time.sleep(0.2)


def test_the_children_and_leftovers_of_a_killed_run_are_cleared(fresh_home):
    run = start(
        """
        import subprocess, sys, time
        from beatwise import recovery
        recovery.register_run()
        child = subprocess.Popen(["sleep", "300"])   # stands for its `dbt build`
        print(child.pid, flush=True)
        time.sleep(300)
        """,
        fresh_home,
    )
    child = int(run.stdout.readline())
    (fresh_home / "landing" / "avl_pings").mkdir(parents=True)
    half = fresh_home / "landing" / "avl_pings" / ".2016-12-31.parquet.partial"
    half.write_bytes(b"PAR1")
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    assert recovery.process_start(child)  # orphaned, still running

    result = recovery.recover()

    assert [r["pid"] for r in result.dead_runs] == [run.pid]
    assert result.killed == [child] and recovery.process_start(child) is None
    assert "landing/avl_pings/.2016-12-31.parquet.partial" in result.removed and not half.exists()
    assert not list(recovery.runs_dir().glob("*.json"))
    assert not recovery.recover().dead_runs  # the second time there is nothing left


def test_a_live_runs_children_are_left_alone(fresh_home):
    run = start(
        """
        import subprocess, time
        from beatwise import recovery
        recovery.register_run()
        print(subprocess.Popen(["sleep", "300"]).pid, flush=True)
        time.sleep(300)
        """,
        fresh_home,
    )
    try:
        child = int(run.stdout.readline())
        result = recovery.recover()
        assert not result.dead_runs and not result.killed and recovery.process_start(child)
    finally:
        run.kill()
        run.wait()
        recovery.kill([child])


def test_the_pool_slot_of_a_killed_run_is_freed(fresh_home):
    (fresh_home / "dagster" / "dagster.yaml").write_text(DAGSTER_YAML)
    run = start(
        """
        import time
        import dagster as dg

        @dg.asset(pool="warehouse")
        def slow():
            time.sleep(300)

        with dg.DagsterInstance.get() as instance:
            dg.materialize([slow], instance=instance)
        """,
        fresh_home,
    )
    with dg.DagsterInstance.get() as instance:
        storage = instance.event_log_storage
        wait_for(lambda: storage.get_concurrency_run_ids())
        (run_id,) = storage.get_concurrency_run_ids()
        assert reclaim_dead_runs(instance) == []  # alive: its slot stays held
        os.kill(run.pid, signal.SIGKILL)
        run.wait()

        assert reclaim_dead_runs(instance) == [run_id]
        assert not storage.get_concurrency_run_ids()
        assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.FAILURE
        assert storage.get_pool_config().default_pool_limit == 1
