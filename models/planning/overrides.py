"""Analyst overrides: add or suppress a mission, with a reason, through a durable inbox.

Dashboards never write the warehouse (one writer, see STACK.md). An override is a JSON file written
atomically into `BEATWISE_HOME/inbox/overrides/pending/`; the pipeline's sensor picks it up, checks it
against the warehouse, applies it (a suppressed mission's capacity is drawn again from the same stratum,
the draw's probabilities recorded), records it in `plans.overrides` and the audit log, and moves the file
to `done/` or `rejected/`. A file is moved only after its transaction commits, so nothing is lost.
"""

from __future__ import annotations

import json
import math
import os
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd

from beatwise import paths
from beatwise.config import AgencyConfig
from models.forecasting.shifts import shift_minutes
from models.planning import store
from models.planning.missions import mission_id as make_mission_id
from models.planning.missions import mission_row
from models.planning.plan import inputs_priority, shift_name
from models.planning.selection import mission_capacity, redraw_one

ACTIONS = ("add", "suppress")


class OverrideError(ValueError):
    """An override beatwise refuses, with the reason."""


def inbox(sub: str = "pending") -> Path:
    path = paths.inbox_dir() / "overrides" / sub
    path.mkdir(parents=True, exist_ok=True)
    return path


def clock(config: AgencyConfig) -> datetime:
    """Now, in the agency's local time (naive, like shift starts). BEATWISE_NOW (ISO) sets it for replays
    of history and for tests."""
    fixed = os.environ.get("BEATWISE_NOW")
    if fixed:
        return datetime.fromisoformat(fixed)
    return datetime.now(ZoneInfo(config.agency.timezone)).replace(tzinfo=None)


def validate_request(request: dict) -> dict:
    """Check an override's own fields; raise OverrideError saying what is wrong."""
    action = request.get("action")
    if action not in ACTIONS:
        raise OverrideError(f"override action must be one of {ACTIONS}, got {action!r}")
    for key in ("user", "role"):
        if not str(request.get(key) or "").strip():
            raise OverrideError(f"an override must say which {key} made it")
    if not str(request.get("reason") or "").strip():
        raise OverrideError("an override needs a reason: say why the mission is added or suppressed")
    if action == "suppress" and not request.get("mission_id"):
        raise OverrideError("a suppress override must name the mission_id to suppress")
    if action == "add" and not (request.get("plan_id") and request.get("cell_id")):
        raise OverrideError("an add override must name the plan_id and the cell_id of the new mission")
    return request


