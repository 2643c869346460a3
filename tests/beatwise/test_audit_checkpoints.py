"""Signed checkpoints: every way an attacker with write access to the warehouse (and to the checkpoint
file, but not to the signing key) rewrites the audit log fails `beatwise audit verify`, naming it.

The warehouse is a real one: the sample's small feeds ingested by three writers in turn, each of which
signs the chain's head when it closes the warehouse.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from beatwise import audit, warehouse
from beatwise.audit import checkpoints
from beatwise.cli import cli
from beatwise.ingest import load_feed

FEEDS = ["offence_codes", "beats", "districts", "liquor_premises", "land_use", "weather_daily"]


@pytest.fixture(scope="module")
def sealed_original(tmp_path_factory, sample_config) -> Path:
    path = tmp_path_factory.mktemp("sealed") / "warehouse.duckdb"
    for _writer in range(3):
        with warehouse.connect(path) as con:
            for feed in FEEDS:
                load_feed(con, sample_config, feed)
    return path


@pytest.fixture
def sealed(sealed_original, tmp_path) -> Path:
    """A copy of the warehouse and its checkpoint file, free to tamper with."""
    target = tmp_path / "warehouse.duckdb"
    shutil.copy(sealed_original, target)
    shutil.copytree(sealed_original.parent / "audit", tmp_path / "audit")
    return target


def verify(path: Path, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["audit", "verify", "--warehouse", str(path), *extra])
    return result.exit_code, result.output


def sql(path: Path, statement: str, params=()) -> list:
    with duckdb.connect(str(path)) as con:  # the attacker's own connection: it signs nothing
        return con.execute(statement, list(params)).fetchall()


def last_seq(path: Path) -> int:
    return sql(path, "select max(seq) from raw.audit_log")[0][0]


def rehash_from(path: Path, seq: int) -> None:
    """What a careful forger does: recompute every hash from `seq` on so that the chain links again."""
    with duckdb.connect(str(path)) as con:
        chain = audit.records(con)
        prev = next((r.hash for r in chain if r.seq == seq - 1), audit.GENESIS)
        for rec in chain:
            if rec.seq < seq:
                continue
            digest = audit.record_hash(
                rec.seq, rec.recorded_at, rec.kind, rec.actor, rec.subject, rec.payload, prev
            )
            con.execute("update raw.audit_log set prev_hash = ?, hash = ? where seq = ?", [prev, digest, rec.seq])
            prev = digest


def checkpoint_file(path: Path) -> Path:
    return checkpoints.checkpoint_path(path)


def test_the_real_log_is_signed_after_every_writer_and_verifies(sealed):
    lines = checkpoints.read_lines(checkpoint_file(sealed))
    assert len(lines) == 3 and last_seq(sealed) >= 12
    assert json.loads(lines[-1])["seq"] == last_seq(sealed)
    assert oct(checkpoints.key_path().stat().st_mode & 0o777) == "0o600"
    code, output = verify(sealed)
    assert code == 0, output
    assert output.startswith(f"OK: {last_seq(sealed)} audit records") and "checkpoint 3" in output


def test_an_edited_field_is_named(sealed):
    sql(sealed, "update raw.audit_log set payload = '{\"rows\":1}' where seq = 4")
    code, output = verify(sealed)
    assert code == 1 and "record 4" in output and "altered" in output


def test_an_edited_actor_is_named(sealed):
    sql(sealed, "update raw.audit_log set actor = 'someone' where seq = 5")
    code, output = verify(sealed)
    assert code == 1 and "record 5" in output and "altered" in output


def test_a_deleted_middle_record_is_named(sealed):
    sql(sealed, "delete from raw.audit_log where seq = 3")
    code, output = verify(sealed)
    assert code == 1 and "record 3 is missing" in output


def test_the_last_record_deleted_is_named(sealed):
    last = last_seq(sealed)
    sql(sealed, "delete from raw.audit_log where seq = ?", [last])
    code, output = verify(sealed)
    assert code == 1 and f"record {last} is missing" in output and "deleted" in output


def test_the_last_ten_records_deleted_are_named(sealed):
    last = last_seq(sealed)
    sql(sealed, "delete from raw.audit_log where seq > ?", [last - 10])
    code, output = verify(sealed)
    assert code == 1 and "is missing" in output and f"ends at record {last - 10}" in output


def test_every_record_deleted_is_named(sealed):
    sql(sealed, "delete from raw.audit_log")
    code, output = verify(sealed)
    assert code == 1 and "is missing" in output and "ends at record 0" in output


def test_the_audit_table_dropped_is_named(sealed):
    sql(sealed, "drop table raw.audit_log")
    code, output = verify(sealed)
    assert code == 1 and "is missing" in output


def test_a_forged_record_appended_with_its_hash_recomputed_is_named(sealed):
    with duckdb.connect(str(sealed)) as con:
        forged = audit.append(con, "override", "analyst", "plan/x", {"outcome": "applied"})
    code, output = verify(sealed)
    assert code == 1 and f"records {forged.seq}..{forged.seq} come after the last signed checkpoint" in output


def test_a_forged_record_inserted_mid_chain_and_rehashed_is_named(sealed):
    sql(sealed, "update raw.audit_log set seq = seq + 1 where seq >= 6")
    sql(sealed, "insert into raw.audit_log select 6, recorded_at, kind, actor, 'forged', payload, prev_hash, "
                "hash from raw.audit_log where seq = 5")
    rehash_from(sealed, 6)
    code, output = verify(sealed)
    assert code == 1 and "does not match its signature" in output and "rewritten" in output


def test_an_edit_rehashed_from_there_is_named(sealed):
    sql(sealed, "update raw.audit_log set payload = '{\"rows\":0}' where seq = 7")
    rehash_from(sealed, 7)
    with duckdb.connect(str(sealed), read_only=True) as con:
        assert audit.verify(con).ok  # the chain alone is fooled
    code, output = verify(sealed)
    assert code == 1 and "does not match its signature" in output


def test_a_forged_checkpoint_line_is_named(sealed):
    path = checkpoint_file(sealed)
    lines = checkpoints.read_lines(path)
    entry = json.loads(lines[-1])
    entry["hash"] = "f" * 64
    path.write_text("\n".join([*lines[:-1], audit.canonical_json(entry)]) + "\n")
    code, output = verify(sealed)
    assert code == 1 and "line 3 has a signature that does not verify" in output


def test_a_checkpoint_file_signed_with_another_key_is_named(sealed):
    path = checkpoint_file(sealed)
    entry = json.loads(checkpoints.read_lines(path)[0])
    other = Ed25519PrivateKey.generate()
    entry["public_key"] = checkpoints.public_hex(other.public_key())
    entry["signature"] = other.sign(checkpoints.signed_text(entry)).hex()
    path.write_text(audit.canonical_json(entry) + "\n")
    code, output = verify(sealed)
    assert code == 1 and "signed by another key" in output


def test_a_removed_checkpoint_line_is_named(sealed):
    path = checkpoint_file(sealed)
    lines = checkpoints.read_lines(path)
    path.write_text("\n".join([lines[0], lines[2]]) + "\n")
    code, output = verify(sealed)
    assert code == 1 and "line 2 is numbered 3" in output


def test_a_rewrite_of_both_files_is_caught_against_the_published_checkpoint(sealed, tmp_path):
    published = tmp_path / "published.jsonl"
    result = CliRunner().invoke(cli, ["audit", "checkpoint", "--warehouse", str(sealed), "--export", str(published)])
    assert result.exit_code == 0, result.output
    # Delete what the last writer logged and the checkpoint that signed it: both files agree again.
    second = json.loads(checkpoints.read_lines(checkpoint_file(sealed))[1])
    sql(sealed, "delete from raw.audit_log where seq > ?", [second["seq"]])
    path = checkpoint_file(sealed)
    path.write_text("\n".join(checkpoints.read_lines(path)[:2]) + "\n")
    assert verify(sealed)[0] == 0  # without an outside copy nothing can tell
    code, output = verify(sealed, "--published", str(published))
    assert code == 1 and "published checkpoint 3" in output and "not in the checkpoint file" in output


def test_an_auditor_verifies_copies_with_only_the_public_key(sealed, tmp_path):
    public = checkpoints.key_path().with_suffix(".pub").read_text().strip()
    copies = tmp_path / "auditor"
    copies.mkdir()
    shutil.copy(sealed, copies / "copy.duckdb")
    shutil.copy(checkpoint_file(sealed), copies / "checkpoints.jsonl")
    args = ["--checkpoints", str(copies / "checkpoints.jsonl"), "--public-key", public]
    assert verify(copies / "copy.duckdb", *args)[0] == 0
    sql(copies / "copy.duckdb", "delete from raw.audit_log where seq = ?", [last_seq(sealed)])
    code, output = verify(copies / "copy.duckdb", *args)
    assert code == 1 and "is missing" in output
    wrong = checkpoints.public_hex(Ed25519PrivateKey.generate().public_key())
    code, output = verify(sealed, "--public-key", wrong)
    assert code == 1 and "signed by another key" in output


def test_a_writer_does_not_sign_a_rewritten_log(sealed):
    sql(sealed, "delete from raw.audit_log where seq = ?", [last_seq(sealed)])
    with warehouse.connect(sealed) as con:
        audit.append(con, "feed_load", "ingest", "raw.x", {"rows": 1})
    assert len(checkpoints.read_lines(checkpoint_file(sealed))) == 3
    assert verify(sealed)[0] == 1
