"""Roles hold on every path: an override from the dashboard, the command line or a file dropped in the
inbox by hand changes a plan only for a role that may change it; every refusal is in the audit log."""

from __future__ import annotations

import json
import uuid

import pytest
from click.testing import CliRunner

from beatwise import audit
from dashboards import auth
from dashboards import overrides as dashboard
from models.planning.cli import plan as plan_cli
from models.planning.overrides import apply_pending, awaiting, inbox, pending, submit_override
from models.planning.planner import plan_shift
from tests.dashboards.conftest import PASSWORDS
from tests.models.planning.warehouse_sample import SHIFT

ROLES = ["analyst", "supervisor", "auditor", "admin"]
MAY_CHANGE = {"analyst", "supervisor"}


@pytest.fixture(autouse=True)
def before_the_shift(monkeypatch):
    monkeypatch.setenv("BEATWISE_NOW", "2016-12-01T12:00:00")
    for folder in ("pending", "awaiting"):
        for stale in inbox(folder).glob("*.json"):
            stale.unlink()


@pytest.fixture
def plan(con, sample_config):
    return plan_shift(con, sample_config, SHIFT, briefings=False)


def from_dashboard(role: str, mission_id: str) -> None:
    dashboard.submit(auth.User(role, role, role), "suppress", "blocked by a parade", mission_id=mission_id)


def from_the_command_line(role: str, mission_id: str) -> None:
    args = ["override", "--suppress", mission_id, "--reason", "blocked by a parade", "--user", role,
            "--password", PASSWORDS[role]]
    result = CliRunner().invoke(plan_cli, args)
    assert result.exit_code == 0, result.output


def dropped_by_hand(role: str, mission_id: str) -> None:
    request = {"override_id": uuid.uuid4().hex, "action": "suppress", "user": role, "role": role,
               "reason": "blocked by a parade", "mission_id": mission_id, "requested_at": "2016-12-01T11:00:00"}
    (inbox() / f"by-hand-{role}.json").write_text(json.dumps(request))


PATHS = {"dashboard": from_dashboard, "cli": from_the_command_line, "by_hand": dropped_by_hand}


def suppressed(con) -> int:
    return con.execute("select count(*) from plans.missions where status = 'suppressed'").fetchall()[0][0]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path", PATHS)
def test_only_allowed_roles_change_a_plan_and_every_refusal_is_logged(con, sample_config, plan, path, role):
    mission_id = plan.missions.iloc[0]["mission_id"]
    PATHS[path](role, mission_id)
    [outcome] = apply_pending(con, sample_config)
    allowed = path != "by_hand" and role in MAY_CHANGE
    assert (outcome["outcome"] == "applied") == allowed, outcome
    assert suppressed(con) == (1 if allowed else 0)
    record = audit.records(con, kind="override")[-1]
    assert record.actor == role and record.data["outcome"] == outcome["outcome"]
    if not allowed:
        reason = "unsigned" if path == "by_hand" else f"the {role} role may not add or suppress missions"
        assert reason in record.data["message"]
    assert audit.verify(con).ok


def test_a_signed_request_claiming_another_role_is_refused(con, sample_config, plan):
    submit_override("suppress", "auditor", "supervisor", "I say I am a supervisor",
                    mission_id=plan.missions.iloc[0]["mission_id"])
    [outcome] = apply_pending(con, sample_config)
    assert outcome["outcome"] == "rejected"
    assert "claims the supervisor role; the user store gives auditor" in outcome["message"]
    assert suppressed(con) == 0


def test_an_edited_signed_file_is_refused(con, sample_config, plan):
    file = submit_override("suppress", "analyst", "analyst", "real reason",
                           mission_id=plan.missions.iloc[0]["mission_id"])
    request = json.loads(file.read_text())
    request["user"], request["role"] = "supervisor", "supervisor"
    file.write_text(json.dumps(request))
    [outcome] = apply_pending(con, sample_config)
    assert outcome["outcome"] == "rejected" and "unsigned or altered" in outcome["message"]


def test_a_wrong_password_queues_nothing():
    args = ["override", "--suppress", "M1", "--reason", "x", "--user", "analyst", "--password", "guess"]
    result = CliRunner().invoke(plan_cli, args)
    assert result.exit_code == 1 and "wrong user or password for 'analyst'" in result.output
    assert not pending()


def test_supervisors_approve_analysts_overrides_where_required(con, sample_config, plan):
    config = sample_config.model_copy(update={"overrides": sample_config.overrides.model_copy(
        update={"approval_required": True})})
    mission_id = plan.missions.iloc[0]["mission_id"]
    asked = dashboard.submit(auth.User("analyst", "A", "analyst"), "suppress", "parade", mission_id=mission_id)
    [outcome] = apply_pending(con, config)
    assert outcome["outcome"] == "awaiting_approval" and suppressed(con) == 0
    assert [r["override_id"] for r in awaiting()] == [asked["override_id"]]
    # An analyst cannot approve their own request.
    dashboard.submit(auth.User("analyst", "A", "analyst"), "approve", "fine", approves=asked["override_id"])
    [refused] = apply_pending(con, config)
    assert refused["outcome"] == "rejected" and "may not approve" in refused["message"]
    dashboard.submit(auth.User("supervisor", "S", "supervisor"), "approve", "checked the permit",
                     approves=asked["override_id"])
    [approved] = apply_pending(con, config)
    assert approved["outcome"] == "applied" and suppressed(con) == 1 and not awaiting()
    row = con.execute("select outcome, message from plans.overrides where override_id = ?",
                      [asked["override_id"]]).fetchall()[0]
    assert row[0] == "applied" and "approved by supervisor (supervisor)" in row[1]
    by = con.execute("select changed_by from plans.missions where mission_id = ?", [mission_id]).fetchall()[0][0]
    assert by == "analyst (analyst), approved by supervisor (supervisor)"
