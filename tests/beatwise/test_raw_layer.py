"""The raw layer's Parquet export: every table of the source schemas, as the warehouse holds it, indexed;
re-exporting replaces the folder whole."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import duckdb

from beatwise.raw_layer import INDEX, SOURCE_SCHEMAS, export_raw_layer

ROOT = Path(__file__).resolve().parents[2]


def _warehouse() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create schema raw; create schema plans; create schema marts")
    con.execute("create table raw.incidents as select 'a' as incident_id, "
                "timestamp '2016-03-13 02:30:00' as occurred_at, 1170123.456 :: double as x")
    con.execute("create table plans.missions (mission_id varchar)")
    con.execute("create table marts.dim_cells as select 1 as cell_id")  # built by dbt: not raw
    return con


def test_every_source_table_is_exported_and_indexed_with_its_values(tmp_path):
    con = _warehouse()
    index = export_raw_layer(con, tmp_path / "raw")
    assert [(e["schema"], e["table"], e["rows"]) for e in index] == [("plans", "missions", 0), ("raw", "incidents", 1)]
    lines = [json.loads(line) for line in (tmp_path / "raw" / INDEX).read_text().splitlines()]
    assert lines == index
    row = con.execute(f"select * from read_parquet('{tmp_path / 'raw' / 'raw/incidents'}/*.parquet')").fetchall()
    # A wall-clock time that does not exist in Chicago (the spring-forward hour) comes back as written.
    assert row == [("a", datetime(2016, 3, 13, 2, 30), 1170123.456)]


def test_a_second_export_replaces_the_first_whole(tmp_path):
    con = _warehouse()
    export_raw_layer(con, tmp_path / "raw")
    con.execute("drop table plans.missions")
    index = export_raw_layer(con, tmp_path / "raw")
    assert [e["table"] for e in index] == ["incidents"]
    assert not (tmp_path / "raw" / "plans").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["raw"]  # no staging or retired copy left behind


def test_the_exported_schemas_are_the_dbt_sources_schemas():
    schemas = set()
    for path in (ROOT / "dbt_project" / "models").rglob("*.yml"):
        schemas |= set(re.findall(r"^\s+schema:\s*(\w+)", path.read_text(), flags=re.M))
    assert schemas == set(SOURCE_SCHEMAS)
