"""The same dbt project on two engines: a `dbt build` on the `spark` target, and a comparison of every mart
it built with DuckDB's.

A mart is the same on both when its columns have the same names and kinds (integer, real, text, date,
timestamp, boolean), the same number of rows, the same order-independent digest over every non-real
column (md5 of the sorted md5s of its rows), and its real columns agree row by row, the rows of both
ordered by every column, within REAL_TOLERANCE (relative). Reals are compared with a tolerance and not
digested: sums of doubles in another order differ in their last bits, and rounding them to a few digits
still splits values that lie on a rounding boundary.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

DBT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
REAL_TOLERANCE = 1e-9

_INTEGERS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"}


def column_kind(duckdb_type: str) -> str:
    """The engine-neutral kind of a column as DuckDB reads it (from its own table or from Parquet)."""
    name = duckdb_type.upper()
    if name in _INTEGERS or (name.startswith("DECIMAL") and name.replace(" ", "").endswith(",0)")):
        return "integer"
    if name in ("FLOAT", "DOUBLE", "REAL") or name.startswith("DECIMAL"):
        return "real"
    if name.startswith("TIMESTAMP"):
        return "timestamp"
    return {"BOOLEAN": "boolean", "DATE": "date", "VARCHAR": "text"}.get(name, name)


def _canonical(column: str, duckdb_type: str) -> str:
    """SQL for a non-real column as text that both engines' values share (timestamps as UTC wall clock)."""
    quoted = f'"{column}"'
    if duckdb_type.upper().startswith("TIMESTAMP WITH TIME ZONE"):
        return f"cast(timezone('UTC', {quoted}) as varchar)"
    if column_kind(duckdb_type) == "integer":
        return f"cast(cast({quoted} as hugeint) as varchar)"
    return f"cast({quoted} as varchar)"


@dataclass(frozen=True)
class MartImage:
    """What is compared of one mart on one engine."""

    columns: tuple[tuple[str, str], ...]  # (name, kind)
    rows: int
    digest: str  # over the non-real columns


def mart_image(con: duckdb.DuckDBPyConnection, relation: str) -> MartImage:
    """Columns, row count and digest of `relation` (a table name or a read_parquet(...) call)."""
    described = con.execute(f"describe select * from {relation}").fetchall()
    exact = [(name, kind) for name, kind, *_ in described if column_kind(kind) != "real"]
    row_text = " || chr(31) || ".join(f"coalesce({_canonical(name, kind)}, '\\N')" for name, kind in exact) or "''"
    rows, digest = con.execute(
        f"select count(*), md5(coalesce(string_agg(row_hash, '' order by row_hash), '')) "
        f"from (select md5({row_text}) as row_hash from {relation})"
    ).fetchall()[0]
    return MartImage(tuple((name, column_kind(kind)) for name, kind, *_ in described), rows, digest)


def real_mismatches(con: duckdb.DuckDBPyConnection, left: str, right: str, image: MartImage) -> list[tuple]:
    """Up to five rows whose real columns differ by more than REAL_TOLERANCE between `left` and `right`."""
    names = [name for name, _ in image.columns]
    reals = [name for name, kind in image.columns if kind == "real"]
    if not reals:
        return []
    order = ", ".join(f'"{name}"' for name in names)
    differs = " or ".join(
        f'(a."{r}" is null) <> (b."{r}" is null) or abs(a."{r}" - b."{r}") '
        f'> {REAL_TOLERANCE} * greatest(abs(a."{r}"), abs(b."{r}"), 1)'
        for r in reals
    )
    picked = ", ".join(f'a."{r}" as "{r}", b."{r}" as "{r}_other"' for r in reals)
    return con.execute(
        f"with a as (select row_number() over (order by {order}) as n, * from {left}), "
        f"b as (select row_number() over (order by {order}) as n, * from {right}) "
        f"select a.n, {picked} from a join b using (n) where {differs} order by a.n limit 5"
    ).fetchall()


def spark_env(raw_parquet: Path, spark_dir: Path, marts_parquet: Path) -> dict[str, str]:
    """The environment of a `spark`-target dbt run over a raw-layer export."""
    return {
        "BEATWISE_DBT_TARGET": "spark",
        "BEATWISE_RAW_PARQUET": str(raw_parquet),
        "BEATWISE_SPARK_DIR": str(spark_dir),
        "BEATWISE_MARTS_PARQUET": str(marts_parquet),
    }


def dbt_build(env: dict[str, str], variables: dict, work: Path) -> float:
    """One `dbt build` of the whole project in a child process (the Spark JVM ends with it); its seconds.

    Compiled files and logs go to `work`, so the project's own manifest (read by the Dagster
    definitions) is not replaced by one compiled for another target.
    """
    args = [
        str(Path(sys.executable).parent / "dbt"), "build",
        "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR),
        "--target-path", str(work / "target"), "--log-path", str(work / "logs"),
        "--vars", json.dumps(variables), "--no-use-colors",
    ]
    started = time.monotonic()
    done = subprocess.run(args, env={**os.environ, **env}, capture_output=True, text=True, cwd=work)
    seconds = time.monotonic() - started
    (work / "dbt_build.log").write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        problems = [line for line in done.stdout.splitlines() if "ERROR" in line or "FAIL" in line or "rror" in line]
        raise AssertionError(f"dbt build failed ({env.get('BEATWISE_DBT_TARGET', 'local')}):\n"
                             + "\n".join(problems[-40:] or done.stdout.splitlines()[-40:]))
    return seconds
