"""The dbt marts on a real slice of the sample: `dbt build` (models, data tests, unit tests) passes, and
the marts agree with counts computed directly from raw.incidents."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from tests.dbt.conftest import SLICE_VARS

CELL_SIZE = 500
SHIFT_HOURS = (6, 14, 22)


def shift_start_of(ts: datetime) -> datetime:
    """The shift an incident falls in, computed in Python to check the SQL."""
    day = ts.replace(hour=0, minute=0, second=0, microsecond=0)
    for hour in reversed(SHIFT_HOURS):
        if ts.hour >= hour:
            return day + timedelta(hours=hour)
    return day - timedelta(days=1) + timedelta(hours=SHIFT_HOURS[-1])


@pytest.fixture(scope="module")
def con(built_warehouse: Path):
    connection = duckdb.connect(str(built_warehouse))
    yield connection
    connection.close()


def test_a_shifts_counts_equal_a_direct_count_of_raw_incidents(con) -> None:
    busiest = con.execute("""
        select shift_start from marts.fct_cell_shift_counts
        group by 1 order by sum(incident_count) desc limit 1
    """).fetchall()[0][0]
    mart = dict(((ct, cell), n) for ct, cell, n in con.execute(
        "select crime_type, cell_id, incident_count from marts.fct_cell_shift_counts where shift_start = ?",
        [busiest]).fetchall())
    offences = con.execute("select crime_type, field, value from raw.crime_type_offences").fetchall()
    cells = {row[0] for row in con.execute("select cell_id from raw.cells").fetchall()}
    direct: dict[tuple[str, str], int] = {}
    rows = con.execute("""
        select occurred_at, x, y, offence_code, offence_name, offence_group from raw.incidents
        where occurred_at >= cast(? as timestamp) - interval 1 day
          and occurred_at < cast(? as timestamp) + interval 1 day
    """, [busiest, busiest]).fetchall()
    for occurred_at, x, y, code, name, group in rows:
        if shift_start_of(occurred_at) != busiest:
            continue
        cell = f"{math.floor(x / CELL_SIZE)}_{math.floor(y / CELL_SIZE)}"
        fields = {"offence_code": code, "offence_name": name, "offence_group": group}
        types = {ct for ct, field, value in offences if fields[field] == value}
        if cell in cells and types:
            assert len(types) == 1
            key = (types.pop(), cell)
            direct[key] = direct.get(key, 0) + 1
    assert mart == direct
    assert sum(direct.values()) > 5


def test_training_set_holds_every_positive_cell_shift_of_the_history(con) -> None:
    missing = con.execute("""
        select count(*) from marts.fct_cell_shift_counts c
        join marts.dim_shifts s on s.shift_start = c.shift_start and s.is_history
        left join marts.fct_training_set t
            on t.crime_type = c.crime_type and t.cell_id = c.cell_id and t.shift_start = c.shift_start
        where t.incident_count is distinct from c.incident_count
    """).fetchall()[0][0]
    positives = con.execute(
        "select count(*) from marts.fct_training_set where incident_count > 0").fetchall()[0][0]
    assert missing == 0 and positives > 1000


def test_sampled_zero_weights_add_up_to_the_zero_cell_shifts(con) -> None:
    rows = con.execute("""
        with panel as (
            select (select count(*) from marts.dim_cells) as cells,
                   (select count(*) from marts.dim_shifts where is_history) as shifts
        )
        select crime_type, count(*) filter (where incident_count = 0) as zeros,
               sum(sample_weight) filter (where incident_count = 0) as weight,
               any_value(panel.cells * panel.shifts) - count(*) filter (where incident_count > 0) as expected,
               any_value(ceiling(? / panel.cells) * panel.cells) + 2 * count(*) filter (where incident_count > 0)
                   as draws
        from marts.fct_training_set, panel group by crime_type
    """, [SLICE_VARS["negatives_per_crime_type"]]).fetchall()
    assert len(rows) == 6
    for crime_type, zeros, weight, expected, draws in rows:
        assert 0.8 * draws <= zeros <= draws, crime_type  # some draws repeat or hit a cell-shift with crime
        assert weight == pytest.approx(expected), crime_type


def test_busy_cells_keep_more_of_their_zeros(con) -> None:
    """Zeros are drawn per cell, more where crime is frequent: a busy cell's zeros weigh less."""
    rows = con.execute("""
        with per_cell as (
            select crime_type, cell_id, count(*) filter (where incident_count > 0) as positives,
                   max(sample_weight) filter (where incident_count = 0) as zero_weight
            from marts.fct_training_set where crime_type = 'theft' group by crime_type, cell_id
        )
        select corr(positives, zero_weight), min(zero_weight), max(zero_weight) from per_cell
        where zero_weight is not null
    """).fetchall()[0]
    correlation, lightest, heaviest = rows
    assert correlation < -0.3 and heaviest > 5 * lightest


