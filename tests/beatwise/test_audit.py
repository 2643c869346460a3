"""The hash-chained audit log: `audit verify` passes, then names the record edited, removed or inserted."""

from __future__ import annotations

import duckdb
import pytest
from click.testing import CliRunner

from beatwise import audit, warehouse
from beatwise.cli import cli


@pytest.fixture
def logged(tmp_path):
    """A warehouse holding five audit records, its head signed when the writer closed it."""
    path = tmp_path / "warehouse.duckdb"
    with warehouse.connect(path) as con:
        for i in range(1, 6):
            audit.append(
                con, "feed_load", "ingest", f"raw.incidents/{i}", {"rows": i * 100, "sha256": f"{i:064x}"}
            )
    return path


def verify(path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["audit", "verify", "--warehouse", str(path)])
    return result.exit_code, result.output


def tamper(path, sql: str) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute(sql)


def test_an_intact_chain_verifies(logged):
    code, output = verify(logged)
    assert code == 0
    assert output.startswith("OK: 5 audit records") and len(output.strip().splitlines()) == 1


def test_records_chain_and_read_back(logged):
    with duckdb.connect(str(logged), read_only=True) as con:
        records = audit.records(con)
        assert [r.seq for r in records] == [1, 2, 3, 4, 5]
        assert records[0].prev_hash == audit.GENESIS and records[3].prev_hash == records[2].hash
        assert records[4].data == {"rows": 500, "sha256": f"{5:064x}"}
        assert [r.seq for r in audit.records(con, limit=2)] == [4, 5]


def test_an_edited_record_is_named(logged):
    tamper(logged, """update raw.audit_log set payload = '{"rows":1,"sha256":"x"}' where seq = 3""")
    code, output = verify(logged)
    assert code == 1
    assert "record 3" in output and "altered" in output


def test_a_deleted_record_is_named(logged):
    tamper(logged, "delete from raw.audit_log where seq = 2")
    code, output = verify(logged)
    assert code == 1 and "record 2 is missing" in output


def test_a_deleted_last_record_is_caught_only_against_the_signed_checkpoint(logged):
    with duckdb.connect(str(logged)) as con:
        con.execute("delete from raw.audit_log where seq = 5")
        assert audit.verify(con).ok  # the chain alone cannot tell
    code, output = verify(logged)
    assert code == 1 and "record 5 is missing" in output


def test_an_inserted_record_is_named(logged):
    tamper(
        logged,
        """insert into raw.audit_log select 3, recorded_at, kind, actor, 'forged', payload, prev_hash, hash
                      from raw.audit_log where seq = 3""",
    )
    code, output = verify(logged)
    assert code == 1 and "record 3" in output and "inserted" in output


def test_a_record_slipped_in_with_renumbering_is_named(logged):
    tamper(logged, "update raw.audit_log set seq = seq + 1 where seq >= 4")
    tamper(
        logged,
        f"""insert into raw.audit_log values (4, now()::timestamp, 'feed_load', 'ingest', 'forged', '{{}}',
                       (select hash from raw.audit_log where seq = 3), '{"f" * 64}')""",
    )
    code, output = verify(logged)
    assert code == 1 and "record 4" in output


def test_show_prints_the_last_records_of_a_kind(logged):
    with warehouse.connect(logged) as con:
        audit.append(con, "agency_config", "ingest", "chicago", {"config_sha256": "abc"})
    result = CliRunner().invoke(
        cli, ["audit", "show", "--warehouse", str(logged), "--kind", "feed_load", "--limit", "2"]
    )
    assert result.exit_code == 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 2 and "raw.incidents/4" in lines[0] and "raw.incidents/5" in lines[1]


def test_verify_without_a_warehouse_says_so(tmp_path):
    code, output = verify(tmp_path / "none.duckdb")
    assert code == 1 and "no warehouse" in output
