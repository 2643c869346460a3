"""A feed's files that loading again would not change are skipped; whatever could change a load reloads."""

from __future__ import annotations

from datetime import timedelta

import duckdb
import pandas as pd
import pytest

from beatwise import audit, paths
from beatwise.ingest import load_feed, skip


@pytest.fixture
def con(tmp_path, fresh_home):
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        yield con


def _statuses(result) -> list[str]:
    return [f.status for f in result.files]


def _land_incidents(rows: pd.DataFrame, name: str) -> None:
    landing = paths.landing_dir() / "incidents"
    landing.mkdir(parents=True, exist_ok=True)
    rows.to_parquet(landing / name, index=False)


def _new_incidents(sample_config, n: int, first_id: int) -> pd.DataFrame:
    source = pd.read_parquet(sample_config.feed_files("incidents")[0]).head(n).copy()
    source["ID"] = range(first_id, first_id + n)
    source["Case Number"] = [f"ZZ{i}" for i in source["ID"]]
    return source


def test_a_second_load_skips_the_files_and_reports_what_a_reload_would(con, sample_config):
    first = load_feed(con, sample_config, "sports_events")
    before = con.execute("select * from raw.sports_events order by all").fetchall()
    second = load_feed(con, sample_config, "sports_events")

    assert _statuses(first) == ["loaded"] and _statuses(second) == ["unchanged"]
    (done,), (again,) = first.files, second.files
    assert again.same_as == done.load_id and again.sha256 == done.sha256
    assert (again.rows_read, again.rows_unchanged, again.rows_inserted) == (done.rows_read, done.rows_loaded, 0)
    assert con.execute("select * from raw.sports_events order by all").fetchall() == before
    logged = con.execute("select status from raw.load_log where feed = 'sports_events' order by started_at")
    assert [s for (s,) in logged.fetchall()] == ["loaded", "unchanged"]
    payloads = [r.payload for r in audit.records(con, kind="feed_load")]
    assert len(payloads) == 2 and '"status":"unchanged"' in payloads[1]


def test_reload_a_changed_table_or_config_reads_every_file_again(con, sample_config):
    load_feed(con, sample_config, "sports_events")
    assert _statuses(load_feed(con, sample_config, "sports_events", reload=True)) == ["loaded"]

    # A row removed by anything but a load: the table is not as the last run left it.
    con.execute("delete from raw.sports_events where rowid = (select min(rowid) from raw.sports_events)")
    restored = load_feed(con, sample_config, "sports_events")
    assert _statuses(restored) == ["loaded"] and restored.files[0].rows_inserted == 1

    changed = sample_config.model_copy(update={"records_start": sample_config.records_start - timedelta(days=1)})
    assert _statuses(load_feed(con, changed, "sports_events")) == ["loaded"]
    assert _statuses(load_feed(con, changed, "sports_events")) == ["unchanged"]


def test_after_a_shift_lands_only_the_new_file_is_read(con, sample_config):
    load_feed(con, sample_config, "incidents")
    _land_incidents(_new_incidents(sample_config, 3, 90_000_001), "shift_1.parquet")
    first = load_feed(con, sample_config, "incidents")
    assert _statuses(first) == ["unchanged", "loaded"] and first.files[1].rows_inserted == 3

    _land_incidents(_new_incidents(sample_config, 2, 90_000_101), "shift_2.parquet")
    second = load_feed(con, sample_config, "incidents")
    assert _statuses(second) == ["unchanged", "unchanged", "loaded"] and second.files[2].rows_inserted == 2
    assert con.execute("select count(*) from raw.incidents where incident_id like '9000%'").fetchall() == [(5,)]

    # A landed file replaced by a corrected one: every file is read again, the later ones after it too.
    _land_incidents(_new_incidents(sample_config, 4, 90_000_001), "shift_1.parquet")
    third = load_feed(con, sample_config, "incidents")
    assert _statuses(third) == ["loaded", "loaded", "loaded"]
    assert third.files[1].rows_inserted == 1 and third.files[2].rows_unchanged == 2


def test_a_row_dated_in_the_future_is_read_again_once_its_time_has_come(con, sample_config):
    load_feed(con, sample_config, "incidents")
    early = _new_incidents(sample_config, 2, 90_000_201)
    early.loc[early.index[1], "Date"] = pd.Timestamp.now().floor("s") + pd.Timedelta(days=2)
    _land_incidents(early, "early.parquet")
    landed = load_feed(con, sample_config, "incidents").files[1]
    assert (landed.rows_inserted, landed.rows_quarantined) == (1, 1) and landed.future_from is not None

    files = [(f.file, f.sha256) for f in load_feed(con, sample_config, "incidents").files]
    settings = skip.settings_digest(con, sample_config, "incidents")
    assert skip.skippable(con, "incidents", files, settings, landed.future_from - timedelta(seconds=1))
    assert skip.skippable(con, "incidents", files, settings, landed.future_from) == []


def test_a_boundary_file_taken_away_leaves_its_shapes_behind_once(con, sample_config):
    import json

    load_feed(con, sample_config, "districts")
    shapes = json.loads(sample_config.feed_files("districts")[0].read_text(encoding="utf-8"))
    shapes["features"] = shapes["features"][:1]
    shapes["features"][0]["properties"] = {"DIST_NUM": "99", "DIST_LABEL": "99TH"}
    landed = paths.landing_dir() / "districts" / "extra.geojson"
    landed.parent.mkdir(parents=True)
    landed.write_text(json.dumps(shapes), encoding="utf-8")
    assert _statuses(load_feed(con, sample_config, "districts")) == ["unchanged", "loaded"]

    landed.unlink()
    assert _statuses(load_feed(con, sample_config, "districts")) == ["loaded"]
    assert con.execute("select count(*) from raw.districts where district = '99'").fetchall() == [(0,)]
    assert _statuses(load_feed(con, sample_config, "districts")) == ["unchanged"]
