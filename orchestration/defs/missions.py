"""Mission planning in Dagster: the plan asset, a per-shift schedule, the override inbox and landing sensors.

Thin glue over models.planning: the assets call `plan_shift` / `apply_pending` and republish the serving
snapshot; the sensors only look at files and request runs (they never write the warehouse).
"""

import hashlib
from datetime import datetime, timedelta

import dagster as dg
from dagster_dbt import build_dbt_asset_selection

from beatwise import paths, recovery
from models.planning import PlanningError
from models.planning.briefing import write_briefings, write_missing_briefings
from models.planning.overrides import apply_pending, pending
from models.planning.planner import latest_risk_shift, plan_shift
from orchestration.defs.dbt import warehouse_models
from orchestration.defs.publish import publish
from orchestration.landing import FIELD_FEEDS, changed_files_request, landing_state
from orchestration.resources import WAREHOUSE_POOL, AgencyResource, WarehouseResource, agency_named

GROUP = "missions"
MISSIONS = dg.AssetKey(["plans", "missions"])
OVERRIDES = dg.AssetKey(["plans", "overrides"])
RISK_SURFACES = dg.AssetKey(["forecast", "risk_surfaces"])
# The demo's simulated operations (demo job only) run before the next shift is planned.
SIMULATED = dg.AssetKey(["operations", "simulated_shifts"])
SHIFT_FORMAT = "%Y-%m-%d %H:%M"


class PlanRequest(dg.Config):
    """Which shift to plan: "YYYY-MM-DD HH:MM"; empty for the newest shift with risk surfaces."""

    shift: str = ""


@dg.asset(
    key=MISSIONS,
    deps=[RISK_SURFACES, SIMULATED],
    group_name=GROUP,
    pool=WAREHOUSE_POOL,
    description="The shift's randomized directed-patrol missions (plans.plans, plan_candidates, missions) "
    "and their briefings.",
)
def missions(
    context: dg.AssetExecutionContext,
    config: PlanRequest,
    agency: AgencyResource,
    warehouse: WarehouseResource,
) -> dg.MaterializeResult:
    agency_config = agency.load()
    with warehouse.connect() as con:
        shift = datetime.strptime(config.shift, SHIFT_FORMAT) if config.shift else latest_risk_shift(con)
        if shift is None:
            raise dg.Failure("no shift to plan: forecast.risk_surfaces is missing or empty")
        recovery.pause_point("planning")
        try:
            plan = plan_shift(con, agency_config, shift)
        except PlanningError as exc:
            raise dg.Failure(str(exc)) from exc
        write_missing_briefings(con, agency_config)  # every past plan keeps its briefings
        publish(con)
    for warning in plan.warnings:
        context.log.warning(warning)
    return dg.MaterializeResult(
        metadata={
            "plan_id": plan.plan_id,
            "shift_start": f"{shift:%Y-%m-%d %H:%M}",
            "seed": str(plan.seed),
            "missions": len(plan.missions),
            "candidates": len(plan.candidates),
            "eligible": int(plan.candidates["eligible"].sum()),
            "briefings": dg.MetadataValue.path(str(paths.artifacts_dir() / "briefings" / plan.plan_id)),
        }
    )


