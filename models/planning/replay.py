"""Replay: recompute a logged plan from its logged inputs, config and seed, and compare.

A plan is identical when its inputs artifact still has the digest logged with the plan, and the
recomputed candidates (stratum, eligibility, inclusion probability, selection) and missions of the
original draw equal the published rows. Redraws after overrides are seeded from the plan's seed and
recorded in plans.plan_candidates; replay checks the original draw.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from beatwise.config import AgencyConfig
from models.planning import PlanningError, store
from models.planning.plan import make_plan

COMPARED = ["district", "cell_id", "stratum", "eligible", "inclusion_probability", "selected"]


@dataclass
class Replay:
    plan_id: str
    identical: bool
    differences: list[str] = field(default_factory=list)


def replay_plan(con: duckdb.DuckDBPyConnection, plan_id: str) -> Replay:
    """Recompute plan `plan_id` and say whether it is identical to what was published."""
    head = (
        con.execute(
            "select shift_start, seed, config_sha256, inputs_sha256 from plans.plans where plan_id = ?",
            [plan_id],
        ).fetchall()
        if store.table_exists(con, "plans", "plans")
        else []
    )
    if not head:
        raise PlanningError(f"unknown plan {plan_id!r}: not in plans.plans")
    shift_start, seed, config_sha, inputs_sha = head[0]
    inputs, config_json = store.load_inputs(plan_id)
    config = AgencyConfig.model_validate(config_json)
    differences = []
    if not store.inputs_match(inputs, inputs_sha):
        differences.append("the inputs artifact does not have the digest logged with the plan")
    plan = make_plan(inputs, config, pd.Timestamp(shift_start).to_pydatetime(), seed)
    if plan.config_sha256 != config_sha:
        differences.append("the config artifact does not have the digest logged with the plan")
    if plan.plan_id != plan_id:
        differences.append(f"recomputed plan id {plan.plan_id} differs")
    stored = con.execute(
        f"select {', '.join(COMPARED)} from plans.plan_candidates where plan_id = ? and draw = 0", [plan_id]
    ).df()
    differences += _compare(plan.candidates[COMPARED], stored, "candidate")
    missions = con.execute(
        "select cell_id from plans.missions where plan_id = ? and draw = 0", [plan_id]
    ).df()
    if sorted(missions["cell_id"]) != sorted(plan.missions["cell_id"]):
        differences.append("the drawn missions differ from the published ones")
    return Replay(plan_id, not differences, differences)


def _compare(recomputed: pd.DataFrame, stored: pd.DataFrame, what: str) -> list[str]:
    if len(recomputed) != len(stored):
        return [f"{len(recomputed)} {what}s recomputed, {len(stored)} published"]
    a = recomputed.sort_values("cell_id").reset_index(drop=True)
    b = stored.sort_values("cell_id").reset_index(drop=True)
    out = []
    for column in COMPARED:
        if column == "inclusion_probability":
            same = np.array_equal(a[column].to_numpy(float), b[column].to_numpy(float))
        else:
            same = a[column].astype(str).tolist() == b[column].astype(str).tolist()
        if not same:
            out.append(f"{what} column {column} differs")
    return out
