"""Incidents as events of the modelled crime types on the grid: (crime_type, cell_col, cell_row, occurred_at).

Events come from the warehouse (`intermediate.int_incidents`) when the pipeline has built it, or straight
from incident files read with the agency config's column mapping (the forecast command's `--incidents`,
development and tests). The crime type mapping is the config's: an incident belongs to a crime type when
its mapped field matches one of the listed values.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from beatwise.config.schema import AgencyConfig

EVENT_COLUMNS = ["crime_type", "cell_col", "cell_row", "occurred_at"]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _reader(path: Path, fmt: str) -> str:
    if fmt == "parquet":
        return f"read_parquet('{path.as_posix()}')"
    if fmt == "csv":
        return f"read_csv('{path.as_posix()}', all_varchar = true, header = true)"
    raise ValueError(f"{path}: incidents must be Parquet or CSV, not {fmt!r}")


def _crime_type_case(config: AgencyConfig, columns: dict[str, str]) -> list[tuple[str, str]]:
    """One SQL predicate per crime type, from the config's offence matches."""
    predicates = []
    for name, crime_type in config.crime_types.items():
        if crime_type.source != "incidents":
            continue
        parts = []
        for match in crime_type.offences:
            if match.field not in columns:
                raise ValueError(
                    f"crime_types.{name}: field {match.field!r} is not mapped in feeds.incidents.columns"
                )
            values = ", ".join("'" + v.replace("'", "''") + "'" for v in match.values)
            parts.append(f"trim(cast({_quote(columns[match.field])} as varchar)) in ({values})")
        predicates.append((name, " or ".join(parts)))
    return predicates


def read_incident_files(config: AgencyConfig, files: Sequence[str | Path] | None = None) -> pd.DataFrame:
    """Events of the modelled crime types from incident files (default: the config's), deduplicated by id.

    Rows without usable coordinates (missing or zero) or timestamps are dropped: they cannot be placed
    on the grid. Files may be Parquet or CSV; CSV timestamps use the feed's `timestamp_format`.
    """
    feed = config.feeds["incidents"]
    columns = feed.columns or {}
    for needed in ("incident_id", "occurred_at", "x", "y"):
        if needed not in columns:
            raise ValueError(f"feeds.incidents.columns must map {needed!r}")
    paths = [Path(f) for f in files] if files else config.feed_files("incidents")
    size = config.grid.cell_size
    predicates = _crime_type_case(config, columns)
    frames = []
    with duckdb.connect() as con:
        for path in paths:
            if not path.exists():
                raise FileNotFoundError(f"incident file not found: {path}")
            fmt = {".parquet": "parquet", ".csv": "csv"}.get(path.suffix.lower(), feed.format)
            occurred = _quote(columns["occurred_at"])
            if fmt == "csv" and feed.timestamp_format:
                ts = f"try_strptime({occurred}, '{feed.timestamp_format}')"
            else:
                ts = f"try_cast({occurred} as timestamp)"
            x, y = (f"try_cast({_quote(columns[c])} as double)" for c in ("x", "y"))
            unions = " union all ".join(
                f"select '{name}' as crime_type, id, occurred_at, x, y from located where {pred}"
                for name, pred in predicates
            )
            frame = con.execute(f"""
                with located as (
                    select cast({_quote(columns["incident_id"])} as varchar) as id, {ts} as occurred_at,
                           {x} as x, {y} as y, *
                    from {_reader(path, fmt)}
                    where {x} is not null and {y} is not null and {x} <> 0 and {y} <> 0
                )
                select crime_type, id, occurred_at,
                       cast(floor(x / {size}) as integer) as cell_col,
                       cast(floor(y / {size}) as integer) as cell_row
                from ({unions})
                where occurred_at is not null
            """).df()
            frames.append(frame)
    events = pd.concat(frames, ignore_index=True)
    # The same incident may appear in several files (overlapping extracts): keep it once per crime type.
    events = events.drop_duplicates(["crime_type", "id"]).drop(columns="id")
    return _ordered(events)


def read_warehouse_events(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Events from the warehouse's `intermediate.int_incidents` (built by dbt)."""
    events = con.execute(
        "select crime_type, cell_col, cell_row, occurred_at from intermediate.int_incidents "
        "where crime_type is not null and cell_col is not null"
    ).df()
    return _ordered(events)


def _ordered(events: pd.DataFrame) -> pd.DataFrame:
    events = events[EVENT_COLUMNS].copy()
    events["occurred_at"] = pd.to_datetime(events["occurred_at"]).astype("datetime64[ns]")
    events["cell_col"] = events["cell_col"].astype(np.int32)
    events["cell_row"] = events["cell_row"].astype(np.int32)
    return events.sort_values(
        ["occurred_at", "crime_type", "cell_col", "cell_row"], kind="stable"
    ).reset_index(drop=True)
