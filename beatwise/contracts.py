"""Feed contracts: the canonical shape of every feed once its columns are mapped (see the agency config).

Each contract is a pandera schema over the canonical columns. Ingest maps a file's columns onto these
names, coerces types, validates lazily, and sends every failing row to `raw.quarantine` with the
reason; valid rows are upserted into `raw.<feed>` by the contract's natural key.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pandera.pandas as pa
from pandera.pandas import Check, Column


def normalise_code(value: object) -> str | None:
    """An id or code as beatwise keys it: any text, trimmed; a code of digits only is a number, so its
    leading zeros go ('011' and '11' are one district, '0611' and '611' one beat, '0110' and '110' one
    IUCR code). Text codes ('Ward 7', 'CENTRE-NORD', '04B') are kept as written, never cut to digits."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a numeric column read as float: 11.0 is district '11'
    text = str(value).strip()
    if not text:
        return None
    return (text.lstrip("0") or "0") if text.isdigit() else text


def normalise_district(value: object) -> str | None:
    """District ids: see normalise_code."""
    return normalise_code(value)


def normalise_beat(value: object) -> str | None:
    """Beat ids: see normalise_code."""
    return normalise_code(value)


def normalise_offence_code(value: object) -> str | None:
    """Offence codes: see normalise_code; matched case-insensitively, so kept in capitals."""
    code = normalise_code(value)
    return code.upper() if code else None


@dataclass(frozen=True)
class Contract:
    feed: str
    schema: pa.DataFrameSchema
    natural_key: tuple[str, ...]
    # Column whose larger value marks the newer version of a record (None: last load wins).
    version_column: str | None = None
    # Geometry feeds carry a WKT column in the agency CRS and are loaded whole (a new file replaces them).
    replace_whole: bool = False
    # Column holding when the event happened: a value after the load time is quarantined as a future date.
    event_time: str | None = None
    # Rows must fall inside the jurisdiction (a cell of raw.cells) or are quarantined.
    located: bool = False

    @property
    def columns(self) -> list[str]:
        return list(self.schema.columns)


def _text(nullable: bool = False, **kw) -> Column:
    return Column(str, nullable=nullable, **kw)


def _coord(nullable: bool = False) -> Column:
    # Zero is how several records systems write "no coordinate"; it is never a real projected location here.
    return Column(float, Check(lambda s: s != 0, error="coordinate is zero (no location)"), nullable=nullable)


_TS = "datetime64[ns]"

