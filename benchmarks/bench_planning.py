"""Planning one whole-city shift: Chicago's ~27k cells in 22 districts, the pure planning core.

Risk surfaces are a prior-count baseline (the 56 days before the shift) from the full crime data, so the
priority vector has the city's real shape; the timing covers priority, selection (strata, exact
inclusion probabilities, the draw) and the mission records, as `make_plan` runs them.
"""

from __future__ import annotations

import statistics
import time
from datetime import datetime, timedelta

import duckdb
import pandas as pd

from beatwise import paths
from beatwise.config import load_config
from beatwise.geography.cells import build_cells
from beatwise.geography.layers import layers_from_files
from models.forecasting.events import read_incident_files
from models.planning.plan import make_plan, planning_inputs

SHIFT = datetime(2016, 12, 1, 14)
REPEATS = 7


def city_inputs(config) -> pd.DataFrame:
    layers = layers_from_files(config)
    cells = build_cells(layers["districts"], layers["beats"], config.grid.cell_size, config.districts)
    events = read_incident_files(config)
    events = events[(events["occurred_at"] >= SHIFT - timedelta(days=56)) & (events["occurred_at"] < SHIFT)]
    with duckdb.connect() as con:
        counts = con.execute("""select cell_col::varchar || '_' || cell_row::varchar as cell_id,
                                       crime_type, count(*) as n from events group by all""").df()
    types = config.modelled_crime_types()
    full = pd.MultiIndex.from_product([cells["cell_id"], types], names=["cell_id", "crime_type"]).to_frame(
        index=False
    )
    risk = full.merge(counts, how="left").fillna({"n": 0})
    risk["expected_count"] = (risk["n"] + 0.05) / 168.0
    return planning_inputs(risk, cells, pd.Series(dtype="int64"))


def bench_planning() -> dict[str, float]:
    config = load_config(paths.PROJECT_ROOT / "config" / "chicago.yaml")
    inputs = city_inputs(config)
    seconds = []
    for seed in range(REPEATS):
        started = time.perf_counter()
        plan = make_plan(inputs, config, SHIFT, seed=seed)
        seconds.append(time.perf_counter() - started)
    return {
        "planning_seconds": statistics.median(seconds),
        "planning_cells": float(len(inputs)),
        "planning_districts": float(inputs["district"].nunique()),
        "planning_missions": float(len(plan.missions)),
    }


if __name__ == "__main__":
    for key, value in bench_planning().items():
        print(f"{key}: {value:.3f}")