@dg.asset(
    key=OVERRIDES,
    deps=[MISSIONS],
    group_name=GROUP,
    pool=WAREHOUSE_POOL,
    description="Analysts' overrides from the inbox applied to the published plans, then republished.",
)
def overrides(
    context: dg.AssetExecutionContext, agency: AgencyResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    agency_config = agency.load()
    with warehouse.connect() as con:
        outcomes = apply_pending(con, agency_config)
        plan_ids = {
            row[0]
            for row in con.execute(
                "select distinct plan_id from plans.overrides where override_id in (select unnest(?))",
                [[o["override_id"] for o in outcomes]],
            ).fetchall()
            if row[0]
        }
        for plan_id in sorted(plan_ids):
            write_briefings(con, agency_config, plan_id)
        publish(con)
    for outcome in outcomes:
        if outcome["outcome"] != "applied":
            context.log.warning(f"override {outcome['override_id']} rejected: {outcome['message']}")
    return dg.MaterializeResult(
        metadata={
            "applied": sum(o["outcome"] == "applied" for o in outcomes),
            "rejected": sum(o["outcome"] == "rejected" for o in outcomes),
            "outcomes": dg.MetadataValue.json(outcomes),
        }
    )


plan_job = dg.define_asset_job("plan_missions", selection=[MISSIONS])
overrides_job = dg.define_asset_job("apply_overrides", selection=[OVERRIDES])
# A shift refresh: the landed feed files, the incremental incident models and the scoring view over them
# (dbt without --full-refresh), then the next shift scored by the registered champions and planned. No
# retraining and no other mart: the main job rebuilds those in full.
# The dbt side is whatever the project declares incremental, so a new incremental model joins by its config.
REFRESH_FEEDS = [dg.AssetKey(["raw", feed]) for feed in ("incidents", "calls_for_service", "gunfire_detections")]
REFRESH_MODELS = build_dbt_asset_selection(
    [warehouse_models], dbt_select="config.materialized:incremental dim_shifts fct_scoring_features"
)
refresh_job = dg.define_asset_job(
    "refresh_forecasts_and_plans",
    selection=dg.AssetSelection.assets(*REFRESH_FEEDS, dg.AssetKey(["raw", "scoring_shifts"]), RISK_SURFACES,
                                       MISSIONS) | REFRESH_MODELS,
    config={"ops": {"warehouse_models": {"config": {"full_refresh": False}}}},
)


def planning_times(shift_hours: list[int], lead_minutes: int) -> list[str]:
    """Cron expressions that fire `lead_minutes` before each shift start."""
    crons = []
    for hour in shift_hours:
        at = datetime(2000, 1, 2, hour) - timedelta(minutes=lead_minutes)
        crons.append(f"{at.minute} {at.hour} * * *")
    return sorted(set(crons))


def _shift_schedule() -> dg.ScheduleDefinition:
    config = AgencyResource().load()
    lead = config.capacity.planning_lead_minutes

    @dg.schedule(
        name=agency_named("plan_each_shift"),
        cron_schedule=planning_times(config.shift_start_hours, lead),
        job=plan_job,
        execution_timezone=config.agency.timezone,
    )
    def plan_each_shift(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        fires = context.scheduled_execution_time.replace(tzinfo=None)
        shift = (fires + timedelta(minutes=lead)).replace(second=0, microsecond=0)
        return dg.RunRequest(
            run_key=f"{shift:%Y-%m-%d %H:%M}",
            run_config={"ops": {"plans__missions": {"config": {"shift": f"{shift:%Y-%m-%d %H:%M}"}}}},
        )

    return plan_each_shift


@dg.sensor(name=agency_named("override_inbox"), job=overrides_job, minimum_interval_seconds=15,
           default_status=dg.DefaultSensorStatus.RUNNING)
def override_inbox(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    """Apply analysts' overrides within one tick of their arrival in the inbox."""
    files = pending()
    if not files:
        return dg.SkipReason("the override inbox is empty")
    key = hashlib.sha256("\n".join(f.name for f in files).encode()).hexdigest()[:16]
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=f"overrides-{key}", tags={"overrides": str(len(files))})]
    )


@dg.sensor(name=agency_named("new_feed_files"), job=refresh_job, minimum_interval_seconds=60,
           default_status=dg.DefaultSensorStatus.RUNNING)
def new_feed_files(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    """Refresh forecasts and plans when new or changed feed files land."""
    state = landing_state(lambda path: path.parts[0] not in FIELD_FEEDS)
    return changed_files_request(context, state, "landing", "no new feed files")


plan_each_shift_schedule = _shift_schedule()

defs = dg.Definitions(
    assets=[missions, overrides],
    jobs=[plan_job, overrides_job, refresh_job],
    schedules=[plan_each_shift_schedule],
    sensors=[override_inbox, new_feed_files],
)
