"""dbt on the full Chicago data: the whole `dbt build`, and scoring features for all cells of one shift.

The raw schema is written by the real ingest and geography code (tests/dbt/raw_warehouse.py); that part
is not timed here (see bench_warehouse).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from beatwise import paths
from beatwise.config import load_config

ROOT = paths.PROJECT_ROOT
DBT_DIR = ROOT / "dbt_project"
# The feature path; the operations marts need planning and field tables a raw-only warehouse lacks.
FEATURE_PATHS = ["path:models/staging", "path:models/intermediate", "path:models/marts"]
SCORED_SHIFTS = ["2016-03-01 06:00:00", "2016-06-15 14:00:00", "2016-09-30 22:00:00", "2016-12-31 22:00:00",
                 "2017-01-01 06:00:00"]


def run_dbt(*args: str, env: dict[str, str]) -> None:
    """The project's dbt (of this environment) with `args`; raises with dbt's output if it fails."""
    dbt = Path(sys.executable).parent / "dbt"
    command = [str(dbt), *args, "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR)]
    proc = subprocess.run(command, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{proc.stdout[-4000:]}")


def _raw_warehouse(target: Path) -> None:
    sys.path.insert(0, str(ROOT / "tests" / "dbt"))
    from raw_warehouse import build_raw_warehouse

    build_raw_warehouse(load_config(ROOT / "config" / "chicago.yaml"), target)


def bench_dbt() -> dict[str, float]:
    """dbt_build_seconds (the feature path's models and tests, full Chicago 2011-2016) and
    scoring_features_seconds (median over shifts: write one shift, select every cell's features)."""
    config = load_config(ROOT / "config" / "chicago.yaml")
    with tempfile.TemporaryDirectory() as folder:
        warehouse = Path(folder) / "warehouse.duckdb"
        _raw_warehouse(warehouse)
        env = {**os.environ, "BEATWISE_WAREHOUSE": str(warehouse)}
        run_dbt("parse", "--quiet", env=env)
        from orchestration.defs.dbt import dbt_vars

        started = time.perf_counter()
        run_dbt("build", "--vars", json.dumps(dbt_vars(config)), "--select", *FEATURE_PATHS, env=env)
        build_seconds = time.perf_counter() - started

        timings = []
        with duckdb.connect(str(warehouse)) as con:
            rows = con.execute("select count(*) from marts.fct_training_set").fetchall()[0][0]
            for shift in SCORED_SHIFTS:
                started = time.perf_counter()
                con.execute("delete from raw.scoring_shifts")
                con.execute("insert into raw.scoring_shifts values (cast(? as timestamp))", [shift])
                frame = con.execute("select * from marts.fct_scoring_features").df()
                timings.append(time.perf_counter() - started)
            scored_rows = len(frame)
    print(f"{rows} training rows; {scored_rows} scoring rows per shift")
    return {
        "dbt_build_seconds": round(build_seconds, 2),
        "scoring_features_seconds": round(statistics.median(timings), 3),
        "training_set_rows": float(rows),
        "scoring_rows_per_shift": float(scored_rows),
    }


if __name__ == "__main__":
    print(bench_dbt())
