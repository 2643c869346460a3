"""The DuckDB warehouse: one writer (the pipeline), readers on a published snapshot.

See STACK.md: a read-write connection locks every other process out, so dashboards never open the
warehouse; they read `serving.duckdb`, which `publish_serving` swaps in atomically.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd

from beatwise import paths, recovery


@contextmanager
def connect(path: str | os.PathLike | None = None, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived connection to the warehouse (or another DuckDB file)."""
    target = Path(path) if path else paths.warehouse_path()
    if read_only and not target.exists():
        raise FileNotFoundError(f"no warehouse at {target}: run `make run` first")
    con = duckdb.connect(str(target), read_only=read_only)
    try:
        yield con
        if not read_only:
            seal_audit_log(con, target)
    finally:
        con.close()


def seal_audit_log(con: duckdb.DuckDBPyConnection, target: Path) -> None:
    """Sign the audit chain's head outside the warehouse when a writer is done (see audit.checkpoints)."""
    if table_exists(con, "raw", "audit_log"):
        from beatwise.audit.checkpoints import checkpoint

        checkpoint(con, target)


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchall()[0][0])


def replace_table(con: duckdb.DuckDBPyConnection, qualified: str, frame: pd.DataFrame, key: str) -> None:
    """Replace `schema.table` by `frame`, ordered by `key`, in one transaction (same input -> identical table)."""
    schema = qualified.split(".")[0]
    view = f"_replacing_{qualified.replace('.', '_')}"
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


def publish_serving(con: duckdb.DuckDBPyConnection, tables: list[str], target: Path | None = None) -> Path:
    """Copy `schema.table`s into a fresh snapshot file and swap it in place of the serving snapshot.

    Readers holding the old file keep reading it; new readers see the new one.
    """
    target = target or paths.serving_path()
    staging = target.with_suffix(".duckdb.next")
    staging.unlink(missing_ok=True)
    con.execute(f"attach '{staging}' as snapshot")
    try:
        for qualified in tables:
            schema, table = qualified.split(".")
            con.execute(f"create schema if not exists snapshot.{schema}")
            con.execute(f"create table snapshot.{schema}.{table} as select * from {qualified}")
            recovery.pause_point("publishing")  # the kill test's: the new snapshot half-written
    finally:
        con.execute("detach snapshot")
    os.replace(staging, target)
    return target
