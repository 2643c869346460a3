"""Read one feed file into a frame of its source columns: the one reader of every command.

Parquet; CSV plain, gzip-compressed or as the only CSV in a zip; GeoJSON; GeoPackage (through
beatwise.ingest.geopackage, without GDAL). Whole-file problems (empty, wrongly encoded, unreadable) raise
FeedError naming the file and where in it; nothing of such a file is loaded. A bad row (a CSV line with
the wrong number of fields or an unclosed quote, a value over MAX_VALUE_CHARS) is not a bad file: it is
left empty in the frame and listed in `frame.attrs["malformed"]` (row -> reason), so the row is
quarantined and the file's other rows load.
"""

from __future__ import annotations

import csv
import gzip
import json
import zipfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute  # noqa: F401  (pa.compute)
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import shapely

from beatwise.ingest import geopackage
from beatwise.ingest.formats import SUFFIX_FORMATS, format_of

GEOMETRY = "__geometry__"  # the column a polygon reader puts each feature's shapely geometry in
MAX_VALUE_CHARS = 10_000  # no field of any feed is longer; a longer value is a broken or hostile row
MAX_RECORD_LINES = 50  # a quoted value may span lines, but an unclosed quote must not swallow the file
__all__ = [
    "GEOMETRY", "MAX_VALUE_CHARS", "SUFFIX_FORMATS", "FeedError", "excerpt", "format_of", "read_source",
    "source_columns",
]


def excerpt(value: object, limit: int = 40) -> str:
    """A short, escaped rendering of an offending value for a message: never more of a file than this."""
    if hasattr(value, "item") and not isinstance(value, str | bytes):  # a NumPy scalar: its Python value
        value = value.item()
    text = repr(value)
    if len(text) <= limit:
        return text
    length = f" ({len(value)} chars)" if isinstance(value, str | bytes) else ""
    return f"{text[:limit]}...{length}"


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
        return _header(path, feed, header) if header.strip() else []
    if fmt == "parquet":
        try:
            return list(pq.read_schema(path).names)
        except (pa.ArrowInvalid, OSError) as exc:
            raise FeedError(feed, path, f"not a readable Parquet file ({exc})") from exc
    if fmt == "geojson":
        keys: dict[str, None] = {}
        features = _geojson_features(path, feed, encoding)[1]
        if not features:
            raise FeedError(feed, path, "the file has no rows (no features)")
        for feature in features:
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
    malformed = dict(frame.attrs.get("malformed", {}))
    if fmt in ("geojson", "gpkg"):  # the tabular readers measure values in Arrow as they read
        malformed.update(_huge_values({c: frame[c] for c in frame.columns if c != GEOMETRY}))
    if limit is not None:
        frame = frame.iloc[:limit]
        malformed = {i: r for i, r in malformed.items() if i < limit}
    frame = frame.reset_index(drop=True)
    if malformed:
        frame.loc[list(malformed), [c for c in frame.columns if c != GEOMETRY]] = None
    frame.attrs["malformed"] = dict(sorted(malformed.items()))
    return frame


def _huge_values(columns: dict[str, object]) -> dict[int, str]:
    """Rows with a text value longer than MAX_VALUE_CHARS, naming the column and the value's length.
    Measured by Arrow (a Chicago-sized file has 1.8M rows); columns that are not all text are skipped."""
    found: dict[int, str] = {}
    for column, values in columns.items():
        try:
            array = values if isinstance(values, pa.ChunkedArray | pa.Array) else pa.array(
                values, type=pa.string(), from_pandas=True)
            if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
                continue
            lengths = pa.compute.utf8_length(array)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            continue
        if (pa.compute.max(lengths).as_py() or 0) <= MAX_VALUE_CHARS:
            continue
        for i in pa.compute.indices_nonzero(pa.compute.greater(lengths, MAX_VALUE_CHARS)).to_pylist():
            value = array[i].as_py()
            found.setdefault(i, f"value in column {column!r} is {len(value)} characters long "
                                f"(at most {MAX_VALUE_CHARS}): {excerpt(value)}")
    return found


