"""Map a file's source columns onto a feed's canonical columns: rename, build, type, project, normalise.

A canonical field is one source column or is built by a rule the config declares (beatwise.config.Derived:
a timestamp from a date and an hour or time, a local date, an id digested from chosen columns, a
constant). Values that cannot be read (a timestamp that does not parse, a number that is not one) are not
guessed: the row is rejected with the value and the column named.
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
from beatwise.config.schema import Derived
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
    needed = [(canon, src) for canon, src in _mapping(feed, contract, found).items()]
    needed += [(canon, src) for canon, rule in _rules(feed).items() for src in rule.source_columns()]
    missing = [(canon, src) for canon, src in needed if src not in found]
    if missing:
        named = ", ".join(f"{src!r} (for {canon})" for canon, src in missing)
        raise FeedError(
            feed_name, "", f"column(s) {named} not found; the file has: {', '.join(map(repr, found))}"
        )
    return list(dict.fromkeys(src for _, src in needed))


def _rules(feed: Feed) -> dict[str, Derived]:
    return {canon: rule for canon, rule in feed.columns.items() if isinstance(rule, Derived)}


def _mapping(feed: Feed, contract: Contract, found: list[str]) -> dict[str, str]:
    """canonical -> source column; an unmapped canonical column present under its own name maps to itself."""
    mapping = {canon: src for canon, src in feed.columns.items() if isinstance(src, str)}
    for name in (*contract.columns, *POSITION):
        if name not in mapping and name not in feed.columns and name in found:
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
    identical = 0
    for canon, rule in _rules(feed).items():
        built = _built(rule, source, canon, feed, config.agency.timezone, rejections)
        identical += built.attrs.get("identical_rows", 0)
        out[canon] = built
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
    out = out[list(columns)]
    out.attrs["identical_rows"] = identical
    return out


def _built(
    rule: Derived, source: pd.DataFrame, canon: str, feed: Feed, timezone: str, rejections: Rejections
) -> pd.Series:
    """A canonical field built by a rule of the config (see beatwise.config.Derived)."""
    if rule.value is not None:
        return pd.Series(rule.value, index=source.index, dtype=object)
    if rule.digest is not None:
        return _digest_ids(source, rule.digest, feed.identical_rows or "duplicates")
    if rule.local_date is not None:
        return _local_dates(source[rule.local_date], canon, timezone, rejections)
    return _date_and_time(source, rule, canon, rejections)


def _date_and_time(source: pd.DataFrame, rule: Derived, canon: str, rejections: Rejections) -> pd.Series:
    raw_date = source[rule.date].astype("string").str.strip()
    day = pd.to_datetime(raw_date, format=rule.date_format or "ISO8601", errors="coerce")
    if getattr(day.dt, "tz", None) is not None:
        day = day.dt.tz_localize(None)
    bad = day.isna() & raw_date.notna()
    rejections.add(source.index[bad], [f"unparseable date in {canon} ({rule.date}): {v!r}" for v in raw_date[bad]])
    day = day.dt.normalize()
    if rule.hour is not None:
        raw = source[rule.hour]
        hour = pd.to_numeric(raw, errors="coerce")
        bad = raw.notna() & (hour.isna() | (hour % 1 != 0) | (hour < 0) | (hour > 23))
        rejections.add(source.index[bad], [f"hour in {canon} ({rule.hour}) is not 0-23: {v!r}" for v in raw[bad]])
        offset = pd.to_timedelta(hour.where(~bad), unit="h")
    elif rule.time is not None:
        raw = source[rule.time].astype("string").str.strip()
        digits = raw.str.replace(":", "", regex=False).str.zfill(4)
        parsed = pd.to_datetime(digits.str.pad(6, side="right", fillchar="0"), format="%H%M%S", errors="coerce")
        bad = raw.notna() & parsed.isna()
        rejections.add(source.index[bad], [f"time in {canon} ({rule.time}) is not hh:mm: {v!r}" for v in raw[bad]])
        offset = parsed - parsed.dt.normalize()
    else:
        offset = pd.Series(pd.Timedelta(0), index=source.index)
    return (day + offset).astype("datetime64[ns]")


def _local_dates(values: pd.Series, canon: str, timezone: str, rejections: Rejections) -> pd.Series:
    """The date in the agency's timezone of each value: a time without a zone is UTC; a plain date is as is."""
    text = values.astype("string").str.strip()
    plain = text.str.fullmatch(r"\d{4}-\d{2}-\d{2}").fillna(False)
    parsed = pd.to_datetime(text.where(~plain), format="ISO8601", errors="coerce", utc=True)
    local = parsed.dt.tz_convert(timezone).dt.tz_localize(None).dt.normalize()
    dates = pd.to_datetime(text.where(plain), format="%Y-%m-%d", errors="coerce").fillna(local)
    bad = dates.isna() & text.notna()
    rejections.add(values.index[bad], [f"unparseable date in {canon}: {v!r}" for v in text[bad]])
    return dates.astype("datetime64[ns]")


def _digest_ids(source: pd.DataFrame, columns: list[str], identical_rows: str) -> pd.Series:
    """Ids digested from `columns` (their text, in order). Rows alike in all of them are either distinct
    incidents (numbered by order of appearance, so a reload gives the same ids) or copies (same id; the
    duplicate check then loads one). How many rows were alike is in `.attrs['identical_rows']`."""
    parts = source[columns].astype("string").fillna("\x1e")
    keys = parts.iloc[:, 0].str.cat([parts[c] for c in columns[1:]], sep="\x1f") if len(columns) > 1 \
        else parts.iloc[:, 0]
    repeat = keys.groupby(keys, sort=False).cumcount()
    if identical_rows == "distinct":
        keys = keys.where(repeat == 0, keys + "\x1d" + repeat.astype(str))
    ids = _digests(keys.astype(object))
    ids.attrs["identical_rows"] = int((repeat > 0).sum())
    return ids


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
    if feed_name == "jurisdiction" and "part_id" not in out:
        out["part_id"] = _digests(out["geometry_wkt"].fillna(""))


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
        utc = bool(not feed.ignore_timezone and text.str.contains(_ZONE_SUFFIX, regex=True).any())
        parsed = pd.to_datetime(text, format=fmt, errors="coerce", utc=utc)
        if fmt != "ISO8601" and (parsed.isna() & text.notna()).any():
            # ISO 8601 is unambiguous: a column the export writes in it still reads (e.g. an update time)
            iso = pd.to_datetime(text.where(parsed.isna()), format="ISO8601", errors="coerce", utc=utc)
            parsed = parsed.fillna(iso)
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
