"""The bad-input corpus: every feed, every way a file can be wrong, built deterministically from the slice.

Each case writes one small file (the first rows of a real file of `data/chicago_sample` or of the
District 011 portal export, or rows generated from them for the field feeds no public source has) with
one defect, loads it through `beatwise.ingest.load_file` into one shared warehouse, and records what
happened: refused (the file, with its message), quarantined (the bad rows, each with its reason) or
loaded, how many good rows went in and how many were loaded, and whether anything crashed (an exception
that is not beatwise's refusal). Config cases go through `parse_config`; run-time cases through
`load_feed`. `python tests/bad_inputs/corpus.py` prints the table of docs/bad-inputs.md.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from beatwise import paths
from beatwise.config import AgencyConfig, Feed, load_config
from beatwise.config.load import ConfigError, parse_config
from beatwise.geography.grid import cell_index
from beatwise.ingest import FeedError, load_feed, load_file

ROOT = Path(__file__).resolve().parents[2]
SLICE = ROOT / "data" / "chicago_sample"
PORTAL = "sample_portal_export_district011_2016-06.csv"
GOOD = 6  # good rows in every file (a case's bad rows come on top, or replace some)
HUGE = "A" * 50_000


@dataclass
class Outcome:
    outcome: str  # refused / quarantined / loaded
    message: str
    good_in: int
    loaded: int
    crash: int = 0


@dataclass
class Case:
    name: str
    feed: str
    run: Callable[[Corpus], Outcome]
    expect: str  # the outcome that must happen
    says: str  # a fragment the message must hold (file, column or rule, reason)


# ---- the real rows every case starts from -------------------------------------------------------------

def _csv_rows(path: Path, n: int) -> tuple[list[str], list[list[str]]]:
    header, *rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    return header, rows[:n]


def _csv_bytes(header: list[str], rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, *rows])
    return buffer.getvalue().encode(encoding)


class Corpus:
    """The slice's rows, the config, one warehouse with the District 011 cells as its jurisdiction."""

    def __init__(self, config: AgencyConfig, folder: Path, con: duckdb.DuckDBPyConnection):
        self.config, self.folder, self.con = config, folder, con
        header, rows = _csv_rows(config.data_path() / PORTAL, 400)
        x = header.index("X Coordinate")
        self.portal = (header, [r for r in rows if r[x] not in ("", "0")][:GOOD])
        parquet = pq.read_table(SLICE / "incidents.parquet", columns=[X, Y]).slice(0, GOOD)
        xs = np.array([float(r[x]) for r in self.portal[1]] + parquet[X].to_pylist())
        ys = np.array([float(r[x + 1]) for r in self.portal[1]] + parquet[Y].to_pylist())
        size = config.grid.cell_size
        col, row, _ = cell_index(xs, ys, size)
        cells = [(c, r) for c in range(col.min() - 3, col.max() + 4) for r in range(row.min() - 3, row.max() + 4)]
        con.execute("create schema if not exists raw")
        con.execute("create or replace table raw.cells (cell_col bigint, cell_row bigint)")
        con.executemany("insert into raw.cells values (?, ?)", cells)
        self.xy = list(zip(xs[:GOOD], ys[:GOOD], strict=True))

    # a file of `feed` with these bytes, loaded; `good` of its rows are good
    def load(self, feed: str, name: str, data: bytes, good: int, spec: Feed | None = None) -> Outcome:
        path = self.folder / name
        path.write_bytes(data)
        spec = spec or self.spec(feed, path)
        try:
            load = load_file(self.con, self.config, feed, path, spec)
        except FeedError as exc:
            return Outcome("refused", str(exc), good, 0)
        except Exception as exc:  # noqa: BLE001 - the corpus counts crashes instead of stopping at one
            return Outcome("crash", f"{type(exc).__name__}: {exc}"[:300], good, 0, crash=1)
        reasons = [r for (r,) in self.con.execute(
            "select reason from raw.quarantine where load_id = ? order by row_number", [load.load_id]
        ).fetchall()]
        outcome = "quarantined" if reasons else "loaded"
        return Outcome(outcome, f"{name}: " + ("; ".join(reasons[:2]) if reasons else f"{load.rows_loaded} rows"),
                       good, load.rows_loaded)

    def spec(self, feed: str, path: Path) -> Feed:
        fmt = {".parquet": "parquet", ".geojson": "geojson"}.get(path.suffix, "csv")
        if feed in CANONICAL_CSV:
            return Feed(format="csv")
        return self.config.feeds[feed].model_copy(update={"format": fmt, "files": []})

    def table(self, feed: str) -> tuple[list[str], list[list[str]]]:
        """Header and GOOD rows of the feed's real file (or rows generated for the field feeds)."""
        if feed == "incidents":
            return self.portal[0], [list(r) for r in self.portal[1]]
        if feed in REAL_CSV:
            return _csv_rows(SLICE / REAL_CSV[feed], GOOD)
        return CANONICAL_CSV[feed](self)

    def features(self, feed: str) -> dict:
        """A GeoJSON document of the feed: real district or beat polygons of the slice."""
        source = "police_beats_2012.geojson" if feed == "beats" else "police_districts_2012.geojson"
        document = json.loads((SLICE / source).read_text(encoding="utf-8"))
        document["features"] = document["features"][:3]
        if feed in ("jurisdiction", "neighbourhoods"):
            for f in document["features"]:
                f["properties"] = {"name": f["properties"]["DIST_LABEL"]}
        if feed == "land_use":
            for i, f in enumerate(document["features"]):
                f["properties"] = {"category": ["park", "school", "commercial"][i % 3]}
        return document

    def geojson(self, feed: str, name: str, document: dict | bytes, good: int) -> Outcome:
        data = document if isinstance(document, bytes) else json.dumps(document).encode()
        spec = POLYGON_SPECS[feed] if feed in POLYGON_SPECS else None
        if spec is None:
            spec = self.config.feeds[feed].model_copy(update={"format": "geojson", "files": [], "editions": {}})
        return self.load(feed, name, data, good, spec)


