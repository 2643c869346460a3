"""Plans in the warehouse: reading a shift's inputs, writing plans, candidates and missions, the inputs
artifact and the audit record. Only the pipeline calls this (DuckDB has one writer)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd

from beatwise import audit as audit_log
from beatwise import paths
from beatwise.config.schema import AgencyConfig
from beatwise.warehouse import table_exists
from models.forecasting.shifts import shift_starts
from models.planning import PlanningError
from models.planning.plan import Plan, inputs_digest, planning_inputs

DDL = """
create schema if not exists plans;
create table if not exists plans.plans (
    plan_id varchar primary key, shift_start timestamp, created_at timestamp, seed bigint,
    config_sha256 varchar, inputs_sha256 varchar, status varchar, created_by varchar,
    inputs_artifact varchar, warnings varchar);
create table if not exists plans.plan_candidates (
    plan_id varchar, draw integer, district varchar, cell_id varchar, beat varchar, priority double,
    stratum varchar, eligible boolean, ineligible_reason varchar, inclusion_probability double,
    selected boolean);
create table if not exists plans.missions (
    mission_id varchar primary key, plan_id varchar, shift_start timestamp, district varchar, beat varchar,
    cell_id varchar, crime_types varchar, dose_minutes double, visits integer, tactics varchar,
    inclusion_probability double, stratum varchar, draw integer, status varchar, changed_by varchar,
    changed_reason varchar, changed_at timestamp);
create table if not exists plans.overrides (
    override_id varchar primary key, action varchar, plan_id varchar, mission_id varchar, cell_id varchar,
    user_name varchar, role varchar, reason varchar, requested_at timestamp, applied_at timestamp,
    outcome varchar, message varchar, replacement_mission_id varchar, source_file varchar);
-- Plans drawn by the demo's simulated-operations replay: shown as simulated, never fed to a real plan.
alter table plans.plans add column if not exists simulated boolean default false;
"""

PLAN_TABLES = ["plans.plans", "plans.plan_candidates", "plans.missions", "plans.overrides"]


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)


def cells_table(con: duckdb.DuckDBPyConnection) -> str:
    """marts.dim_cells once dbt has built it, raw.cells before."""
    for schema, table in (("marts", "dim_cells"), ("raw", "cells")):
        if table_exists(con, schema, table):
            return f"{schema}.{table}"
    raise PlanningError("no cells: neither marts.dim_cells nor raw.cells exists (run the geography step)")


def read_cells(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute(f"select * from {cells_table(con)} where district is not null").df()


def has_risk(con: duckdb.DuckDBPyConnection, shift_start: datetime) -> bool:
    """Whether forecast.risk_surfaces holds the shift."""
    return table_exists(con, "forecast", "risk_surfaces") and bool(
        con.execute("select count(*) from forecast.risk_surfaces where shift_start = ?", [shift_start]).fetchall()[0][0]
    )


def read_risk(con: duckdb.DuckDBPyConnection, shift_start: datetime) -> pd.DataFrame:
    """forecast.risk_surfaces of one shift (the newest model version per crime type and cell)."""
    if not table_exists(con, "forecast", "risk_surfaces"):
        raise PlanningError("missing risk surfaces: forecast.risk_surfaces does not exist (run forecasting)")
    risk = con.execute(
        """select cell_id, crime_type, expected_count from forecast.risk_surfaces where shift_start = ?
           qualify row_number() over (partition by crime_type, cell_id order by model_version desc) = 1""",
        [shift_start],
    ).df()
    if risk.empty:
        held = con.execute(
            "select min(shift_start), max(shift_start), count(distinct shift_start) "
            "from forecast.risk_surfaces"
        ).fetchall()[0]
        span = f"it holds {held[2]} shift(s), {held[0]} to {held[1]}" if held[2] else "it is empty"
        raise PlanningError(
            f"missing risk surfaces for the shift {shift_start:%Y-%m-%d %H:%M} in "
            f"forecast.risk_surfaces ({span}): score it first (beatwise score --shift "
            f"\"{shift_start:%Y-%m-%d %H:%M}\")"
        )
    return risk


def window_shifts(config: AgencyConfig, shift_start: datetime) -> list[datetime]:
    """The `exposure.window_shifts` shift starts before `shift_start`."""
    m = config.exposure.window_shifts
    days = m // len(config.shifts) + 2
    starts = shift_starts(config, (shift_start - timedelta(days=days)).date(), shift_start.date())
    return [s for s in starts if s < shift_start][-m:]


def read_recent_missions(
    con: duckdb.DuckDBPyConnection, config: AgencyConfig, shift_start: datetime
) -> pd.Series:
    """cell_id -> active missions of the published plans of the last `window_shifts` shifts; the demo's
    replayed (simulated) plans never count, so a rerun on the same inputs draws the same plan."""
    if not table_exists(con, "plans", "missions"):
        return pd.Series(dtype="int64")
    window = window_shifts(config, shift_start)
    counts = con.execute(
        """select m.cell_id, count(*) as n from plans.missions m join plans.plans p using (plan_id)
           where p.status = 'published' and m.status in ('planned', 'added')
             and not coalesce(p.simulated, false)
             and m.shift_start >= ? and m.shift_start < ? group by m.cell_id""",
        [window[0], shift_start],
    ).df()
    return counts.set_index("cell_id")["n"]


def read_inputs(con: duckdb.DuckDBPyConnection, config: AgencyConfig, shift_start: datetime) -> pd.DataFrame:
    """The planning inputs of one shift from the warehouse (see plan.planning_inputs)."""
    return planning_inputs(
        read_risk(con, shift_start), read_cells(con), read_recent_missions(con, config, shift_start)
    )


def plan_dir(plan_id: str) -> Path:
    path = paths.artifacts_dir() / "plans" / plan_id
    path.mkdir(parents=True, exist_ok=True)
    return path


def save_inputs(plan: Plan, inputs: pd.DataFrame, config: AgencyConfig) -> Path:
    """Keep the plan's inputs (parquet) and config (JSON) as artifacts, so that it can be replayed."""
    folder = plan_dir(plan.plan_id)
    inputs.to_parquet(folder / "inputs.parquet", index=False)
    (folder / "config.json").write_text(config.model_dump_json(indent=1), encoding="utf-8")
    return folder / "inputs.parquet"


