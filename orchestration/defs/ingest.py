"""Ingest assets: one per feed (`raw/<feed>`) plus the agency configuration. Logic: beatwise.ingest."""

import dagster as dg
from pydantic import Field

from beatwise import recovery
from beatwise.contracts import CONTRACTS
from beatwise.ingest import load_feed
from beatwise.ingest.agency_config import load_agency_config
from orchestration.resources import WAREHOUSE_POOL, AgencyResource, WarehouseResource

GROUP = "ingest"
# Incidents are checked against the jurisdiction's cells and counted against the offence code lookup.
# A missing district is filled from the beat in raw.beats.
# Calls for service and gunfire detections (features of the forecast) are checked against the cells too.
UPSTREAM = {
    "incidents": [["raw", "cells"], ["raw", "offence_codes"], ["raw", "beats"]],
    "calls_for_service": [["raw", "cells"]],
    "gunfire_detections": [["raw", "cells"]],
}


class FeedLoadConfig(dg.Config):
    reload: bool = Field(
        False, description="read every file again, also those a load would not change (skipped by default)")


def _feed_asset(feed: str) -> dg.AssetsDefinition:
    @dg.asset(
        name=feed,
        key_prefix=["raw"],
        deps=[dg.AssetKey(key) for key in UPSTREAM.get(feed, [])],
        group_name=GROUP,
        pool=WAREHOUSE_POOL,
        description=f"raw.{feed}: the {feed} feed's files and landing files, validated against its contract; "
        "rejected rows in raw.quarantine.",
    )
    def _asset(config: FeedLoadConfig, agency: AgencyResource, warehouse: WarehouseResource) -> dg.MaterializeResult:
        with warehouse.connect() as con:
            recovery.pause_point("ingest")
            result = load_feed(con, agency.load(), feed, actor="dagster", reload=config.reload)
        files = result.files
        return dg.MaterializeResult(
            metadata={
                "files": len(files),
                "files_unchanged": sum(f.status == "unchanged" for f in files),
                "rows_read": result.total("rows_read"),
                "rows_loaded": sum(f.rows_loaded for f in files),
                "rows_inserted": result.total("rows_inserted"),
                "rows_updated": result.total("rows_updated"),
                "rows_unchanged": result.total("rows_unchanged"),
                "rows_quarantined": result.total("rows_quarantined"),
                "rows_merged": result.total("rows_merged"),
                "identical_rows": result.total("identical_rows"),
                "unknown_offence_codes": sum(result.unknown_offence_codes.values()),
                "districts_from_beat": result.total("districts_from_beat"),
                "file_digests": dg.MetadataValue.json({f.file: f.sha256 for f in files}),
                # landing files refused whole (logged in raw.load_log): the run went on without them
                "landing_files_refused": dg.MetadataValue.json({e.file: e.message for e in result.refused}),
            }
        )

    return _asset


feed_assets = [_feed_asset(feed) for feed in CONTRACTS]


@dg.asset(
    key=["raw", "agency_config"],
    group_name=GROUP,
    pool=WAREHOUSE_POOL,
    description="The agency configuration as tables (crime types and their offences, priorities, shifts).",
)
def agency_config(agency: AgencyResource, warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        written = load_agency_config(con, agency.load(), actor="dagster")
    return dg.MaterializeResult(metadata={**written, "config_file": agency.file})


defs = dg.Definitions(assets=[*feed_assets, agency_config])
