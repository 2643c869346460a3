"""The full city from nothing (issue 15, item 4): `beatwise run --config config/chicago.yaml` into a fresh
state folder, the whole `main` job (ingest -> dbt -> train -> score -> plan -> reports -> publish; no
simulated operations: Chicago's full config has no `demo:` block). Target: 300 s and 3 GB on 2 cores.

Memory is the peak of the whole process tree (the run and its `dbt build` child together), sampled from
/proc every 0.2 s. Each Dagster step gets its seconds and the tree's peak while it ran, so the table says
where the time and the memory go. The run's home is kept, with a marker naming the code it ran, so the
dashboards benchmark builds its full-city demo the same way (`kept_run`).

Measured 2026-12-04, quiet, 2 cores, three builds: 214.4, 226.5 and 227.6 s (median 226.5 s, 312 s CPU), peak
2,893-2,964 MB; training 89 s, the marts' dbt build 65 s, the incidents' ingest 14 s.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from beatwise import paths

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "config" / "chicago.yaml"
MARKER = "kept_run.json"
# What a run is built from: a change to any of these files makes the kept run stale.
SOURCES = ("beatwise", "models", "orchestration", "dbt_project/models", "dbt_project/macros", "config")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def environment(run_home: Path, config: Path) -> dict[str, str]:
    return os.environ | {
        "BEATWISE_HOME": str(run_home),
        "DAGSTER_HOME": str(run_home / "dagster"),
        "BEATWISE_WAREHOUSE": str(run_home / "warehouse.duckdb"),
        "BEATWISE_CONFIG": str(config),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }


def code_digest(config: Path) -> str:
    """The sources a run is built from, and its config file (which may live outside `config/`)."""
    digest = hashlib.sha256(config.read_bytes())
    for folder in SOURCES:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix in {".py", ".sql", ".yml", ".yaml"}:
                digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def tree_rss_bytes(root_pid: int) -> int:
    """Resident memory of `root_pid` and every descendant, now."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            pages = int((entry / "statm").read_text().split()[1])
        except (OSError, ValueError, IndexError):
            continue  # the process ended while we looked
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
        rss[int(entry.name)] = pages * PAGE_SIZE
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack += children.get(pid, [])
    return total


class MemorySampler(threading.Thread):
    """Samples a process tree's resident memory until stopped: (seconds since start, bytes) pairs."""

    def __init__(self, pid: int, every: float = 0.2):
        super().__init__(daemon=True)
        self.pid, self.every, self.samples = pid, every, []
        self.started, self._done = time.time(), threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            self.samples.append((time.time(), tree_rss_bytes(self.pid)))
            self._done.wait(self.every)

    def stop(self) -> list[tuple[float, int]]:
        self._done.set()
        self.join()
        return self.samples


def step_windows(run_home: Path) -> dict[str, tuple[float, float]]:
    """Each successful step of the home's Dagster runs: (start, end) as Unix times."""
    import dagster as dg
    from dagster._core.events import DagsterEventType

    os.environ["DAGSTER_HOME"] = str(run_home / "dagster")
    with dg.DagsterInstance.get() as instance:
        starts, windows = {}, {}
        records = [record for run in instance.get_runs()
                   for record in instance.get_records_for_run(run.run_id, limit=None).records]
        for record in records:
            entry = record.event_log_entry
            event = entry.dagster_event
            if event is None or not entry.step_key:
                continue
            if event.event_type == DagsterEventType.STEP_START:
                starts[entry.step_key] = entry.timestamp
            elif event.event_type == DagsterEventType.STEP_SUCCESS:
                windows[entry.step_key] = (starts.get(entry.step_key, entry.timestamp), entry.timestamp)
    return windows


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def build(run_home: Path, config: Path) -> dict:
    """One `beatwise run` of `config` from nothing in `run_home`, measured; the marker it writes holds the
    figures."""
    shutil.rmtree(run_home, ignore_errors=True)
    run_home.mkdir(parents=True)
    log, code = run_home / "run.log", code_digest(config)  # the code as the run starts
    started, cpu_before = time.perf_counter(), _children_cpu()
    with log.open("w") as out:
        proc = subprocess.Popen([str(Path(sys.executable).with_name("beatwise")), "run", "--config", str(config)],
                                cwd=ROOT, env=environment(run_home, config), stdout=out, stderr=subprocess.STDOUT)
        sampler = MemorySampler(proc.pid)
        sampler.start()
        returncode = proc.wait()
        samples = sampler.stop()
    wall, cpu = time.perf_counter() - started, _children_cpu() - cpu_before
    if returncode != 0:
        raise RuntimeError(f"beatwise run failed on {config.name} (log: {log}):\n{log.read_text()[-4000:]}")
    steps = {}
    for step, (start, end) in sorted(step_windows(run_home).items(), key=lambda kv: kv[1][0]):
        during = [rss for at, rss in samples if start <= at <= end]
        steps[step] = {"seconds": round(end - start, 2), "peak_tree_mb": round(max(during, default=0) / 2**20)}
    figures = {
        "code": code,
        "wall_seconds": round(wall, 1),
        "cpu_seconds": round(cpu, 1),  # on a shared machine, what the run itself used
        "peak_tree_mb": round(max((rss for _, rss in samples), default=0) / 2**20),
        "steps": steps,
    }
    (run_home / MARKER).write_text(json.dumps(figures, indent=2))
    return figures


def kept_run(name: str, config: Path) -> tuple[Path, dict]:
    """The kept run `name` of `config` by the current code (built now when absent or stale): its state
    folder and figures."""
    run_home = paths.home() / "bench" / name
    marker = run_home / MARKER
    figures = json.loads(marker.read_text()) if marker.exists() else {}
    if figures.get("code") != code_digest(config) or not (run_home / "serving.duckdb").exists():
        figures = build(run_home, config)
    return run_home, figures


def bench_full_city() -> dict[str, float]:
    """Wall seconds and peak memory of the full-city build, and the ten steps that cost the most."""
    _, figures = kept_run("full_city", CONFIG)
    report: dict[str, float] = {
        "full_city_build_seconds": figures["wall_seconds"],
        "full_city_build_cpu_seconds": figures["cpu_seconds"],
        "full_city_peak_tree_mb": figures["peak_tree_mb"],
    }
    costliest = sorted(figures["steps"].items(), key=lambda kv: -kv[1]["seconds"])[:10]
    for step, cost in costliest:
        print(f"  {step:<56} {cost['seconds']:>8.1f} s {cost['peak_tree_mb']:>7,} MB")
        report[f"full_city_step_{step}_seconds"] = cost["seconds"]
        report[f"full_city_step_{step}_peak_tree_mb"] = cost["peak_tree_mb"]
    report["full_city_steps_seconds_total"] = round(sum(c["seconds"] for c in figures["steps"].values()), 1)
    return report