def load_inputs(plan_id: str) -> tuple[pd.DataFrame, dict]:
    folder = paths.artifacts_dir() / "plans" / plan_id
    if not (folder / "inputs.parquet").exists():
        raise PlanningError(f"plan {plan_id}: its inputs artifact {folder / 'inputs.parquet'} is missing")
    inputs = pd.read_parquet(folder / "inputs.parquet")
    return inputs, json.loads((folder / "config.json").read_text(encoding="utf-8"))


def write_plan(
    con: duckdb.DuckDBPyConnection, plan: Plan, artifact: Path, actor: str, simulated: bool = False
) -> None:
    """Publish a plan: supersede the shift's earlier plans, insert this one's rows. One transaction.
    `simulated` marks a plan drawn for the demo's simulated operations."""
    ensure_tables(con)
    con.register("new_candidates", plan.candidates.assign(plan_id=plan.plan_id, draw=0))
    con.register("new_missions", plan.missions)
    con.execute("begin")
    try:
        con.execute(
            "update plans.plans set status = 'superseded' where shift_start = ? and status = 'published'",
            [plan.shift_start],
        )
        con.execute(
            "insert into plans.plans (plan_id, shift_start, created_at, seed, config_sha256, inputs_sha256, "
            "status, created_by, inputs_artifact, warnings, simulated) "
            "values (?, ?, ?, ?, ?, ?, 'published', ?, ?, ?, ?)",
            [
                plan.plan_id,
                plan.shift_start,
                datetime.now(),
                plan.seed,
                plan.config_sha256,
                plan.inputs_sha256,
                actor,
                paths.in_home(artifact),
                json.dumps(plan.warnings),
                simulated,
            ],
        )
        con.execute("insert into plans.plan_candidates by name select * from new_candidates")
        con.execute("insert into plans.missions by name select * from new_missions")
        audit(
            con,
            "plan",
            actor,
            plan.plan_id,
            {
                "shift_start": f"{plan.shift_start:%Y-%m-%d %H:%M}",
                "seed": plan.seed,
                "config_sha256": plan.config_sha256,
                "inputs_sha256": plan.inputs_sha256,
                "inputs_artifact": paths.in_home(artifact),
                "models": risk_models(con, plan.shift_start),
                "candidates": len(plan.candidates),
                "eligible": int(plan.candidates["eligible"].sum()),
                "missions": len(plan.missions),
                "candidates_sha256": inputs_digest(plan.candidates),
                "missions_drawn": dict(
                    zip(
                        plan.missions["cell_id"],
                        plan.missions["inclusion_probability"].round(12),
                        strict=True,
                    )
                ),
                "warnings": plan.warnings,
            },
        )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    finally:
        con.unregister("new_candidates")
        con.unregister("new_missions")


def risk_models(con: duckdb.DuckDBPyConnection, shift_start: datetime) -> dict[str, list[str]]:
    """crime type -> the methods and model versions whose surfaces the shift's plan used."""
    if not table_exists(con, "forecast", "risk_surfaces"):
        return {}
    rows = con.execute(
        """select crime_type, method || ':' || model_version from forecast.risk_surfaces
                          where shift_start = ? group by all order by all""",
        [shift_start],
    ).fetchall()
    out: dict[str, list[str]] = {}
    for crime_type, model in rows:
        out.setdefault(crime_type, []).append(model)
    return out


def plan_exists(con: duckdb.DuckDBPyConnection, plan_id: str) -> bool:
    return table_exists(con, "plans", "plans") and bool(
        con.execute("select count(*) from plans.plans where plan_id = ?", [plan_id]).fetchall()[0][0]
    )


def audit(con: duckdb.DuckDBPyConnection, kind: str, actor: str, subject: str, payload: dict) -> None:
    """Append to the hash-chained audit log, inside the caller's transaction."""
    audit_log.append(con, kind, actor, subject, payload)


def inputs_match(inputs: pd.DataFrame, expected_sha256: str) -> bool:
    return inputs_digest(inputs) == expected_sha256
