"""Overrides through the durable inbox: applied, redrawn, audited; bad ones rejected with the reason."""

from __future__ import annotations

import json

import pytest

from beatwise import audit
from models.planning.overrides import OverrideError, apply_pending, inbox, pending, submit_override
from models.planning.planner import plan_shift
from tests.models.planning.warehouse_sample import SHIFT


@pytest.fixture(autouse=True)
def before_the_shift(monkeypatch):
    monkeypatch.setenv("BEATWISE_NOW", "2016-12-01T12:00:00")
    for stale in pending():  # the inbox lives in the session's BEATWISE_HOME
        stale.unlink()


@pytest.fixture
def plan(con, sample_config):
    return plan_shift(con, sample_config, SHIFT, briefings=False)


def test_suppress_redraws_from_the_same_stratum_and_audits(con, sample_config, plan):
    target = plan.missions[plan.missions["stratum"] == "high"].iloc[0]
    path = submit_override(
        "suppress", "analyst", "analyst", "construction closes the block", mission_id=target["mission_id"]
    )
    assert path.exists() and path.parent == inbox()
    [outcome] = apply_pending(con, sample_config)
    assert outcome["outcome"] == "applied" and outcome["replacement_mission_id"]
    status, by, why = con.execute(
        "select status, changed_by, changed_reason from plans.missions where mission_id = ?",
        [target["mission_id"]],
    ).fetchall()[0]
    assert (status, by, why) == ("suppressed", "analyst (analyst)", "construction closes the block")
    new = con.execute(
        "select district, stratum, draw, status, inclusion_probability from plans.missions "
        "where mission_id = ?",
        [outcome["replacement_mission_id"]],
    ).fetchall()[0]
    # A pool mission's capacity is redrawn from the same pool (top and high cells), proportional to priority.
    assert (new[0], new[2], new[3]) == (target["district"], 1, "planned") and new[1] in {"top", "high"}
    assert 0 < new[4] <= 1
    draw = con.execute(
        "select count(*), sum(selected::int), sum(inclusion_probability) from plans.plan_candidates "
        "where plan_id = ? and draw = 1",
        [plan.plan_id],
    ).fetchall()[0]
    assert draw[1] == 1 and draw[2] == pytest.approx(1)  # the redraw's probabilities are recorded
    active = con.execute(
        "select count(*) from plans.missions where plan_id = ? and status <> 'suppressed'", [plan.plan_id]
    ).fetchall()[0][0]
    assert active == len(plan.missions)  # capacity kept
    record = audit.records(con, kind="override")[-1]
    assert record.actor == "analyst" and record.data["role"] == "analyst"
    assert record.data["reason"] == "construction closes the block" and record.data["applied_at"]
    assert not pending() and (inbox("done") / path.name).exists()


def test_add_creates_an_added_mission(con, sample_config, plan):
    cell = plan.candidates[~plan.candidates["selected"]].iloc[0]["cell_id"]
    submit_override(
        "add",
        "analyst",
        "analyst",
        "community meeting asked for presence",
        plan_id=plan.plan_id,
        cell_id=cell,
    )
    [outcome] = apply_pending(con, sample_config)
    assert outcome["outcome"] == "applied"
    row = con.execute(
        "select status, inclusion_probability, changed_by from plans.missions where plan_id = ? "
        "and cell_id = ?",
        [plan.plan_id, cell],
    ).fetchall()[0]
    assert row == ("added", None, "analyst (analyst)")


def test_an_override_without_a_reason_is_refused_at_the_door():
    with pytest.raises(OverrideError, match="needs a reason"):
        submit_override("suppress", "analyst", "analyst", "  ", mission_id="M1")
    assert not pending()


def test_a_hand_written_file_without_a_reason_is_rejected(con, sample_config, plan):
    (inbox() / "manual.json").write_text(
        json.dumps(
            {
                "action": "suppress",
                "user": "x",
                "role": "analyst",
                "mission_id": plan.missions.iloc[0]["mission_id"],
            }
        )
    )
    [outcome] = apply_pending(con, sample_config)
    assert outcome["outcome"] == "rejected" and "needs a reason" in outcome["message"]
    assert (inbox("rejected") / "manual.json").exists()
    assert (
        con.execute("select count(*) from plans.missions where status = 'suppressed'").fetchall()[0][0] == 0
    )


def test_an_unknown_mission_is_rejected_with_its_name(con, sample_config, plan):
    submit_override("suppress", "analyst", "analyst", "why not", mission_id="P0-nowhere")
    [outcome] = apply_pending(con, sample_config)
    assert outcome["outcome"] == "rejected" and "unknown mission 'P0-nowhere'" in outcome["message"]
    logged = con.execute("select outcome, message from plans.overrides").fetchall()
    assert logged == [("rejected", outcome["message"])]
    assert audit.records(con, kind="override")[-1].data["outcome"] == "rejected"


def test_an_override_for_a_past_shift_is_rejected(con, sample_config, plan, monkeypatch):
    monkeypatch.setenv("BEATWISE_NOW", "2016-12-02T08:00:00")
    submit_override(
        "suppress", "analyst", "analyst", "too late", mission_id=plan.missions.iloc[0]["mission_id"]
    )
    [outcome] = apply_pending(con, sample_config)
    assert outcome["outcome"] == "rejected" and "past shift" in outcome["message"]


def test_an_applied_override_file_is_not_applied_twice(con, sample_config, plan):
    path = submit_override(
        "suppress", "analyst", "analyst", "once", mission_id=plan.missions.iloc[0]["mission_id"]
    )
    copy = path.read_text()
    apply_pending(con, sample_config)
    path.write_text(copy)  # as if the process died after the commit, before moving the file
    [outcome] = apply_pending(con, sample_config)
    assert outcome["message"] == "seen"
    assert con.execute("select count(*) from plans.overrides").fetchall()[0][0] == 1