REAL_CSV = {
    "offence_codes": "iucr_codes.csv", "weather_daily": "weather_ohare_daily.csv",
    "sports_events": "sports_events.csv", "venues": "sports_venues.csv",
    "liquor_premises": "liquor_licensed_premises.csv",
}
POLYGON_SPECS = {
    "jurisdiction": Feed(format="geojson", columns={"name": "name"}),
    "neighbourhoods": Feed(format="geojson", columns={"neighbourhood": "name"}),
    "land_use": Feed(format="geojson", columns={"category": "category"}),
}


def _when(i: int) -> str:
    return f"2016-06-{1 + i:02d} 1{i}:15:00"


CANONICAL_CSV: dict[str, Callable[[Corpus], tuple[list[str], list[list[str]]]]] = {
    "calls_for_service": lambda c: (["call_id", "received_at", "call_type", "priority", "x", "y"],
                                    [[f"C{i}", _when(i), "DISTURBANCE", "2", f"{x:.0f}", f"{y:.0f}"]
                                     for i, (x, y) in enumerate(c.xy)]),
    "gunfire_detections": lambda c: (["detection_id", "detected_at", "rounds", "x", "y"],
                                     [[f"G{i}", _when(i), "3", f"{x:.0f}", f"{y:.0f}"]
                                      for i, (x, y) in enumerate(c.xy)]),
    "avl_pings": lambda c: (["unit_id", "pinged_at", "x", "y"],
                            [["1111A", _when(i), f"{x:.0f}", f"{y:.0f}"] for i, (x, y) in enumerate(c.xy)]),
    "patrol_activity": lambda c: (["activity_id", "unit_id", "officer_id", "mission_id", "started_at", "ended_at",
                                   "tactic"],
                                  [[f"A{i}", "1111A", f"PC{100 + i}", "", _when(i), _when(i).replace(":15:", ":45:"),
                                    "foot_patrol"] for i in range(GOOD)]),
}


# ---- how a CSV goes wrong -------------------------------------------------------------------------------

def _set(header: list[str], row: list[str], column: str, value: str) -> list[str]:
    row = list(row)
    row[header.index(column)] = value
    return row


