"""What a killed run leaves behind, found and cleared at the start of the next one (no hand needed).

A run killed with SIGKILL cannot clean up: its `dbt build` child keeps writing the warehouse (and holds
DuckDB's lock), and its half-written temporary files stay. So every run records itself in `runs/` under
the state folder (pid and the kernel's start time of the process, so a reused pid is not mistaken for
it) and marks its environment, which every child it starts inherits. The next run kills the children of
runs that are gone (found by that mark in /proc) and removes their leftovers. Dagster's side (the pool
slots of dead runs) is in orchestration/recovery.py.

`pause_point` is a test hook, inert unless BEATWISE_PAUSE_AT is set: it lets the kill test
(tests/orchestration/test_crash_pipeline.py) SIGKILL a run exactly inside a phase.
"""

from __future__ import annotations

import json
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from beatwise import paths

RUN_MARK = "BEATWISE_RUN"
PAUSE_AT = "BEATWISE_PAUSE_AT"
PAUSE_LIMIT = 600.0  # seconds a paused run waits for its kill before it goes on
# Files that only exist while a write is under way: a run that is gone left them half-written.
LEFTOVER_PATTERNS = ["*.duckdb.next", "*.duckdb.next.wal", "**/.incoming-*", "**/.*.partial"]


@dataclass
class Recovery:
    dead_runs: list[dict] = field(default_factory=list)
    killed: list[int] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        if not (self.dead_runs or self.killed or self.removed):
            return "nothing to recover"
        return (
            f"recovered from {len(self.dead_runs)} dead run(s): killed their children {self.killed or 'none'}, "
            f"removed {len(self.removed)} half-written file(s)"
        )


def runs_dir() -> Path:
    path = paths.home() / "runs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def process_start(pid: int) -> str | None:
    """The kernel's start time of a live process (clock ticks since boot), None if there is none."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if fields[0] == "Z" else fields[19]


def mark(pid: int, start: str) -> str:
    return f"{pid}:{start}"


def is_alive(entry: dict) -> bool:
    return process_start(entry["pid"]) == entry["start"]


def register_run() -> dict:
    """Record this process as a running pipeline and mark its environment for its children."""
    pid = os.getpid()
    entry = {"pid": pid, "start": process_start(pid) or "", "started_at": time.time()}
    target = runs_dir() / f"{pid}.json"
    temp = target.with_name(f".{target.name}.partial")
    temp.write_text(json.dumps(entry), encoding="utf-8")
    os.replace(temp, target)
    os.environ[RUN_MARK] = mark(pid, entry["start"])
    return entry


def finish_run() -> None:
    (runs_dir() / f"{os.getpid()}.json").unlink(missing_ok=True)


def pause_point(name: str) -> None:
    """Test hook: when BEATWISE_PAUSE_AT is `name`, write `runs/<pid>.<name>.paused` and wait (at most
    PAUSE_LIMIT seconds) for the test to kill this process here. Does nothing otherwise."""
    marker = runs_dir() / f"{os.getpid()}.{name}.paused"
    if os.environ.get(PAUSE_AT) != name or marker.exists():
        return  # not asked for, or paused here once already
    marker.write_text(name, encoding="utf-8")
    time.sleep(PAUSE_LIMIT)


def dead_runs() -> list[dict]:
    """Recorded runs whose process is gone."""
    found = []
    for file in sorted(runs_dir().glob("*.json")):
        try:
            entry = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            file.unlink(missing_ok=True)
            continue
        if entry["pid"] != os.getpid() and not is_alive(entry):
            found.append({**entry, "file": str(file)})
    return found


def children_of(runs: list[dict]) -> list[int]:
    """Live processes whose environment carries the mark of one of these runs (any depth below them)."""
    marks = {f"{RUN_MARK}={mark(r['pid'], r['start'])}".encode() for r in runs}
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            variables = set(environ.read_bytes().split(b"\0"))
        except OSError:
            continue
        if variables & marks:
            found.append(int(environ.parent.name))
    return sorted(found)


def kill(pids: list[int], timeout: float = 10.0) -> None:
    """SIGKILL each process and wait until it is gone."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.time() + timeout
    while time.time() < deadline and any(process_start(p) for p in pids):
        time.sleep(0.05)


def recover(home: Path | None = None) -> Recovery:
    """Kill the children of dead runs, remove their half-written files and their records."""
    result = Recovery(dead_runs=dead_runs())
    if result.dead_runs:
        result.killed = children_of(result.dead_runs)
        kill(result.killed)
    # Leftovers only when no other run is alive: a live run's temporary files are its own.
    others = [f for f in runs_dir().glob("*.json") if f.stem != str(os.getpid())]
    if not any(is_alive(json.loads(f.read_text(encoding="utf-8"))) for f in others if f.exists()):
        root = home or paths.home()
        for pattern in LEFTOVER_PATTERNS:
            for leftover in root.glob(pattern):
                if leftover.is_file():
                    leftover.unlink(missing_ok=True)
                    result.removed.append(str(leftover.relative_to(root)))
    for run in result.dead_runs:
        Path(run["file"]).unlink(missing_ok=True)
        for marker in runs_dir().glob(f"{run['pid']}.*.paused"):
            marker.unlink(missing_ok=True)
    return result