def submit_override(
    action: str,
    user: str,
    role: str,
    reason: str,
    *,
    mission_id: str | None = None,
    plan_id: str | None = None,
    cell_id: str | None = None,
    requested_at: datetime | None = None,
) -> Path:
    """Put an override into the inbox (atomically) and return its file. Raises OverrideError if invalid."""
    request = validate_request(
        {
            "override_id": uuid.uuid4().hex,
            "action": action,
            "user": user,
            "role": role,
            "reason": (reason or "").strip(),
            "mission_id": mission_id,
            "plan_id": plan_id,
            "cell_id": cell_id,
            "requested_at": (requested_at or datetime.now()).isoformat(timespec="seconds"),
        }
    )
    folder = inbox()
    target = folder / f"{request['requested_at'].replace(':', '')}-{request['override_id']}.json"
    staging = folder / f".{target.name}.tmp"
    with staging.open("w", encoding="utf-8") as fh:
        json.dump(request, fh, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(staging, target)
    return target


def pending() -> list[Path]:
    """Override files waiting in the inbox, oldest first."""
    return sorted(inbox().glob("*.json"))


def apply_pending(
    con: duckdb.DuckDBPyConnection, config: AgencyConfig, now: datetime | None = None
) -> list[dict]:
    """Apply every pending override; returns one outcome per file (applied or rejected, with the message)."""
    store.ensure_tables(con)
    now = now or clock(config)
    outcomes = []
    for path in pending():
        outcomes.append(_apply_file(con, config, path, now))
    return outcomes


def _apply_file(con: duckdb.DuckDBPyConnection, config: AgencyConfig, path: Path, now: datetime) -> dict:
    try:
        request = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        request = {"override_id": path.stem, "action": None}
        error: str | None = f"unreadable override file {path.name}: {exc}"
    else:
        error = None
    request.setdefault("override_id", path.stem)
    seen = con.execute(
        "select outcome from plans.overrides where override_id = ?", [request["override_id"]]
    ).fetchall()
    if seen:  # applied before a crash kept the file: only move it on
        return _file_away(
            path, {"override_id": request["override_id"], "outcome": seen[0][0], "message": "seen"}
        )
    con.execute("begin")
    try:
        if error is None:
            try:
                validate_request(request)
                replacement = (_suppress if request["action"] == "suppress" else _add)(
                    con, config, request, now
                )
                outcome = {"outcome": "applied", "message": "", "replacement_mission_id": replacement}
            except OverrideError as exc:
                outcome = {"outcome": "rejected", "message": str(exc), "replacement_mission_id": None}
        else:
            outcome = {"outcome": "rejected", "message": error, "replacement_mission_id": None}
        _record(con, request, outcome, now, path.name)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return _file_away(path, {"override_id": request["override_id"], **outcome})


def _file_away(path: Path, outcome: dict) -> dict:
    folder = inbox("done" if outcome["outcome"] == "applied" else "rejected")
    os.replace(path, folder / path.name)
    return outcome


def _record(con: duckdb.DuckDBPyConnection, request: dict, outcome: dict, now: datetime, source: str) -> None:
    requested = request.get("requested_at")
    con.execute(
        "insert into plans.overrides values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            request["override_id"],
            request.get("action"),
            request.get("plan_id"),
            request.get("mission_id"),
            request.get("cell_id"),
            request.get("user"),
            request.get("role"),
            request.get("reason"),
            datetime.fromisoformat(requested) if requested else None,
            now,
            outcome["outcome"],
            outcome["message"],
            outcome["replacement_mission_id"],
            source,
        ],
    )
    store.audit(
        con,
        "override",
        str(request.get("user") or "unknown"),
        str(request.get("mission_id") or request.get("plan_id") or request["override_id"]),
        {
            "override_id": request["override_id"],
            "action": request.get("action"),
            "role": request.get("role"),
            "reason": request.get("reason"),
            "requested_at": requested,
            "applied_at": now.isoformat(timespec="seconds"),
            "plan_id": request.get("plan_id"),
            "cell_id": request.get("cell_id"),
            **outcome,
        },
    )


def _live_plan(
    con: duckdb.DuckDBPyConnection, config: AgencyConfig, plan_id: str, now: datetime
) -> pd.Series:
    plan = con.execute("select * from plans.plans where plan_id = ?", [plan_id]).df()
    if plan.empty:
        raise OverrideError(f"unknown plan {plan_id!r}")
    plan = plan.iloc[0]
    if plan["status"] != "published":
        raise OverrideError(f"plan {plan_id} is {plan['status']}: override the shift's published plan")
    start = pd.Timestamp(plan["shift_start"]).to_pydatetime()
    end = start + timedelta(minutes=shift_minutes(config, start))
    if end <= now:
        raise OverrideError(
            f"plan {plan_id} is for a past shift ({start:%Y-%m-%d %H:%M}, ended "
            f"{end:%Y-%m-%d %H:%M}; now {now:%Y-%m-%d %H:%M})"
        )
    return plan


def _suppress(
    con: duckdb.DuckDBPyConnection, config: AgencyConfig, request: dict, now: datetime
) -> str | None:
    found = con.execute("select * from plans.missions where mission_id = ?", [request["mission_id"]]).df()
    if found.empty:
        raise OverrideError(f"unknown mission {request['mission_id']!r}: no such mission in plans.missions")
    mission = found.iloc[0]
    request["plan_id"] = mission["plan_id"]
    request["cell_id"] = mission["cell_id"]
    plan = _live_plan(con, config, mission["plan_id"], now)
    if mission["status"] == "suppressed":
        raise OverrideError(f"mission {mission['mission_id']} is already suppressed")
    con.execute(
        """update plans.missions set status = 'suppressed', changed_by = ?, changed_reason = ?,
                   changed_at = ? where mission_id = ?""",
        [_who(request), request["reason"], now, mission["mission_id"]],
    )
    if mission["status"] == "added":  # an analyst's extra mission frees no drawn capacity
        return None
    return _redraw(con, config, plan, mission, now)