def csv_case(name: str, feed: str, expect: str, says: str, change, bad: int = 1, suffix: str = ".csv",
             encode=None, spec=None) -> Case:
    """A CSV case: `change(header, rows)` -> (header, rows) of the defective file; `bad` rows are bad."""
    def run(c: Corpus) -> Outcome:
        header, rows = change(*c.table(feed))
        data = _csv_bytes(header, rows) if encode is None else encode(header, rows)
        good = len(rows) - bad if expect != "refused" else len(rows)
        return c.load(feed, f"{feed}-{_slug(name)}{suffix}", data, good, spec(c) if spec else None)
    return Case(name, feed, run, expect, says)


def _slug(name: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in name.lower()).strip("_")[:40]


def _append(extra: Callable[[list[str], list[str]], list[str]]):
    return lambda h, r: (h, [*r, extra(h, r[0])])


def _edit(column: str, value: str, at: int = 1):
    return lambda h, r: (h, [*r[:at], _set(h, r[at], column, value), *r[at + 1:]])


def _column(name: str, value: str = "x"):
    return lambda h, r: ([*h, name], [[*row, value] for row in r])


def _raw_lines(text_for_bad_line: Callable[[list[str], list[str]], str], at: int = 2):
    """Write the file by hand with one line replaced by raw text (what a CSV writer would never emit)."""
    def encode(header, rows):
        lines = _csv_bytes(header, rows).decode().split("\n")
        lines.insert(at + 1, text_for_bad_line(header, rows[0]))
        return "\n".join(lines).encode()
    return encode


def _cut(header, rows):
    data = _csv_bytes(header, rows)
    return data[: data.rindex(b"\n", 0, len(data) - 1) + 12]  # the transfer stopped inside the last row


