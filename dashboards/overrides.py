"""Analyst overrides (add or suppress a mission) go to the durable inbox, never to the warehouse.

The planning engine owns the inbox (`models.planning.overrides`): the dashboard signs each request with
the logged-in user and role; the planner checks that role against the user store, applies or refuses the
request, records it in `plans.overrides` and the audit log, and republishes.
"""

from __future__ import annotations

import json

from dashboards.auth import User
from models.planning import overrides as inbox


def submit(
    user: User,
    action: str,
    reason: str,
    *,
    mission_id: str | None = None,
    plan_id: str | None = None,
    cell_id: str | None = None,
    approves: str | None = None,
) -> dict:
    """Write one signed override request by `user` into the inbox and return it.

    The planner decides whether the role may (and logs a refusal); the planner's OverrideError is raised
    here only for a request that is incomplete (no reason, no mission to suppress, ...).
    """
    file = inbox.submit_override(
        action, user.username, user.role, reason, mission_id=mission_id, plan_id=plan_id, cell_id=cell_id,
        approves=approves,
    )
    return json.loads(file.read_text(encoding="utf-8"))


def awaiting() -> list[dict]:
    """Analysts' overrides waiting for a supervisor's approval."""
    return inbox.awaiting()


def pending() -> list[dict]:
    """Override requests still waiting in the inbox for the pipeline, oldest first."""
    found = []
    for file in inbox.pending():
        try:
            record = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):  # being moved by the pipeline right now
            continue
        found.append(
            {
                k: record.get(k)
                for k in ("override_id", "requested_at", "action", "mission_id", "cell_id", "user", "role", "reason")
            }
        )
    return found


# Map layers a click may pick from: a mission (to suppress) or any other cell (to add a mission in).
MISSION_LAYER, CANDIDATE_LAYER, CELL_LAYER = "missions", "candidates", "cells"


def picked_on_map(selection, active_mission_ids) -> tuple[str, str] | None:
    """What a click on the Missions map asks for, from Streamlit's pydeck selection state ({"indices":
    {layer id: [i]}, "objects": {layer id: [record]}}): ("suppress", mission_id) for an active mission,
    ("add", cell_id) for a cell that is not one; None for no click or a suppressed mission."""
    objects = (selection or {}).get("objects") or {}
    for record in objects.get(MISSION_LAYER) or []:
        if record.get("mission_id") in set(active_mission_ids):
            return "suppress", record["mission_id"]
        return None  # a suppressed mission: nothing to do
    for layer in (CANDIDATE_LAYER, CELL_LAYER):
        for record in objects.get(layer) or []:
            if record.get("cell_id"):
                return "add", str(record["cell_id"])
    return None
