"""The raw layer as Parquet, for engines other than DuckDB.

The dbt models read only what Python writes into the schemas below (feeds, geography, the agency config as
data, plans, the demo's simulated shifts). Written as one Parquet file per table with a `tables.jsonl`
index, the same models run on any engine that reads Parquet: the `spark` dbt target registers each file as
a table of its schema before it builds (dbt_project/macros/raw_layer.sql).

Layout: `<folder>/<schema>/<table>/data.parquet`, and `<folder>/tables.jsonl` with one line per table:
{"schema", "table", "path" (relative to the folder), "rows"}. Timestamps are written as the warehouse holds
them: local wall-clock times of the agency, without a time zone.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import duckdb

# The schemas that Python writes and dbt reads as sources (dbt_project/models/sources.yml and
# models/operations/_operations.yml).
SOURCE_SCHEMAS = ("raw", "plans", "operations")
INDEX = "tables.jsonl"


def raw_tables(con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...] = SOURCE_SCHEMAS) -> list[tuple[str, str]]:
    """The (schema, table) pairs of the raw layer present in the warehouse, in name order."""
    marks = ", ".join("?" for _ in schemas)
    return [
        (schema, table)
        for schema, table in con.execute(
            "select table_schema, table_name from information_schema.tables "
            f"where table_schema in ({marks}) and table_type = 'BASE TABLE' order by 1, 2",
            list(schemas),
        ).fetchall()
    ]


def export_raw_layer(
    con: duckdb.DuckDBPyConnection, folder: str | os.PathLike, schemas: tuple[str, ...] = SOURCE_SCHEMAS
) -> list[dict]:
    """Write every table of `schemas` to `folder` as Parquet and index them; returns the index.

    The folder is replaced whole: it is written beside its final place and swapped in, so a reader never
    sees half an export, and a table dropped from the warehouse does not linger in it.
    """
    target = Path(folder).resolve()
    staging = target.with_name(f".{target.name}.next")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    index = []
    for schema, table in raw_tables(con, schemas):
        relative = f"{schema}/{table}"
        (staging / relative).mkdir(parents=True)
        con.execute(
            f"copy (select * from {schema}.{table}) to '{staging / relative / 'data.parquet'}' (format parquet)"
        )
        rows = con.execute(f"select count(*) from {schema}.{table}").fetchall()[0][0]
        index.append({"schema": schema, "table": table, "path": relative, "rows": rows})
    (staging / INDEX).write_text("".join(json.dumps(entry) + "\n" for entry in index))
    retired = target.with_name(f".{target.name}.old")
    shutil.rmtree(retired, ignore_errors=True)
    if target.exists():
        os.replace(target, retired)
    os.replace(staging, target)
    shutil.rmtree(retired, ignore_errors=True)
    return index
