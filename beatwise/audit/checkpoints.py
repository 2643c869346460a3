"""Signed checkpoints: the audit chain's head, signed with a key the warehouse cannot reach.

A hash chain alone cannot show that records were removed from its end, or that it was rewritten from
some record on with every later hash recomputed. So each time a writer closes the warehouse, the head of
the chain (sequence number, hash, time) is signed with an Ed25519 key kept in the state folder
(owner-only, or a path from $BEATWISE_AUDIT_KEY) and appended as one JSON line to a checkpoint file beside
the warehouse; each line also carries the digest of the line before, so the file is itself a chain.
Verification checks every checkpoint against the chain and flags records no checkpoint covers. A line
exported for publication (`beatwise audit checkpoint --export`) also catches a rewrite of both files.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from beatwise import paths
from beatwise.audit.chain import GENESIS, canonical_json, record_hash, records, verify

KEY_ENV = "BEATWISE_AUDIT_KEY"
KEY_FILE = "audit_ed25519.pem"
log = logging.getLogger("beatwise.audit")


class CheckpointError(Exception):
    """The key or the checkpoint file cannot be used (named in the message)."""


def key_path() -> Path:
    return Path(os.environ[KEY_ENV]) if os.environ.get(KEY_ENV) else paths.keys_dir() / KEY_FILE


def checkpoint_path(warehouse_file: str | os.PathLike) -> Path:
    """The checkpoint file of a warehouse: beside it, never inside it."""
    target = Path(warehouse_file)
    return target.parent / "audit" / f"{target.stem}.checkpoints.jsonl"


def public_hex(key: Ed25519PublicKey) -> str:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def signing_key() -> Ed25519PrivateKey:
    """The audit signing key; generated (owner-only file) at first use, its public key printed and logged."""
    path = key_path()
    if path.exists():
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except ValueError as err:
            raise CheckpointError(f"{path}: not a PEM private key ({err})") from err
        if not isinstance(key, Ed25519PrivateKey):
            raise CheckpointError(f"{path}: not an Ed25519 key")
        return key
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    public = public_hex(key.public_key())
    path.with_suffix(".pub").write_text(public + "\n", encoding="utf-8")
    message = f"new audit signing key {path}; its public key (publish it for auditors): {public}"
    log.info(message)
    print(message, file=sys.stderr)
    return key


def read_public_key(value: str) -> Ed25519PublicKey:
    """A public key given as 64 hex digits or as a file holding them (the `.pub` beside the key)."""
    text = Path(value).read_text(encoding="utf-8").strip() if Path(value).is_file() else value.strip()
    try:
        return Ed25519PublicKey.from_public_bytes(bytes.fromhex(text))
    except ValueError as err:
        raise CheckpointError(f"public key {value!r}: expected 64 hex digits ({err})") from err


def line_digest(line: str) -> str:
    return hashlib.sha256(line.encode()).hexdigest()


def read_lines(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def signed_text(entry: dict) -> bytes:
    return canonical_json({k: v for k, v in entry.items() if k != "signature"}).encode()


def checkpoint(con: duckdb.DuckDBPyConnection, warehouse_file: str | os.PathLike) -> dict | None:
    """Sign the chain's head into the checkpoint file if records were added since the last checkpoint.

    Refuses (returns None, with a warning) when the chain no longer extends the last checkpoint: signing
    a rewritten log would launder it.
    """
    path = checkpoint_path(warehouse_file)
    lines = read_lines(path)
    last = json.loads(lines[-1]) if lines else None
    chain = records(con)
    if not chain or (last and chain[-1].seq == last["seq"] and chain[-1].hash == last["hash"]):
        return None
    tail = [r for r in chain if not last or r.seq >= last["seq"]]
    if last and (tail[0].seq != last["seq"] or tail[0].hash != last["hash"] or not _links(tail)):
        log.warning("audit log does not extend checkpoint %s of %s: not signing", last["n"], path)
        return None
    if not last and not verify(con).ok:
        log.warning("audit log of %s is broken: not signing its first checkpoint", warehouse_file)
        return None
    key = signing_key()
    head = chain[-1]
    entry = {
        "n": last["n"] + 1 if last else 1,
        "seq": head.seq,
        "hash": head.hash,
        "records": len(chain),
        "signed_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "prev": line_digest(lines[-1]) if lines else GENESIS,
        "public_key": public_hex(key.public_key()),
    }
    entry["signature"] = key.sign(signed_text(entry)).hex()
    path.parent.mkdir(parents=True, exist_ok=True)
    # One write() of one short line with O_APPEND: a killed writer leaves the whole line or none of it.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, (canonical_json(entry) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return entry


def _links(tail) -> bool:
    """Each record of the tail hashes to itself and follows the one before it."""
    for before, rec in zip(tail, tail[1:], strict=False):
        own = record_hash(rec.seq, rec.recorded_at, rec.kind, rec.actor, rec.subject, rec.payload, rec.prev_hash)
        if rec.seq != before.seq + 1 or rec.prev_hash != before.hash or own != rec.hash:
            return False
    return True


def export(warehouse_file: str | os.PathLike) -> str:
    """The latest checkpoint line, for publication (a web page, a newspaper, another organisation)."""
    lines = read_lines(checkpoint_path(warehouse_file))
    if not lines:
        raise CheckpointError(f"{checkpoint_path(warehouse_file)}: no checkpoint yet (run the pipeline first)")
    return lines[-1] + "\n"


@dataclass
class Report:
    """The outcome of verifying the chain against its checkpoints: empty `problems` means intact."""

    records: int = 0
    checkpoints: int = 0
    head: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def __str__(self) -> str:
        if self.ok:
            return (
                f"OK: {self.records} audit records, chain intact, its head signed in checkpoint "
                f"{self.checkpoints} (last hash {self.head[:16]})"
            )
        return "FAILED:\n" + "\n".join(f"- {p}" for p in self.problems)


def verify_anchored(
    con: duckdb.DuckDBPyConnection | None,
    checkpoints_file: Path,
    public_key: Ed25519PublicKey,
    published: list[str] = (),
) -> Report:
    """Check the checkpoint file (its chain and signatures), the published lines, and the audit chain
    against every checkpoint; name each record missing, rewritten or not covered by a checkpoint."""
    report = Report()
    entries = _checked_entries(read_lines(checkpoints_file), checkpoints_file, public_key, report)
    _check_published(published, entries, public_key, report)
    if not entries:
        if not report.problems:
            report.problems.append(f"{checkpoints_file}: no checkpoint: the chain's head is not anchored")
        return report
    chain = records(con) if con is not None else []
    report.records, report.checkpoints = len(chain), entries[-1]["n"]
    report.head = chain[-1].hash if chain else ""
    broken = verify(con) if con is not None else None
    if broken is not None and not broken.ok:
        report.problems.append(str(broken))
    by_seq = {r.seq: r for r in chain}
    matched = 0
    for entry in entries:
        rec = by_seq.get(entry["seq"])
        where = f"checkpoint {entry['n']} signed record {entry['seq']} at {entry['signed_at']}"
        if rec is None:
            last = chain[-1].seq if chain else 0
            report.problems.append(
                f"record {entry['seq']} is missing ({where}; the log ends at record {last}): "
                "records were deleted"
            )
            break
        if rec.hash != entry["hash"]:
            report.problems.append(
                f"record {entry['seq']} does not match its signature ({where}): the log was rewritten "
                f"between records {matched + 1} and {entry['seq']}"
            )
            break
        matched = entry["seq"]
    else:
        extra = [r.seq for r in chain if r.seq > entries[-1]["seq"]]
        if extra:
            report.problems.append(
                f"records {extra[0]}..{extra[-1]} come after the last signed checkpoint "
                f"({entries[-1]['n']}, record {entries[-1]['seq']}): appended by hand, or by a run that did "
                "not finish"
            )
    return report


def _checked_entries(lines: list[str], path: Path, public_key: Ed25519PublicKey, report: Report) -> list[dict]:
    """The checkpoint lines that verify, in order; the first that does not is reported and ends the walk."""
    entries, prev = [], GENESIS
    for i, line in enumerate(lines, start=1):
        try:
            entry = json.loads(line)
            problem = _entry_problem(entry, public_key)
        except (ValueError, TypeError, KeyError):
            problem = "is not a checkpoint record"
            entry = {}
        if not problem and entry["n"] != i:
            problem = f"is numbered {entry['n']}: checkpoints were removed or inserted"
        if not problem and entry["prev"] != prev:
            problem = "does not follow from the line before it: checkpoints were removed or inserted"
        if problem:
            report.problems.append(f"{path.name} line {i} {problem}")
            break
        entries.append(entry)
        prev = line_digest(line)
    return entries


def _entry_problem(entry: dict, public_key: Ed25519PublicKey) -> str:
    if entry["public_key"] != public_hex(public_key):
        return f"is signed by another key ({entry['public_key'][:16]}...): forged"
    try:
        public_key.verify(bytes.fromhex(entry["signature"]), signed_text(entry))
    except (InvalidSignature, ValueError):
        return "has a signature that does not verify: forged or edited"
    return ""


def _check_published(published, entries: list[dict], public_key: Ed25519PublicKey, report: Report) -> None:
    """Each published line must verify and be in the checkpoint file as published."""
    by_n = {e["n"]: e for e in entries}
    for line in published:
        try:
            entry = json.loads(line)
            problem = _entry_problem(entry, public_key)
        except (ValueError, TypeError, KeyError):
            report.problems.append("the published checkpoint is not a checkpoint record")
            continue
        if problem:
            report.problems.append(f"the published checkpoint {entry.get('n')} {problem}")
        elif by_n.get(entry["n"]) != entry:
            report.problems.append(
                f"the published checkpoint {entry['n']} (record {entry['seq']}, hash {entry['hash'][:16]}, "
                f"signed {entry['signed_at']}) is not in the checkpoint file: both files were rewritten"
            )
