"""A warehouse with real-shaped planning inputs cut from the embedded sample (districts 10-12, 2015-2016).

Cells are the 500 ft cells holding sample incidents (district and beat: the most frequent in the cell);
`intermediate.int_incidents` maps the config's crime types; `forecast.risk_surfaces` is a prior-count
baseline over the 56 days before the shift; `forecast.risk_drivers` names the recent counts behind it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from beatwise.config.schema import AgencyConfig
from beatwise.geography import grid

SHIFT = datetime(2016, 12, 1, 14)


def incidents_frame(config: AgencyConfig) -> pd.DataFrame:
    """Sample incidents of the modelled crime types, with cell, shift and block (no personal data)."""
    raw = pd.read_parquet(config.feed_files("incidents")[0])
    raw = raw.dropna(subset=["X Coordinate", "Y Coordinate"])
    raw = raw[raw["X Coordinate"] > 0]
    columns = {"offence_name": "Primary Type", "offence_group": "FBI Code", "offence_code": "IUCR"}
    frames = []
    for name, crime_type in config.crime_types.items():
        mask = np.zeros(len(raw), dtype=bool)
        for match in crime_type.offences:
            mask |= raw[columns[match.field]].astype(str).str.strip().isin(match.values).to_numpy()
        frames.append(raw[mask].assign(crime_type=name))
    events = pd.concat(frames, ignore_index=True)
    col, row, cell_id = grid.cell_of(events["X Coordinate"], events["Y Coordinate"], config.grid.cell_size)
    occurred = pd.to_datetime(events["Date"])
    hours = np.array(config.shift_start_hours)
    return pd.DataFrame(
        {
            "incident_id": events["ID"].astype(str),
            "occurred_at": occurred,
            "shift_start": [_shift_of(t, hours) for t in occurred],
            "crime_type": events["crime_type"],
            "cell_id": cell_id,
            "cell_col": col,
            "cell_row": row,
            "x": events["X Coordinate"].astype(float),
            "y": events["Y Coordinate"].astype(float),
            "block": events["Block"],
            "district": events["District"].astype(str).str.lstrip("0"),
            "beat": events["Beat"].astype(str).str.zfill(4),
        }
    )


def _shift_of(t: pd.Timestamp, hours: np.ndarray) -> datetime:
    earlier = hours[hours <= t.hour]
    if len(earlier):
        return datetime(t.year, t.month, t.day, int(earlier.max()))
    day = t - timedelta(days=1)
    return datetime(day.year, day.month, day.day, int(hours.max()))


def cells_frame(incidents: pd.DataFrame, size: float) -> pd.DataFrame:
    keys = incidents.groupby("cell_id").agg(
        cell_col=("cell_col", "first"),
        cell_row=("cell_row", "first"),
        district=("district", lambda s: s.mode().iloc[0]),
        beat=("beat", lambda s: s.mode().iloc[0]),
    )
    cells = grid.cells_frame(keys["cell_col"], keys["cell_row"], size)
    return cells.merge(keys[["district", "beat"]], left_on="cell_id", right_index=True)


def risk_frames(
    incidents: pd.DataFrame, cells: pd.DataFrame, shift: datetime
) -> tuple[pd.DataFrame, pd.DataFrame]:
    window = incidents[
        (incidents["occurred_at"] >= shift - timedelta(days=56)) & (incidents["occurred_at"] < shift)
    ]
    counts = window.groupby(["cell_id", "crime_type"]).size().rename("recent").reset_index()
    types = sorted(incidents["crime_type"].unique())
    full = pd.MultiIndex.from_product([cells["cell_id"], types], names=["cell_id", "crime_type"]).to_frame(
        index=False
    )
    risk = full.merge(counts, how="left").fillna({"recent": 0})
    risk = risk.assign(
        shift_start=shift,
        expected_count=(risk["recent"] + 0.05) / 168.0,
        percentile=0.0,
        method="prior_counts",
        model_version="test-1",
    )
    risk["percentile"] = risk.groupby("crime_type")["expected_count"].rank(pct=True)
    drivers = risk[risk["recent"] > 0].assign(
        rank=1, feature="count_56d", contribution=lambda d: d["recent"] / 168.0
    )
    return (
        risk[
            [
                "shift_start",
                "crime_type",
                "cell_id",
                "expected_count",
                "percentile",
                "method",
                "model_version",
            ]
        ],
        drivers[["shift_start", "crime_type", "cell_id", "rank", "feature", "contribution"]],
    )


def build_warehouse(path: Path, config: AgencyConfig, shift: datetime = SHIFT) -> Path:
    """Fill a DuckDB file with raw.cells, intermediate.int_incidents and the shift's forecast tables."""
    incidents = incidents_frame(config)
    cells = cells_frame(incidents, config.grid.cell_size)
    risk, drivers = risk_frames(incidents, cells, shift)
    with duckdb.connect(str(path)) as con:
        for schema in ("raw", "intermediate", "forecast"):
            con.execute(f"create schema if not exists {schema}")
        con.execute("create or replace table raw.cells as select * from cells")
        con.execute("create or replace table intermediate.int_incidents as select * from incidents")
        con.execute("create or replace table forecast.risk_surfaces as select * from risk")
        con.execute("create or replace table forecast.risk_drivers as select * from drivers")
    return path
