"""The warehouse from nothing on the full Chicago data: ingest + geography + dbt build, through the real
Dagster assets, in one process (dbt in its subprocess), into a fresh state folder."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from beatwise import paths

ROOT = Path(__file__).resolve().parents[1]
MARTS = ["dim_cells", "dim_shifts", "fct_cell_shift_counts", "fct_training_set", "fct_scoring_features"]


def bench_warehouse() -> dict[str, float]:
    """Wall seconds for ingest + geography + the dbt feature marts of 2011-2016 (target: 180 s, 3 GB)."""
    home = paths.home() / "bench" / "warehouse"
    shutil.rmtree(home, ignore_errors=True)
    os.environ["BEATWISE_HOME"] = str(home)
    os.environ["BEATWISE_CONFIG"] = str(ROOT / "config" / "chicago.yaml")
    os.environ["BEATWISE_WAREHOUSE"] = str(paths.warehouse_path())
    os.environ["DAGSTER_HOME"] = str(paths.dagster_home())
    import dagster as dg

    from beatwise import warehouse
    from orchestration.definitions import defs

    selection = dg.AssetSelection.assets(*[dg.AssetKey(["marts", m]) for m in MARTS]).upstream()
    job = dg.define_asset_job("bench_warehouse", selection=selection)
    merged = dg.Definitions.merge(defs, dg.Definitions(jobs=[job]))
    started = time.perf_counter()
    with dg.DagsterInstance.ephemeral() as instance:
        result = merged.resolve_job_def("bench_warehouse").execute_in_process(instance=instance)
    wall = time.perf_counter() - started
    steps: dict[str, float] = {}
    for event in result.all_events:
        if event.is_step_success:
            group = "dbt" if event.step_key.startswith("warehouse_models") else event.step_key.split("__")[0]
            steps[group] = steps.get(group, 0.0) + event.event_specific_data.duration_ms / 1000
    with warehouse.connect(read_only=True) as con:
        incidents = con.execute("select count(*) from raw.incidents").fetchall()[0][0]
        training = con.execute("select count(*) from marts.fct_training_set").fetchall()[0][0]
    return {
        "warehouse_build_seconds": round(wall, 1),
        "warehouse_python_steps_seconds": round(sum(v for k, v in steps.items() if k != "dbt"), 1),
        "warehouse_dbt_seconds": round(steps.get("dbt", 0.0), 1),
        "warehouse_incidents": incidents,
        "warehouse_training_rows": training,
    }
