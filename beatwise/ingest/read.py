"""Read one feed file (Parquet, the data portal's CSV export, GeoJSON) into a frame of its source columns.

Whole-file problems (empty, truncated, wrongly encoded, unreadable) raise FeedError naming the file and
where in it; nothing of such a file is loaded.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import shapely

GEOMETRY = "__geometry__"  # the column a GeoJSON reader puts each feature's shapely geometry in
SUFFIX_FORMATS = {".parquet": "parquet", ".csv": "csv", ".geojson": "geojson", ".json": "geojson"}


class FeedError(Exception):
    """A whole file that beatwise refuses: nothing of it is loaded."""

    def __init__(self, feed: str, file: str | Path, message: str, rule: str | None = None):
        self.feed, self.file, self.message, self.rule = feed, Path(file).name, message, rule
        suffix = f" [{rule}]" if rule else ""
        super().__init__(f"feed {feed!r}, file {self.file!r}: {message}{suffix}")


def source_columns(path: Path, fmt: str, feed: str, encoding: str = "utf-8") -> list[str]:
    """The column names a file offers, read cheaply (Parquet schema, CSV header, GeoJSON properties)."""
    if fmt == "parquet":
        try:
            return list(pq.read_schema(path).names)
        except (pa.ArrowInvalid, OSError) as exc:
            raise FeedError(feed, path, f"not a readable Parquet file ({exc})") from exc
    if fmt == "geojson":
        keys: dict[str, None] = {}
        for feature in _geojson_features(path, feed, encoding)[1]:
            keys.update(dict.fromkeys(feature.get("properties") or {}))
        return list(keys)
    return list(read_source(path, fmt, feed, encoding).columns)


def read_source(
    path: Path, fmt: str, feed: str, encoding: str = "utf-8", columns: list[str] | None = None
) -> pd.DataFrame:
    """The file's rows as a frame (CSV values as text), indexed 0..n-1 in file order."""
    if not path.exists():
        raise FeedError(feed, path, "file not found")
    if path.stat().st_size == 0:
        raise FeedError(feed, path, "the file is empty")
    reader = {"parquet": _read_parquet, "csv": _read_csv, "geojson": _read_geojson}[fmt]
    frame = reader(path, feed, encoding, columns)
    if frame.empty:
        raise FeedError(feed, path, "the file has no rows")
    return frame.reset_index(drop=True)


def _read_parquet(path: Path, feed: str, encoding: str, columns: list[str] | None) -> pd.DataFrame:
    try:
        table = pq.read_table(path, columns=columns)
    except (pa.ArrowInvalid, OSError) as exc:
        raise FeedError(feed, path, f"not a readable Parquet file ({exc})") from exc
    return table.to_pandas()


def _decode(path: Path, feed: str, encoding: str) -> bytes:
    """The file as UTF-8 bytes; a byte that is not valid in the declared encoding refuses the file."""
    raw = path.read_bytes()
    try:
        text = raw.decode(
            "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
        )
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise FeedError(
            feed,
            path,
            f"not valid {encoding} at byte {exc.start} (line {line}): "
            f"{raw[exc.start : exc.start + 4]!r}; set the feed's encoding if the file uses another one",
        ) from exc
    if "\x00" in text:
        raise FeedError(feed, path, f"contains NUL characters: not {encoding} text (UTF-16?)")
    return text.encode("utf-8")


def _read_csv(path: Path, feed: str, encoding: str, columns: list[str] | None) -> pd.DataFrame:
    data = _decode(path, feed, encoding)
    header_line = data.split(b"\n", 1)[0].decode("utf-8").strip("\r")
    if not header_line.strip():
        raise FeedError(feed, path, "the file has no header line")
    header = next(csv.reader([header_line]))
    try:
        table = pacsv.read_csv(
            pa.BufferReader(data),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in header},
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
                null_values=[""],
                include_columns=columns,
            ),
        )
    except pa.ArrowInvalid as exc:
        raise FeedError(feed, path, f"malformed or truncated CSV: {exc}") from exc
    return table.to_pandas()


def _geojson_features(path: Path, feed: str, encoding: str) -> tuple[dict, list[dict]]:
    if not path.exists() or path.stat().st_size == 0:
        raise FeedError(feed, path, "file not found" if not path.exists() else "the file is empty")
    try:
        document = json.loads(_decode(path, feed, encoding))
    except json.JSONDecodeError as exc:
        raise FeedError(
            feed, path, f"not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}"
        ) from exc
    features = document.get("features") if isinstance(document, dict) else None
    if not isinstance(features, list):
        raise FeedError(feed, path, "not a GeoJSON FeatureCollection (no 'features' list)")
    return document, features


def _read_geojson(path: Path, feed: str, encoding: str, columns: list[str] | None) -> pd.DataFrame:
    document, features = _geojson_features(path, feed, encoding)
    frame = pd.DataFrame([f.get("properties") or {} for f in features])
    frame[GEOMETRY] = [shapely.geometry.shape(f["geometry"]) if f.get("geometry") else None for f in features]
    frame.attrs["crs"] = _geojson_crs(document)
    return frame


def _geojson_crs(document: dict) -> str:
    """The CRS a GeoJSON file declares (old-style `crs` member); RFC 7946 files are WGS84 lon/lat."""
    name = ((document.get("crs") or {}).get("properties") or {}).get("name", "")
    if not name or name.endswith("CRS84"):
        return "OGC:CRS84"
    return name
