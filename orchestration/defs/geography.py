"""Geography assets: the grid cells, their environment and the holiday calendar. Logic: beatwise.geography."""

from __future__ import annotations

import time

import dagster as dg

from beatwise.geography import write_cell_environment, write_cells, write_holidays
from beatwise.geography.layers import POLYGON_ROLES
from orchestration.resources import WAREHOUSE_POOL, AgencyResource, WarehouseResource

GROUP = "geography"


@dg.asset(
    key=["raw", "cells"],
    deps=[dg.AssetKey(["raw", role]) for role in POLYGON_ROLES],
    group_name=GROUP,
    pool=WAREHOUSE_POOL,
    description="The jurisdiction's grid cells, with the district, current beat and neighbourhood covering "
    "most of each (every polygon role optional; without any, the jurisdiction derived from the incidents).",
)
def cells(agency: AgencyResource, warehouse: WarehouseResource) -> dg.MaterializeResult:
    config = agency.load()
    started = time.perf_counter()
    with warehouse.connect() as con:
        table = write_cells(con, config)
    per_district = {str(k): int(v) for k, v in table.groupby("district").size().items()}
    return dg.MaterializeResult(metadata={
        "cells": len(table),
        "cell_size": config.grid.cell_size,
        "cells_per_district": dg.MetadataValue.json(per_district),
        "cells_without_beat": int(table["beat"].isna().sum()),
        "jurisdiction": "derived from the incidents (no polygon layer)"
        if all(role not in config.feeds for role in POLYGON_ROLES) else "from the polygon layers",
        "seconds": round(time.perf_counter() - started, 3),
    })


@dg.asset(
    key=["raw", "cell_environment"],
    deps=[dg.AssetKey(["raw", "cells"]), dg.AssetKey(["raw", "liquor_premises"]),
          dg.AssetKey(["raw", "land_use"]), dg.AssetKey(["raw", "venues"])],
    group_name=GROUP,
    pool=WAREHOUSE_POOL,
    description="Per cell: liquor-licensed premises in and near it, land-use shares, distance to venues.",
)
def cell_environment(agency: AgencyResource, warehouse: WarehouseResource) -> dg.MaterializeResult:
    config = agency.load()
    started = time.perf_counter()
    with warehouse.connect() as con:
        table = write_cell_environment(con, config)
    return dg.MaterializeResult(metadata={
        "cells": len(table),
        "cells_with_liquor_premises": int((table["liquor_premises_in_cell"] > 0).sum()),
        "mean_residential_share": round(float(table["residential_share"].mean()), 4),
        "seconds": round(time.perf_counter() - started, 3),
    })


@dg.asset(
    key=["raw", "holidays"],
    group_name=GROUP,
    pool=WAREHOUSE_POOL,
    description="Public holidays of the agency's country and subdivision, history years plus two ahead.",
)
def holidays(agency: AgencyResource, warehouse: WarehouseResource) -> dg.MaterializeResult:
    config = agency.load()
    started = time.perf_counter()
    with warehouse.connect() as con:
        table = write_holidays(con, config)
    return dg.MaterializeResult(metadata={
        "holidays": len(table),
        "first": str(table["date"].min()),
        "last": str(table["date"].max()),
        "seconds": round(time.perf_counter() - started, 3),
    })


defs = dg.Definitions(assets=[cells, cell_environment, holidays])
