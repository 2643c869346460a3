"""Ingest of the data portal's CSV export and of every bad input a feed can bring (real rows, cut here)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import duckdb
import pytest

from beatwise import audit
from beatwise.ingest import FeedError, load_feed, load_file

PORTAL_EXPORT = "sample_portal_export_district011_2016-06.csv"


@pytest.fixture
def con(tmp_path):
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as connection:
        yield connection


@pytest.fixture(scope="module")
def portal_rows(chicago_config) -> tuple[list[str], list[list[str]]]:
    """Header and the located rows of the real portal export (District 011, June 2016)."""
    text = (chicago_config.data_path() / PORTAL_EXPORT).read_text(encoding="utf-8")
    header, *rows = list(csv.reader(io.StringIO(text)))
    x = header.index("X Coordinate")
    return header, [row for row in rows if row[x] not in ("", "0", "0.0")]


@pytest.fixture
def spec(chicago_config):
    return chicago_config.feeds["incidents"]


def write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str = "utf-8") -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, *rows])
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def edit(header: list[str], row: list[str], **changes: str) -> list[str]:
    row = list(row)
    for column, value in changes.items():
        row[header.index(column.replace("_", " "))] = value
    return row


def quarantine(con, feed: str = "incidents") -> dict[int, str]:
    return dict(
        con.execute("select row_number, reason from raw.quarantine where feed = ?", [feed]).fetchall()
    )


def test_the_portal_csv_export_loads(con, chicago_config, spec):
    load = load_file(con, chicago_config, "incidents", chicago_config.data_path() / PORTAL_EXPORT, spec)
    assert load.rows_read == 1696
    assert load.rows_inserted + load.rows_quarantined == 1696 and load.rows_inserted > 1650
    first, last, districts, beats = con.execute("""
        select min(occurred_at), max(occurred_at), list(distinct district), min(length(beat))
        from raw.incidents""").fetchall()[0]
    assert str(first).startswith("2016-06-01") and str(last).startswith("2016-06-30")
    assert districts == ["11"] and beats == 4
    stored = con.execute("select * from raw.incidents where incident_id = '10542538'").df().iloc[0]
    assert stored["offence_code"] == "420" and stored["offence_group"] == "04B" and stored["x"] == 1147578.0
    assert str(stored["updated_at"]) == "2018-02-10 15:50:01"


def test_loading_the_same_file_twice_changes_nothing(con, chicago_config, spec, portal_rows, tmp_path):
    header, rows = portal_rows
    path = write_csv(tmp_path / "june.csv", header, [*rows[:50], edit(header, rows[50], X_Coordinate="")])

    first = load_file(con, chicago_config, "incidents", path, spec)
    snapshot = con.execute("select * from raw.incidents order by incident_id").fetchall()
    kept = con.execute("select * from raw.quarantine").fetchall()
    second = load_file(con, chicago_config, "incidents", path, spec)

    assert (first.rows_inserted, first.rows_quarantined) == (50, 1)
    assert (second.rows_inserted, second.rows_updated, second.rows_unchanged, second.rows_quarantined) == (
        0,
        0,
        50,
        0,
    )
    assert con.execute("select * from raw.incidents order by incident_id").fetchall() == snapshot
    assert con.execute("select * from raw.quarantine").fetchall() == kept
    assert con.execute("select count(*) from raw.load_log").fetchall()[0][0] == 2


def test_a_newer_version_replaces_the_older_and_an_older_one_is_superseded(
    con, chicago_config, spec, portal_rows, tmp_path
):
    header, rows = portal_rows
    old = write_csv(tmp_path / "old.csv", header, rows[:3])
    newer_row = edit(header, rows[0], Block="001XX N NEWER ST", Updated_On="03/01/2018 09:00:00 AM")
    new = write_csv(tmp_path / "new.csv", header, [newer_row, *rows[1:3]])
    incident = rows[0][header.index("ID")]

    load_file(con, chicago_config, "incidents", old, spec)
    update = load_file(con, chicago_config, "incidents", new, spec)
    assert (update.rows_updated, update.rows_unchanged) == (1, 2)
    assert con.execute(
        "select block, count(*) over () from raw.incidents where incident_id = ?", [incident]
    ).fetchall() == [("001XX N NEWER ST", 1)]

    stale = load_file(con, chicago_config, "incidents", old, spec)  # the old version arrives again
    assert (stale.rows_updated, stale.rows_quarantined) == (0, 1)
    assert "superseded by the stored version" in quarantine(con)[1]
    assert con.execute("select block from raw.incidents where incident_id = ?", [incident]).fetchall() == [
        ("001XX N NEWER ST",)
    ]


def test_rows_without_coordinates_or_with_x_zero_are_quarantined(
    con, chicago_config, spec, portal_rows, tmp_path
):
    header, rows = portal_rows
    path = write_csv(
        tmp_path / "f.csv",
        header,
        [
            rows[0],
            edit(header, rows[1], X_Coordinate="", Y_Coordinate=""),
            edit(header, rows[2], X_Coordinate="0"),
        ],
    )
    load = load_file(con, chicago_config, "incidents", path, spec)
    reasons = quarantine(con)
    assert load.rows_inserted == 1 and set(reasons) == {2, 3}
    assert "missing x" in reasons[2] and "missing y" in reasons[2]
    assert "coordinate is zero" in reasons[3]
    record = con.execute("select record, natural_key from raw.quarantine where row_number = 3").fetchall()[0]
    assert '"X Coordinate":"0"' in record[0] and record[1] == rows[2][0]


def test_rows_outside_the_jurisdiction_are_quarantined(con, chicago_config, spec, portal_rows, tmp_path):
    header, rows = portal_rows
    size = chicago_config.grid.cell_size
    con.execute("create schema raw")
    con.execute("create table raw.cells (cell_id varchar, cell_col bigint, cell_row bigint)")
    for row in rows[:2]:  # the jurisdiction: just the cells of the first two rows
        col, r = (
            int(float(row[header.index("X Coordinate")]) // size),
            int(float(row[header.index("Y Coordinate")]) // size),
        )
        con.execute("insert into raw.cells values (?, ?, ?)", [f"{col}_{r}", col, r])
    path = write_csv(
        tmp_path / "f.csv",
        header,
        [rows[0], rows[1], edit(header, rows[2], X_Coordinate="1000.0", Y_Coordinate="1000.0")],
    )
    load = load_file(con, chicago_config, "incidents", path, spec)
    assert load.rows_inserted == 2
    assert quarantine(con) == {3: "outside the jurisdiction: cell 2_2"}


def test_unparseable_and_future_dates_are_quarantined(con, chicago_config, spec, portal_rows, tmp_path):
    header, rows = portal_rows
    path = write_csv(
        tmp_path / "f.csv",
        header,
        [
            rows[0],
            edit(header, rows[1], Date="2016-06-31 25:00"),
            edit(header, rows[2], Date="06/01/2099 10:00:00 AM"),
        ],
    )
    load = load_file(con, chicago_config, "incidents", path, spec)
    reasons = quarantine(con)
    assert load.rows_inserted == 1
    assert reasons[2].startswith("unparseable timestamp in occurred_at: '2016-06-31 25:00'")
    assert reasons[3] == "occurred_at is in the future: 2099-06-01 10:00:00"


def test_duplicate_ids_keep_the_newest_or_quarantine_all_when_unordered(
    con, chicago_config, spec, portal_rows, tmp_path
):
    header, rows = portal_rows
    newer = edit(header, rows[0], Block="001XX N NEWER ST", Updated_On="03/01/2018 09:00:00 AM")
    conflict = edit(header, rows[1], Block="001XX N OTHER ST")
    path = write_csv(tmp_path / "f.csv", header, [rows[0], newer, rows[1], conflict, rows[2], rows[2]])
    load = load_file(con, chicago_config, "incidents", path, spec)
    reasons = quarantine(con)
    assert load.rows_inserted == 2  # the newer version of rows[0] and one copy of rows[2]
    assert reasons[1].startswith("superseded by row 2")
    assert "conflicting duplicates" in reasons[3] and "conflicting duplicates" in reasons[4]
    assert reasons[6] == "duplicate of row 5 (same content)"
    assert con.execute("select block from raw.incidents where incident_id = ?", [rows[0][0]]).fetchall() == [
        ("001XX N NEWER ST",)
    ]


def test_unknown_offence_codes_are_kept_and_counted(con, chicago_config, spec, portal_rows, tmp_path):
    header, rows = portal_rows
    load_feed(con, chicago_config, "offence_codes")
    path = write_csv(tmp_path / "f.csv", header, [rows[0], edit(header, rows[1], IUCR="9999")])
    load = load_file(con, chicago_config, "incidents", path, spec)
    assert load.rows_inserted == 2 and load.rows_quarantined == 0
    assert load.unknown_offence_codes == 1
    assert audit.records(con, kind="feed_load")[-1].data["unknown_offence_code_list"] == {"9999": 1}


@pytest.mark.parametrize(
    ("name", "make", "message"),
    [
        (
            "renamed column",
            lambda h, r: (["X_Coord" if c == "X Coordinate" else c for c in h], r),
            "'X Coordinate' (for x) not found; the file has: 'ID'",
        ),
        (
            "missing column",
            lambda h, r: (
                [c for c in h if c != "Date"],
                [[v for c, v in zip(h, row, strict=True) if c != "Date"] for row in r],
            ),
            "'Date' (for occurred_at) not found",
        ),
        (
            "PII column",
            lambda h, r: ([*h, "Victim Name"], [[*row, "Jane Doe"] for row in r]),
            "column 'Victim Name' is personal or protected data and may not be stored",
        ),
        (
            "census column",
            lambda h, r: ([*h, "pct_hispanic"], [[*row, "0.3"] for row in r]),
            "[policy.no_race_ethnicity_education_or_home_ownership]",
        ),
    ],
)
def test_a_bad_file_is_refused_whole_named_and_logged(
    con, chicago_config, spec, portal_rows, tmp_path, name, make, message
):
    header, rows = make(*portal_rows)
    path = write_csv(tmp_path / "bad.csv", header, rows[:5])
    with pytest.raises(FeedError) as refused:
        load_file(con, chicago_config, "incidents", path, spec)
    assert message in str(refused.value) and "bad.csv" in str(refused.value)
    assert con.execute("select count(*) from raw.incidents").fetchall()[0][0] == 0
    assert con.execute("select status, error from raw.load_log").fetchall() == [
        ("refused", str(refused.value))
    ]
    assert audit.records(con)[-1].data["status"] == "refused"


def test_a_pii_column_is_dropped_and_never_stored_when_the_feed_says_drop(
    con, chicago_config, spec, portal_rows, tmp_path
):
    header, rows = portal_rows
    path = write_csv(
        tmp_path / "f.csv",
        [*header, "Victim Name"],
        [[*rows[0], "Jane Doe"], [*edit(header, rows[1], X_Coordinate=""), "John Roe"]],
    )
    load = load_file(
        con, chicago_config, "incidents", path, spec.model_copy(update={"on_personal_data": "drop"})
    )
    assert (load.rows_inserted, load.rows_quarantined) == (1, 1)
    everything = str(con.execute("select * from raw.quarantine").fetchall()) + str(
        con.execute("select * from raw.incidents").fetchall()
    )
    assert "Doe" not in everything and "Roe" not in everything


def test_empty_files_are_refused(con, chicago_config, spec, portal_rows, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(FeedError, match="the file is empty"):
        load_file(con, chicago_config, "incidents", empty, spec)
    header_only = write_csv(tmp_path / "header.csv", portal_rows[0], [])
    with pytest.raises(FeedError, match="no rows"):
        load_file(con, chicago_config, "incidents", header_only, spec)


def test_a_truncated_csv_is_refused(con, chicago_config, spec, portal_rows, tmp_path):
    path = write_csv(tmp_path / "cut.csv", *portal_rows)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # the transfer stopped half way through a row
    with pytest.raises(FeedError, match="malformed or truncated CSV") as refused:
        load_file(con, chicago_config, "incidents", path, spec)
    assert "Expected 22 columns" in str(refused.value)
    assert con.execute("select count(*) from raw.incidents").fetchall()[0][0] == 0


@pytest.mark.parametrize("encoding", ["cp1252", "utf-16"])
def test_a_file_in_another_encoding_than_declared_is_refused(
    con, chicago_config, spec, portal_rows, tmp_path, encoding
):
    header, rows = portal_rows
    path = write_csv(
        tmp_path / "f.csv", header, [rows[0], edit(header, rows[1], Block="001XX W CAFÉ ST")], encoding
    )
    with pytest.raises(FeedError, match="not valid utf-8 at byte"):
        load_file(con, chicago_config, "incidents", path, spec)
    declared = spec.model_copy(update={"encoding": encoding})
    if encoding == "cp1252":  # declared correctly, it loads
        assert load_file(con, chicago_config, "incidents", path, declared).rows_inserted == 2
        assert con.execute("select count(*) from raw.incidents where block like '%CAFÉ%'").fetchall() == [
            (1,)
        ]
