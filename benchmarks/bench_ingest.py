"""Ingest benchmark: every feed of config/chicago.yaml (1.8M incidents) into a fresh warehouse."""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

from beatwise import warehouse
from beatwise.config import load_config
from beatwise.contracts import CONTRACTS
from beatwise.ingest import load_feed
from beatwise.ingest.agency_config import load_agency_config

CHICAGO = Path(__file__).resolve().parents[1] / "config" / "chicago.yaml"


def bench_ingest() -> dict[str, float]:
    """Seconds to ingest every feed (and the incidents alone), rows loaded, peak RSS in MB."""
    config = load_config(CHICAGO)
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp, warehouse.connect(Path(tmp) / "warehouse.duckdb") as con:
        started = time.perf_counter()
        load_agency_config(con, config)
        for feed in sorted(CONTRACTS, key=lambda f: f == "incidents"):  # the lookup first
            t = time.perf_counter()
            result = load_feed(con, config, feed)
            figures[f"ingest_{feed}_seconds"] = round(time.perf_counter() - t, 2)
            if feed == "incidents":
                figures["incidents_rows_loaded"] = float(result.total("rows_inserted"))
                figures["incidents_rows_quarantined"] = float(result.total("rows_quarantined"))
        figures["ingest_seconds"] = round(time.perf_counter() - started, 2)
        t = time.perf_counter()
        load_feed(con, config, "incidents")
        figures["reingest_incidents_unchanged_seconds"] = round(time.perf_counter() - t, 2)
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return figures


if __name__ == "__main__":
    for name, value in bench_ingest().items():
        print(f"{name}: {value:g}", file=sys.stdout)
