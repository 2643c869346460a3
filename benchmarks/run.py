"""`make bench`: run every benchmarks/bench_*.py on the full data, each in its own process.

Each module has functions `bench_<name>() -> dict[str, float]` (medians where repeats are cheap). The
figures, plus each benchmark's wall time and peak resident memory, are merged into var/bench.json.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import resource
import subprocess
import sys
import time

import benchmarks
from beatwise import paths


def discover() -> list[str]:
    """'module:function' for every benchmark function."""
    found = []
    for info in sorted(pkgutil.iter_modules(benchmarks.__path__), key=lambda m: m.name):
        if not info.name.startswith("bench_"):
            continue
        module = importlib.import_module(f"benchmarks.{info.name}")
        found += [f"benchmarks.{info.name}:{name}" for name in sorted(vars(module))
                  if name.startswith("bench_") and callable(getattr(module, name))]
    return found


def run_one(target: str) -> None:
    module, name = target.split(":")
    figures = getattr(importlib.import_module(module), name)()
    # Peak memory of this process or of any process it waited for (dbt runs as a subprocess).
    peak_kb = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    figures[f"{name.removeprefix('bench_')}_peak_rss_mb"] = round(peak_kb / 1024, 1)
    print(json.dumps(figures, default=str))


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "--one":
        run_one(argv[1])
        return 0
    wanted = set(argv)
    report_file = paths.home() / "bench.json"
    report = json.loads(report_file.read_text()) if report_file.exists() else {}
    failed = []
    for target in discover():
        name = target.split(":")[1].removeprefix("bench_")
        if wanted and name not in wanted:
            continue
        print(f"== {name}", flush=True)
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "benchmarks.run", "--one", target],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            print(proc.stdout[-2000:], proc.stderr[-4000:], sep="\n")
            failed.append(name)
            continue
        lines = [line for line in proc.stdout.splitlines() if line.strip()]
        print("\n".join(lines[:-1]))
        figures = json.loads(lines[-1])
        figures[f"{name}_wall_seconds"] = round(time.perf_counter() - started, 2)
        for key, value in figures.items():
            print(f"  {key:<48} {value}")
        report.update(figures)
        report_file.write_text(json.dumps(report, indent=2, sort_keys=True, default=str))
    print(f"\nwrote {report_file}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
