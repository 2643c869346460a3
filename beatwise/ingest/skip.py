"""When a feed's files can be left as they are: the refresh after a shift's incidents land loads only those.

Every load is an idempotent upsert, so loading again the files of the feed's last run, in the same order,
with the same bytes and settings, onto the table as that run left it, changes nothing. Then those files are
skipped: each gets a `raw.load_log` row with status `unchanged` (the counts a reload would have given) and
an audit record, and only the files after them are read. Anything else reloads every file: a file changed,
renamed, removed or reordered, a changed config, ingest code or table it is checked against (cells, beats,
offence codes), a table written by anything but the last run, or a row held back as dated in the future
whose time has come.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

import duckdb

from beatwise.audit import canonical_json, config_digest
from beatwise.config import AgencyConfig
from beatwise.contracts import CONTRACTS
from beatwise.warehouse import table_exists

# Tables other than its own that a feed's rows are checked or filled against.
CHECKED_AGAINST = {"incidents": ("beats", "offence_codes")}
# The modules whose code decides what a file loads as.
_CODE = ("ingest", "contracts.py", "policy.py", "config")


@dataclass(frozen=True)
class Previous:
    """One file of the feed's last run, as raw.load_log has it."""

    load_id: str
    file: str
    sha256: str
    settings_sha256: str
    status: str
    table_digest: str | None
    future_from: datetime | None
    rows_read: int
    rows_loaded: int
    unknown_offence_code_list: str | None  # JSON {code: rows}


def table_digest(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """Row count and an order-independent hash of every row of raw.<table> ('' when it does not exist)."""
    if not table_exists(con, "raw", table):
        return ""
    count, digest = con.execute(f"select count(*), bit_xor(hash(t)) from raw.{table} t").fetchall()[0]
    return f"{count}:{digest or 0}"


@cache
def code_digest() -> str:
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for name in _CODE:
        for path in sorted((root / name).rglob("*.py")) if (root / name).is_dir() else [root / name]:
            digest.update(path.read_bytes())
    return digest.hexdigest()


def settings_digest(con: duckdb.DuckDBPyConnection, config: AgencyConfig, feed: str) -> str:
    """What, besides a file's bytes and its own table, decides what it loads as."""
    checked = [*(("cells",) if CONTRACTS[feed].located else ()), *CHECKED_AGAINST.get(feed, ())]
    parts = {
        "config": config_digest(config),
        "code": code_digest(),
        "tables": {table: table_digest(con, table) for table in checked},
    }
    return hashlib.sha256(canonical_json(parts).encode()).hexdigest()


def last_run(con: duckdb.DuckDBPyConnection, feed: str) -> list[Previous]:
    """The files of the feed's latest load run, in the order they were loaded."""
    columns = [c if c != "rows_loaded" else "rows_inserted + rows_updated + rows_unchanged"
               for c in Previous.__dataclass_fields__]
    rows = con.execute(
        f"""select {', '.join(columns)} from raw.load_log
            where feed = ? and run_id = (
                select run_id from raw.load_log where feed = ? and run_id is not null
                order by started_at desc limit 1)
            order by position""",
        [feed, feed],
    ).fetchall()
    return [Previous(*row) for row in rows]


def skippable(
    con: duckdb.DuckDBPyConnection,
    feed: str,
    files: list[tuple[str, str]],
    settings: str,
    now: datetime,
) -> list[Previous]:
    """The last run's files if `files` ((name, sha256) in load order) begins with them, unchanged, and
    loading them again would change nothing; else []."""
    previous = last_run(con, feed)
    if not previous or len(previous) > len(files):
        return []
    for done, (name, sha) in zip(previous, files, strict=False):
        if (done.file, done.sha256, done.settings_sha256) != (name, sha, settings):
            return []
        if done.status not in ("loaded", "unchanged"):
            return []
        if done.future_from is not None and done.future_from <= now:
            return []
    if previous[-1].table_digest != table_digest(con, feed):
        return []
    return previous
