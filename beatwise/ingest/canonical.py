"""Map a file's source columns onto a feed's canonical columns: rename, type, project, normalise, derive ids.

Values that cannot be read (a timestamp that does not parse, a number that is not one) are not guessed:
the row is rejected with the value and the column named.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from beatwise.config import AgencyConfig, Feed
from beatwise.contracts import Contract, normalise_beat, normalise_district, normalise_offence_code
from beatwise.ingest.read import GEOMETRY, FeedError
from beatwise.ingest.validate import Rejections

# Canonical names a config may map that are not stored: a point's position, projected to x / y.
POSITION = ("longitude", "latitude")
NORMALISERS: dict[str, Callable[[object], str | None]] = {
    "district": normalise_district,
    "beat": normalise_beat,
    "offence_code": normalise_offence_code,
}
_ZONE_SUFFIX = r"(?:Z|[+-]\d{2}:?\d{2})$"


def required_source_columns(feed_name: str, feed: Feed, contract: Contract, found: list[str]) -> list[str]:
    """The source columns the mapping needs; a missing one refuses the file, naming it and what was found."""
    mapping = _mapping(feed, contract, found)
    missing = [(canon, src) for canon, src in mapping.items() if src not in found]
    if missing:
        named = ", ".join(f"{src!r} (for {canon})" for canon, src in missing)
        raise FeedError(
            feed_name, "", f"column(s) {named} not found; the file has: {', '.join(map(repr, found))}"
        )
    return list(dict.fromkeys(mapping.values()))


def _mapping(feed: Feed, contract: Contract, found: list[str]) -> dict[str, str]:
    """canonical -> source column; an unmapped canonical column present under its own name maps to itself."""
    mapping = dict(feed.columns)
    for name in (*contract.columns, *POSITION):
        if name not in mapping and name in found:
            mapping[name] = name
    return mapping


def to_canonical(
    source: pd.DataFrame,
    feed_name: str,
    feed: Feed,
    contract: Contract,
    config: AgencyConfig,
    file: Path,
    rejections: Rejections,
) -> pd.DataFrame:
    """The contract's columns, typed, in the agency CRS; unreadable values go to `rejections`."""
    mapping = _mapping(feed, contract, list(source.columns))
    out = pd.DataFrame(index=source.index)
    for canon, src in mapping.items():
        out[canon] = source[src]
    source_crs = feed.crs or source.attrs.get("crs") or "EPSG:4326"
    if all(p in out for p in POSITION):
        lon = _numbers(out.pop("longitude"), "longitude", rejections)
        lat = _numbers(out.pop("latitude"), "latitude", rejections)
        out["x"], out["y"] = _transformer(source_crs, config.crs).transform(lon.to_numpy(), lat.to_numpy())
    if GEOMETRY in source:
        _geometry_columns(out, source[GEOMETRY].to_numpy(), contract, source_crs, config.crs)
    derive_event_id = feed_name == "sports_events" and "event_id" not in out
    _derive(out, feed_name, feed, file)

    columns = contract.schema.columns
    for name, column in columns.items():
        if name not in out:
            if not column.nullable:
                raise FeedError(
                    feed_name,
                    file,
                    f"nothing maps to the required column {name!r}; add it to the feed's columns",
                )
            out[name] = None
        out[name] = _typed(out[name], str(column.dtype), name, feed, config, rejections)
        if name in NORMALISERS:
            out[name] = _normalised(out[name], NORMALISERS[name])
    if derive_event_id:  # no id in the source: a stable digest of what identifies the event
        keys = out["venue"].fillna("") + "|" + out["starts_at"].dt.strftime("%Y-%m-%dT%H:%M").fillna("")
        out["event_id"] = _digests(keys)
    return out[list(columns)]


def _transformer(source_crs: str, target_crs: str) -> Transformer:
    return Transformer.from_crs(source_crs, target_crs, always_xy=True)


def _geometry_columns(
    out: pd.DataFrame, geoms: np.ndarray, contract: Contract, source_crs: str, target_crs: str
) -> None:
    transformer = _transformer(source_crs, target_crs)
    projected = shapely.transform(
        geoms, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))
    )
    if "geometry_wkt" in contract.columns:
        out["geometry_wkt"] = pd.Series(shapely.to_wkt(projected, rounding_precision=3), index=out.index)
    if "x" in contract.columns and "x" not in out:
        points = shapely.get_type_id(projected) == 0
        out["x"] = np.where(points, shapely.get_x(np.where(points, projected, None)), np.nan)
        out["y"] = np.where(points, shapely.get_y(np.where(points, projected, None)), np.nan)


