"""Benchmark the simulator: a synthetic city of a million incidents; a month of a Chicago-sized operation.

Targets (issue 5): a city of 1M incidents in at most 60 s; a month of 300 units pinging every 30 s
(about 26 million pings) well under a minute.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from beatwise.simulate import (
    CityPlan,
    Compliance,
    build_city,
    make_roster,
    simulate_city,
    simulate_operations,
)
from beatwise.simulate.files import write_operations

# Chicago: 22 districts, ~300 cars on duty at any time, 3 shifts a day.
CHICAGO_SIZED = CityPlan(districts_x=11, districts_y=2, district_cells=20)
UNITS_PER_DISTRICT = 14


def _month_of_missions(city, shifts: pd.DatetimeIndex, per_unit: int = 2, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cells_by_district = {d: g["cell_id"].to_numpy() for d, g in city.cells.groupby("district")}
    frames = []
    for start in shifts:
        for district, cells in cells_by_district.items():
            chosen = rng.choice(cells, UNITS_PER_DISTRICT * per_unit, replace=False)
            frames.append(
                pd.DataFrame(
                    {
                        "mission_id": [f"{start:%Y%m%d%H}-{district}-{i}" for i in range(chosen.size)],
                        "shift_start": start,
                        "district": district,
                        "cell_id": chosen,
                        "dose_minutes": 15.0,
                        "visits": 2,
                        "tactics": [["foot_patrol", "business_check"]] * chosen.size,
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def bench_simulate(runs: int = 3) -> dict[str, float]:
    """synthetic_city_1m_seconds (median of `runs`), operations_month_seconds and the sizes they produced."""
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        timings, counts = [], {}
        for i in range(runs):
            t0 = time.perf_counter()
            counts = simulate_city(
                Path(tmp) / f"city{i}", 1_000_000, date(2010, 1, 1), date(2016, 1, 1), seed=1
            )
            timings.append(time.perf_counter() - t0)
        figures["synthetic_city_1m_seconds"] = statistics.median(timings)
        figures["synthetic_city_incidents"] = float(counts["incidents"])

        city = build_city(CHICAGO_SIZED, seed=1)
        shifts = pd.date_range("2016-06-01 06:00", periods=90, freq="8h")
        districts = sorted(city.cells["district"].unique(), key=int)
        missions = _month_of_missions(city, shifts)
        roster = make_roster(shifts, districts, UNITS_PER_DISTRICT)
        t0 = time.perf_counter()
        ops = simulate_operations(missions, roster, None, seed=1, compliance=Compliance(), cells=city.cells)
        write_operations(ops, Path(tmp) / "landing", "month")
        figures["operations_month_seconds"] = time.perf_counter() - t0
        figures["operations_month_pings"] = float(len(ops.pings))
        figures["operations_month_units_per_shift"] = float(len(districts) * UNITS_PER_DISTRICT)
    return figures


if __name__ == "__main__":
    for key, value in bench_simulate().items():
        print(f"{key}: {value:,.2f}")
