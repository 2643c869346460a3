"""Write validated rows into `raw.<feed>` by natural key, rejected rows into `raw.quarantine`, and the
load into `raw.load_log`. Loading the same file twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd
import pyarrow as pa

from beatwise.contracts import Contract

SQL_TYPES = {
    "str": "VARCHAR",
    "float64": "DOUBLE",
    "int64": "BIGINT",
    "Int64": "BIGINT",
    "datetime64[ns]": "TIMESTAMP",
}
BOOKKEEPING = {"_source_file": "VARCHAR", "_row_digest": "VARCHAR", "_loaded_at": "TIMESTAMP"}

QUARANTINE_DDL = """
create table if not exists raw.quarantine (
    load_id varchar, feed varchar, source_file varchar, row_number bigint, natural_key varchar,
    reason varchar, record varchar, quarantined_at timestamp
)"""
LOAD_LOG_DDL = """
create table if not exists raw.load_log (
    load_id varchar, feed varchar, file varchar, sha256 varchar, status varchar, error varchar,
    rows_read bigint, rows_inserted bigint, rows_updated bigint, rows_unchanged bigint, rows_removed bigint,
    rows_quarantined bigint, rows_merged bigint, unknown_offence_codes bigint, districts_from_beat bigint,
    started_at timestamp, finished_at timestamp
)"""
LOAD_LOG_ADDED = {
    "identical_rows": "bigint", "run_id": "varchar", "position": "bigint", "settings_sha256": "varchar",
    "table_digest": "varchar", "future_from": "timestamp", "same_as": "varchar",
    "unknown_offence_code_list": "varchar",
}


@dataclass
class UpsertCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    # Rows older than the stored version of their record: (row index in the file, reason).
    superseded: list[tuple[int, str]] | None = None


def ensure_tables(con: duckdb.DuckDBPyConnection, contract: Contract) -> None:
    """raw.<feed> with the contract's columns (empty until a file arrives), raw.quarantine, raw.load_log."""
    con.execute("create schema if not exists raw")
    columns = [f'"{name}" {SQL_TYPES[str(col.dtype)]}' for name, col in contract.schema.columns.items()]
    columns += [f"{name} {sql}" for name, sql in BOOKKEEPING.items()]
    con.execute(f"create table if not exists raw.{contract.feed} ({', '.join(columns)})")
    con.execute(QUARANTINE_DDL)
    con.execute(LOAD_LOG_DDL)
    for name, sql in LOAD_LOG_ADDED.items():  # columns added after the first releases
        con.execute(f"alter table raw.load_log add column if not exists {name} {sql}")


def _digest_sql(columns: list[str]) -> str:
    # chr(30) marks a null so that null and empty text digest differently.
    parts = ", ".join(f'coalesce(cast("{c}" as varchar), chr(30))' for c in columns)
    return f"sha256(concat_ws(chr(31), {parts}))"


def upsert(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    rows: pd.DataFrame,
    source_file: str,
    loaded_at: pd.Timestamp,
) -> UpsertCounts:
    """Insert new records, replace changed ones (unless the stored version is newer), leave equal ones.

    `rows` holds the contract's columns plus `_row` (its index in the file). For `replace_whole` feeds the
    records of this source file that the new version no longer has are removed.
    """
    table, cols = f"raw.{contract.feed}", contract.columns
    key = list(contract.natural_key)
    on = " and ".join(f'i."{k}" = t."{k}"' for k in key)
    # Arrow scans in parallel; DuckDB's scan of pandas object columns does not.
    con.register("_rows", pa.Table.from_pandas(rows, preserve_index=False))
    version = contract.version_column
    older = (
        f"coalesce(t.\"{version}\", timestamp '0001-01-01') > "
        f"coalesce(i.\"{version}\", timestamp '0001-01-01')"
        if version
        else "false"
    )
    con.execute(f"""
        create or replace temp table _incoming as
        select i.*, case when t._row_digest is null then 'insert'
                         when t._row_digest = i._row_digest then 'unchanged'
                         when {older} then 'superseded'
                         else 'update' end as _action
        from (select *, {_digest_sql(cols)} as _row_digest from _rows) i
        left join {table} t on {on}
    """)
    con.unregister("_rows")
    counts = dict(con.execute("select _action, count(*) from _incoming group by 1").fetchall())
    quoted = ", ".join(f'"{c}"' for c in cols)
    removed = 0
    if contract.replace_whole:
        removed = con.execute(
            f"""
            delete from {table} t where _source_file = ?
            and not exists (select 1 from _incoming i where {on})""",
            [source_file],
        ).fetchall()[0][0]
        # A renamed file with the same records keeps them: they now come from this file.
        con.execute(
            f"""update {table} t set _source_file = ? from _incoming i
                where i._action = 'unchanged' and {on} and t._source_file <> ?""",
            [source_file, source_file],
        )
    if counts.get("update"):
        con.execute(f"delete from {table} t using _incoming i where i._action = 'update' and {on}")
    con.execute(
        f"""
        insert into {table} ({quoted}, _source_file, _row_digest, _loaded_at)
        select {quoted}, ?, _row_digest, ? from _incoming where _action in ('insert', 'update')
    """,
        [source_file, loaded_at.to_pydatetime()],
    )
    superseded = []
    if counts.get("superseded"):
        superseded = [
            (int(r), f"superseded by the stored version (newer {version} {v})")
            for r, v in con.execute(f"""
            select i._row, t."{version}" from _incoming i join {table} t on {on}
            where i._action = 'superseded'
        """).fetchall()
        ]
    con.execute("drop table _incoming")
    return UpsertCounts(
        counts.get("insert", 0), counts.get("update", 0), counts.get("unchanged", 0), removed, superseded
    )


# A quarantine reason's rule, for counting by kind: the details after ':' or '(' (a cell, row numbers) and
# any number left in it ("duplicate of row 829") dropped. SQL over raw.quarantine.
REASON_RULE_SQL = "trim(regexp_replace(regexp_replace(reason, '[:(].*$', ''), '[0-9]+', 'N', 'g'))"


def quarantine(con: duckdb.DuckDBPyConnection, rows: pd.DataFrame) -> int:
    """Add rejected rows (the raw.quarantine columns) unless the same row was already quarantined for the
    same reason from the same file: a repeated load does not repeat them. Returns how many were new."""
    if rows.empty:
        return 0
    con.register("_rejected", rows)
    before = con.execute("select count(*) from raw.quarantine").fetchall()[0][0]
    con.execute("""
        insert into raw.quarantine
        select r.* from _rejected r where not exists (
            select 1 from raw.quarantine q where q.feed = r.feed and q.source_file = r.source_file
            and q.row_number = r.row_number and q.reason = r.reason and q.record = r.record)
    """)
    con.unregister("_rejected")
    return con.execute("select count(*) from raw.quarantine").fetchall()[0][0] - before


def log_load(con: duckdb.DuckDBPyConnection, entry: dict) -> None:
    """One row of raw.load_log."""
    names = list(entry)
    con.execute(
        f"insert into raw.load_log ({', '.join(names)}) values ({', '.join('?' * len(names))})",
        [entry[n] for n in names],
    )