def _derive(out: pd.DataFrame, feed_name: str, feed: Feed, file: Path) -> None:
    """Ids and editions the source does not carry."""
    if feed_name == "beats":
        edition = feed.editions.get(file.name)
        out["vintage"] = edition.vintage if edition else (feed.vintage or file.stem)
        out["valid_from"] = pd.Timestamp(edition.valid_from if edition else feed.valid_from)
        out["valid_to"] = pd.Timestamp(edition.valid_to if edition else feed.valid_to)
    if feed_name == "sports_events" and "event_id" not in out:
        out["event_id"] = ""  # derived once starts_at is typed, below
    if feed_name == "land_use" and "polygon_id" not in out:
        out["polygon_id"] = _digests(out["geometry_wkt"].fillna(""))


def _digests(values: pd.Series) -> pd.Series:
    return values.map(lambda v: hashlib.sha256(v.encode()).hexdigest()[:16])


def _numbers(values: pd.Series, name: str, rejections: Rejections) -> pd.Series:
    numbers = pd.to_numeric(values, errors="coerce").astype(float)
    bad = numbers.isna() & values.notna()
    rejections.add(values.index[bad], [f"{name} is not a number: {v!r}" for v in values[bad]])
    return numbers


def _typed(
    values: pd.Series, dtype: str, name: str, feed: Feed, config: AgencyConfig, rejections: Rejections
) -> pd.Series:
    if dtype.startswith("datetime64"):
        return _timestamps(values, name, feed, config.agency.timezone, rejections)
    if dtype.startswith("float"):
        return _numbers(values, name, rejections)
    if dtype in ("int64", "Int64"):
        numbers = _numbers(values, name, rejections)
        fractional = numbers.notna() & (numbers % 1 != 0)
        rejections.add(
            values.index[fractional], [f"{name} is not a whole number: {v!r}" for v in values[fractional]]
        )
        return numbers.where(~fractional).round().astype("Int64")
    if values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        return values
    text = values.astype(str).astype(object)
    return text.where(values.notna(), None)


def _timestamps(values: pd.Series, name: str, feed: Feed, timezone: str, rejections: Rejections) -> pd.Series:
    if not pd.api.types.is_datetime64_any_dtype(values):
        text = values.astype("string").str.strip()
        if feed.ignore_timezone:
            text = text.str.replace(_ZONE_SUFFIX, "", regex=True)
        fmt = feed.timestamp_format or "ISO8601"
        parsed = pd.to_datetime(
            text,
            format=fmt,
            errors="coerce",
            utc=not feed.ignore_timezone and text.str.contains(_ZONE_SUFFIX, regex=True).any(),
        )
        bad = parsed.isna() & values.notna()
        rejections.add(values.index[bad], [f"unparseable timestamp in {name}: {v!r}" for v in values[bad]])
        values = parsed
    if getattr(values.dt, "tz", None) is not None:  # a zone-aware time becomes the agency's local time
        values = values.dt.tz_convert(timezone).dt.tz_localize(None)
    return values.astype("datetime64[ns]")


def _normalised(values: pd.Series, normalise: Callable[[object], str | None]) -> pd.Series:
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    mapped = np.array([normalise(u) for u in uniques] + [None], dtype=object)
    return pd.Series(mapped[codes], index=values.index, dtype=object)


def fill_district_from_beats(frame: pd.DataFrame, beats: pd.DataFrame) -> int:
    """Fill a missing district from the beat, in the beat edition in force when the incident occurred
    (Chicago's 2011 records have a beat but no district). Returns how many were filled."""
    missing = frame["district"].isna() & frame["beat"].notna()
    if not missing.any() or beats.empty:
        return 0
    when = frame.loc[missing, "occurred_at"]
    filled = pd.Series(None, index=when.index, dtype=object)
    # Editions in force at the time first, then any edition that has the beat.
    for in_force in (True, False):
        for _, edition in beats.groupby("vintage"):
            lookup = dict(zip(edition["beat"], edition["district"], strict=True))
            start, end = edition["valid_from"].iloc[0], edition["valid_to"].iloc[0]
            covers = (
                ((pd.isna(start) | (when >= start)) & (pd.isna(end) | (when < end))) if in_force else True
            )
            todo = filled.isna() & covers
            filled[todo] = frame.loc[todo[todo].index, "beat"].map(lookup)
    frame.loc[filled.index, "district"] = filled.where(filled.notna(), None)
    return int(filled.notna().sum())
