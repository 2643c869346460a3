"""The mission record: one directed patrol in one cell for one shift.

A mission carries its cell, district and beat, the crime types driving it with their shares, the dose
(minutes per visit, default 15: the Koper curve), the visits per shift, the recommended tactics, the
inclusion probability of its draw, its status (planned, added, suppressed) and who changed it, when, why.
"""

from __future__ import annotations

import json
from datetime import datetime

import pandas as pd

from beatwise.config.schema import AgencyConfig
from models.planning import tactics
from models.planning.priority import crime_type_shares

MISSION_COLUMNS = [
    "mission_id",
    "plan_id",
    "shift_start",
    "district",
    "beat",
    "cell_id",
    "crime_types",
    "dose_minutes",
    "visits",
    "tactics",
    "inclusion_probability",
    "stratum",
    "draw",
    "status",
    "changed_by",
    "changed_reason",
    "changed_at",
]


def mission_id(plan_id: str, cell_id: str) -> str:
    """A cell has at most one mission per plan, so the pair names it."""
    return f"{plan_id}-{cell_id}"


def mission_row(
    plan_id: str,
    shift_start: datetime,
    cell: pd.Series,
    config: AgencyConfig,
    *,
    inclusion_probability: float | None,
    stratum: str,
    draw: int = 0,
    status: str = "planned",
    changed_by: str | None = None,
    changed_reason: str | None = None,
    changed_at: datetime | None = None,
) -> dict:
    """One mission for `cell` (a row of the priority frame: cell_id, district, beat, priority, w_<type>)."""
    shares = crime_type_shares(cell, config.modelled_crime_types())
    return {
        "mission_id": mission_id(plan_id, cell["cell_id"]),
        "plan_id": plan_id,
        "shift_start": shift_start,
        "district": cell["district"],
        "beat": cell["beat"],
        "cell_id": cell["cell_id"],
        "crime_types": json.dumps(shares),
        "dose_minutes": float(config.capacity.dose_minutes),
        "visits": int(config.capacity.visits_per_mission),
        "tactics": json.dumps(tactics.recommend(shares, config)),
        "inclusion_probability": inclusion_probability,
        "stratum": stratum,
        "draw": draw,
        "status": status,
        "changed_by": changed_by,
        "changed_reason": changed_reason,
        "changed_at": changed_at,
    }


def build_missions(
    plan_id: str,
    shift_start: datetime,
    candidates: pd.DataFrame,
    priority: pd.DataFrame,
    config: AgencyConfig,
) -> pd.DataFrame:
    """The planned missions of a selection: one per selected candidate, by district then priority."""
    chosen = candidates[candidates["selected"]]
    cells = priority.set_index("cell_id").loc[chosen["cell_id"]].reset_index()
    rows = [
        mission_row(plan_id, shift_start, cell, config, inclusion_probability=float(pi), stratum=stratum)
        for (_, cell), pi, stratum in zip(
            cells.iterrows(), chosen["inclusion_probability"], chosen["stratum"], strict=True
        )
    ]
    return pd.DataFrame(rows, columns=MISSION_COLUMNS)
