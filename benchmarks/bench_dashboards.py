"""Page render times of the dashboards (AppTest, in process) on the full-city serving snapshot.

The snapshot is what `beatwise run --config benchmarks/full_city_demo.yaml` publishes: the whole city with a
week of simulated field operations in every district, so the report pages have the city's data. It is kept
under BEATWISE_HOME/bench/full_city_demo and reused while it was built by the current code
(bench_full_city.kept_run).
Each page is timed cold (query cache cleared, as after a republish) and warm; the figures are medians. A page
that shows no data fails the benchmark: its timing would measure an empty page.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

from benchmarks.bench_full_city import environment, kept_run

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "benchmarks" / "full_city_demo.yaml"
PAGES = [
    "missions",
    "risk_map",
    "briefings",
    "shift_report",
    "tactic_report",
    "officer_report",
    "crime_type_report",
    "crime_dosage",
    "commander_summary",
    "model_performance",
    "exposure",
    "audit_log",
    "data_health",
]
REPEATS = int(os.environ.get("BEATWISE_BENCH_DASHBOARDS_REPEATS", 5))


def _use_home(home: Path, config: Path) -> None:
    os.environ.update(environment(home, config))


def _full_city_snapshot() -> Path:
    """The serving snapshot of a successful full-city `beatwise run` of the current code (run now unless there).
    BEATWISE_BENCH_DASHBOARDS_HOME names a state folder already built instead (any config: the sample's for a
    quick look; BEATWISE_BENCH_DASHBOARDS_CONFIG, default the embedded sample's), which is used as it is."""
    given = os.environ.get("BEATWISE_BENCH_DASHBOARDS_HOME")
    if given:
        config = Path(os.environ.get("BEATWISE_BENCH_DASHBOARDS_CONFIG") or ROOT / "config" / "chicago_sample.yaml")
        _use_home(Path(given), config)
        return Path(given) / "serving.duckdb"
    home, _ = kept_run("full_city_demo", CONFIG)
    _use_home(home, CONFIG)
    return home / "serving.duckdb"


def _logged_in(user: str):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "dashboards" / "app.py"), default_timeout=120)
    at.run()
    at.text_input[0].input(user)
    at.text_input[1].input(f"{user}-demo")
    at.button[0].click().run()
    return at


def _rows_shown(at, stem: str) -> int:
    """Rows in the page's tables; raises when the page says
    it has no data (the pages use st.info for that and nothing else) or failed."""
    if at.exception:
        raise RuntimeError(f"page {stem} failed: {at.exception[0].value}")
    if at.info:
        raise RuntimeError(f"page {stem} shows no data: {[i.value for i in at.info]}")
    rows = sum(len(frame.value) for frame in at.dataframe)
    if not rows:
        raise RuntimeError(f"page {stem} shows no rows")
    return rows


def bench_dashboards() -> dict[str, float]:
    """Median seconds per page on the full-city snapshot: cold (caches empty, as the dashboards start), after a
    republish (every query runs again; the map's geography stays built) and warm; and the rows each showed."""
    import streamlit as st

    snapshot = _full_city_snapshot()
    figures: dict[str, float] = {"dashboards_snapshot_mb": round(snapshot.stat().st_size / 2**20, 1)}
    at = _logged_in("analyst")
    for stem in PAGES:
        if stem == "audit_log":  # the analyst role may not open it
            at = _logged_in("auditor")
        cold, republished, warm = [], [], []
        for _ in range(REPEATS):
            st.cache_data.clear()  # as after the dashboards start
            started = time.perf_counter()
            at.switch_page(f"views/{stem}.py").run()
            cold.append(time.perf_counter() - started)
            rows = _rows_shown(at, stem)
            os.utime(snapshot)  # as after a republish (an override, a new shift): every query runs again
            started = time.perf_counter()
            at.run()
            republished.append(time.perf_counter() - started)
            started = time.perf_counter()
            at.run()
            warm.append(time.perf_counter() - started)
            _rows_shown(at, stem)
        figures[f"dashboards_{stem}_cold_seconds"] = round(statistics.median(cold), 3)
        figures[f"dashboards_{stem}_republished_seconds"] = round(statistics.median(republished), 3)
        figures[f"dashboards_{stem}_warm_seconds"] = round(statistics.median(warm), 3)
        figures[f"dashboards_{stem}_rows_shown"] = rows
    for kind in ("cold", "republished", "warm"):
        figures[f"dashboards_slowest_{kind}_seconds"] = max(
            v for k, v in figures.items() if k.endswith(f"_{kind}_seconds") and "slowest" not in k)
    return figures