def _gzip_cut(header, rows):
    data = gzip.compress(_csv_bytes(header, rows))
    return data[: len(data) // 2]


def _zip_of_two(header, rows):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.csv", _csv_bytes(header, rows))
        archive.writestr("b.csv", _csv_bytes(header, rows))
    return buffer.getvalue()


INC = "incidents"
X, Y, DATE, ID, BLOCK, UPDATED = "X Coordinate", "Y Coordinate", "Date", "ID", "Block", "Updated On"

CSV_CASES = [
    csv_case("row with too few fields", INC, "quarantined", "fields where the header has 22",
             _append(lambda h, r: r[:3])),
    csv_case("row with too many fields", INC, "quarantined", "24 fields where the header has 22",
             _append(lambda h, r: [*r, "x", "y"])),
    csv_case("unclosed quote", INC, "quarantined", "an unclosed quote", lambda h, r: (h, r), bad=0,
             encode=_raw_lines(lambda h, r: ",".join(['"1234567', *r[1:]]))),
    csv_case("huge string (50,000 chars)", INC, "quarantined", "characters long (at most 10000)",
             _edit(BLOCK, HUGE)),
    csv_case("huge string (3 MB, over a read block)", INC, "quarantined", "characters long",
             _edit(BLOCK, "B" * 3_000_000)),
    csv_case("coordinate not a number", INC, "quarantined", "x is not a number: 'abc'", _edit(X, "abc")),
    csv_case("NaN coordinate", INC, "quarantined", "x is not a number: 'NaN'", _edit(X, "NaN")),
    csv_case("+inf coordinate", INC, "quarantined", "x is not finite", _edit(X, "inf")),
    csv_case("-inf coordinate", INC, "quarantined", "y is not finite", _edit(Y, "-inf")),
    csv_case("zero coordinate", INC, "quarantined", "coordinate is zero", _edit(X, "0")),
    csv_case("impossible date 02/30", INC, "quarantined", "unparseable timestamp in occurred_at",
             _edit(DATE, "02/30/2016 10:00:00 AM")),
    csv_case("future date", INC, "quarantined", "occurred_at is in the future", _edit(DATE, "06/01/2099 10:00:00 AM")),
    csv_case("1900-01-01 placeholder date", INC, "quarantined", "before records_start",
             _edit(DATE, "01/01/1900 12:00:00 AM")),
    csv_case("wrong type in an id (whole number expected elsewhere)", "gunfire_detections", "quarantined",
             "rounds is not a whole number", _edit("rounds", "2.5")),
    csv_case("missing id", INC, "quarantined", "missing incident_id", _edit(ID, "")),
    csv_case("coordinates outside the jurisdiction", INC, "quarantined", "outside the jurisdiction",
             _edit(X, "1000000")),
    csv_case("duplicated id, different content", INC, "quarantined", "conflicting duplicates", bad=2,
             change=lambda h, r: (h, [*r, _set(h, r[0], BLOCK, "999XX W ELSEWHERE")])),
    csv_case("latin-1 bytes, declared utf-8", INC, "refused", "not valid utf-8 at byte",
             _edit(BLOCK, "001XX W CAFÉ ST"), encode=lambda h, r: _csv_bytes(h, r, "latin-1")),
    csv_case("latin-1 bytes, declared latin-1", INC, "loaded", "rows", _edit(BLOCK, "001XX W CAFÉ ST"), bad=0,
             encode=lambda h, r: _csv_bytes(h, r, "latin-1"),
             spec=lambda c: c.spec(INC, Path("x.csv")).model_copy(update={"encoding": "latin-1"})),
    csv_case("UTF-8 byte-order mark", INC, "loaded", "rows", lambda h, r: (h, r), bad=0,
             encode=lambda h, r: b"\xef\xbb\xbf" + _csv_bytes(h, r)),
    csv_case("UTF-16 file", INC, "refused", "not valid utf-8", lambda h, r: (h, r),
             encode=lambda h, r: _csv_bytes(h, r, "utf-16")),
    csv_case("empty file", INC, "refused", "the file is empty", lambda h, r: (h, []), encode=lambda h, r: b""),
    csv_case("header only", INC, "refused", "the file has no rows", lambda h, r: (h, [])),
    csv_case("truncated inside a row", INC, "quarantined", "fields where the header has 22", lambda h, r: (h, r),
             encode=_cut),
    csv_case("truncated gzip", INC, "refused", "not a readable compressed file", lambda h, r: (h, r),
             suffix=".csv.gz", encode=_gzip_cut),
    csv_case("zip of two CSVs", INC, "refused", "the zip holds 2 CSV files", lambda h, r: (h, r), suffix=".zip",
             encode=_zip_of_two),
    csv_case("blank lines between rows", INC, "loaded", "rows", lambda h, r: (h, r), bad=0,
             encode=_raw_lines(lambda h, r: "", at=3)),
    csv_case("a header naming one column twice", INC, "refused", "twice", lambda h, r: ([*h[:-1], h[0]], r)),
    csv_case("complainant's name", INC, "refused", "column 'Complainant Name' is personal",
             _column("Complainant Name", "Jane Doe")),
    csv_case("complainant's date of birth", INC, "refused", "[policy.no_personal_data]",
             _column("complainant_dob", "1980-02-03")),
    csv_case("complainant's phone number", INC, "refused", "[policy.no_personal_data]",
             _column("Complainant Phone", "312-555-0100")),
    csv_case("witness name column", INC, "refused", "'Witness' is personal", _column("Witness", "John Roe")),
    csv_case("nationality column", INC, "refused", "[policy.no_protected_characteristics]",
             _column("Nationality", "X")),
    csv_case("religion column", INC, "refused", "[policy.no_protected_characteristics]", _column("RELIGION", "X")),
    csv_case("forbidden census field (pct hispanic)", INC, "refused",
             "[policy.no_race_ethnicity_education_or_home_ownership]", _column("pct_hispanic", "0.3")),
    csv_case("census field (owner occupied)", INC, "refused", "[policy.no_race_ethnicity_education_or_home_ownership]",
             _column("owner_occupied_share", "0.5")),
    # the other tabular feeds
    csv_case("offence code without its name", "offence_codes", "quarantined", "missing offence_name",
             _edit("PRIMARY DESCRIPTION", "")),
    csv_case("offence code duplicated, different content", "offence_codes", "quarantined", "conflicting duplicates",
             bad=2, change=lambda h, r: (h, [*r, _set(h, r[0], "PRIMARY DESCRIPTION", "SOMETHING ELSE")])),
    csv_case("temperature out of range", "weather_daily", "quarantined", "temperature_max fails", _edit("TMAX", "999")),
    csv_case("negative snowfall", "weather_daily", "quarantined", "snowfall fails", _edit("SNOW", "-1")),
    csv_case("weather observer's phone", "weather_daily", "refused", "[policy.no_personal_data]",
             _column("observer_phone", "555")),
    csv_case("event time unparseable", "sports_events", "quarantined", "unparseable timestamp in starts_at",
             _edit("date_time", "tomorrow evening")),
    csv_case("venue at infinity", "venues", "quarantined", "is not finite", _edit("longitude", "-inf")),
    csv_case("premises address huge", "liquor_premises", "quarantined", "characters long", _edit("address", HUGE)),
    csv_case("licensee's name", "liquor_premises", "refused", "[policy.no_personal_data]",
             _column("licensee_full_name", "A Person")),
    csv_case("call priority out of range", "calls_for_service", "quarantined", "priority fails",
             _edit("priority", "12")),
    csv_case("caller's name", "calls_for_service", "refused", "[policy.no_personal_data]",
             _column("caller_name", "A Person")),
    csv_case("call outside the jurisdiction", "calls_for_service", "quarantined", "outside the jurisdiction",
             _edit("y", "1000000")),
    csv_case("detection with zero rounds", "gunfire_detections", "quarantined", "rounds fails", _edit("rounds", "0")),
    csv_case("ping in the future", "avl_pings", "quarantined", "pinged_at is in the future",
             _edit("pinged_at", "2099-01-01 00:00:00")),
    csv_case("ping duplicated, different position", "avl_pings", "quarantined", "conflicting duplicates", bad=2,
             change=lambda h, r: (h, [*r, _set(h, r[0], "x", str(float(r[0][2]) + 10))])),
    csv_case("activity ends before it starts", "patrol_activity", "quarantined", "ends before it starts",
             _edit("ended_at", "2016-06-01 00:00:00")),
    csv_case("activity with an unclosed quote at the end", "patrol_activity", "quarantined", "an unclosed quote",
             lambda h, r: (h, r), bad=0, encode=lambda h, r: _csv_bytes(h, r) + b'"A99,1111A,PC1,,2016-06-01\n'),
]


# ---- Parquet ------------------------------------------------------------------------------------------

def parquet_case(name: str, expect: str, says: str, change, bad: int = 1, cut: bool = False) -> Case:
    def run(c: Corpus) -> Outcome:
        table = pq.read_table(SLICE / "incidents.parquet").slice(0, GOOD)
        table = change(table)
        buffer = io.BytesIO()
        pq.write_table(table, buffer)
        data = buffer.getvalue()[:200] if cut else buffer.getvalue()
        good = table.num_rows - bad if expect != "refused" else table.num_rows
        return c.load(INC, f"parquet-{_slug(name)}.parquet", data, good)
    return Case(f"Parquet: {name}", INC, run, expect, says)


def _replace(table: pa.Table, column: str, values) -> pa.Table:
    return table.set_column(table.schema.get_field_index(column), column, pa.array(values))


def _text_dates(table: pa.Table) -> pa.Table:
    dates = table["Date"].to_pylist()
    return _replace(table, "Date", [d.strftime("%m/%d/%Y %I:%M:%S %p") for d in dates])


def _one_float(column: str, value: float):
    return lambda t: _replace(t, column, [value, *t[column].to_pylist()[1:]])


PARQUET_CASES = [
    parquet_case("dates stored as text", "loaded", "rows", _text_dates, bad=0),
    parquet_case("NaN coordinate", "quarantined", "missing x", _one_float(X, float("nan"))),
    parquet_case("+inf coordinate", "quarantined", "x is not finite", _one_float(X, float("inf"))),
    parquet_case("-inf coordinate", "quarantined", "y is not finite", _one_float(Y, float("-inf"))),
    parquet_case("1900-01-01 date", "quarantined", "before records_start",
                 lambda t: _replace(t, "Date", pa.array([datetime(1900, 1, 1), *t["Date"].to_pylist()[1:]],
                                                        pa.timestamp("us")))),
    parquet_case("huge block text", "quarantined", "characters long",
                 lambda t: _replace(t, BLOCK, [HUGE, *t[BLOCK].to_pylist()[1:]])),
    parquet_case("truncated file", "refused", "not a readable Parquet file", lambda t: t, cut=True),
]


# ---- boundaries (GeoJSON) -----------------------------------------------------------------------------

def geo_case(name: str, feed: str, expect: str, says: str, change, bad: int = 0) -> Case:
    def run(c: Corpus) -> Outcome:
        document = c.features(feed)
        n = len(document["features"])
        changed = change(document)
        good = n - bad if expect != "refused" else n
        return c.geojson(feed, f"{feed}-{_slug(name)}.geojson", changed, good)
    return Case(name, feed, run, expect, says)


def _truncated(document: dict) -> bytes:
    data = json.dumps(document).encode()
    return data[: len(data) // 2]


def _no_geometry(document: dict) -> dict:
    document["features"][0]["geometry"] = None
    return document


def _property(name: str, value):
    def change(document: dict) -> dict:
        for f in document["features"]:
            f["properties"][name] = value
        return document
    return change


def _first_property(name: str, value):
    def change(document: dict) -> dict:
        document["features"][0]["properties"][name] = value
        return document
    return change


GEO_CASES = [
    geo_case("truncated GeoJSON", "districts", "refused", "not valid JSON", _truncated),
    geo_case("empty GeoJSON file", "beats", "refused", "the file is empty", lambda d: b""),
    geo_case("not a FeatureCollection", "jurisdiction", "refused", "no 'features' list", lambda d: {"type": "x"}),
    geo_case("no features", "neighbourhoods", "refused", "the file has no rows", lambda d: {**d, "features": []}),
    geo_case("a feature without geometry", "land_use", "quarantined", "missing geometry_wkt", _no_geometry, bad=1),
    geo_case("district label huge", "districts", "quarantined", "characters long",
             _first_property("DIST_LABEL", HUGE), bad=1),
    geo_case("resident's phone on each district", "districts", "refused", "[policy.no_personal_data]",
             _property("resident_phone", "555")),
    geo_case("median household ethnicity", "neighbourhoods", "refused",
             "[policy.no_race_ethnicity_education_or_home_ownership]", _property("pct_ethnic_minority", 0.2)),
]


# ---- the configuration --------------------------------------------------------------------------------

def config_case(name: str, says: str, change) -> Case:
    def run(c: Corpus) -> Outcome:
        raw = yaml.safe_load((ROOT / "config" / "chicago.yaml").read_text(encoding="utf-8"))
        text = change(raw)
        try:
            parse_config(text if isinstance(text, str) else yaml.safe_dump(text), f"{_slug(name)}.yaml",
                         ROOT / "config")
        except ConfigError as exc:
            return Outcome("refused", str(exc).replace("\n", " ")[:400], 0, 0)
        except Exception as exc:  # noqa: BLE001
            return Outcome("crash", f"{type(exc).__name__}: {exc}"[:300], 0, 0, crash=1)
        return Outcome("loaded", "accepted", 0, 0)
    return Case(name, "config", run, "refused", says)


def _feed(raw: dict, feed: str, **changes) -> dict:
    raw["feeds"][feed] = {**raw["feeds"][feed], **changes}
    return raw


CONFIG_CASES = [
    config_case("invalid YAML", "not valid YAML", lambda raw: "agency: {name: x\nfeeds: [\n"),
    config_case("feeds given as a list", "feeds: Input should be a valid dictionary",
                lambda raw: {**raw, "feeds": [{"incidents": raw["feeds"]["incidents"]}]}),
    config_case("unknown CRS EPSG:99999", "unknown CRS 'EPSG:99999'", lambda raw: {**raw, "crs": "EPSG:99999"}),
    config_case("unknown feed CRS", "feeds.incidents.crs: Value error, unknown CRS",
                lambda raw: _feed(raw, "incidents", crs="EPSG:99999")),
    config_case("files: /etc/passwd", "'/etc/passwd' is outside data_root",
                lambda raw: _feed(raw, "incidents", files=["/etc/passwd"], format="csv")),
    config_case("files: ../../../etc/passwd", "is outside data_root",
                lambda raw: _feed(raw, "offence_codes", files=["../../../../etc/passwd"], format="csv")),
    config_case("a column mapped as a witness's name", "a field named 'witness_name' is personal",
                lambda raw: _feed(raw, "incidents", columns={**raw["feeds"]["incidents"]["columns"],
                                                              "witness_name": "Block"})),
    config_case("a column mapped onto no canonical field", "'complaint_text' is not a field of incidents",
                lambda raw: _feed(raw, "incidents", columns={**raw["feeds"]["incidents"]["columns"],
                                                              "complaint_text": "Description"})),
    config_case("enforcement offence mapped in (by name)", "[policy.enforcement_driven_offence]",
                lambda raw: {**raw, "crime_types": {**raw["crime_types"], "theft": {
                    **raw["crime_types"]["theft"], "offences": [{"field": "offence_name", "values": ["NARCOTICS"]}]}}}),
    config_case("enforcement offence mapped in (by code, lookup listed)", "'1811 (NARCOTICS)' is enforcement-driven",
                lambda raw: {**raw, "data_root": "../data/chicago_sample", "crime_types": {
                    **raw["crime_types"],
                    "theft": {**raw["crime_types"]["theft"],
                              "offences": [{"field": "offence_code", "values": ["1811"]}]},
                }}),
]


# ---- at run time: the landing folder, links, the policy against the codes loaded ----------------------

def _run_config(c: Corpus, folder: Path, crime_types: dict | None = None, offence_files: list | None = None):
    raw = yaml.safe_load((ROOT / "config" / "chicago.yaml").read_text(encoding="utf-8"))
    raw["data_root"] = str(folder)
    for feed in raw["feeds"].values():
        feed["files"] = []
    raw["feeds"]["incidents"] = {**raw["feeds"]["incidents"], "files": ["june.csv"], "format": "csv"}
    if offence_files is not None:
        raw["feeds"]["offence_codes"]["files"] = offence_files
    if crime_types:
        raw["crime_types"] = {**raw["crime_types"], **crime_types}
    return parse_config(yaml.safe_dump(raw), "run.yaml", folder)


def _runtime(name: str, says: str, expect: str, body) -> Case:
    def run(c: Corpus) -> Outcome:
        folder = c.folder / _slug(name)
        (folder / "data").mkdir(parents=True)
        (folder / "data" / "june.csv").write_bytes(_csv_bytes(*c.portal))
        con = duckdb.connect(str(folder / "warehouse.duckdb"))
        try:
            with paths.using_home(folder / "home"):
                return body(c, folder, con)
        except FeedError as exc:  # the run stops; what was loaded stays in raw, nothing is modelled
            loaded = con.execute("select count(*) from raw.incidents").fetchall()[0][0]
            return Outcome("refused", str(exc), loaded, loaded)
        except Exception as exc:  # noqa: BLE001
            return Outcome("crash", f"{type(exc).__name__}: {exc}"[:300], GOOD, 0, crash=1)
        finally:
            con.close()
    return Case(name, "run", run, expect, says)


def _empty_landing_file(c: Corpus, folder: Path, con) -> Outcome:
    landing = paths.landing_dir() / "calls_for_service"
    landing.mkdir(parents=True)
    (landing / "a_empty.csv").write_bytes(b"")
    header, rows = c.table("calls_for_service")
    (landing / "b_calls.csv").write_bytes(_csv_bytes(header, rows))
    config = _run_config(c, folder / "data")
    config = config.model_copy(update={"feeds": {**config.feeds, "calls_for_service": Feed(format="csv")}})
    result = load_feed(con, config, "calls_for_service")
    logged = con.execute("select file, status from raw.load_log order by file").fetchall()
    assert logged == [("a_empty.csv", "refused"), ("b_calls.csv", "loaded")], logged
    return Outcome("loaded", f"{result.refused[0]} (logged; b_calls.csv loaded, the run goes on)", GOOD,
                   sum(f.rows_loaded for f in result.files))


def _linked_landing_file(c: Corpus, folder: Path, con) -> Outcome:
    landing = paths.landing_dir() / "incidents"
    landing.mkdir(parents=True)
    os.symlink("/etc/passwd", landing / "passwd.csv")
    config = _run_config(c, folder / "data")
    result = load_feed(con, config, "incidents")
    everything = str(con.execute("select * from raw.load_log").fetchall()) + str(
        con.execute("select * from audit.log").fetchall() if _has_audit(con) else "")
    assert "root:" not in everything and "/bin/" not in everything, "a line of /etc/passwd was copied"
    return Outcome("loaded", f"{result.refused[0]} (nothing of it logged; june.csv loaded)", GOOD,
                   sum(f.rows_loaded for f in result.files))


def _has_audit(con) -> bool:
    return bool(con.execute(
        "select count(*) from information_schema.tables where table_schema = 'audit' and table_name = 'log'"
    ).fetchall()[0][0])


def _policy_at_run_time(c: Corpus, folder: Path, con) -> Outcome:
    header, rows = c.portal
    narcotics = _set(header, _set(header, _set(header, rows[0], "IUCR", "1811"), "Primary Type", "NARCOTICS"),
                     ID, "99999999")
    (folder / "data" / "june.csv").write_bytes(_csv_bytes(header, [*rows, narcotics]))
    config = _run_config(c, folder / "data", {"theft": {"severity": 1.0, "offences": [
        {"field": "offence_name", "values": ["THEFT"]}, {"field": "offence_code", "values": ["1811"]}]}},
        offence_files=[])
    load_feed(con, config, "incidents")
    return Outcome("loaded", "config check passed and nothing checked at run time", GOOD + 1, GOOD + 1)


RUNTIME_CASES = [
    _runtime("empty file in the landing folder", "the file is empty (logged; b_calls.csv loaded",
             "loaded", _empty_landing_file),
    _runtime("landing file linked to /etc/passwd", "resolves outside", "loaded", _linked_landing_file),
    _runtime("IUCR 1811 (narcotics) into theft, no offence-code files", "is enforcement-driven (narcotics)",
             "refused", _policy_at_run_time),
]

CASES = [*CSV_CASES, *PARQUET_CASES, *GEO_CASES, *CONFIG_CASES, *RUNTIME_CASES]


def table(results: list[tuple[Case, Outcome]]) -> str:
    """The corpus as the markdown table of docs/bad-inputs.md, with its totals."""
    lines = ["| # | case | feed | outcome | message | good rows in = loaded | crash |", "|---|---|---|---|---|---|---|"]
    for i, (case, out) in enumerate(results, 1):
        message = out.message.replace("|", "\\|").replace("\n", " ")
        if len(message) > 220:
            message = message[:220] + "..."
        counted = "file refused whole" if out.outcome == "refused" and case.feed not in ("config", "run") else (
            f"{out.good_in} = {out.loaded}" if case.feed != "config" else "config refused")
        lines.append(f"| {i} | {case.name} | {case.feed} | {out.outcome} | `{message}` | {counted} | {out.crash} |")
    counts = {k: sum(o.outcome == k for _, o in results) for k in ("refused", "quarantined", "loaded", "crash")}
    good = sum(o.good_in for _, o in results if o.outcome != "refused")
    loaded = sum(o.loaded for _, o in results if o.outcome != "refused")
    lines.append("")
    lines.append(f"**{len(results)} cases**: {counts['refused']} refused, {counts['quarantined']} quarantined row "
                 f"by row, {counts['loaded']} loaded; good rows in files not refused {good}, loaded {loaded}; "
                 f"crashes {sum(o.crash for _, o in results)}.")
    return "\n".join(lines)


def run_all(config: AgencyConfig, folder: Path) -> list[tuple[Case, Outcome]]:
    with duckdb.connect(str(folder / "corpus.duckdb")) as con:
        corpus = Corpus(config, folder, con)
        return [(case, case.run(corpus)) for case in CASES]


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp, paths.using_home(Path(tmp) / "home"):
        print(table(run_all(load_config(ROOT / "config" / "chicago.yaml"), Path(tmp))))