def _with_huge_values(table: pa.Table) -> pd.DataFrame:
    frame = table.to_pandas()
    frame.attrs["malformed"] = _huge_values(dict(zip(table.column_names, table.columns, strict=True)))
    return frame


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
    return _with_huge_values(table)


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


def _header(path: Path, feed: str, line: str) -> list[str]:
    if len(line) > MAX_VALUE_CHARS:
        raise FeedError(feed, path, f"the header line is {len(line)} characters long: not a CSV header")
    try:
        return next(csv.reader([line]))
    except csv.Error as exc:
        raise FeedError(feed, path, f"the header line is not CSV ({exc}): {excerpt(line)}") from exc


def _read_csv(path: Path, feed: str, encoding: str, columns: list[str] | None) -> pd.DataFrame:
    data = _decode(path, feed, encoding)
    header_line = data.split(b"\n", 1)[0].decode("utf-8").strip("\r")
    if not header_line.strip():
        raise FeedError(feed, path, "the file has no header line")
    header = _header(path, feed, header_line)
    if len(set(header)) != len(header):
        repeated = sorted({c for c in header if header.count(c) > 1})
        raise FeedError(feed, path, f"the header names column(s) {', '.join(map(excerpt, repeated))} twice")
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
    except pa.ArrowInvalid:
        # Some line is malformed: read line by line, keeping every good row and naming each bad one.
        return _read_csv_by_line(data.decode("utf-8"), header, columns)
    return _with_huge_values(table)


def _read_csv_by_line(text: str, header: list[str], columns: list[str] | None) -> pd.DataFrame:
    """A CSV with bad lines, read record by record: a record is one line, or several while a quoted value
    is open (at most MAX_RECORD_LINES); a line that does not make a record of the header's width is one
    malformed row, and reading goes on at the next line."""
    lines = text.split("\n")[1:]
    if lines and lines[-1] == "":
        lines.pop()
    rows: list[list[str | None]] = []
    malformed: dict[int, str] = {}
    width, i = len(header), 0
    while i < len(lines):
        line_number = i + 2  # 1-based, after the header
        if not lines[i].strip("\r").strip():
            i += 1
            continue
        end, record = i, lines[i]
        while record.count('"') % 2 and end + 1 < len(lines) and end - i < MAX_RECORD_LINES:
            end += 1
            record += "\n" + lines[end]
        fields, reason = _record(record.rstrip("\r"), width)
        if reason is None:
            rows.append([v if v != "" else None for v in fields])
            i = end + 1
            continue
        if record.count('"') % 2:
            reason = "an unclosed quote"
        malformed[len(rows)] = f"line {line_number}: {reason}: {excerpt(lines[i].strip(chr(13)), 60)}"
        rows.append([None] * width)
        i += 1  # only this line is lost: the next one may be a good record
    frame = pd.DataFrame(rows, columns=header, dtype=object)
    if columns is not None:
        frame = frame[[c for c in header if c in columns]]
    frame.attrs["malformed"] = malformed
    return frame


def _record(record: str, width: int) -> tuple[list[str], str | None]:
    """The fields of one CSV record, or the reason it is not a record of `width` fields."""
    if len(record) > MAX_VALUE_CHARS * max(width, 1):
        return [], f"{len(record)} characters long"
    try:
        parsed = list(csv.reader([record], strict=True))
    except csv.Error as exc:
        return [], f"not CSV ({exc})"
    fields = parsed[0] if parsed else []
    if len(parsed) != 1 or len(fields) != width:
        return fields, f"{len(fields)} fields where the header has {width}"
    huge = next((j for j, v in enumerate(fields) if len(v) > MAX_VALUE_CHARS), None)
    if huge is not None:
        return fields, f"value {huge + 1} is {len(fields[huge])} characters long (at most {MAX_VALUE_CHARS})"
    return fields, None


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