def test_features_count_only_incidents_before_the_shift_start(con) -> None:
    """Leakage guard: every window count equals a brute-force count of incidents strictly before the shift
    (same-shift counts: incidents in the same 06/14/22 shift of their day)."""
    bad = con.execute("""
        with picked as (
            select * from marts.fct_training_set
            where incident_count > 0 or hash(cell_id, shift_start) % 50 = 0
            order by hash(crime_type, cell_id, shift_start) limit 400
        ),
        brute as (
            select p.crime_type, p.cell_id, p.shift_start,
                count(*) filter (where i.cell_id = p.cell_id
                                   and i.occurred_at >= p.shift_start - interval 7 day) as c7,
                count(*) filter (where i.cell_id = p.cell_id
                                   and i.occurred_at >= p.shift_start - interval 91 day) as c91,
                count(*) filter (where i.occurred_at >= p.shift_start - interval 28 day) as n28,
                count(*) filter (where i.occurred_at >= p.shift_start - interval 364 day
                                   and (hour(i.occurred_at) + 18) % 24 // 8 = (hour(p.shift_start) + 18) % 24 // 8)
                    as same_shift_364,
                max(i.occurred_at) filter (where i.cell_id = p.cell_id) as last_at
            from picked p join marts.dim_cells c using (cell_id)
            left join intermediate.int_incidents i
                on i.crime_type = p.crime_type and i.occurred_at < p.shift_start
                and abs(i.cell_col - c.cell_col) <= 1 and abs(i.cell_row - c.cell_row) <= 1
            group by all
        )
        select count(*) filter (where c7 <> n_cell_7d or c91 <> n_cell_91d or n28 <> n_nbhd_28d
                                  or same_shift_364 <> n_nbhd_same_shift_364d
                                  or abs(coalesce(date_diff('minute', last_at, p.shift_start) / 1440.0, -1)
                                         - coalesce(days_since_last, -1)) > 1e-6),
               sum(n_cell_91d), sum(n_nbhd_same_shift_364d), count(*)
        from picked p join brute using (crime_type, cell_id, shift_start)
    """).fetchall()[0]
    mismatches, counted, counted_same_shift, checked = bad
    assert checked == 400 and counted > 50 and counted_same_shift > 50
    assert mismatches == 0


def test_scoring_view_returns_every_cell_and_type_of_a_written_shift(con) -> None:
    con.execute("delete from raw.scoring_shifts")
    con.execute("insert into raw.scoring_shifts values (timestamp '2016-07-01 06:00:00')")
    scored = con.execute("select * from marts.fct_scoring_features")
    columns = [d[0] for d in scored.description]
    rows = scored.fetchall()
    cells, types = (con.execute(f"select count(*) from {t}").fetchall()[0][0]
                    for t in ("marts.dim_cells", "raw.crime_types"))
    assert len(rows) == cells * types
    training_columns = [d[0] for d in con.execute("select * from marts.fct_training_set limit 0").description]
    assert columns == [c for c in training_columns if c not in ("incident_count", "sample_weight")]
    # A scoring row has the same features as a training row of the same cell-shift would.
    recent = con.execute("""
        select sum(n_cell_28d) from marts.fct_scoring_features
    """).fetchall()[0][0]
    direct = con.execute("""
        select count(*) from intermediate.int_incidents
        where crime_type is not null and occurred_at >= timestamp '2016-06-03 06:00:00'
          and occurred_at < timestamp '2016-07-01 06:00:00'
    """).fetchall()[0][0]
    assert recent == direct > 0
    con.execute("delete from raw.scoring_shifts")


def test_shifts_carry_the_previous_days_weather(con) -> None:
    row = con.execute("""
        select s.temperature_max, w.temperature_max
        from marts.dim_shifts s join raw.weather_daily w on cast(w.date as date) = s.shift_date - 1
        where s.shift_start = timestamp '2016-02-29 22:00:00'
    """).fetchall()
    assert row and row[0][0] == row[0][1]
