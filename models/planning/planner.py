"""Plan one shift in the warehouse: read its inputs, draw, publish, audit, write the briefings."""

from __future__ import annotations

import json
from datetime import datetime

import duckdb
import pandas as pd

from beatwise.config.schema import AgencyConfig
from beatwise.warehouse import table_exists
from models.planning import store
from models.planning.briefing import write_briefings
from models.planning.plan import Plan, make_plan


def plan_shift(
    con: duckdb.DuckDBPyConnection,
    config: AgencyConfig,
    shift_start: datetime,
    *,
    seed: int | None = None,
    actor: str = "pipeline",
    briefings: bool = True,
) -> Plan:
    """Plan `shift_start` and publish it (superseding the shift's earlier plan).

    Idempotent: the same inputs, config and seed give the same plan id, which is then not written again
    (so analysts' overrides on it survive a re-run). Raises PlanningError on bad input.
    """
    inputs = store.read_inputs(con, config, shift_start)
    plan = make_plan(inputs, config, shift_start, seed)
    if not store.plan_exists(con, plan.plan_id):
        artifact = store.save_inputs(plan, inputs, config)
        store.write_plan(con, plan, artifact, actor)
    if briefings:
        write_briefings(con, config, plan.plan_id)
    return plan


def latest_risk_shift(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """The newest shift that forecast.risk_surfaces covers (what the pipeline plans by default)."""
    if not table_exists(con, "forecast", "risk_surfaces"):
        return None
    value = con.execute("select max(shift_start) from forecast.risk_surfaces").fetchall()[0][0]
    return None if value is None else pd.Timestamp(value).to_pydatetime()


def read_plan(con: duckdb.DuckDBPyConnection, plan_id: str) -> dict:
    """A published plan as the JSON the CLI prints: plan, candidates (draw 0) and missions."""
    head = con.execute(
        "select plan_id, shift_start, seed, status, warnings from plans.plans where plan_id = ?", [plan_id]
    ).df()
    candidates = con.execute(
        """select cell_id, district, priority, stratum, eligible, ineligible_reason, inclusion_probability,
                  selected from plans.plan_candidates where plan_id = ? and draw = 0
           order by district, priority desc, cell_id""",
        [plan_id],
    ).df()
    missions = con.execute(
        "select * from plans.missions where plan_id = ? order by district, mission_id", [plan_id]
    ).df()
    row = head.iloc[0]
    return {
        "plan_id": plan_id,
        "shift_start": f"{pd.Timestamp(row['shift_start']):%Y-%m-%d %H:%M}",
        "seed": int(row["seed"]),
        "status": row["status"],
        "candidates": _records(candidates),
        "missions": _records(missions),
    }


def _records(frame: pd.DataFrame) -> list[dict]:
    records = json.loads(frame.to_json(orient="records", date_format="iso", date_unit="s"))
    for record in records:
        for key in ("crime_types", "tactics"):
            if isinstance(record.get(key), str):
                record[key] = json.loads(record[key])
    return records
