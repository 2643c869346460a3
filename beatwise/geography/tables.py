"""Writing geography's tables: whole, atomically, in a fixed row order (same input -> identical table)."""

from __future__ import annotations

import duckdb
import pandas as pd


def replace_table(con: duckdb.DuckDBPyConnection, qualified: str, frame: pd.DataFrame, key: str) -> None:
    """Replace `schema.table` by `frame`, ordered by `key`, in one transaction."""
    schema = qualified.split(".")[0]
    view = f"_geography_{qualified.replace('.', '_')}"
    con.register(view, frame)
    try:
        con.execute("begin transaction")
        con.execute(f"create schema if not exists {schema}")
        con.execute(f"create or replace table {qualified} as select * from {view} order by {key}")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    finally:
        con.unregister(view)
