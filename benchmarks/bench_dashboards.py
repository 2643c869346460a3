"""Page render times of the dashboards (AppTest, in process) on the full-city serving snapshot.

Uses the serving snapshot in $BEATWISE_HOME when it was built for config/chicago.yaml; otherwise runs the
pipeline up to ["serving", "snapshot"] for the full city into BEATWISE_HOME/bench/dashboards first.
Each page is timed cold (query cache cleared, as after a republish) and warm; the figures are medians.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

from beatwise import paths

ROOT = Path(__file__).resolve().parents[1]
PAGES = [
    "missions",
    "risk_map",
    "briefings",
    "shift_report",
    "tactic_report",
    "officer_report",
    "crime_type_report",
    "crime_dosage",
    "model_performance",
    "exposure",
    "audit_log",
    "data_health",
]
REPEATS = 5


def _full_city_snapshot() -> Path:
    os.environ["BEATWISE_CONFIG"] = str(ROOT / "config" / "chicago.yaml")
    home = paths.home() / "bench" / "dashboards"
    os.environ["BEATWISE_HOME"] = str(home)
    os.environ["DAGSTER_HOME"] = str(paths.dagster_home())
    os.environ["BEATWISE_WAREHOUSE"] = str(paths.warehouse_path())
    if paths.serving_path().exists():
        return paths.serving_path()
    import dagster as dg

    from beatwise import warehouse
    from orchestration.definitions import defs
    from orchestration.defs.publish import publish

    snapshot = dg.AssetKey(["serving", "snapshot"])
    job = dg.define_asset_job("bench_dashboards", selection=dg.AssetSelection.assets(snapshot).upstream())
    merged = dg.Definitions.merge(defs, dg.Definitions(jobs=[job]))
    with dg.DagsterInstance.ephemeral() as instance:
        merged.resolve_job_def("bench_dashboards").execute_in_process(instance=instance, raise_on_error=False)
    with warehouse.connect() as con:
        publish(con)  # whatever was built, also when a part upstream failed
    return paths.serving_path()


def bench_dashboards() -> dict[str, float]:
    """Median seconds per page, cold and warm, on the full-city snapshot."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    snapshot = _full_city_snapshot()
    at = AppTest.from_file(str(ROOT / "dashboards" / "app.py"), default_timeout=120)
    at.run()
    at.text_input[0].input("analyst")
    at.text_input[1].input("analyst-demo")
    at.button[0].click().run()
    figures: dict[str, float] = {"dashboards_snapshot_mb": round(snapshot.stat().st_size / 2**20, 1)}
    user = "auditor"
    for stem in PAGES:
        if stem == "audit_log":  # the analyst role may not open it
            at = AppTest.from_file(str(ROOT / "dashboards" / "app.py"), default_timeout=120)
            at.run()
            at.text_input[0].input(user)
            at.text_input[1].input(f"{user}-demo")
            at.button[0].click().run()
        cold, warm = [], []
        for _ in range(REPEATS):
            st.cache_data.clear()
            started = time.perf_counter()
            at.switch_page(f"pages/{stem}.py").run()
            cold.append(time.perf_counter() - started)
            started = time.perf_counter()
            at.run()
            warm.append(time.perf_counter() - started)
            if at.exception:
                raise RuntimeError(f"page {stem} failed: {at.exception[0].value}")
        figures[f"dashboards_{stem}_cold_seconds"] = round(statistics.median(cold), 3)
        figures[f"dashboards_{stem}_warm_seconds"] = round(statistics.median(warm), 3)
    figures["dashboards_slowest_cold_seconds"] = max(
        v for k, v in figures.items() if k.endswith("_cold_seconds")
    )
    return figures
