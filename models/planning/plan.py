"""A plan: one shift's candidates and missions, computed purely from its logged inputs, config and seed.

The inputs of a plan are one frame with a row per cell (`planning_inputs`): its district and beat, how
many missions it had in the exposure window, and the expected count of each crime type for the shift.
Its digest, the config's digest and the seed determine the plan: `make_plan` on the same three returns
the same plan, which is what replay checks.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd

from beatwise import audit
from beatwise.config.schema import AgencyConfig
from models.planning import PlanningError
from models.planning.missions import build_missions
from models.planning.priority import weigh
from models.planning.selection import mission_capacity, select_missions

EXPECTED_PREFIX = "expected_"


@dataclass
class Plan:
    plan_id: str
    shift_start: datetime
    seed: int
    config_sha256: str
    inputs_sha256: str
    priority: pd.DataFrame
    candidates: pd.DataFrame
    missions: pd.DataFrame
    warnings: list[str] = field(default_factory=list)


def planning_inputs(risk: pd.DataFrame, cells: pd.DataFrame, recent_missions: pd.Series) -> pd.DataFrame:
    """The one frame a plan is computed from: per cell, district, beat, recent missions, expected counts."""
    wide = risk.pivot_table(index="cell_id", columns="crime_type", values="expected_count", aggfunc="sum")
    wide.columns = [f"{EXPECTED_PREFIX}{c}" for c in wide.columns]
    frame = cells[["cell_id", "district", "beat"]].dropna(subset=["district"]).drop_duplicates("cell_id")
    frame = frame.set_index("cell_id").join(wide, how="left").fillna({c: 0.0 for c in wide.columns})
    frame["recent_missions"] = recent_missions.reindex(frame.index).fillna(0).astype("int64")
    frame = frame.reset_index().sort_values("cell_id", kind="stable").reset_index(drop=True)
    frame["district"] = frame["district"].astype(str)
    frame["beat"] = frame["beat"].astype("string").astype(object).where(frame["beat"].notna(), None)
    return frame[["cell_id", "district", "beat", "recent_missions", *sorted(wide.columns)]]


def inputs_digest(inputs: pd.DataFrame) -> str:
    """sha256 over the inputs' columns and values (floats as IEEE bytes, text as UTF-8): stable and fast."""
    digest = hashlib.sha256()
    for column in inputs.columns:
        digest.update(column.encode() + b"\0")
        values = inputs[column]
        if pd.api.types.is_numeric_dtype(values):
            digest.update(np.ascontiguousarray(values.to_numpy(dtype=np.float64)).tobytes())
        else:
            digest.update("\x1f".join("" if v is None or v is pd.NA else str(v) for v in values).encode())
    return digest.hexdigest()


def derive_seed(config_sha256: str, inputs_sha256: str, shift_start: datetime) -> int:
    """The default seed: fixed by the inputs, so re-running the pipeline rebuilds the same plan, yet not
    chosen by anyone. Logged with the plan either way."""
    text = f"{config_sha256}:{inputs_sha256}:{shift_start:%Y-%m-%dT%H:%M}"
    return int(hashlib.sha256(text.encode()).hexdigest()[:15], 16)


def shift_name(config: AgencyConfig, shift_start: datetime) -> str:
    """The configured shift that starts at `shift_start`'s time of day."""
    for shift in config.shifts:
        if shift.start == shift_start.time():
            return shift.name
    starts = ", ".join(f"{s.name} {s.start:%H:%M}" for s in config.shifts)
    raise PlanningError(f"{shift_start:%Y-%m-%d %H:%M} is not the start of a configured shift ({starts})")


def inputs_priority(inputs: pd.DataFrame, config: AgencyConfig) -> pd.DataFrame:
    """The priority frame of a plan's inputs (see priority.weigh)."""
    expected = [c for c in inputs if c.startswith(EXPECTED_PREFIX)]
    if not any(c.removeprefix(EXPECTED_PREFIX) in config.crime_types for c in expected):
        raise PlanningError(
            f"the risk surfaces cover none of the modelled crime types {config.modelled_crime_types()}"
        )
    return weigh(inputs.rename(columns={c: c.removeprefix(EXPECTED_PREFIX) for c in expected}), config)


def make_plan(
    inputs: pd.DataFrame, config: AgencyConfig, shift_start: datetime, seed: int | None = None
) -> Plan:
    """Compute the plan of one shift from its inputs (see planning_inputs). Pure and deterministic."""
    name = shift_name(config, shift_start)
    config_sha, inputs_sha = audit.config_digest(config), inputs_digest(inputs)
    seed = derive_seed(config_sha, inputs_sha, shift_start) if seed is None else int(seed)
    tag = hashlib.sha256(f"{inputs_sha}:{config_sha}:{seed}".encode()).hexdigest()[:8]
    plan_id = f"P{shift_start:%Y%m%d%H%M}-{tag}"
    priority = inputs_priority(inputs, config)
    capacity = mission_capacity(config, sorted(priority["district"].unique()), name)
    recent = inputs.set_index("cell_id")["recent_missions"]
    selection = select_missions(priority, capacity, recent, config.exposure, seed)
    missions = build_missions(plan_id, shift_start, selection.candidates, priority, config)
    return Plan(
        plan_id,
        shift_start,
        seed,
        config_sha,
        inputs_sha,
        priority,
        selection.candidates,
        missions,
        selection.warnings,
    )
