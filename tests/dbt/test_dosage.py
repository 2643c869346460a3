"""Dosage on hand-made ping tracks, through real dbt on a real DuckDB.

One mission in a real sample cell; unit U1 spends two stays inside it (with a lost ping, a duplicate, an
out-of-order delivery and a GPS spike along the way), unit U2 only skirts the buffer, U9 is unknown.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb
import pandas as pd
import pytest

from tests.dbt.operations_warehouse import dbt_build, sample_warehouse, write_feed, write_plan

SHIFT = datetime(2016, 6, 2, 6)
VARS = {
    "dosage_buffer": 50,
    "dosage_bridge_seconds": 120,
    "dosage_visit_gap_seconds": 300,
    "dosage_max_speed_mph": 100,
}


def _track(start: datetime, seconds: range, x: float, y: float, unit: str) -> list[dict]:
    return [{"unit_id": unit, "pinged_at": start + timedelta(seconds=s), "x": x, "y": y} for s in seconds]


@pytest.fixture(scope="module")
def built(tmp_path_factory, sample_config) -> duckdb.DuckDBPyConnection:
    path = sample_warehouse(
        sample_config, tmp_path_factory.mktemp("dosage") / "wh.duckdb", "2016-05-01", "2016-06-10"
    )
    with duckdb.connect(str(path)) as con:
        cell = con.execute(
            "select cell_id, x_min, y_min, x_max, y_max, district from raw.cells "
            "where district is not null order by cell_id limit 1 offset 100"
        ).fetchall()[0]
        cell_id, x0, y0, x1, y1, district = cell
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        # A jurisdiction cell about two miles away: 30 s there and back would need over 200 mph.
        far = con.execute(
            "select x_center, y_center from raw.cells where abs(x_center - ?) + abs(y_center - ?) "
            "between 9000 and 12000 order by cell_id limit 1",
            [cx, cy],
        ).fetchall()[0]
        write_plan(
            con,
            "P1",
            SHIFT,
            pd.DataFrame(
                [
                    {
                        "mission_id": "M1",
                        "cell_id": cell_id,
                        "district": district,
                        "dose_minutes": 15.0,
                        "visits": 1,
                    }
                ]
            ),
        )
        t = SHIFT + timedelta(hours=4)
        pings = (
            _track(t, range(0, 601, 30), cx, cy, "U1")  # 10:00:00-10:10:00 inside
            + _track(t, range(630, 931, 30), cx + 2000, cy, "U1")  # away until 10:15:30
            + _track(t, range(960, 1321, 30), x1 + 30, cy, "U1")  # 10:16-10:22 inside the 50 ft buffer
            + _track(t, range(1350, 1500, 30), cx + 3000, cy, "U1")
            + _track(t, range(0, 601, 30), x1 + 80, cy, "U2")  # just outside the buffer
            + _track(t, range(0, 301, 30), cx, cy, "U9")  # a unit nobody knows
        )
        frame = pd.DataFrame(pings)
        frame = frame[frame["pinged_at"] != t + timedelta(seconds=120)]  # a lost ping (60 s gap)
        spike = (frame["unit_id"] == "U1") & (frame["pinged_at"] == t + timedelta(seconds=300))
        frame.loc[spike, ["x", "y"]] = far  # a GPS spike
        frame = frame.iloc[::-1]  # delivered out of order
        write_feed(con, "avl_pings", frame)
        # The same ping twice (the contract table has no key constraint; a second file could do this).
        write_feed(con, "avl_pings", frame[(frame["unit_id"] == "U1")].head(1))
        activity = pd.DataFrame(
            [
                {
                    "activity_id": "A1",
                    "unit_id": "U1",
                    "officer_id": "O-1",
                    "mission_id": "M1",
                    "started_at": t,
                    "ended_at": t + timedelta(minutes=10),
                    "tactic": "foot_patrol",
                },
                {
                    "activity_id": "A2",
                    "unit_id": "U1",
                    "officer_id": "O-1",
                    "mission_id": "M-NOPE",
                    "started_at": t + timedelta(minutes=30),
                    "ended_at": t + timedelta(minutes=40),
                    "tactic": "business_check",
                },
                {
                    "activity_id": "A3",
                    "unit_id": "U2",
                    "officer_id": "O-2",
                    "mission_id": None,
                    "started_at": t,
                    "ended_at": t + timedelta(minutes=25),
                    "tactic": "call_for_service",
                },
                {  # U1's second officer, who logged no mission (sorts before O-1)
                    "activity_id": "A5",
                    "unit_id": "U1",
                    "officer_id": "O-0",
                    "mission_id": None,
                    "started_at": t + timedelta(minutes=45),
                    "ended_at": t + timedelta(minutes=50),
                    "tactic": "area_check",
                },
                {
                    "activity_id": "A4",
                    "unit_id": "U3",
                    "officer_id": "O-3",
                    "mission_id": None,
                    "started_at": t,
                    "ended_at": t + timedelta(minutes=5),
                    "tactic": "area_check",
                },
            ]
        )
        write_feed(con, "patrol_activity", activity)
    dbt_build(path, variables=VARS)
    con = duckdb.connect(str(path), read_only=True)
    yield con
    con.close()


def test_dose_counts_time_inside_with_buffer_and_bridged_gaps(built):
    row = built.execute(
        "select delivered_minutes, delivered_visits, units_present, dose_status, compliance, "
        "logged_minutes from marts.fct_mission_dosage where mission_id = 'M1'"
    ).fetchall()[0]
    # 10:00-10:10 (600 s: the lost ping bridged, the spike dropped and bridged) + 10:16-10:22 (360 s).
    assert row[0] == pytest.approx(16.0)
    assert row[1] == 2  # the 6-minute absence exceeds the 300 s visit gap
    assert row[2] == 1  # U2 stayed outside the buffer
    assert row[3] == "full" and row[4] == pytest.approx(1.0)
    assert row[5] == pytest.approx(10.0)


def test_visits_have_their_times(built):
    visits = built.execute(
        "select visit_number, arrived_at, departed_at, minutes_inside from marts.fct_mission_visits "
        "order by visit_number"
    ).fetchall()
    t = SHIFT + timedelta(hours=4)
    assert [(v[1], v[2]) for v in visits] == [
        (t, t + timedelta(seconds=600)),
        (t + timedelta(seconds=960), t + timedelta(seconds=1320)),
    ]


def test_every_flagged_row_is_counted_with_its_reason(built):
    counts = dict(
        built.execute(
            "select feed || ':' || reason, rows_counted from marts.rpt_operations_data_quality"
        ).fetchall()
    )
    assert counts["avl_pings:duplicate"] == 1
    assert counts["avl_pings:impossible_speed"] == 1
    assert counts["avl_pings:unknown_unit"] == 10  # 11 pings, one of them lost
    assert counts["patrol_activity:unknown_mission"] == 1
    assert counts["avl_pings:unit_shift_without_pings"] == 1  # U3 logged activity, sent no ping
    total = built.execute("select count(*) from raw.avl_pings").fetchall()[0][0]
    assert sum(v for k, v in counts.items() if k.startswith("avl_pings:") and "without" not in k) == total


def test_unit_shift_compliance_and_time_budget(built):
    u1 = built.execute(
        "select mission_minutes, planned_minutes, compliance, missions_worked, officers "
        "from marts.fct_unit_shift_dosage where unit_id = 'U1'"
    ).fetchall()[0]
    assert u1[0] == pytest.approx(16.0) and u1[1] == pytest.approx(15.0) and u1[2] == pytest.approx(1.0)
    assert u1[3] == 1 and u1[4] == 2
    u2 = built.execute(
        "select call_minutes, mission_minutes, elsewhere_minutes, tracked_minutes "
        "from marts.fct_unit_shift_dosage where unit_id = 'U2'"
    ).fetchall()[0]
    assert u2[0] == pytest.approx(25.0) and u2[1] == 0
    assert u2[3] == pytest.approx(10.0) and u2[2] == 0  # 10 tracked minutes, all on the call


def test_each_officer_of_a_unit_is_credited_with_the_missions_they_logged(built):
    rows = built.execute(
        "select officer_id, max(officer_missions_worked), max(officer_compliance) from marts.rpt_officer "
        "where officer_id in ('O-0', 'O-1') group by officer_id order by officer_id"
    ).fetchall()
    # O-1 logged M1 (16 minutes delivered of 15 planned: credited 15); O-0, in the same unit, logged none.
    assert rows == [("O-0", 0, None), ("O-1", 1, pytest.approx(1.0))]
