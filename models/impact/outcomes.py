"""The impact estimate on the warehouse: every published plan's candidates, the crime that followed, the
IPW effects, a descriptive dose-response curve; logged to MLflow and the audit log.

Reads plans.plans / plans.plan_candidates (draw 0, the plan's own draw with its recorded inclusion
probabilities), marts.fct_cell_shift_counts and marts.dim_shifts (outcomes), marts.fct_mission_dosage
(dose, for the observational curve). Writes marts.rpt_impact and marts.rpt_dose_response (the dashboards
read them; they are written here, not by dbt, because the estimate is a model, not a transformation).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import duckdb
import pandas as pd

from beatwise import audit
from beatwise.config.schema import AgencyConfig
from beatwise.warehouse import replace_table, table_exists
from models.impact.estimator import dose_response, estimate_effects

IMPACT_TABLE = "marts.rpt_impact"
DOSE_RESPONSE_TABLE = "marts.rpt_dose_response"


class ImpactError(ValueError):
    """The warehouse cannot support an estimate yet (what is missing is in the message)."""


def candidate_outcomes(con: duckdb.DuckDBPyConnection, crime_types: list[str]) -> pd.DataFrame:
    """One row per draw-0 candidate of every published plan whose next shift has been observed, with the
    counts of each crime type (and `all`) in its cell during the shift and the next one."""
    for schema, table in (
        ("plans", "plan_candidates"),
        ("marts", "fct_cell_shift_counts"),
        ("marts", "dim_shifts"),
    ):
        if not table_exists(con, schema, table):
            raise ImpactError(
                f"no {schema}.{table}: plan shifts and build the marts before estimating impact"
            )
    wide = ", ".join(
        f"sum(case when counts.crime_type = '{t}' then counts.incident_count else 0 end) as \"{t}\""
        for t in crime_types
    )
    frame = con.execute(f"""
        with shifts as (
            select shift_start, lead(shift_start) over (order by shift_start) as next_shift
            from marts.dim_shifts
        ),
        observed as (select max(shift_start) as last_shift from marts.fct_cell_shift_counts),
        candidates as (
            select c.plan_id, p.shift_start, shifts.next_shift, c.district, c.cell_id, c.stratum, c.eligible,
                   c.inclusion_probability, c.selected, c.draw
            from plans.plan_candidates c
            join plans.plans p on p.plan_id = c.plan_id and p.status = 'published'
            join shifts on shifts.shift_start = p.shift_start
            cross join observed
            where c.draw = 0 and shifts.next_shift <= observed.last_shift
        ),
        counts as (
            select cand.plan_id, cand.cell_id, counts.shift_start = cand.next_shift as is_next,
                   counts.crime_type, counts.incident_count
            from candidates cand
            join marts.fct_cell_shift_counts counts
              on counts.cell_id = cand.cell_id and counts.shift_start in (cand.shift_start, cand.next_shift)
        ),
        now_counts as (select plan_id, cell_id, {wide} from counts where not is_next group by all),
        next_counts as (select plan_id, cell_id, {wide} from counts where is_next group by all)
        select cand.*, {
        ", ".join(f'coalesce(n."{t}", 0) as "{t}", coalesce(x."{t}", 0) as "{t}_next"' for t in crime_types)
    }
        from candidates cand
        left join now_counts n using (plan_id, cell_id)
        left join next_counts x using (plan_id, cell_id)
    """).df()
    frame["all"] = frame[crime_types].sum(axis=1)
    frame["all_next"] = frame[[f"{t}_next" for t in crime_types]].sum(axis=1)
    return frame


def mission_outcomes(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Delivered dose and the crime of the shift in each active mission's cell (the observational curve)."""
    if not table_exists(con, "marts", "fct_mission_dosage"):
        return pd.DataFrame(columns=["mission_id", "delivered_minutes", "crime_count"])
    return con.execute("""
        select d.mission_id, d.delivered_minutes, coalesce(sum(c.incident_count), 0) as crime_count
        from marts.fct_mission_dosage d
        left join marts.fct_cell_shift_counts c on c.cell_id = d.cell_id and c.shift_start = d.shift_start
        group by d.mission_id, d.delivered_minutes
    """).df()


def estimate_impact(
    con: duckdb.DuckDBPyConnection,
    config: AgencyConfig,
    actor: str = "pipeline",
    track: bool = True,
    level: float = 0.95,
) -> dict:
    """Estimate, write marts.rpt_impact / marts.rpt_dose_response, log to MLflow (if `track`) and audit."""
    crime_types = config.modelled_crime_types()
    candidates = candidate_outcomes(con, crime_types)
    if candidates.empty:
        raise ImpactError("no plan with an observed next shift: nothing to estimate yet")
    effects = estimate_effects(candidates, ["all", *crime_types], level=level)
    if effects.empty:
        raise ImpactError(
            "the plans have no randomized candidates (0 < inclusion probability < 1) in both arms"
        )
    curve = dose_response(mission_outcomes(con))
    computed_at = datetime.now(UTC).replace(tzinfo=None)
    run_id = _track(config, candidates, effects, curve) if track else None
    effects = effects.assign(
        crime_type=effects["outcome"],
        level=level,
        method="hajek_ipw_plan_clusters",
        mlflow_run_id=run_id,
        computed_at=computed_at,
    )
    curve = curve.assign(label="observational: dose was not randomized", computed_at=computed_at)
    replace_table(con, IMPACT_TABLE, effects, key="outcome_window, population, outcome")
    replace_table(con, DOSE_RESPONSE_TABLE, curve, key="bin_order")
    headline = effects[
        (effects["population"] == "pool")
        & (effects["outcome_window"] == "same_shift")
        & (effects["outcome"] == "all")
    ]
    payload = {
        "plans": int(candidates["plan_id"].nunique()),
        "candidates": len(candidates),
        "mlflow_run_id": run_id,
        "level": level,
        "method": "hajek_ipw_plan_clusters",
        "headline": json.loads(headline.drop(columns=["computed_at"]).to_json(orient="records"))[0]
        if not headline.empty
        else None,
        "rows": len(effects),
    }
    audit.append(con, "impact", actor, IMPACT_TABLE, payload)
    return {**payload, "effects": effects, "dose_response": curve}


def _track(config: AgencyConfig, candidates: pd.DataFrame, effects: pd.DataFrame, curve: pd.DataFrame) -> str:
    """One MLflow run in the agency's experiment: the design's size, the headline effect, the tables."""
    import mlflow

    from models.forecasting.tracking import use_experiment

    use_experiment(config)
    with mlflow.start_run(run_name="impact") as run:
        mlflow.set_tags({"beatwise.kind": "impact", "beatwise.dose_response": "observational"})
        mlflow.log_params(
            {
                "plans": candidates["plan_id"].nunique(),
                "candidates": len(candidates),
                "estimator": "hajek_ipw",
                "variance": "plan-clustered sandwich",
            }
        )
        for row in effects.itertuples():
            if row.outcome == "all":
                key = f"{row.population}.{row.outcome_window}"
                mlflow.log_metrics(
                    {
                        f"{key}.estimate": row.estimate,
                        f"{key}.ci_low": row.ci_low,
                        f"{key}.ci_high": row.ci_high,
                    }
                )
        mlflow.log_text(effects.to_csv(index=False), "impact/effects.csv")
        mlflow.log_text(curve.to_csv(index=False), "impact/dose_response_observational.csv")
        return run.info.run_id
