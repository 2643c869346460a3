"""Analyst overrides (add or suppress a mission) go to the durable inbox, never to the warehouse.

The planning engine owns the inbox (`models.planning.overrides`): its sensor applies each request,
records it in `plans.overrides` and the audit log with the user and role given here, and republishes.
"""

from __future__ import annotations

import json
from pathlib import Path

from dashboards.auth import User
from models.planning import overrides as inbox


class OverrideRefused(PermissionError):
    """The user's role may not change missions."""


def submit(
    user: User,
    action: str,
    reason: str,
    *,
    mission_id: str | None = None,
    plan_id: str | None = None,
    cell_id: str | None = None,
) -> Path:
    """Write one override request by `user` into the inbox and return its file.

    Raises OverrideRefused for a role that may not override, and the planner's OverrideError for a request
    that is incomplete (no reason, no mission to suppress, ...).
    """
    if not user.can_override:
        raise OverrideRefused(f"the {user.role} role may not add or suppress missions")
    return inbox.submit_override(
        action, user.username, user.role, reason, mission_id=mission_id, plan_id=plan_id, cell_id=cell_id
    )


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
                for k in ("requested_at", "action", "mission_id", "cell_id", "user", "role", "reason")
            }
        )
    return found
