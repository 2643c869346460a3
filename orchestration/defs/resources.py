"""Resources shared by every area."""

import dagster as dg

from orchestration.resources import AgencyResource, WarehouseResource

defs = dg.Definitions(resources={"agency": AgencyResource(), "warehouse": WarehouseResource()})
