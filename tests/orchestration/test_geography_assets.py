"""The geography assets, materialized in process after the ingest of the embedded sample's layers."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb

from orchestration.defs import geography, ingest
from orchestration.resources import AgencyResource, WarehouseResource

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_CONFIG = ROOT / "config" / "chicago_sample.yaml"
LAYERS = {"districts", "beats", "liquor_premises", "land_use", "venues"}


def test_ingest_then_geography_on_the_sample(tmp_path):
    warehouse_file = tmp_path / "warehouse.duckdb"
    resources = {"agency": AgencyResource(config_path=str(SAMPLE_CONFIG)),
                 "warehouse": WarehouseResource(path=str(warehouse_file))}
    feeds = [asset for asset in ingest.feed_assets if asset.key.path[-1] in LAYERS]
    assets = [*feeds, geography.cells, geography.cell_environment, geography.holidays]

    result = dg.materialize(assets, resources=resources)

    assert result.success
    cells_meta = result.asset_materializations_for_node("raw__cells")[0].metadata
    assert cells_meta["cells"].value == 2773
    assert cells_meta["cells_per_district"].value == {"10": 925, "11": 714, "12": 1134}
    with duckdb.connect(str(warehouse_file), read_only=True) as con:
        (cells, beats), = con.execute("select count(*), count(distinct beat) from raw.cells").fetchall()
        (environment, premises), = con.execute(
            "select count(*), sum(liquor_premises_in_cell) from raw.cell_environment").fetchall()
        (orphans,), = con.execute(
            "select count(*) from raw.cell_environment anti join raw.cells using (cell_id)").fetchall()
        (holidays,), = con.execute("select count(*) from raw.holidays").fetchall()
    assert cells == environment == 2773 and orphans == 0
    assert beats == 42  # the 2012 beats of districts 10-12, not the 36 older ones
    assert premises > 100 and holidays > 40


def test_geography_assets_declare_their_dependencies():
    def deps(asset: dg.AssetsDefinition) -> set[str]:
        return {key.to_user_string() for key in asset.dependency_keys}

    assert deps(geography.cells) == {"raw/jurisdiction", "raw/districts", "raw/beats", "raw/neighbourhoods"}
    assert deps(geography.cell_environment) == {
        "raw/cells", "raw/liquor_premises", "raw/land_use", "raw/venues"}
    assert deps(geography.holidays) == set()
    for asset in (geography.cells, geography.cell_environment, geography.holidays):
        assert set(asset.group_names_by_key.values()) == {"geography"}
    produced = {asset.key.to_user_string() for asset in ingest.feed_assets}
    assert deps(geography.cells) | deps(geography.cell_environment) - {"raw/cells"} <= produced
