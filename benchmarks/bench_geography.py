"""Geography on the whole of Chicago: grid cells with district and beat, then each cell's environment.

The layers are read straight from the full feed files (config/chicago.yaml) into an in-memory DuckDB as
ingest would leave them; the figures time the geography writers alone (median of three runs).
"""

from __future__ import annotations

import statistics
import time

import duckdb

from beatwise.config import load_config
from beatwise.geography import write_cell_environment, write_cells
from beatwise.geography.layers import layers_from_files
from beatwise.paths import PROJECT_ROOT

REPEATS = 3


def bench_geography() -> dict[str, float]:
    config = load_config(PROJECT_ROOT / "config" / "chicago.yaml")
    started = time.perf_counter()
    layers = layers_from_files(config)
    read_seconds = time.perf_counter() - started
    cells_seconds, environment_seconds = [], []
    with duckdb.connect() as con:
        con.execute("create schema raw")
        for name, frame in layers.items():
            con.register("layer", frame)
            con.execute(f"create table raw.{name} as select * from layer")
            con.unregister("layer")
        for _ in range(REPEATS):
            started = time.perf_counter()
            table = write_cells(con, config)
            cells_seconds.append(time.perf_counter() - started)
            started = time.perf_counter()
            write_cell_environment(con, config)
            environment_seconds.append(time.perf_counter() - started)
    cells, environment = statistics.median(cells_seconds), statistics.median(environment_seconds)
    return {
        "geography_cells": float(len(table)),
        "geography_districts": float(table["district"].nunique()),
        "geography_read_layers_seconds": round(read_seconds, 3),
        "geography_cells_seconds": round(cells, 3),
        "geography_environment_seconds": round(environment, 3),
        "geography_seconds": round(cells + environment, 3),
    }


if __name__ == "__main__":
    print(bench_geography())
