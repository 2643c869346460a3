"""Field operations and impact in Dagster: the simulated-operations replay (the demo only), the impact
estimate, and the `field_operations` job with its sensor for real AVL and activity files.

Thin glue. `simulated_operations` replays the last weeks of the data with simulated AVL pings and activity
logs (beatwise.simulate through the real planner and ingest: models.impact.replay); it runs only in the
`demo` job, for a config with a `demo:` block, and before the next shift is planned. dbt builds the dosage
and report marts (dbt_project/models/operations, which read `operations.simulated_shifts` to mark simulated
shifts); `impact` estimates the effect of assignment from the plans. Real AVL and activity files dropped in
the landing folder start `field_operations`: their ingest, the marts after them, the serving snapshot.
"""

import dagster as dg

from models.impact.outcomes import ImpactError, estimate_impact
from models.impact.replay import FILE_PREFIX, simulate_recent_operations
from models.planning.briefing import write_missing_briefings
from orchestration.landing import FIELD_FEEDS, changed_files_request, landing_state
from orchestration.resources import WAREHOUSE_POOL, AgencyResource, WarehouseResource, agency_named

GROUP = "operations"
SIMULATED = dg.AssetKey(["operations", "simulated_shifts"])
IMPACT = dg.AssetKey(["marts", "rpt_impact"])


class ReplayRequest(dg.Config):
    """Override the config's `demo.simulated_operations_days` and `demo.seed` (unset: the config's)."""

    days: int | None = None
    seed: int | None = None


@dg.asset(
    key=SIMULATED,
    deps=[
        dg.AssetKey(["forecast", "models"]),
        dg.AssetKey(["intermediate", "int_incidents"]),
        dg.AssetKey(["marts", "dim_cells"]),
    ],
    group_name=GROUP,
    pool=WAREHOUSE_POOL,
    description="SIMULATED field operations, demo configs only: the last weeks of the data replayed shift by "
    "shift (real planner -> simulated units -> AVL pings and activity logs as landing files -> real ingest). "
    "The shifts are listed in operations.simulated_shifts, their plans flagged plans.plans.simulated, and "
    "every report marks them simulated_operations.",
    tags={"simulated": "true"},
)
def simulated_operations(
    config: ReplayRequest, agency: AgencyResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    agency_config = agency.load()
    if agency_config.demo is None:
        raise dg.Failure(f"{agency.file}: no `demo:` block, so no simulated operations are written "
                         "(run the `main` job; add a `demo:` block only to a demo config)")
    demo = agency_config.demo
    with warehouse.connect() as con:
        result = simulate_recent_operations(
            con,
            agency_config,
            days=demo.simulated_operations_days if config.days is None else config.days,
            seed=demo.seed if config.seed is None else config.seed,
            actor="dagster",
        )
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


field_operations_job = dg.define_asset_job(
    "field_operations",
    selection=dg.AssetSelection.assets(*(dg.AssetKey(["raw", f]) for f in FIELD_FEEDS)).downstream(),
    description="real AVL and activity files: ingest, the dosage and report marts, impact, the snapshot",
)


@dg.sensor(name=agency_named("new_field_files"), job=field_operations_job, minimum_interval_seconds=60,
           default_status=dg.DefaultSensorStatus.RUNNING)
def new_field_files(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    """Load real AVL and activity files when they land, and rebuild the reports from them (the demo's own
    simulated files are the demo job's)."""
    state = landing_state(lambda path: path.parts[0] in FIELD_FEEDS and not path.name.startswith(FILE_PREFIX))
    return changed_files_request(context, state, "field", "no new AVL or activity files")


defs = dg.Definitions(
    assets=[simulated_operations, impact], jobs=[field_operations_job], sensors=[new_field_files]
)
