"""Page render times of the dashboards (AppTest, in process) on the full-city serving snapshot.

The snapshot is what `beatwise run --config config/chicago.yaml` publishes (the whole `main` job, simulated
operations and report marts included), built into BEATWISE_HOME/bench/dashboards and reused while its run
marker says it was built from the current code (Python, SQL and config sources; any change rebuilds it).
Each page is timed cold (query cache cleared, as after a republish) and warm; the figures are medians. A page
that shows no data fails the benchmark: its timing would measure an empty page.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from beatwise import paths

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "config" / "chicago.yaml"
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
MARKER = "main_run.json"  # written after a successful `beatwise run`, with the code it ran
# What a snapshot is built from: a change to any of these files rebuilds it.
SOURCES = ("beatwise", "models", "orchestration", "dbt_project/models", "dbt_project/macros", "config")


def _code_digest() -> str:
    digest = hashlib.sha256()
    for folder in SOURCES:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix in {".py", ".sql", ".yml", ".yaml"}:
                digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _use_home(home: Path, config: Path) -> None:
    os.environ["BEATWISE_HOME"] = str(home)
    os.environ["DAGSTER_HOME"] = str(home / "dagster")
    os.environ["BEATWISE_WAREHOUSE"] = str(home / "warehouse.duckdb")
    os.environ["BEATWISE_CONFIG"] = str(config)


def _full_city_snapshot() -> Path:
    """The serving snapshot of a successful full-city `beatwise run` of the current code (run now unless there).
    BEATWISE_BENCH_DASHBOARDS_HOME names a state folder already built instead (any config: the sample's for a
    quick look; BEATWISE_BENCH_DASHBOARDS_CONFIG, default the embedded sample's), which is used as it is."""
    given = os.environ.get("BEATWISE_BENCH_DASHBOARDS_HOME")
    if given:
        config = Path(os.environ.get("BEATWISE_BENCH_DASHBOARDS_CONFIG") or ROOT / "config" / "chicago_sample.yaml")
        _use_home(Path(given), config)
        return Path(given) / "serving.duckdb"
    home = paths.home() / "bench" / "dashboards"
    marker = home / MARKER
    code = _code_digest()
    built = json.loads(marker.read_text()) if marker.exists() else {}
    if not (built.get("code") == code and (home / "serving.duckdb").exists()):
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        env = os.environ | {
            "BEATWISE_HOME": str(home),
            "DAGSTER_HOME": str(home / "dagster"),
            "BEATWISE_WAREHOUSE": str(home / "warehouse.duckdb"),
            "BEATWISE_CONFIG": str(CONFIG),
        }
        log = home / "run.log"
        started = time.perf_counter()
        with log.open("w") as out:
            proc = subprocess.run(
                [str(Path(sys.executable).with_name("beatwise")), "run", "--config", str(CONFIG)],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        if proc.returncode != 0:
            raise RuntimeError(f"beatwise run failed on the full city (log: {log}):\n{log.read_text()[-4000:]}")
        marker.write_text(
            json.dumps(
                {
                    "config": str(CONFIG.relative_to(ROOT)),
                    "code": code,
                    "seconds": round(time.perf_counter() - started, 1),
                }
            )
        )
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
    """Median seconds per page, cold and warm, on the full-city snapshot, and the rows each page showed."""
    import streamlit as st

    snapshot = _full_city_snapshot()
    figures: dict[str, float] = {"dashboards_snapshot_mb": round(snapshot.stat().st_size / 2**20, 1)}
    at = _logged_in("analyst")
    for stem in PAGES:
        if stem == "audit_log":  # the analyst role may not open it
            at = _logged_in("auditor")
        cold, warm = [], []
        for _ in range(REPEATS):
            st.cache_data.clear()
            started = time.perf_counter()
            at.switch_page(f"views/{stem}.py").run()
            cold.append(time.perf_counter() - started)
            rows = _rows_shown(at, stem)
            started = time.perf_counter()
            at.run()
            warm.append(time.perf_counter() - started)
            _rows_shown(at, stem)
        figures[f"dashboards_{stem}_cold_seconds"] = round(statistics.median(cold), 3)
        figures[f"dashboards_{stem}_warm_seconds"] = round(statistics.median(warm), 3)
        figures[f"dashboards_{stem}_rows_shown"] = rows
    figures["dashboards_slowest_cold_seconds"] = max(v for k, v in figures.items() if k.endswith("_cold_seconds"))
    return figures
