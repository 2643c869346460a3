"""Forecasting in Dagster: train and gate the models, the backtest table, and each shift's risk surfaces.

Thin glue over models.forecasting.pipeline. Every asset writes the warehouse or the MLflow SQLite store,
so all run in the warehouse pool (one writer for both).
"""

from datetime import datetime

import dagster as dg

from beatwise import recovery
from beatwise.memory import release_freed_memory
from models.forecasting.pipeline import score_shift, train_and_register, tune_settings, write_scoring_shifts
from orchestration.resources import WAREHOUSE_POOL, AgencyResource, WarehouseResource

GROUP = "forecast"
MODELS = dg.AssetKey(["forecast", "models"])
BACKTEST = dg.AssetKey(["forecast", "backtest_metrics"])
SCORING_SHIFTS = dg.AssetKey(["raw", "scoring_shifts"])
RISK_SURFACES = dg.AssetKey(["forecast", "risk_surfaces"])
SHIFT_FORMAT = "%Y-%m-%d %H:%M"


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            MODELS,
            group_name=GROUP,
            description="One model per crime type (LightGBM, Poisson) in the "
            "MLflow registry; `champion` alias on the model if it wins the harm-weighted gate "
            "(models/forecasting/champion.py), else on the best baseline; reasons in forecast.champion_gate.",
            deps=[
                dg.AssetKey(["marts", "fct_training_set"]),
                dg.AssetKey(["intermediate", "int_incidents"]),
                dg.AssetKey(["marts", "dim_cells"]),
            ],
        ),
        dg.AssetSpec(
            BACKTEST,
            group_name=GROUP,
            description="forecast.backtest_metrics: every method's metrics "
            "per crime type on the rolling-origin backtest.",
        ),
    ],
    pool=WAREHOUSE_POOL,
)
def forecast_models(agency: AgencyResource, warehouse: WarehouseResource):
    config = agency.load()
    release_freed_memory()  # what the ingest freed, before training's frames
    with warehouse.connect() as con:
        recovery.pause_point("training")
        backtest, registered = train_and_register(con, config)
    per_type = {
        t: {
            "champion": d.champion,
            "version": registered[t]["version"],
            "best_baseline": d.best_baseline,
            "champion_pai_1": round(backtest.metrics[t][d.champion]["pai_1"], 3),
            "baseline_pai_1": round(backtest.metrics[t][d.best_baseline]["pai_1"], 3),
            "gate": d.reason,
        }
        for t, d in backtest.decisions.items()
    }
    yield dg.MaterializeResult(
        asset_key=MODELS,
        metadata={
            "crime_types": dg.MetadataValue.json(per_type),
            **{f"champion/{t}": v["champion"] for t, v in per_type.items()},
        },
    )
    yield dg.MaterializeResult(
        asset_key=BACKTEST,
        metadata={
            "shifts": len(backtest.shifts),
            "first_shift": f"{backtest.shifts[0]:%Y-%m-%d %H:%M}",
            "last_shift": f"{backtest.shifts[-1]:%Y-%m-%d %H:%M}",
            "harm_capture_1_champion": round(backtest.harm_capture["champion"]["1"], 4),
            "harm_capture_1_best_baseline": round(backtest.harm_capture["best_baseline"]["1"], 4),
            "table": dg.MetadataValue.md(backtest.table().round(4).to_markdown(index=False)),
        },
    )


class ScoringRequest(dg.Config):
    """Which shift to score: "YYYY-MM-DD HH:MM"; empty for the first shift after the data."""

    shift: str = ""


@dg.asset(
    key=SCORING_SHIFTS,
    group_name=GROUP,
    pool=WAREHOUSE_POOL,
    deps=[dg.AssetKey(["raw", "incidents"])],
    description="raw.scoring_shifts: the shift that fct_scoring_features computes features for.",
)
def scoring_shifts(
    config: ScoringRequest, agency: AgencyResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    shift = datetime.strptime(config.shift, SHIFT_FORMAT) if config.shift else None
    with warehouse.connect() as con:
        chosen = write_scoring_shifts(con, agency.load(), shift)
    return dg.MaterializeResult(metadata={"shift_start": f"{chosen:%Y-%m-%d %H:%M}"})


@dg.asset(
    key=RISK_SURFACES,
    group_name=GROUP,
    pool=WAREHOUSE_POOL,
    deps=[MODELS, SCORING_SHIFTS, dg.AssetKey(["marts", "fct_scoring_features"])],
    description="forecast.risk_surfaces and forecast.risk_drivers for the scoring shift: every crime type, "
    "every cell, by its champion; inputs and outputs kept with their digests in the audit log.",
)
def risk_surfaces(agency: AgencyResource, warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        result = score_shift(con, agency.load())
    return dg.MaterializeResult(
        metadata={
            "shift_start": f"{result['shift_start']:%Y-%m-%d %H:%M}",
            "rows": result["rows"],
            "cells": result["cells"],
            "audit_seq": result["audit_seq"],
            "champions": dg.MetadataValue.json(result["champions"]),
        }
    )


# `beatwise score --shift`: one shift's scoring features (dbt) and risk surfaces, by the registered champions.
score_job = dg.define_asset_job(
    "score_shift",
    selection=[SCORING_SHIFTS, dg.AssetKey(["marts", "fct_scoring_features"]), RISK_SURFACES],
    description="score one shift (config: ops.raw__scoring_shifts.config.shift) with the champions",
)


class TuningRequest(dg.Config):
    """The search's time budget (it stops starting new settings past it) and its number of folds."""

    budget_seconds: float = 1800.0
    folds: int = 2


@dg.op(pool=WAREHOUSE_POOL, description="The small search over the model's settings on the backtest folds "
       "(models/forecasting/tuning.py), every setting an MLflow run; not part of `main`.")
def tune_models(context: dg.OpExecutionContext, config: TuningRequest, agency: AgencyResource,
                warehouse: WarehouseResource) -> dict:
    with warehouse.connect() as con:
        tuning = tune_settings(con, agency.load(), config.budget_seconds, config.folds)
    context.add_output_metadata({
        "chosen": dg.MetadataValue.json(tuning.chosen),
        "table": dg.MetadataValue.md(tuning.table.astype({"setting": str}).round(4).to_markdown(index=False)),
        "skipped": len(tuning.skipped),
    })
    return tuning.chosen


@dg.job(name="tune", description="tune the forecasting models' settings on this city's backtest folds")
def tune_job():
    tune_models()


defs = dg.Definitions(assets=[forecast_models, scoring_shifts, risk_surfaces], jobs=[score_job, tune_job])
