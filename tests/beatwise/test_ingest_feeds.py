"""Every feed of the embedded sample loads into raw.*; landing files and file-less feeds work too."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from beatwise import paths
from beatwise.contracts import CONTRACTS
from beatwise.ingest import load_feed
from beatwise.ingest.agency_config import load_agency_config
from beatwise.ingest.canonical import fill_district_from_beats

SMALL_FEEDS = [
    "offence_codes",
    "beats",
    "districts",
    "liquor_premises",
    "land_use",
    "sports_events",
    "venues",
    "weather_daily",
]


@pytest.fixture(scope="module")
def loaded(sample_config, tmp_path_factory):
    """A warehouse with the sample's small feeds loaded (the incidents are covered elsewhere)."""
    path = tmp_path_factory.mktemp("feeds") / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        results = {feed: load_feed(con, sample_config, feed) for feed in SMALL_FEEDS}
    with duckdb.connect(str(path), read_only=True) as con:
        yield con, results


def test_every_small_feed_loads_with_its_contract_columns(loaded):
    con, results = loaded
    for feed, result in results.items():
        stored = con.execute(f"select * from raw.{feed} limit 0").df().columns.tolist()
        assert stored == [*CONTRACTS[feed].columns, "_source_file", "_row_digest", "_loaded_at"]
        assert result.total("rows_inserted") > 0, feed
        accounted = (
            result.total("rows_inserted") + result.total("rows_quarantined") + result.total("rows_merged")
        )
        assert result.total("rows_read") == accounted, feed


def test_beats_carry_both_vintages_with_their_validity(loaded):
    con, _ = loaded
    vintages = con.execute("""select vintage, min(valid_from)::date::varchar, min(valid_to)::date::varchar,
                              min(length(beat)) from raw.beats group by 1 order by 1""").fetchall()
    assert vintages == [("2012", "2012-12-18", None, 4), ("pre2012", None, "2012-12-18", 4)]


def test_geometries_and_points_are_projected_to_the_agency_crs(loaded):
    con, _ = loaded
    # Chicago in EPSG:3435 feet: x about 1.09M-1.21M, y about 1.81M-1.96M.
    wkt = con.execute("select geometry_wkt from raw.districts where district = '11'").fetchall()[0][0]
    assert wkt.startswith("POLYGON ((11")
    bounds = con.execute("select min(x), max(x), min(y), max(y) from raw.liquor_premises").fetchall()[0]
    assert 1_090_000 < bounds[0] < bounds[1] < 1_210_000 and 1_810_000 < bounds[2] < bounds[3] < 1_960_000
    assert con.execute("select count(distinct polygon_id) = count(*) from raw.land_use").fetchall()[0][0]


def test_sports_events_get_stable_ids_and_local_start_times(loaded, sample_config):
    con, _ = loaded
    opener = "select event_id from raw.sports_events where venue = 'U.S. Cellular Field' and starts_at = ?"
    # The file says 2010-04-05T13:05:00Z; it is the local first pitch, not 13:05 UTC.
    event_id = con.execute(opener, ["2010-04-05 13:05:00"]).fetchall()[0][0]
    path = paths.home() / "again.duckdb"
    with duckdb.connect(str(path)) as other:
        load_feed(other, sample_config, "sports_events")
        assert other.execute(opener, ["2010-04-05 13:05:00"]).fetchall() == [(event_id,)]
    path.unlink()


def test_agency_config_tables(sample_config, tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        written = load_agency_config(con, sample_config)
        assert len(written["config_sha256"]) == 64
        assert con.execute(
            "select value from raw.crime_type_offences where crime_type = 'aggravated_assault' order by 1"
        ).fetchall() == [("04A",), ("04B",)]
        assert con.execute("select * from raw.shifts").fetchall() == [
            ("day", 6, 8),
            ("evening", 14, 8),
            ("night", 22, 8),
        ]
        assert con.execute(
            "select severity from raw.crime_types where crime_type = 'homicide'"
        ).fetchall() == [(10.0,)]
        assert con.execute("select kind, payload from raw.audit_log").fetchall()[0][0] == "agency_config"


def test_a_feed_without_files_gets_an_empty_table_and_landing_files_are_loaded(sample_config, tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        assert load_feed(con, sample_config, "gunfire_detections").files == []
        assert con.execute("select * from raw.gunfire_detections").df().columns.tolist()[:3] == [
            "detection_id",
            "detected_at",
            "rounds",
        ]

        landing = paths.landing_dir() / "calls_for_service"
        landing.mkdir(parents=True, exist_ok=True)
        # A CAD export in the vendor's own column names, which config/chicago.yaml maps.
        (landing / "cad_2016-06-01.csv").write_text(
            "event_no,entry_time,nature_code,priority_code,x_coord,y_coord\n"
            "C1,2016-06-01T10:00:00,DISTURBANCE,2,1150000.5,1898000.5\n"
            "C2,2016-06-01T11:00:00,SHOTS FIRED,1,0,1898000.5\n"
        )
        try:
            result = load_feed(con, sample_config, "calls_for_service")
        finally:
            (landing / "cad_2016-06-01.csv").unlink()
        assert (result.total("rows_inserted"), result.total("rows_quarantined")) == (1, 1)
        assert con.execute("select call_id, priority, received_at from raw.calls_for_service").fetchall()[0][
            :2
        ] == ("C1", 2)


def test_a_missing_district_is_filled_from_the_beat_in_force(loaded, sample_config, tmp_path):
    con, _ = loaded
    beats = con.execute("select vintage, beat, district, valid_from, valid_to from raw.beats").df()
    frame = pd.DataFrame(
        {
            "occurred_at": pd.to_datetime(["2011-03-01", "2016-03-01", "2016-03-01", "2016-03-01"]),
            "beat": ["1011", "1011", "9999", "1011"],
            "district": [None, None, None, "10"],
        }
    )
    assert fill_district_from_beats(frame, beats) == 2
    assert frame["district"].tolist() == ["10", "10", None, "10"]


def test_a_beat_drawn_in_several_pieces_is_one_beat(chicago_config, tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        result = load_feed(con, chicago_config, "beats")
        assert result.total("rows_quarantined") == 0 and result.total("rows_merged") == 5
        shapes = dict(
            con.execute("select vintage, geometry_wkt from raw.beats where beat = '3100'").fetchall()
        )
    assert set(shapes) == {"pre2012", "2012"}
    assert shapes["2012"].startswith("MULTIPOLYGON")