CONTRACTS: dict[str, Contract] = {
    "incidents": Contract(
        "incidents",
        pa.DataFrameSchema({
            "incident_id": _text(),
            "occurred_at": Column(_TS),
            "block": _text(nullable=True),
            "offence_code": _text(nullable=True),  # many exports name offences without a code
            "offence_name": _text(nullable=True),
            "offence_description": _text(nullable=True),
            "offence_group": _text(nullable=True),
            "location_description": _text(nullable=True),
            "beat": _text(nullable=True),
            "district": _text(nullable=True),
            "x": _coord(),
            "y": _coord(),
            "updated_at": Column(_TS, nullable=True),
        }),
        natural_key=("incident_id",),
        version_column="updated_at",
        event_time="occurred_at",
        located=True,
    ),
    "offence_codes": Contract(
        "offence_codes",
        pa.DataFrameSchema({
            "offence_code": _text(),
            "offence_name": _text(),
            "offence_description": _text(nullable=True),
            "index_code": _text(nullable=True),
        }),
        natural_key=("offence_code",),
    ),
    "jurisdiction": Contract(
        "jurisdiction",
        pa.DataFrameSchema({"part_id": _text(), "name": _text(nullable=True), "geometry_wkt": _text()}),
        natural_key=("part_id",),
        replace_whole=True,
    ),
    "neighbourhoods": Contract(
        "neighbourhoods",
        pa.DataFrameSchema({"neighbourhood": _text(), "geometry_wkt": _text()}),
        natural_key=("neighbourhood",),
        replace_whole=True,
    ),
    "beats": Contract(
        "beats",
        pa.DataFrameSchema({
            "vintage": _text(),
            "beat": _text(),
            "district": _text(),
            "valid_from": Column("datetime64[ns]", nullable=True),
            "valid_to": Column("datetime64[ns]", nullable=True),
            "geometry_wkt": _text(),
        }),
        natural_key=("vintage", "beat"),
        replace_whole=True,
    ),
    "districts": Contract(
        "districts",
        pa.DataFrameSchema({
            "district": _text(),
            "district_label": _text(nullable=True),
            "geometry_wkt": _text(),
        }),
        natural_key=("district",),
        replace_whole=True,
    ),
    "liquor_premises": Contract(
        "liquor_premises",
        pa.DataFrameSchema({"premise_id": _text(), "address": _text(nullable=True), "x": _coord(), "y": _coord()}),
        natural_key=("premise_id",),
    ),
    "land_use": Contract(
        "land_use",
        pa.DataFrameSchema({"polygon_id": _text(), "category": _text(), "geometry_wkt": _text()}),
        natural_key=("polygon_id",),
        replace_whole=True,
    ),
    "sports_events": Contract(
        "sports_events",
        pa.DataFrameSchema(
            {"event_id": _text(), "venue": _text(), "starts_at": Column(_TS), "league": _text(nullable=True)}
        ),
        natural_key=("event_id",),
    ),
    "venues": Contract(
        "venues",
        pa.DataFrameSchema({"venue_id": _text(), "venue": _text(), "x": _coord(), "y": _coord()}),
        natural_key=("venue_id",),
    ),
    "weather_daily": Contract(
        "weather_daily",
        pa.DataFrameSchema({
            "station": _text(),
            "date": Column(_TS),
            "precipitation": Column(float, Check.ge(0), nullable=True),
            "snowfall": Column(float, Check.ge(0), nullable=True),
            "temperature_max": Column(float, Check.in_range(-80, 140), nullable=True),
            "temperature_min": Column(float, Check.in_range(-80, 140), nullable=True),
            "wind_speed": Column(float, Check.ge(0), nullable=True),
        }),
        natural_key=("station", "date"),
        event_time="date",
    ),
    # Feeds that real CAD, gunfire-detection and AVL systems deliver (simulated for Chicago).
    "calls_for_service": Contract(
        "calls_for_service",
        pa.DataFrameSchema({
            "call_id": _text(),
            "received_at": Column(_TS),
            "call_type": _text(),
            "priority": Column("Int64", Check.in_range(0, 9), nullable=True),
            "x": _coord(),
            "y": _coord(),
        }),
        natural_key=("call_id",),
        event_time="received_at",
        located=True,
    ),
    "gunfire_detections": Contract(
        "gunfire_detections",
        pa.DataFrameSchema({
            "detection_id": _text(),
            "detected_at": Column(_TS),
            "rounds": Column("Int64", Check.ge(1), nullable=True),
            "x": _coord(),
            "y": _coord(),
        }),
        natural_key=("detection_id",),
        event_time="detected_at",
        located=True,
    ),
    "avl_pings": Contract(
        "avl_pings",
        pa.DataFrameSchema({
            "unit_id": _text(),
            "pinged_at": Column(_TS),
            "x": _coord(),
            "y": _coord(),
        }),
        natural_key=("unit_id", "pinged_at"),
        event_time="pinged_at",
    ),
    "patrol_activity": Contract(
        "patrol_activity",
        pa.DataFrameSchema({
            "activity_id": _text(),
            "unit_id": _text(),
            "officer_id": _text(),
            "mission_id": _text(nullable=True),
            "started_at": Column(_TS),
            "ended_at": Column(_TS),
            "tactic": _text(),
        }, checks=[Check(lambda df: df["ended_at"] >= df["started_at"], error="ends before it starts")]),
        natural_key=("activity_id",),
        event_time="started_at",
    ),
}
