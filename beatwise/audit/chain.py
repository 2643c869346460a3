"""The tamper-evident audit log: an append-only table whose records are chained by hash.

Each record's hash is the sha256 of the canonical JSON of its fields and the previous record's hash, so
editing, removing or inserting a record breaks the chain at that record, and `verify` names it.
A forger who rewrites every later hash too, or removes records from the end, is caught only against the
signed checkpoints kept outside the warehouse (`beatwise.audit.checkpoints`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from beatwise.config import AgencyConfig

GENESIS = "0" * 64
TABLE = "raw.audit_log"


@dataclass(frozen=True)
class AuditRecord:
    seq: int
    recorded_at: datetime
    kind: str
    actor: str
    subject: str
    payload: str  # canonical JSON text
    prev_hash: str
    hash: str

    @property
    def data(self) -> Any:
        return json.loads(self.payload)


@dataclass(frozen=True)
class Verification:
    ok: bool
    records: int
    last_hash: str
    bad_seq: int | None = None
    problem: str = ""

    def __str__(self) -> str:
        if self.ok:
            return f"OK: {self.records} audit records, chain intact (last hash {self.last_hash[:16]})"
        return f"BROKEN at record {self.bad_seq}: {self.problem}"


def file_digest(path: Path) -> str:
    """sha256 of a file's bytes: how every logged input and output is identified."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def config_digest(config: AgencyConfig) -> str:
    """sha256 of the validated configuration's canonical JSON (so `extends` and env values count)."""
    return hashlib.sha256(canonical_json(config.model_dump(mode="json")).encode()).hexdigest()


def canonical_json(value: Any) -> str:
    """One text per value: sorted keys, no spaces, non-JSON values (dates, paths) as strings."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def record_hash(
    seq: int, recorded_at: datetime, kind: str, actor: str, subject: str, payload: str, prev_hash: str
) -> str:
    fields = {
        "seq": seq,
        "recorded_at": recorded_at.isoformat(),
        "kind": kind,
        "actor": actor,
        "subject": subject,
        "payload": payload,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical_json(fields).encode()).hexdigest()


def ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists raw")
    con.execute(f"""create table if not exists {TABLE} (
        seq bigint, recorded_at timestamp, kind varchar, actor varchar, subject varchar, payload varchar,
        prev_hash varchar, hash varchar)""")


def append(con: duckdb.DuckDBPyConnection, kind: str, actor: str, subject: str, payload: Any) -> AuditRecord:
    """Add one record at the end of the chain (the warehouse has a single writer, so no race on seq)."""
    ensure_table(con)
    last = con.execute(f"select seq, hash from {TABLE} order by seq desc limit 1").fetchall()
    seq, prev = (last[0][0] + 1, last[0][1]) if last else (1, GENESIS)
    # Microseconds, naive UTC: exactly what a TIMESTAMP column gives back, so the hash recomputes.
    recorded_at = datetime.now(UTC).replace(tzinfo=None)
    text = canonical_json(payload)
    digest = record_hash(seq, recorded_at, kind, actor, subject, text, prev)
    con.execute(
        f"insert into {TABLE} values (?, ?, ?, ?, ?, ?, ?, ?)",
        [seq, recorded_at, kind, actor, subject, text, prev, digest],
    )
    return AuditRecord(seq, recorded_at, kind, actor, subject, text, prev, digest)


def records(
    con: duckdb.DuckDBPyConnection, kind: str | None = None, limit: int | None = None
) -> list[AuditRecord]:
    """Records in chain order (the last `limit` of them), optionally of one kind."""
    if not con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'raw' and table_name = 'audit_log'"
    ).fetchall()[0][0]:
        return []
    where = "where kind = ?" if kind else ""
    rows = con.execute(
        f"select * from (select * from {TABLE} {where} order by seq desc"
        f"{f' limit {int(limit)}' if limit else ''}) order by seq",
        [kind] if kind else [],
    ).fetchall()
    return [AuditRecord(*row) for row in rows]


def verify(con: duckdb.DuckDBPyConnection) -> Verification:
    """Walk the chain from the first record; name the first record that was altered, removed or inserted."""
    chain = records(con)
    prev, expected_seq = GENESIS, 1
    for rec in chain:
        if rec.seq < expected_seq:
            return Verification(
                False, len(chain), prev, rec.seq, f"seq {rec.seq} appears twice: a record was inserted"
            )
        if rec.seq > expected_seq:
            return Verification(
                False,
                len(chain),
                prev,
                expected_seq,
                f"record {expected_seq} is missing (next is {rec.seq}): records were removed",
            )
        own = record_hash(
            rec.seq, rec.recorded_at, rec.kind, rec.actor, rec.subject, rec.payload, rec.prev_hash
        )
        if own != rec.hash:
            return Verification(
                False,
                len(chain),
                prev,
                rec.seq,
                "its content does not match its hash: the record was altered (or inserted by hand)",
            )
        if rec.prev_hash != prev:
            return Verification(
                False,
                len(chain),
                prev,
                rec.seq,
                "it does not follow from the record before it: a record before it was removed or inserted",
            )
        prev, expected_seq = rec.hash, rec.seq + 1
    return Verification(True, len(chain), prev)
