"""Analyst overrides: add or suppress a mission, with a reason, through a durable inbox.

Dashboards never write the warehouse (one writer, see STACK.md). An override is a JSON file written
atomically into `BEATWISE_HOME/inbox/overrides/pending/`; the pipeline's sensor picks it up, checks it
against the warehouse, applies it (a suppressed mission's capacity is drawn again from the same stratum,
the draw's probabilities recorded), records it in `plans.overrides` and the audit log, and moves the file
to `done/`, `rejected/` or (waiting for a supervisor) `awaiting/`. A file is moved only after its
transaction commits, so nothing is lost.

Whoever writes a file, the planner decides: a request must carry the HMAC of the dashboard or of
`beatwise plan override` (the key lives under the state folder, owner-only), so a file dropped in the inbox
by hand cannot claim a user; and the user's role is checked against the user store when it is applied.
Every refusal is recorded in `plans.overrides` and the audit log with its reason.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import secrets
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd

from beatwise import paths, users
from beatwise.audit import canonical_json
from beatwise.clock import agency_now
from beatwise.config import AgencyConfig
from models.forecasting.shifts import shift_minutes
from models.planning import store
from models.planning.missions import mission_id as make_mission_id
from models.planning.missions import mission_row
from models.planning.plan import inputs_priority, shift_name
from models.planning.selection import mission_capacity, redraw_one

ACTIONS = ("add", "suppress", "approve")
CHANGES = ("add", "suppress")
KEY_FILE = "overrides.hmac"


class OverrideError(ValueError):
    """An override beatwise refuses, with the reason."""


def inbox(sub: str = "pending") -> Path:
    path = paths.inbox_dir() / "overrides" / sub
    path.mkdir(parents=True, exist_ok=True)
    return path


def signing_key() -> bytes:
    """The inbox's HMAC key ($BEATWISE_OVERRIDE_KEY_FILE, else a file under the state folder's keys/),
    generated owner-only at first use."""
    file = Path(os.environ.get("BEATWISE_OVERRIDE_KEY_FILE") or paths.keys_dir() / KEY_FILE)
    if not file.exists():
        fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_hex(32))
    return file.read_text(encoding="ascii").strip().encode("ascii")


def signature(request: dict) -> str:
    body = canonical_json({k: v for k, v in request.items() if k != "signature"})
    return hmac.new(signing_key(), body.encode("utf-8"), hashlib.sha256).hexdigest()


def authorise(request: dict, config: AgencyConfig) -> str:
    """Check who made the request; return their stored role or raise OverrideError saying why not."""
    if not hmac.compare_digest(str(request.get("signature") or ""), signature(request)):
        raise OverrideError(
            "unsigned or altered override file: only the dashboard and `beatwise plan override` may submit one")
    user, claimed = request["user"], request["role"]
    try:
        stored = users.role_of(user)
    except users.UserStoreError as exc:
        raise OverrideError(f"cannot check the user: {exc}") from exc
    if stored is None:
        raise OverrideError(f"unknown user {user!r}: not in the user store {users.users_file().name}")
    if stored != claimed:
        raise OverrideError(f"user {user!r} claims the {claimed} role; the user store gives {stored}")
    allowed = users.APPROVER_ROLES if request["action"] == "approve" else users.OVERRIDE_ROLES
    if stored not in allowed:
        doing = "approve overrides" if request["action"] == "approve" else "add or suppress missions"
        raise OverrideError(f"the {stored} role may not {doing}")
    return stored


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
    if action == "approve" and not request.get("approves"):
        raise OverrideError("an approval must name the override_id it approves")
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
    approves: str | None = None,
    requested_at: datetime | None = None,
) -> Path:
    """Put a signed override into the inbox (atomically) and return its file. Raises OverrideError if
    invalid. Callers vouch for `user`: the dashboard by its login, the command line by the password."""
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
            "approves": approves,
            "requested_at": (requested_at or datetime.now()).isoformat(timespec="seconds"),
        }
    )
    request["signature"] = signature(request)
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
    now = now or agency_now(config)
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
                role = authorise(request, config)
                if request["action"] == "approve":
                    outcome = _approve(con, config, request, now)
                elif config.overrides.approval_required and role not in users.APPROVER_ROLES:
                    outcome = {"outcome": "awaiting_approval", "replacement_mission_id": None,
                               "message": "waits for a supervisor's approval (overrides.approval_required)"}
                else:
                    outcome = _change(con, config, request, now)
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


FOLDERS = {"applied": "done", "awaiting_approval": "awaiting"}


def _file_away(path: Path, outcome: dict) -> dict:
    folder = inbox(FOLDERS.get(outcome["outcome"], "rejected"))
    os.replace(path, folder / path.name)
    return outcome


def _change(con: duckdb.DuckDBPyConnection, config: AgencyConfig, request: dict, now: datetime) -> dict:
    replacement = (_suppress if request["action"] == "suppress" else _add)(con, config, request, now)
    return {"outcome": "applied", "message": "", "replacement_mission_id": replacement}


def awaiting() -> list[dict]:
    """Analysts' overrides waiting for a supervisor's approval, oldest first."""
    found = []
    for file in sorted(inbox("awaiting").glob("*.json")):
        try:
            found.append(json.loads(file.read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError):
            continue
    return found


def _approve(con: duckdb.DuckDBPyConnection, config: AgencyConfig, request: dict, now: datetime) -> dict:
    """Apply the awaited override `request['approves']` under the approver's name; update its record."""
    target = request["approves"]
    files = [f for f in inbox("awaiting").glob("*.json") if target in f.name]
    if not files:
        raise OverrideError(f"no override {target!r} awaits approval")
    original = json.loads(files[0].read_text(encoding="utf-8"))
    original["approved_by"] = f"{request['user']} ({request['role']})"
    try:
        outcome = _change(con, config, original, now)
        outcome["message"] = f"approved by {original['approved_by']}: {request['reason']}"
    except OverrideError as exc:
        outcome = {"outcome": "rejected", "message": f"approved, then refused: {exc}",
                   "replacement_mission_id": None}
    con.execute(
        """update plans.overrides set outcome = ?, message = ?, replacement_mission_id = ?, applied_at = ?,
                  plan_id = ?, cell_id = ? where override_id = ?""",
        [outcome["outcome"], outcome["message"], outcome["replacement_mission_id"], now,
         original.get("plan_id"), original.get("cell_id"), target],
    )
    store.audit(con, "override", original["user"], str(original.get("mission_id") or original.get("plan_id")),
                {"override_id": target, "action": original["action"], "role": original["role"],
                 "approved_by": original["approved_by"], "applied_at": now.isoformat(timespec="seconds"),
                 **outcome})
    request["plan_id"], request["mission_id"] = original.get("plan_id"), original.get("mission_id")
    os.replace(files[0], inbox(FOLDERS.get(outcome["outcome"], "rejected")) / files[0].name)
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
    who = f"{request['user']} ({request['role']})"
    return f"{who}, approved by {request['approved_by']}" if request.get("approved_by") else who
