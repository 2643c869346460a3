"""Read one feed file into a frame of its source columns: the one reader of every command.

Parquet; CSV plain, gzip-compressed or as the only CSV in a zip; GeoJSON; GeoPackage (through
beatwise.ingest.geopackage, without GDAL). Whole-file problems (empty, truncated, wrongly encoded,
unreadable) raise FeedError naming the file and where in it; nothing of such a file is loaded.
"""

from __future__ import annotations

import csv
import gzip
import json
import zipfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import shapely

from beatwise.ingest import geopackage
from beatwise.ingest.formats import SUFFIX_FORMATS, format_of

GEOMETRY = "__geometry__"  # the column a polygon reader puts each feature's shapely geometry in
__all__ = ["GEOMETRY", "SUFFIX_FORMATS", "FeedError", "format_of", "read_source", "source_columns"]


class FeedError(Exception):
    """A whole file that beatwise refuses: nothing of it is loaded."""

    def __init__(self, feed: str, file: str | Path, message: str, rule: str | None = None):
        self.feed, self.file, self.message, self.rule = feed, Path(file).name, message, rule
        suffix = f" [{rule}]" if rule else ""
        super().__init__(f"feed {feed!r}, file {self.file!r}: {message}{suffix}")


def source_columns(
    path: Path, fmt: str, feed: str, encoding: str = "utf-8", layer: str | None = None
) -> list[str]:
    """The column names a file offers, read cheaply (Parquet schema, CSV header, GeoJSON properties)."""
    if not path.exists():
        raise FeedError(feed, path, "file not found")
    if fmt == "gpkg":
        try:
            return geopackage.attribute_columns(path, layer)
        except geopackage.GeoPackageError as exc:
            raise FeedError(feed, path, str(exc)) from exc
    if fmt == "csv":
        header = _decode(path, feed, encoding).split(b"\n", 1)[0].decode("utf-8").strip("\r")
        return next(csv.reader([header])) if header.strip() else []
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
    path: Path,
    fmt: str,
    feed: str,
    encoding: str = "utf-8",
    columns: list[str] | None = None,
    layer: str | None = None,
    limit: int | None = None,
) -> pd.DataFrame:
    """The file's rows as a frame (CSV values as text), indexed 0..n-1 in file order; `limit` keeps the
    first rows only (config check reads a sample through the same path)."""
    if not path.exists():
        raise FeedError(feed, path, "file not found")
    if path.stat().st_size == 0:
        raise FeedError(feed, path, "the file is empty")
    if fmt == "gpkg":
        frame = _read_geopackage(path, feed, layer)
    else:
        reader = {"parquet": _read_parquet, "csv": _read_csv, "geojson": _read_geojson}[fmt]
        frame = reader(path, feed, encoding, columns)
    if frame.empty:
        raise FeedError(feed, path, "the file has no rows")
    if limit is not None:
        frame = frame.iloc[:limit]
    return frame.reset_index(drop=True)


def _read_geopackage(path: Path, feed: str, layer: str | None) -> pd.DataFrame:
    try:
        attributes, geometries, crs = geopackage.read_layer(path, layer)
    except geopackage.GeoPackageError as exc:
        raise FeedError(feed, path, str(exc)) from exc
    frame = attributes.astype(object).where(attributes.notna(), None)
    frame[GEOMETRY] = geometries
    frame.attrs["crs"] = crs
    return frame


def _read_parquet(path: Path, feed: str, encoding: str, columns: list[str] | None) -> pd.DataFrame:
    try:
        table = pq.read_table(path, columns=columns)
    except (pa.ArrowInvalid, OSError) as exc:
        raise FeedError(feed, path, f"not a readable Parquet file ({exc})") from exc
    return table.to_pandas()


def _file_bytes(path: Path, feed: str) -> bytes:
    """The bytes of a text export: as stored, gunzipped, or the one CSV inside a zip."""
    name = path.name.lower()
    try:
        if name.endswith(".gz"):
            return gzip.decompress(path.read_bytes())
        if name.endswith(".zip"):
            with zipfile.ZipFile(path) as archive:
                members = [m for m in archive.namelist() if not m.endswith("/")]
                csvs = [m for m in members if m.lower().endswith((".csv", ".txt"))] or members
                if len(csvs) != 1:
                    raise FeedError(feed, path, f"the zip holds {len(csvs)} CSV files ({', '.join(csvs)}); "
                                    "beatwise reads a zip of exactly one")
                return archive.read(csvs[0])
    except (OSError, EOFError, zipfile.BadZipFile, gzip.BadGzipFile) as exc:
        raise FeedError(feed, path, f"not a readable compressed file ({exc})") from exc
    return path.read_bytes()


def _decode(path: Path, feed: str, encoding: str) -> bytes:
    """The file as UTF-8 bytes; a byte that is not valid in the declared encoding refuses the file."""
    raw = _file_bytes(path, feed)
    if not raw:
        raise FeedError(feed, path, "the file is empty")
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
