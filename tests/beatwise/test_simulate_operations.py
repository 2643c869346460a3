"""Simulated field operations: units follow their missions, pings are AVL-like, files pass the real ingest."""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from beatwise.cli.simulate import simulate
from beatwise.config import load_config
from beatwise.ingest import load_file
from beatwise.simulate import (
    FULL_COMPLIANCE,
    CityPlan,
    Compliance,
    build_city,
    make_roster,
    simulate_operations,
    write_operations,
)

ROOT = Path(__file__).resolve().parents[2]
PLAN = CityPlan(districts_x=2, districts_y=1, district_cells=10)
SHIFTS = pd.date_range("2016-06-01 06:00", periods=3, freq="8h")
TACTICS = ["foot_patrol", "business_check"]


@pytest.fixture(scope="module")
def city():
    return build_city(PLAN, seed=1)


def _missions(city, units: int = 3, per_unit: int = 2, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for start in SHIFTS:
        for district, cells in city.cells.groupby("district"):
            for i, cell in enumerate(
                rng.choice(cells["cell_id"].to_numpy(), units * per_unit, replace=False)
            ):
                rows.append(
                    {
                        "mission_id": f"M{start:%m%d%H}-{district}-{i}",
                        "shift_start": start,
                        "district": district,
                        "cell_id": cell,
                        "dose_minutes": 15.0,
                        "visits": 2,
                        "tactics": TACTICS,
                    }
                )
    return pd.DataFrame(rows)


def _run(city, compliance=FULL_COMPLIANCE, seed=1, calls=None):
    roster = make_roster(SHIFTS, ["1", "2"], 3)
    return simulate_operations(
        _missions(city), roster, calls, seed=seed, compliance=compliance, cells=city.cells
    )


def test_with_full_compliance_every_visit_delivers_about_the_planned_dose(city):
    ops = _run(city)
    assert len(ops.dose) == len(_missions(city)) * 2
    assert set(ops.dose["status"]) == {"completed"}
    ratio = ops.dose["dose_minutes"].sum() / ops.dose["planned_minutes"].sum()
    assert ratio == pytest.approx(1.0, abs=0.05)


def test_pings_stay_inside_the_mission_cell_during_a_visit(city):
    ops = _run(city)
    pings = ops.pings
    inside, total = 0, 0
    for visit in ops.dose.itertuples():
        mine = pings[
            (pings["unit_id"] == visit.unit_id)
            & (pings["pinged_at"] > visit.arrived_at)
            & (pings["pinged_at"] < visit.departed_at)
        ]
        col, row = map(int, visit.cell_id.split("_"))
        margin = 60  # feet: a few sigma of GPS noise
        ok = (
            (mine["x"] > col * 500 - margin)
            & (mine["x"] < (col + 1) * 500 + margin)
            & (mine["y"] > row * 500 - margin)
            & (mine["y"] < (row + 1) * 500 + margin)
        )
        inside, total = inside + ok.sum(), total + len(mine)
    assert total > 1_000
    assert inside / total > 0.99


def test_pings_come_every_30_seconds_at_driving_speeds(city):
    pings = _run(city).pings.sort_values(["unit_id", "pinged_at"])
    gap = pings.groupby("unit_id", observed=True)["pinged_at"].diff().dt.total_seconds()
    step = np.hypot(
        pings.groupby("unit_id", observed=True)["x"].diff(),
        pings.groupby("unit_id", observed=True)["y"].diff(),
    )
    same_shift = gap < 600
    assert gap[same_shift].median() == 30
    assert (step[same_shift] / gap[same_shift]).max() < 60  # feet per second: about 41 mph at most
    assert pings["pinged_at"].dt.microsecond.eq(0).all()


def test_with_realistic_compliance_some_visits_are_skipped_or_cut_short(city):
    dose = _run(city, compliance=Compliance(skip=0.2, cut_short=0.2)).dose
    assert {"skipped", "cut_short", "completed"} <= set(dose["status"])
    assert dose["dose_minutes"].sum() / dose["planned_minutes"].sum() < 0.85


def test_logged_tactics_are_mostly_the_recommended_ones_and_ids_are_pseudonymous(city):
    ops = _run(city, compliance=replace(FULL_COMPLIANCE, on_list_tactics=0.9))
    on_missions = ops.activity[ops.activity["mission_id"].notna()]
    assert on_missions["tactic"].isin(TACTICS).mean() == pytest.approx(0.9, abs=0.06)
    assert (ops.activity["ended_at"] >= ops.activity["started_at"]).all()
    assert ops.activity["unit_id"].str.fullmatch(r"U-[0-9a-f]{10}").all()
    assert ops.activity["officer_id"].str.fullmatch(r"O-[0-9a-f]{12}").all()
    assert ops.activity["activity_id"].is_unique
    # Every car that pings appears in the log (roll call), so dosage knows it as a patrol unit.
    assert set(ops.pings["unit_id"].astype(str)) == set(ops.activity["unit_id"])
    assert (ops.activity["tactic"] == "roll_call").sum() == len(ops.roster)


def test_units_answer_calls_between_missions(city):
    rng = np.random.default_rng(3)
    n = 200
    calls = pd.DataFrame(
        {
            "received_at": SHIFTS[0] + pd.to_timedelta(rng.uniform(0, 24 * 3600, n), unit="s"),
            "x": rng.uniform(1_000_000, 1_010_000, n),
            "y": rng.uniform(1_500_000, 1_505_000, n),
        }
    )
    ops = _run(city, compliance=replace(FULL_COMPLIANCE, answer_calls=0.5), calls=calls)
    answered = ops.activity[ops.activity["tactic"] == "call_for_service"]
    assert 20 < len(answered) < 100
    assert answered["mission_id"].isna().all()


def test_same_seed_same_files_and_they_pass_the_real_ingest(city, tmp_path):
    config = load_config(ROOT / "config" / "synthetic.yaml")
    a = write_operations(_run(city, Compliance(), seed=7), tmp_path / "a", "ops")
    b = write_operations(_run(city, Compliance(), seed=7), tmp_path / "b", "ops")
    for feed in a:
        assert (
            hashlib.sha256(a[feed].read_bytes()).digest() == hashlib.sha256(b[feed].read_bytes()).digest()
        ), feed
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        for feed in ("avl_pings", "patrol_activity"):
            spec = config.feeds[feed]
            load = load_file(con, config, feed, a[feed], spec)
            assert load.status == "loaded" and load.rows_quarantined == 0, (feed, load.error)
            assert load.rows_loaded == load.rows_read > 0


def test_missions_in_a_district_without_units_are_refused(city):
    roster = make_roster(SHIFTS, ["1"], 2)
    with pytest.raises(ValueError, match=r"district 2"):
        simulate_operations(_missions(city), roster, seed=1, cells=city.cells)


def test_the_command_line_writes_city_and_operations(tmp_path):
    runner = CliRunner()
    config = str(ROOT / "config" / "synthetic.yaml")
    city_dir = tmp_path / "city"
    result = runner.invoke(
        simulate,
        [
            "city",
            "--config",
            config,
            "--incidents",
            "2000",
            "--start",
            "2016-05-01",
            "--end",
            "2016-05-31",
            "--seed",
            "2",
            "--out",
            str(city_dir),
        ],
    )
    assert result.exit_code == 0, result.output
    assert re.search(r"incidents: [12],\d{3}", result.output)
    assert len(pd.read_csv(city_dir / "weather_daily.csv")) == 31  # --end is inclusive
    missions = _missions(build_city(seed=2)).query("district in ['1', '2']")
    missions["tactics"] = missions["tactics"].str.join(",")
    missions.to_csv(tmp_path / "missions.csv", index=False)
    result = runner.invoke(
        simulate,
        [
            "operations",
            "--config",
            config,
            "--missions",
            str(tmp_path / "missions.csv"),
            "--shift",
            "2016-06-01T14:00",
            "--calls",
            str(city_dir / "calls_for_service.parquet"),
            "--out",
            str(tmp_path / "landing"),
        ],
    )
    assert result.exit_code == 0, result.output
    pings = pd.read_parquet(next((tmp_path / "landing" / "avl_pings").glob("*.parquet")))
    assert list(pings.columns) == ["vehicle_id", "gps_time", "x_coord", "y_coord"]
    assert pings["gps_time"].min() >= pd.Timestamp("2016-06-01 14:00")
    assert pings["vehicle_id"].nunique() == 6  # 3 units per shift (capacity) in each of 2 districts