def _redraw(
    con: duckdb.DuckDBPyConnection,
    config: AgencyConfig,
    plan: pd.Series,
    suppressed: pd.Series,
    now: datetime,
) -> str | None:
    """Draw the suppressed mission's capacity again from the same stratum; record the draw."""
    plan_id, district = plan["plan_id"], suppressed["district"]
    candidates = con.execute(
        "select * from plans.plan_candidates where plan_id = ? and draw = 0 and district = ?",
        [plan_id, district],
    ).df()
    missions = con.execute(
        "select cell_id, stratum, status from plans.missions where plan_id = ? and district = ?",
        [plan_id, district],
    ).df()
    candidates["selected"] = candidates["cell_id"].isin(missions["cell_id"])
    shift_start = pd.Timestamp(plan["shift_start"]).to_pydatetime()
    n = mission_capacity(config, [district], shift_name(config, shift_start))[district]
    active_top = ((missions["stratum"] == "top") & (missions["status"] != "suppressed")).sum()
    top_cap_reached = active_top >= math.floor(config.exposure.top_cells_max_mission_share * n)
    draw = con.execute(
        "select coalesce(max(draw), 0) + 1 from plans.plan_candidates where plan_id = ?", [plan_id]
    ).fetchall()[0][0]
    drawn = redraw_one(candidates, suppressed["stratum"], bool(top_cap_reached), int(plan["seed"]), draw)
    if drawn.empty or not drawn["selected"].any():
        return None
    drawn = drawn.assign(draw=draw)
    con.execute("insert into plans.plan_candidates by name select * from drawn")
    chosen = drawn[drawn["selected"]].iloc[0]
    cell = _cell(_priority_of(plan_id, config), chosen["cell_id"])
    row = mission_row(
        plan_id,
        shift_start,
        cell,
        config,
        inclusion_probability=float(chosen["inclusion_probability"]),
        stratum=chosen["stratum"],
        draw=draw,
        changed_by="pipeline",
        changed_reason=f"redrawn for suppressed mission {suppressed['mission_id']}",
        changed_at=now,
    )
    _insert_mission(con, row)
    return row["mission_id"]


def _add(con: duckdb.DuckDBPyConnection, config: AgencyConfig, request: dict, now: datetime) -> None:
    plan = _live_plan(con, config, request["plan_id"], now)
    cell_id = request["cell_id"]
    priority = _priority_of(plan["plan_id"], config)
    if cell_id not in priority.index:
        raise OverrideError(f"unknown cell {cell_id!r}: not a cell of plan {plan['plan_id']}'s jurisdiction")
    mission_id = make_mission_id(plan["plan_id"], cell_id)
    existing = con.execute("select status from plans.missions where mission_id = ?", [mission_id]).fetchall()
    if existing and existing[0][0] != "suppressed":
        raise OverrideError(f"cell {cell_id} already has mission {mission_id} in plan {plan['plan_id']}")
    if existing:  # an analyst restores a suppressed mission
        con.execute(
            """update plans.missions set status = 'added', changed_by = ?, changed_reason = ?,
                       changed_at = ? where mission_id = ?""",
            [_who(request), request["reason"], now, mission_id],
        )
        return None
    shift_start = pd.Timestamp(plan["shift_start"]).to_pydatetime()
    row = mission_row(
        plan["plan_id"],
        shift_start,
        _cell(priority, cell_id),
        config,
        inclusion_probability=None,
        stratum="added",
        draw=None,
        status="added",
        changed_by=_who(request),
        changed_reason=request["reason"],
        changed_at=now,
    )
    _insert_mission(con, row)
    return None


def _priority_of(plan_id: str, config: AgencyConfig) -> pd.DataFrame:
    """The plan's priority frame, recomputed from its logged inputs."""
    inputs, _ = store.load_inputs(plan_id)
    return inputs_priority(inputs, config).set_index("cell_id")


def _cell(priority: pd.DataFrame, cell_id: str) -> pd.Series:
    cell = priority.loc[cell_id].copy()
    cell["cell_id"] = cell_id
    return cell


def _insert_mission(con: duckdb.DuckDBPyConnection, row: dict) -> None:
    frame = pd.DataFrame([row])  # noqa: F841 (read by DuckDB by name)
    con.execute("insert into plans.missions by name select * from frame")


def _who(request: dict) -> str:
    return f"{request['user']} ({request['role']})"
