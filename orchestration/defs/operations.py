"""Field operations and impact in Dagster: the simulated-operations replay (the demo), the impact estimate.

Thin glue. `simulated_operations` replays the last four weeks of the data with simulated AVL pings and
activity logs (beatwise.simulate through the real planner and ingest: models.impact.replay); dbt then
builds the dosage and report marts (dbt_project/models/operations, which depend on this asset through the
`operations.simulated_shifts` source); `impact` estimates the effect of assignment from the plans. The
serving snapshot is published after both (orchestration/defs/publish.py).
"""

import dagster as dg

from models.impact.outcomes import ImpactError, estimate_impact
from models.impact.replay import simulate_recent_operations
from models.planning.briefing import write_missing_briefings
from orchestration.resources import WAREHOUSE_POOL, AgencyResource, WarehouseResource

GROUP = "operations"
SIMULATED = dg.AssetKey(["operations", "simulated_shifts"])
IMPACT = dg.AssetKey(["marts", "rpt_impact"])


class ReplayRequest(dg.Config):
    """How many of the last days of data to replay with simulated operations, and the simulator's seed."""

    days: int = 28
    seed: int = 1


@dg.asset(
    key=SIMULATED,
    deps=[
        dg.AssetKey(["plans", "missions"]),
        dg.AssetKey(["forecast", "models"]),
        dg.AssetKey(["intermediate", "int_incidents"]),
        dg.AssetKey(["marts", "dim_cells"]),
    ],
    group_name=GROUP,
    pool=WAREHOUSE_POOL,
    description="SIMULATED field operations: the last weeks of the data replayed shift by shift (real plan "
    "-> simulated units -> AVL pings and activity logs as landing files -> real ingest). The shifts are "
    "listed in operations.simulated_shifts and every report marks them simulated_operations.",
    tags={"simulated": "true"},
)
def simulated_operations(
    config: ReplayRequest, agency: AgencyResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        agency_config = agency.load()
        result = simulate_recent_operations(con, agency_config, days=config.days, seed=config.seed, actor="dagster")
        write_missing_briefings(con, agency_config)  # the replayed plans get their roll-call briefings too
    return dg.MaterializeResult(
        metadata={
            "simulated": True,
            "shifts": result["shifts"],
            "first_shift": f"{result['first_shift']:%Y-%m-%d %H:%M}",
            "last_shift": f"{result['last_shift']:%Y-%m-%d %H:%M}",
            "missions": result["missions"],
            "pings": result["pings"],
            "activities": result["activities"],
            "risk_method": result["risk_method"],
            "rows_quarantined": dg.MetadataValue.json(result["rows_quarantined"]),
        }
    )


@dg.asset(
    key=IMPACT,
    deps=[
        dg.AssetKey(["marts", "fct_mission_dosage"]),
        dg.AssetKey(["marts", "fct_cell_shift_counts"]),
        dg.AssetKey(["marts", "dim_shifts"]),
    ],
    group_name=GROUP,
    pool=WAREHOUSE_POOL,
    description="marts.rpt_impact: the effect of being assigned a mission on crime (same and next shift, "
    "per crime type and pooled; Hajek IPW with the recorded inclusion probabilities, plan-clustered 95% "
    "intervals) and marts.rpt_dose_response (observational). Logged to MLflow and the audit log.",
)
def impact(
    context: dg.AssetExecutionContext, agency: AgencyResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        try:
            result = estimate_impact(con, agency.load(), actor="dagster")
        except ImpactError as exc:
            context.log.warning(f"no impact estimate: {exc}")
            return dg.MaterializeResult(metadata={"estimated": False, "reason": str(exc)})
    headline = result["headline"] or {}
    return dg.MaterializeResult(
        metadata={
            "estimated": True,
            "plans": result["plans"],
            "candidates": result["candidates"],
            "mlflow_run_id": result["mlflow_run_id"] or "",
            "pool_same_shift_estimate": headline.get("estimate"),
            "pool_same_shift_ci": dg.MetadataValue.json([headline.get("ci_low"), headline.get("ci_high")]),
        }
    )


defs = dg.Definitions(assets=[simulated_operations, impact])
