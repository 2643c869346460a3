"""Planning against a warehouse of real-shaped tables cut from the embedded sample."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from beatwise import audit, paths
from models.planning import PlanningError
from models.planning.planner import plan_shift, read_plan
from models.planning.replay import replay_plan
from tests.models.planning.warehouse_sample import SHIFT


def test_plan_writes_candidates_missions_and_audit(con, sample_config):
    plan = plan_shift(con, sample_config, SHIFT)
    n_cells = con.execute("select count(*) from raw.cells").fetchall()[0][0]
    rows = con.execute(
        "select count(*), sum(selected::int), sum(inclusion_probability) from plans.plan_candidates "
        "where plan_id = ?",
        [plan.plan_id],
    ).fetchall()[0]
    assert rows[0] == n_cells  # every cell is a recorded candidate, selected or not
    assert rows[1] == 24 and rows[2] == pytest.approx(24)  # 3 districts x 4 units x 2 missions
    missions = con.execute("select * from plans.missions where plan_id = ?", [plan.plan_id]).df()
    assert len(missions) == 24 and set(missions["status"]) == {"planned"}
    assert (missions["dose_minutes"] == 15).all() and (missions["visits"] == 2).all()
    first = missions.iloc[0]
    assert json.loads(first["tactics"]) and sum(json.loads(first["crime_types"]).values()) <= 1.0001
    record = audit.records(con, kind="plan")[-1]
    assert record.subject == plan.plan_id
    assert record.data["seed"] == plan.seed and record.data["inputs_sha256"] == plan.inputs_sha256
    assert audit.verify(con).ok


def test_replanning_the_same_inputs_is_idempotent(con, sample_config):
    first = plan_shift(con, sample_config, SHIFT, briefings=False)
    second = plan_shift(con, sample_config, SHIFT, briefings=False)
    assert first.plan_id == second.plan_id
    assert con.execute("select count(*) from plans.plans").fetchall()[0][0] == 1


def test_a_new_seed_supersedes_the_published_plan(con, sample_config):
    first = plan_shift(con, sample_config, SHIFT, seed=1, briefings=False)
    second = plan_shift(con, sample_config, SHIFT, seed=2, briefings=False)
    status = dict(con.execute("select plan_id, status from plans.plans").fetchall())
    assert status == {first.plan_id: "superseded", second.plan_id: "published"}


def test_exposure_cap_counts_the_published_plans_of_recent_shifts(con, sample_config):
    earlier = datetime(2016, 12, 1, 6)
    con.execute(
        "insert into forecast.risk_surfaces select * replace (?::timestamp as shift_start) "
        "from forecast.risk_surfaces where shift_start = ?",
        [earlier, SHIFT],
    )
    tight = sample_config.model_copy(
        update={"exposure": sample_config.exposure.model_copy(update={"max_missions_per_cell": 1})}
    )
    before = plan_shift(con, tight, earlier, briefings=False)
    plan = plan_shift(con, tight, SHIFT, briefings=False)
    capped = plan.candidates.set_index("cell_id").loc[before.missions["cell_id"]]
    assert not capped["eligible"].any() and not capped["selected"].any()
    assert capped["ineligible_reason"].str.startswith("exposure cap").all()


def test_the_demos_simulated_plans_never_feed_the_next_plan(con, sample_config):
    """Issue 13 item 6: a rerun after the demo's replay draws the same plan, as if the replay never ran."""
    from models.planning import store
    from models.planning.plan import make_plan

    alone = plan_shift(con, sample_config, SHIFT, briefings=False)
    earlier = datetime(2016, 12, 1, 6)
    con.execute(
        "insert into forecast.risk_surfaces select * replace (?::timestamp as shift_start) "
        "from forecast.risk_surfaces where shift_start = ?",
        [earlier, SHIFT],
    )
    replayed_inputs = store.read_inputs(con, sample_config, earlier)
    replayed = make_plan(replayed_inputs, sample_config, earlier)
    store.write_plan(con, replayed, store.save_inputs(replayed, replayed_inputs, sample_config), "demo",
                     simulated=True)
    assert store.read_recent_missions(con, sample_config, SHIFT).empty
    again = plan_shift(con, sample_config, SHIFT, briefings=False)
    assert again.plan_id == alone.plan_id and again.seed == alone.seed
    assert con.execute("select simulated from plans.plans where plan_id = ?", [replayed.plan_id]).fetchall() == [
        (True,)]


def test_missing_risk_surfaces_for_the_shift_are_named(con, sample_config):
    with pytest.raises(PlanningError,
                       match="missing risk surfaces for the shift 2016-12-02 06:00.*1 shift.*beatwise score"):
        plan_shift(con, sample_config, datetime(2016, 12, 2, 6))


def test_replay_is_identical_and_detects_tampering(con, sample_config):
    plan = plan_shift(con, sample_config, SHIFT, seed=99, briefings=False)
    assert replay_plan(con, plan.plan_id).identical
    con.execute(
        """update plans.plan_candidates set selected = not selected
                   where plan_id = ? and cell_id = (select min(cell_id) from plans.plan_candidates
                                                     where plan_id = ? and eligible)""",
        [plan.plan_id, plan.plan_id],
    )
    result = replay_plan(con, plan.plan_id)
    assert not result.identical and "candidate column selected differs" in result.differences


def test_replay_of_an_unknown_plan_is_refused(con, sample_config):
    plan_shift(con, sample_config, SHIFT, briefings=False)
    with pytest.raises(PlanningError, match="unknown plan 'P1'"):
        replay_plan(con, "P1")


def test_briefings_are_printable_html_with_a_map_and_geojson(con, sample_config):
    plan = plan_shift(con, sample_config, SHIFT)
    folder = paths.artifacts_dir() / "briefings" / plan.plan_id
    mission = plan.missions.iloc[0]
    page = (folder / f"{mission['mission_id']}.html").read_text(encoding="utf-8")
    assert (
        "<svg" in page and "Tactics" in page and "15 minutes" in page and "Incidents within 1/4 mile" in page
    )
    assert "https://" not in page  # no map tiles, nothing fetched
    doc = json.loads((folder / f"{mission['mission_id']}.geojson").read_text(encoding="utf-8"))
    cell = doc["features"][0]
    assert cell["properties"]["mission_id"] == mission["mission_id"]
    lon, lat = cell["geometry"]["coordinates"][0][0]
    assert -88 < lon < -87.5 and 41.6 < lat < 42.1  # WGS84, on Chicago's West Side
    incidents = [f for f in doc["features"] if f["properties"]["kind"] == "incident"]
    assert all(set(f["properties"]) == {"kind", "crime_type", "occurred_at", "block"} for f in incidents)
    assert (folder / "index.html").exists()


def test_plan_document_has_the_cli_shape(con, sample_config):
    plan = plan_shift(con, sample_config, SHIFT, briefings=False)
    doc = read_plan(con, plan.plan_id)
    assert {"plan_id", "shift_start", "candidates", "missions"} <= set(doc)
    assert {"cell_id", "district", "priority", "inclusion_probability", "selected"} <= set(
        doc["candidates"][0]
    )
    assert isinstance(doc["missions"][0]["tactics"], list)
