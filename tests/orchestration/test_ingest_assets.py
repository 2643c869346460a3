"""The ingest assets, materialized in process with the geography assets on the embedded sample."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb

from beatwise import audit
from beatwise.contracts import CONTRACTS
from orchestration.defs import geography, ingest
from orchestration.resources import WAREHOUSE_POOL, AgencyResource, WarehouseResource

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_CONFIG = ROOT / "config" / "chicago_sample.yaml"


def test_ingest_assets_declare_keys_group_pool_and_dependencies():
    keys = {a.key.to_user_string() for a in ingest.defs.assets}
    assert keys == {f"raw/{feed}" for feed in CONTRACTS} | {"raw/agency_config"}
    incidents = next(a for a in ingest.defs.assets if a.key.to_user_string() == "raw/incidents")
    assert {k.to_user_string() for k in incidents.dependency_keys} == {
        "raw/cells",
        "raw/offence_codes",
        "raw/beats",
    }
    for asset in ingest.defs.assets:
        assert set(asset.group_names_by_key.values()) == {"ingest"}
        assert asset.node_def.pool == WAREHOUSE_POOL


def test_ingest_and_geography_materialize_on_the_sample(tmp_path, fresh_home):
    warehouse_file = tmp_path / "warehouse.duckdb"
    resources = {
        "agency": AgencyResource(config_path=str(SAMPLE_CONFIG)),
        "warehouse": WarehouseResource(path=str(warehouse_file)),
    }

    result = dg.materialize(
        [*ingest.defs.assets, geography.cells, geography.cell_environment, geography.holidays],
        resources=resources,
    )

    assert result.success
    meta = result.asset_materializations_for_node("raw__incidents")[0].metadata
    assert meta["rows_read"].value == 88_703
    assert meta["rows_loaded"].value + meta["rows_quarantined"].value == 88_703
    assert meta["unknown_offence_codes"].value > 0  # codes newer than the IUCR lookup: kept, counted
    assert list(meta["file_digests"].value) == ["incidents.parquet"]
    with duckdb.connect(str(warehouse_file), read_only=True) as con:
        assert con.execute("select count(*) from raw.incidents").fetchall()[0][0] == meta["rows_loaded"].value
        reasons = dict(
            con.execute("""select split_part(reason, ':', 1), count(*) from raw.quarantine
                                      where feed = 'incidents' group by 1""").fetchall()
        )
        assert set(reasons) <= {
            "missing x; missing y",
            "missing y; missing x",
            "outside the jurisdiction",
            "x fails 'coordinate is zero (no location)'",
        }
        assert con.execute("select count(*) from raw.avl_pings").fetchall()[0][0] == 0  # delivered later
        assert con.execute("select count(*) from raw.cell_environment").fetchall()[0][0] > 0
        assert audit.verify(con).ok
        assert {r.kind for r in audit.records(con)} == {"feed_load", "agency_config"}

    # Run again: the file is not read again, and says so; the launchpad's reload reads it.
    (incidents,) = [a for a in ingest.feed_assets if a.key == dg.AssetKey(["raw", "incidents"])]
    again = dg.materialize([incidents], resources=resources).asset_materializations_for_node("raw__incidents")
    reloaded = dg.materialize([incidents], resources=resources,
                              run_config={"ops": {"raw__incidents": {"config": {"reload": True}}}})
    repeat, reread = again[0].metadata, reloaded.asset_materializations_for_node("raw__incidents")[0].metadata
    assert (repeat["files_unchanged"].value, reread["files_unchanged"].value) == (1, 0)
    for name in ("rows_read", "unknown_offence_codes"):
        assert repeat[name].value == reread[name].value == meta[name].value, name


def test_run_reload_asks_every_feed_of_the_job_to_read_its_files_again():
    from orchestration.cli import reload_run_config
    from orchestration.definitions import defs

    for name in ("main", "demo", "refresh_forecasts_and_plans"):
        job = defs.resolve_job_def(name)
        ops = reload_run_config(name)["ops"]
        assert "raw__incidents" in ops and all(o["config"] == {"reload": True} for o in ops.values())
        assert dg.validate_run_config(job, {"ops": ops}), name
