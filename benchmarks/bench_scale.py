"""How cost grows with the work (issue 15, item 6): synthetic cities of 1M, 3M and 10M incidents, each
simulated (`beatwise simulate city`) into a state folder under var/bench/ and built end to end by the main
job exactly as the full-city benchmark builds Chicago. Target: 10M incidents in at most 30 minutes.

BEATWISE_SCALE_SIZES picks the sizes (comma-separated, `1M,3M` or `250000`). A size already measured by the
same code is reported from its marker, so 10M can be run on its own after 1M and 3M and the growth exponent
(seconds ~ n^k, least squares on log-log) still uses every size measured.

Measured 2026-12-04 on the shared 2-core machine (load 5-11): 300k incidents build in 517 s (230 s CPU,
3.1 GB), 1M in 1,225 s (556 s CPU, 3.2 GB): k = 0.72 overall, but 1.09 for the dbt marts step
(fct_training_set) and 1.2-1.4 for ingest. 10M simulates in 232 s (112 s CPU, 3.4 GB); its build was
stopped in fct_training_set after 28 min, ingest having peaked at 12 GB (raw__calls_for_service, 374 s).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from beatwise import paths
from benchmarks.bench_full_city import MemorySampler, _children_cpu, build, code_digest, environment

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "config" / "synthetic.yaml"
DEFAULT_SIZES = "1M,3M,10M"
MARKER = "scale.json"


def sizes() -> list[int]:
    chosen = os.environ.get("BEATWISE_SCALE_SIZES", DEFAULT_SIZES)
    factor = {"k": 1_000, "m": 1_000_000}
    return [int(float(s[:-1]) * factor[s[-1].lower()]) if s[-1].lower() in factor else int(s)
            for s in (part.strip() for part in chosen.split(",")) if s]


def label(n: int) -> str:
    return f"{n // 1_000_000}m" if n % 1_000_000 == 0 else f"{n // 1_000}k"


def simulate(n: int, landing: Path, run_home: Path) -> dict:
    """`beatwise simulate city` of about `n` incidents into `landing`, timed with its tree's peak memory."""
    started, cpu_before, load = time.perf_counter(), _children_cpu(), os.getloadavg()
    command = [str(Path(sys.executable).with_name("beatwise")), "simulate", "city", "--config", str(CONFIG),
               "--incidents", str(n), "--seed", "1", "--out", str(landing)]
    proc = subprocess.Popen(command, cwd=ROOT, env=environment(run_home, CONFIG), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    sampler = MemorySampler(proc.pid)
    sampler.start()
    output = proc.communicate()[0]
    samples = sampler.stop()
    if proc.returncode != 0:
        raise RuntimeError(f"simulate city {n:,} failed:\n{output[-4000:]}")
    counts = {name: int(value.replace(",", "")) for name, value in
              (line.split(": ", 1) for line in output.splitlines() if ": " in line and line[0] != " ")
              if value.replace(",", "").isdigit()}
    return {
        "seconds": round(time.perf_counter() - started, 1),
        "cpu_seconds": round(_children_cpu() - cpu_before, 1),
        "peak_tree_mb": round(max((rss for _, rss in samples), default=0) / 2**20),
        "load_before": [round(v, 2) for v in load],
        "counts": counts,
    }


def measure(n: int) -> dict:
    """Simulate and build the city of `n` incidents (or read the figures the same code measured before)."""
    folder = paths.home() / "bench" / f"scale_{label(n)}"
    marker = folder / MARKER
    code = code_digest(CONFIG)
    kept = json.loads(marker.read_text()) if marker.exists() else {}
    if kept.get("code") == code and "build" in kept:
        return kept
    landing, run_home = folder / "landing", folder / "run"
    folder.mkdir(parents=True, exist_ok=True)
    simulated = simulate(n, landing, run_home)
    # Kept before the build starts: a build stopped half-way still leaves the simulator's figures.
    marker.write_text(json.dumps({"code": code, "simulate": simulated}, indent=2))
    os.environ["BEATWISE_SYNTHETIC_DATA"] = str(landing)  # the config's data_root, read by the run
    load = os.getloadavg()
    built = build(run_home, CONFIG)
    figures = {"code": code, "incidents": simulated["counts"].get("incidents", n), "simulate": simulated,
               "build": built, "load_before_build": [round(v, 2) for v in load],
               "load_after_build": [round(v, 2) for v in os.getloadavg()]}
    marker.write_text(json.dumps(figures, indent=2))
    return figures


def growth_exponent(points: list[tuple[int, float]]) -> float:
    """k in seconds ~ n^k, least squares on log-log."""
    n, seconds = np.log([p[0] for p in points]), np.log([p[1] for p in points])
    return float(np.polyfit(n, seconds, 1)[0])


def bench_scale() -> dict[str, float]:
    """Per size: simulate and build seconds (wall, CPU), peak memory, each step; the growth exponents."""
    report: dict[str, float] = {}
    measured, step_seconds = [], {}
    for n in sizes():
        figures = measure(n)
        sim, run, key = figures["simulate"], figures["build"], f"scale_{label(n)}"
        measured.append((figures["incidents"], sim["seconds"], run["wall_seconds"], run["cpu_seconds"]))
        report |= {
            f"{key}_incidents": figures["incidents"],
            f"{key}_simulate_seconds": sim["seconds"],
            f"{key}_simulate_cpu_seconds": sim["cpu_seconds"],
            f"{key}_simulate_peak_tree_mb": sim["peak_tree_mb"],
            f"{key}_build_seconds": run["wall_seconds"],
            f"{key}_build_cpu_seconds": run["cpu_seconds"],
            f"{key}_peak_tree_mb": run["peak_tree_mb"],
            f"{key}_load_1min_before_build": figures["load_before_build"][0],
        }
        print(f"{key}: {figures['incidents']:,} incidents; simulate {sim['seconds']} s "
              f"({sim['cpu_seconds']} s CPU, {sim['peak_tree_mb']:,} MB); build {run['wall_seconds']} s "
              f"({run['cpu_seconds']} s CPU, {run['peak_tree_mb']:,} MB); load {figures['load_before_build']}")
        for step, cost in sorted(run["steps"].items(), key=lambda kv: -kv[1]["seconds"]):
            print(f"  {step:<56} {cost['seconds']:>8.1f} s {cost['peak_tree_mb']:>7,} MB")
            report[f"{key}_step_{step}_seconds"] = cost["seconds"]
            report[f"{key}_step_{step}_peak_tree_mb"] = cost["peak_tree_mb"]
            step_seconds.setdefault(step, []).append((figures["incidents"], cost["seconds"]))
    if len({m[0] for m in measured}) >= 2:
        report["scale_build_seconds_exponent"] = round(growth_exponent([(m[0], m[2]) for m in measured]), 3)
        report["scale_build_cpu_seconds_exponent"] = round(growth_exponent([(m[0], m[3]) for m in measured]), 3)
        report["scale_simulate_seconds_exponent"] = round(growth_exponent([(m[0], m[1]) for m in measured]), 3)
        # Where the growth comes from: the exponent of every step that costs 10 s or more at the largest size.
        for step, points in step_seconds.items():
            if len(points) == len(measured) and points[-1][1] >= 10:
                report[f"scale_step_{step}_seconds_exponent"] = round(growth_exponent(points), 3)
    return report


if __name__ == "__main__":
    for name, value in bench_scale().items():
        print(f"{name}: {value}")
