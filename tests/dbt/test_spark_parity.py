"""Spark as a second target: the whole dbt project (every staging, intermediate, mart and report model, with
its data tests and unit tests) builds on Spark from the raw layer's Parquet export, and every mart equals
DuckDB's (tests/dbt/mart_parity.py says what "equal" is).

The slice: the embedded sample's incidents of 2016, features over its second half (history_start /
history_end), one day of simulated operations at its end (real planner, simulator and ingest), one
scoring shift. A smaller cut than `make run` builds, through dbt vars: on 2 shared cores the full slice's
Spark build takes over 15 minutes, most of it fct_training_set's draw-number join (negatives and the
per-cell draw cap are smaller here). One `dbt build` on each engine: a Spark session alone starts in ~30 s.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pytest

from beatwise.raw_layer import export_raw_layer
from models.impact.replay import simulate_recent_operations
from tests.conftest import own_home
from tests.dbt.mart_parity import dbt_build, mart_image, real_mismatches, spark_env
from tests.dbt.operations_warehouse import OPERATIONS, sample_warehouse
from tests.dbt.operations_warehouse import dbt_build as dbt_run

INCIDENTS = ("2016-01-01", "2017-01-01")
SPARK_SLICE_VARS = {
    "history_start": "2016-07-01",
    "history_end": "2016-12-31",
    "negatives_per_crime_type": 3000,
    "max_draws_per_cell": 1024,
    "horizon_days": 7,
}


@pytest.fixture(scope="module")
def both_engines(tmp_path_factory, sample_config):
    if shutil.which("java") is None:
        pytest.fail("Spark needs Java 17+: install openjdk-17-jre-headless (.ci/run does)")
    work = tmp_path_factory.mktemp("spark_parity")
    with own_home(work / "home"):
        warehouse = sample_warehouse(sample_config, work / "warehouse.duckdb", *INCIDENTS)
        # What the replay plans from, then one simulated day, so that every operations mart has rows.
        dbt_run(warehouse, select=f"+{OPERATIONS} --exclude {OPERATIONS}", variables=SPARK_SLICE_VARS,
                command="run")
        with duckdb.connect(str(warehouse)) as con:
            replay = simulate_recent_operations(con, sample_config, days=1, seed=3)
            con.execute("insert into raw.scoring_shifts select min(shift_start) from marts.dim_shifts "
                        "where not is_history")
        builds = {}
        for engine in ("duckdb", "spark"):
            (work / engine / "marts").mkdir(parents=True)
        builds["duckdb"] = dbt_build(
            {"BEATWISE_WAREHOUSE": str(warehouse), "BEATWISE_MARTS_PARQUET": str(work / "duckdb" / "marts")},
            SPARK_SLICE_VARS, work / "duckdb")
        with duckdb.connect(str(warehouse)) as con:
            index = export_raw_layer(con, work / "raw_parquet")
        # A time zone with daylight saving: the build must not shift wall-clock times by the machine's zone.
        env = {**spark_env(work / "raw_parquet", work / "spark" / "state", work / "spark" / "marts"),
               "TZ": "America/Chicago"}
        builds["spark"] = dbt_build(env, SPARK_SLICE_VARS, work / "spark")
    print(f"\ndbt build of the slice: duckdb {builds['duckdb']:.1f} s, spark {builds['spark']:.1f} s")
    return {"work": work, "warehouse": warehouse, "seconds": builds, "index": index, "replay": replay}


def _summary(log: Path) -> dict[str, int]:
    found = re.findall(r"Done\. PASS=(\d+) WARN=(\d+) ERROR=(\d+) SKIP=(\d+)", log.read_text())
    assert found, f"no dbt summary in {log}"
    return dict(zip(("pass", "warn", "error", "skip"), map(int, found[-1]), strict=True))


def _marts(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [name for (name,) in con.execute(
        "select table_name from information_schema.tables where table_schema = 'marts' order by 1").fetchall()]


def test_every_model_data_test_and_unit_test_passes_on_spark(both_engines):
    work = both_engines["work"]
    duck, spark = _summary(work / "duckdb" / "dbt_build.log"), _summary(work / "spark" / "dbt_build.log")
    assert spark == duck and spark["skip"] == 0 and spark["error"] == 0
    log = (work / "spark" / "dbt_build.log").read_text()
    assert "unit_test" in log and "spark" in log.lower()  # the unit tests ran, on the spark adapter


def test_the_raw_layer_export_indexes_every_source_table(both_engines):
    index = {(entry["schema"], entry["table"]): entry for entry in both_engines["index"]}
    with duckdb.connect(str(both_engines["warehouse"]), read_only=True) as con:
        for (schema, table), entry in index.items():
            rows = con.execute(f"select count(*) from {schema}.{table}").fetchall()[0][0]
            exported = con.execute(
                f"select count(*) from read_parquet('{both_engines['work'] / 'raw_parquet' / entry['path']}/*.parquet')"
            ).fetchall()[0][0]
            assert rows == exported == entry["rows"], (schema, table)
    expected = [("raw", "incidents"), ("raw", "avl_pings"), ("plans", "missions"), ("operations", "simulated_shifts")]
    for needed in expected:
        assert needed in index and index[needed]["rows"] > 0, needed


def test_every_mart_is_the_same_on_spark_and_duckdb(both_engines):
    work = both_engines["work"]
    with duckdb.connect(str(both_engines["warehouse"]), read_only=True) as con:
        marts = _marts(con)
        assert {"fct_training_set", "fct_scoring_features", "rpt_shift", "rpt_crime_dosage"} <= set(marts)
        exported = sorted(p.name for p in (work / "spark" / "marts").iterdir())
        assert exported == marts  # every mart, views included, came back from Spark
        different = {}
        for mart in marts:
            spark = f"read_parquet('{work / 'spark' / 'marts' / mart}/*.parquet')"
            ours, theirs = mart_image(con, f"marts.{mart}"), mart_image(con, spark)
            assert ours.rows > 0, f"{mart} is empty: the comparison would prove nothing"
            if ours != theirs:
                different[mart] = (ours, theirs)
            elif mismatches := real_mismatches(con, f"marts.{mart}", spark, ours):
                different[mart] = mismatches
    assert not different, different


def test_duckdb_writes_its_marts_as_parquet_too(both_engines):
    work = both_engines["work"]
    with duckdb.connect(str(both_engines["warehouse"]), read_only=True) as con:
        for mart in _marts(con):
            rows = con.execute(f"select count(*) from marts.{mart}").fetchall()[0][0]
            exported = con.execute(
                f"select count(*) from read_parquet('{work / 'duckdb' / 'marts' / mart}/*.parquet')"
            ).fetchall()[0][0]
            assert exported == rows, mart
