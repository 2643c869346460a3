"""Incidents as events of the modelled crime types on the grid: (crime_type, cell_col, cell_row, occurred_at).

Events come from the warehouse (`intermediate.int_incidents`) when the pipeline has built it, or straight
from incident files (the forecast command's `--incidents`, development and tests). Files are read by
ingest's one reader and mapping (`beatwise.ingest.read_mapped`: every format, built fields, projection)
and matched to crime types by the one rule (`beatwise.policy.offence_rules` / `match_crime_types`) that
dbt's int_incidents applies too. With `signal`, incidents of the config's signal offences that no crime type
claims come too, as events of the crime type SIGNAL, and the records of the reporting feeds the agency has
(calls for service, gunfire detections; features.signal_series) as events of their FEED_SIGNALS series
(features count them; nothing models them). A crime type whose source is such a feed (gunfire:
`source: gunfire_detections`) has that feed's records as its events.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from beatwise.config.schema import AgencyConfig
from beatwise.contracts import CONTRACTS
from beatwise.geography.grid import cell_index
from beatwise.ingest import read_mapped
from beatwise.policy import match_crime_types, offence_rules
from models.forecasting.features import signal_feeds
from models.forecasting.history import FEED_SIGNALS, SIGNAL

EVENT_COLUMNS = ["crime_type", "cell_col", "cell_row", "occurred_at"]
EVENT_FIELDS = ["incident_id", "occurred_at", "x", "y"]  # of an incident, besides the fields its rule matches


def read_incident_files(
    config: AgencyConfig, files: Sequence[str | Path] | None = None, signal: bool = False
) -> pd.DataFrame:
    """Events of the modelled crime types (and SIGNAL, with `signal`) from incident files (default: the
    config's), deduplicated by id.

    Rows the mapping rejects (unreadable timestamps or coordinates) and rows without a location (missing
    or zero) are dropped: they cannot be placed on the grid.
    """
    paths = [Path(f) for f in files] if files else config.feed_files("incidents")
    rules = offence_rules(config.crime_types)
    signal_rules = offence_rules(config.signal_offences) if signal else rules.iloc[:0]
    severity = {name: ct.severity for name, ct in config.crime_types.items()}
    frames = []
    for path in paths:
        if not path.exists():
            raise FileNotFoundError(f"incident file not found: {path}")
        fields = {*rules["field"], *signal_rules["field"]}
        mapped = read_mapped(config, "incidents", path, fields=[*EVENT_FIELDS, *sorted(fields)])
        frame = mapped.frame.drop(index=mapped.rejections.rows)
        frame = frame[frame["occurred_at"].notna() & (frame["x"] != 0) & (frame["y"] != 0)]
        col, row, missing = cell_index(frame["x"].to_numpy(), frame["y"].to_numpy(), config.grid.cell_size)
        crime_type = match_crime_types(frame, rules, severity)
        if len(signal_rules):
            signalled = match_crime_types(frame, signal_rules, {}).notna()
            crime_type = crime_type.where(crime_type.notna() | ~signalled, SIGNAL)
        frames.append(pd.DataFrame({
            "crime_type": crime_type.to_numpy(),
            "id": frame["incident_id"].to_numpy(),
            "occurred_at": frame["occurred_at"].to_numpy(),
            "cell_col": col, "cell_row": row,
        })[~missing])
    if signal:
        frames += [feed_signal_events(config, feed) for feed in signal_feeds(config)]
    for name, crime_type in config.crime_types.items():  # a crime type with a feed of its own (gunfire)
        if crime_type.source != "incidents" and crime_type.source in config.feeds:
            frames.append(feed_signal_events(config, crime_type.source).assign(crime_type=name))
    events = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[*EVENT_COLUMNS, "id"])
    events = events[events["crime_type"].notna()]
    # The same incident may appear in several files (overlapping extracts): keep it once per crime type.
    events = events.drop_duplicates(["crime_type", "id"]).drop(columns="id")
    return _ordered(events)


def feed_signal_events(config: AgencyConfig, feed: str) -> pd.DataFrame:
    """The records of one reporting feed (calls for service, gunfire detections) as events of its series,
    read from the config's files like ingest reads them, deduplicated by their natural key."""
    contract = CONTRACTS[feed]
    (key,) = contract.natural_key
    frames = []
    for path in config.feed_files(feed):
        if not path.exists():
            raise FileNotFoundError(f"{feed} file not found: {path}")
        mapped = read_mapped(config, feed, path)
        frame = mapped.frame.drop(index=mapped.rejections.rows)
        frame = frame[frame[contract.event_time].notna() & frame["x"].notna() & frame["y"].notna()]
        col, row, missing = cell_index(frame["x"].to_numpy(), frame["y"].to_numpy(), config.grid.cell_size)
        frames.append(pd.DataFrame({
            "crime_type": FEED_SIGNALS[feed], "id": frame[key].to_numpy(),
            "occurred_at": frame[contract.event_time].to_numpy(), "cell_col": col, "cell_row": row,
        })[~missing])
    return pd.concat(frames, ignore_index=True).drop_duplicates("id") if frames else pd.DataFrame()


def read_warehouse_events(con: duckdb.DuckDBPyConnection, signal: bool = False) -> pd.DataFrame:
    """Events from the warehouse's `intermediate.int_incidents` (built by dbt); with `signal`, SIGNAL ones and
    the reporting feeds' records (`intermediate.int_feed_signals`) too."""
    events = con.execute(
        f"select coalesce(crime_type, '{SIGNAL}') as crime_type, cell_col, cell_row, occurred_at "
        "from intermediate.int_incidents where cell_col is not null and "
        + ("(crime_type is not null or signal_offence is not null)" if signal else "crime_type is not null")
    ).df()
    # A crime type with a feed of its own (gunfire from the detections) counts its records, as
    # fct_cell_shift_counts does.
    frames = [events, con.execute(
        "select t.crime_type, f.cell_col, f.cell_row, f.occurred_at from intermediate.int_feed_signals as f "
        "inner join raw.crime_types as t on t.source = f.feed"
    ).df()]
    if signal:
        series = ", ".join(f"('{feed}', '{name}')" for feed, name in FEED_SIGNALS.items())
        frames.append(con.execute(
            f"select s.name as crime_type, f.cell_col, f.cell_row, f.occurred_at "
            f"from intermediate.int_feed_signals as f inner join (values {series}) as s(feed, name) "
            "on s.feed = f.feed"
        ).df())
    events = pd.concat(frames, ignore_index=True)
    return _ordered(events)


def _ordered(events: pd.DataFrame) -> pd.DataFrame:
    events = events[EVENT_COLUMNS].copy()
    events["occurred_at"] = pd.to_datetime(events["occurred_at"]).astype("datetime64[ns]")
    events["cell_col"] = events["cell_col"].astype(np.int32)
    events["cell_row"] = events["cell_row"].astype(np.int32)
    return events.sort_values(
        ["occurred_at", "crime_type", "cell_col", "cell_row"], kind="stable"
    ).reset_index(drop=True)
