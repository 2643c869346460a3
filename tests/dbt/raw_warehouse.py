"""The `raw` schema for the dbt tests and benchmarks, built by the real ingest and geography code.

The same functions the Dagster assets call: every feed through its contract, the agency config tables,
the jurisdiction's cells, their environment and the holidays. A window of incidents can be kept to make
builds quick.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from beatwise import paths
from beatwise.config import AgencyConfig
from beatwise.contracts import CONTRACTS
from beatwise.geography.calendar import write_holidays
from beatwise.geography.cells import write_cells
from beatwise.geography.environment import write_cell_environment
from beatwise.ingest import load_feed
from beatwise.ingest.agency_config import load_agency_config

LAYERS = ["offence_codes", "beats", "districts", "liquor_premises", "land_use", "sports_events", "venues",
          "weather_daily"]


def build_raw_warehouse(config: AgencyConfig, path: Path, incidents_where: str = "true") -> Path:
    """Write the raw tables of `config`'s feeds into the DuckDB file `path` (replaced if present);
    keep only the incidents matching `incidents_where` (SQL over raw.incidents' canonical columns)."""
    path.unlink(missing_ok=True)
    # An empty state folder of its own, so no other test's landing files are ingested with the feeds.
    with paths.using_home(path.with_suffix(".home")), duckdb.connect(str(path)) as con:
        load_agency_config(con, config)
        for feed in LAYERS:
            load_feed(con, config, feed)
        write_cells(con, config)
        write_cell_environment(con, config)
        write_holidays(con, config)
        for feed in CONTRACTS:
            if feed not in LAYERS:
                load_feed(con, config, feed)
        con.execute(f"delete from raw.incidents where not ({incidents_where})")
    return path
