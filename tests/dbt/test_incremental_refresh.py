"""A shift refresh is a refresh: on the real sample slice, the incremental models after one shift's new
incidents (a late one and a withdrawn one inside the lookback) equal a full rebuild of the same raw data,
table by table.

Built once in full with the last shift and one late incident held back, the held incidents are appended
to raw.incidents and the refresh subset is built incrementally (what the refresh job runs); a copy of the
warehouse is then rebuilt with --full-refresh. Every affected table and the scoring view must have the
same columns, rows and digest (tests/dbt/mart_parity.py), and the same real values.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import duckdb
import pytest
from dbt.cli.main import dbtRunner
from raw_warehouse import build_raw_warehouse

from tests.dbt.conftest import DBT_DIR, SLICE_VARS
from tests.dbt.mart_parity import mart_image, real_mismatches

VARS = {**SLICE_VARS, "refresh_lookback_days": 3}
# The models the refresh job builds (orchestration/defs/missions.py: REFRESH_MODELS, the incremental ones and these).
REFRESHED = ["intermediate.int_incidents", "intermediate.int_feed_signals", "marts.fct_cell_shift_counts",
             "marts.dim_shifts", "marts.fct_scoring_features"]
SELECT = [name.split(".")[1] for name in REFRESHED]
LAST_SHIFT = "2016-06-30 22:00:00"  # the slice's last shift: its incidents land in the refresh
LATE_DAY = "2016-06-29"  # one incident of this day is reported late (inside the lookback)


def dbt(warehouse: Path, *args: str):
    where = ["--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR), "--quiet"]
    os.environ["BEATWISE_WAREHOUSE"] = str(warehouse)
    result = dbtRunner().invoke([*args, "--indirect-selection", "cautious", "--vars", json.dumps(VARS), *where])
    assert result.success, f"dbt {' '.join(args)} failed: {result.exception or result.result}"
    return result.result


@pytest.fixture(scope="module")
def refreshed(sample_config, tmp_path_factory):
    work = tmp_path_factory.mktemp("refresh")
    # One file name in two folders: the views name their database by it, so a copy stays valid.
    (work / "incremental").mkdir()
    (work / "full").mkdir()
    warehouse = build_raw_warehouse(sample_config, work / "incremental" / "warehouse.duckdb",
                                    incidents_where="occurred_at >= '2015-07-01' and occurred_at < '2016-07-01'")
    with duckdb.connect(str(warehouse)) as con:
        con.execute(f"""create table raw.held_back as select * from raw.incidents
            where occurred_at >= '{LAST_SHIFT}'
               or incident_id = (select min(incident_id) from raw.incidents
                                 where cast(occurred_at as date) = '{LATE_DAY}')""")
        con.execute("delete from raw.incidents where incident_id in (select incident_id from raw.held_back)")
        held = con.execute("select count(*) from raw.held_back").fetchall()[0][0]
        con.execute("create table if not exists raw.scoring_shifts (shift_start timestamp)")
        con.execute("insert into raw.scoring_shifts values (timestamp '2016-07-01 06:00:00')")
    dbt(warehouse, "build", "--select", "+fct_scoring_features")
    with duckdb.connect(str(warehouse)) as con:
        before = con.execute("select count(*) from intermediate.int_incidents").fetchall()[0][0]
        con.execute("insert into raw.incidents select * from raw.held_back")
        # A report withdrawn inside the lookback, alone in its cell-shift: its count row must go too.
        withdrawn = con.execute(f"""select i.incident_id from intermediate.int_incidents as i
            inner join marts.fct_cell_shift_counts as c using (crime_type, cell_id, shift_start)
            where c.incident_count = 1 and i.shift_date = '{LATE_DAY}' order by i.incident_id limit 1""")
        withdrawn = withdrawn.fetchall()[0][0]
        con.execute("delete from raw.incidents where incident_id = ?", [withdrawn])
    results = dbt(warehouse, "build", "--select", *SELECT)
    compiled = {r.node.name: r.node.compiled_code for r in results.results if r.node.resource_type == "model"}
    full = work / "full" / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("checkpoint")  # the copy must hold what the write-ahead log still does
    shutil.copyfile(warehouse, full)
    dbt(full, "build", "--full-refresh", "--select", *SELECT)
    for build in ("incremental", "full"):  # each relation as Parquet, to compare in one connection
        with duckdb.connect(str(work / build / "warehouse.duckdb")) as con:
            for relation in REFRESHED:
                con.execute(f"copy (select * from {relation}) to '{work / build / relation}.parquet'")
    return {"work": work, "incremental": warehouse, "held": held, "before": before, "compiled": compiled}


def test_the_refresh_builds_incrementally_and_takes_the_new_incidents(refreshed):
    assert refreshed["held"] > 10  # a shift of real incidents, and the late one
    for model in ("int_incidents", "int_feed_signals", "fct_cell_shift_counts"):
        assert "1900-01-01" in refreshed["compiled"][model], f"{model} was not built incrementally"
    with duckdb.connect(str(refreshed["incremental"])) as con:
        after = con.execute("select count(*) from intermediate.int_incidents").fetchall()[0][0]
        late = con.execute(f"select count(*) from marts.fct_cell_shift_counts where shift_start >= '{LAST_SHIFT}'")
        assert late.fetchall()[0][0] > 0
    assert after == refreshed["before"] + refreshed["held"] - 1  # one withdrawn


@pytest.mark.parametrize("relation", REFRESHED)
def test_every_refreshed_table_equals_a_full_rebuild(refreshed, relation):
    left, right = (f"read_parquet('{refreshed['work'] / build / relation}.parquet')"
                   for build in ("incremental", "full"))
    with duckdb.connect() as con:
        incremental = mart_image(con, left)
        assert incremental.rows > 0 or relation == "intermediate.int_feed_signals"  # the sample has no feeds
        assert incremental == mart_image(con, right)
        assert real_mismatches(con, left, right, incremental) == []
