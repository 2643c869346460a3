"""The synthetic city: deterministic files that pass the real ingest; a crime process as stated."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy.spatial import cKDTree

from beatwise.config import load_config
from beatwise.ingest import load_file
from beatwise.simulate import (
    CityPlan,
    CrimeParameters,
    CrimeProcess,
    Deterrence,
    build_city,
    calls_for_service,
    gunfire_detections,
    incident_records,
    simulate_city,
)

ROOT = Path(__file__).resolve().parents[2]
SMALL = CityPlan(districts_x=2, districts_y=1, district_cells=10)
START, END = date(2016, 1, 1), date(2016, 3, 1)


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def city_files(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synthetic")
    simulate_city(out, 4_000, START, END, seed=3, plan=SMALL)
    return out


def test_same_seed_writes_the_same_bytes_and_another_seed_does_not(city_files, tmp_path):
    simulate_city(tmp_path / "again", 4_000, START, END, seed=3, plan=SMALL)
    simulate_city(tmp_path / "other", 4_000, START, END, seed=4, plan=SMALL)
    assert _digests(tmp_path / "again") == _digests(city_files)
    assert _digests(tmp_path / "other")["incidents.parquet"] != _digests(city_files)["incidents.parquet"]


def test_incident_count_is_about_the_one_asked_for(city_files):
    incidents = pd.read_parquet(city_files / "incidents.parquet")
    assert 3_400 < len(incidents) < 4_600
    assert set(incidents["Primary Type"]) >= {"THEFT", "BURGLARY", "ROBBERY", "NARCOTICS"}


def test_every_file_passes_the_real_ingest_without_quarantine(city_files, tmp_path, monkeypatch):
    monkeypatch.setenv("BEATWISE_SYNTHETIC_DATA", str(city_files))
    config = load_config(ROOT / "config" / "synthetic.yaml")
    assert config.data_path() == city_files.resolve()
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        for feed, spec in config.feeds.items():
            for path in config.feed_files(feed):
                load = load_file(con, config, feed, path, spec)
                assert load.status == "loaded", (feed, load.error)
                assert load.rows_quarantined == 0, (
                    feed,
                    con.execute("select reason from raw.quarantine limit 3").fetchall(),
                )
                assert load.rows_loaded == load.rows_read > 0, feed
        districts = con.execute("select district from raw.districts order by district").fetchall()
        beats = con.execute("select count(*), min(beat) from raw.beats").fetchall()[0]
        span = con.execute("select min(x), max(x), min(y), max(y) from raw.incidents").fetchall()[0]
    assert districts == [("1",), ("2",)]
    assert beats == (8, "111")  # beat "0111": digits-only codes are numbers (contracts.normalise_code)
    x0, x1, y0, y1 = build_city(SMALL).bounds
    assert x0 <= span[0] and span[1] <= x1 and y0 <= span[2] and span[3] <= y1


def _dosed_shift_counts(deterrence: Deterrence, shifts: int = 36, seed: int = 5) -> pd.DataFrame:
    """Step a busy city shift by shift, dosing a fresh random half of the cells each shift."""
    city = build_city(SMALL, seed=seed)
    params = CrimeParameters(events_per_day=3_000, deterrence=deterrence)
    process = CrimeProcess(city, params, seed=seed)
    start = datetime(2016, 6, 1)
    process.generate(start - timedelta(days=14), start)
    rng = np.random.default_rng(seed)
    cell_ids = city.cells["cell_id"].to_numpy()
    rows, before = [], np.zeros(cell_ids.size, bool)
    for s in range(shifts):
        t0 = start + timedelta(hours=8 * s)
        dosed = rng.random(cell_ids.size) < 0.5
        events = process.step(
            t0, t0 + timedelta(hours=8), dict(zip(cell_ids[dosed], np.full(dosed.sum(), 15.0), strict=True))
        )
        events = events[events["kind"] != "narcotics"]
        counts = events["cell_id"].value_counts().reindex(cell_ids, fill_value=0).to_numpy()
        rows.append(pd.DataFrame({"count": counts, "dosed": dosed, "dosed_before": before}))
        before = dosed
    return pd.concat(rows[1:], ignore_index=True)


def test_incidents_fall_by_the_stated_fraction_while_and_after_a_cell_is_dosed():
    truth = Deterrence(during_dose=0.4, residual_next_shift=0.15)
    panel = _dosed_shift_counts(truth)
    assert panel["count"].sum() > 20_000
    now = panel.groupby("dosed")["count"].mean()
    after = panel.groupby("dosed_before")["count"].mean()
    assert now[True] / now[False] == pytest.approx(1 - truth.during_dose, abs=0.04)
    assert after[True] / after[False] == pytest.approx(1 - truth.residual_next_shift, abs=0.04)


def test_no_deterrence_means_no_difference():
    panel = _dosed_shift_counts(Deterrence(0.0, 0.0), shifts=24)
    now = panel.groupby("dosed")["count"].mean()
    assert now[True] / now[False] == pytest.approx(1.0, abs=0.04)


def _close_pairs(events: pd.DataFrame, feet: float = 400, days: float = 7) -> int:
    xy = events[["x", "y"]].to_numpy()
    t = (events["occurred_at"] - events["occurred_at"].min()).dt.total_seconds().to_numpy() / 86_400
    pairs = cKDTree(xy).query_pairs(feet, output_type="ndarray")
    return int((np.abs(t[pairs[:, 0]] - t[pairs[:, 1]]) <= days).sum())


def test_near_repeat_contagion_shows_as_an_excess_of_close_pairs():
    """A Knox test: pairs close in space and time, against the same events with their times shuffled."""
    city = build_city(SMALL, seed=2)
    # About as sparse per cell as Chicago's burglaries, so that chance pairs do not drown the repeats.
    process = CrimeProcess(city, CrimeParameters(events_per_day=20), seed=2)
    events = process.generate(date(2015, 1, 1), date(2017, 1, 1))
    burglary = events[events["kind"] == "burglary"].reset_index(drop=True)
    times = np.random.default_rng(0).permutation(burglary["occurred_at"].to_numpy())
    shuffled = burglary.assign(occurred_at=times)
    assert len(burglary) > 1_200
    assert _close_pairs(burglary) > 1.3 * _close_pairs(shuffled)
    assert (burglary["generation"] > 0).mean() == pytest.approx(0.35, abs=0.05)  # the stated branching ratio


def test_about_nine_shots_in_ten_are_detected_and_one_in_five_reported():
    city = build_city(SMALL, seed=1)
    events = CrimeProcess(city, CrimeParameters(events_per_day=1_500), seed=1).generate(
        date(2016, 1, 1), date(2016, 3, 1)
    )
    shots = (events["kind"] == "gunfire").sum()
    detections = gunfire_detections(events, city, seed=1)
    calls = calls_for_service(events, city, seed=1)
    assert shots > 5_000
    assert len(detections) / shots == pytest.approx(0.9, abs=0.02)
    assert (calls["nature_code"] == "SHOTSFIRED").sum() / shots == pytest.approx(0.2, abs=0.02)
    assert (calls["entry_time"].diff().dropna() >= pd.Timedelta(0)).all()


def test_more_theft_where_the_environment_says_so():
    city = build_city(SMALL, seed=1)
    events = CrimeProcess(city, replace(CrimeParameters(events_per_day=800)), seed=1).generate(
        date(2016, 1, 1), date(2016, 2, 1)
    )
    theft = (
        events[events["kind"] == "theft"]["cell_id"]
        .value_counts()
        .reindex(city.cells["cell_id"], fill_value=0)
    )
    land_use = city.cells.set_index("cell_id")["land_use"]
    per_cell = theft.groupby(land_use).mean()
    assert per_cell["commercial"] > 2 * per_cell["residential"]


def test_steps_must_follow_each_other_and_dose_only_known_cells():
    process = CrimeProcess(build_city(SMALL), CrimeParameters(events_per_day=100), seed=1)
    process.generate(date(2016, 1, 1), date(2016, 1, 2))
    with pytest.raises(ValueError, match="must start there"):
        process.step(datetime(2016, 1, 2, 6), datetime(2016, 1, 2, 14))
    with pytest.raises(ValueError, match="outside the city"):
        process.step(datetime(2016, 1, 2), datetime(2016, 1, 2, 6), {"1_1": 15.0})
    with pytest.raises(ValueError, match="on the hour"):
        process.step(datetime(2016, 1, 2), datetime(2016, 1, 2, 6, 30))


def test_big_files_written_in_row_groups_hold_the_same_rows_as_one_frame(tmp_path, monkeypatch):
    """The city's incidents and calls are formatted and written a row group at a time (so 10 million
    incidents fit in memory): the rows, their order and their event numbers are those of the whole."""
    import pyarrow.parquet as pq

    import beatwise.simulate as simulate

    monkeypatch.setattr(simulate, "ROW_GROUP", 1_000)
    simulate_city(tmp_path, 4_000, START, END, seed=3, plan=SMALL)
    city = build_city(SMALL, 3)
    params = CrimeParameters().scaled_to_incidents(city, 4_000, START, END)
    events = CrimeProcess(city, params, 3).generate(START, END)
    for name, whole in (("incidents", incident_records(events, city)),
                        ("calls_for_service", calls_for_service(events, city, seed=3))):
        written = pq.ParquetFile(tmp_path / f"{name}.parquet")
        assert written.metadata.num_row_groups == -(-len(whole) // 1_000) > 3, name
        pd.testing.assert_frame_equal(written.read().to_pandas(), whole, check_dtype=False)
    calls = pd.read_parquet(tmp_path / "calls_for_service.parquet")
    assert calls["event_no"].str[-8:].astype(int).tolist() == list(range(1, len(calls) + 1))
