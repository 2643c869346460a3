"""The five reports on a small simulated day: the embedded sample's last day replayed with simulated
operations (real planner, simulator, real ingest), then the operations marts built by real dbt."""

from __future__ import annotations

import dagster as dg
import duckdb
import pytest

from models.impact.outcomes import estimate_impact
from models.impact.replay import simulate_recent_operations
from orchestration.defs.operations import simulated_operations
from orchestration.resources import AgencyResource, WarehouseResource
from tests.conftest import SAMPLE_CONFIG, own_home
from tests.dbt.operations_warehouse import OPERATIONS, dbt_build, sample_warehouse

REPORTS = ["rpt_shift", "rpt_tactic", "rpt_officer", "rpt_crime_type", "rpt_crime_dosage"]


@pytest.fixture(scope="module")
def simulated_day(tmp_path_factory, sample_config):
    # Its own state folder: no champion registered by other tests, no landing files of theirs.
    with own_home(tmp_path_factory.mktemp("reports_home")):
        yield _simulate_one_day(tmp_path_factory, sample_config)


def _simulate_one_day(tmp_path_factory, sample_config):
    path = sample_warehouse(
        sample_config, tmp_path_factory.mktemp("reports") / "wh.duckdb", "2016-10-01", "2017-01-01"
    )
    dbt_build(path, select=f"+{OPERATIONS} --exclude {OPERATIONS}", command="run")
    # The replay runs as the Dagster asset does (in process, real resources).
    result = dg.materialize(
        [simulated_operations],
        resources={
            "agency": AgencyResource(config_path=str(SAMPLE_CONFIG)),
            "warehouse": WarehouseResource(path=str(path)),
        },
        run_config={"ops": {"operations__simulated_shifts": {"config": {"days": 1, "seed": 3}}}},
    )
    assert result.success
    metadata = result.asset_materializations_for_node("operations__simulated_shifts")[0].metadata
    assert metadata["simulated"].value is True
    with duckdb.connect(str(path)) as con:  # the same call again: idempotent, and gives the replay's figures
        replay = simulate_recent_operations(con, sample_config, days=1, seed=3)
    assert replay["pings"] == metadata["pings"].value
    # The staging views of the field feeds were compiled before those raw tables existed: rebuild them.
    dbt_build(path, select=f"stg_avl_pings stg_patrol_activity {OPERATIONS}")
    return path, replay


def test_replay_plans_simulates_and_ingests_one_day(simulated_day):
    path, replay = simulated_day
    assert replay["shifts"] == 3 and replay["risk_method"] == "prior_28d"  # no registered champion here
    with duckdb.connect(str(path), read_only=True) as con:
        pings = con.execute("select count(*) from raw.avl_pings").fetchall()[0][0]
        simulated = con.execute("select count(*) from operations.simulated_shifts").fetchall()[0][0]
        plans = con.execute("select count(*) from plans.plans").fetchall()[0][0]
    assert pings == replay["pings"] and simulated == 3 and plans == 3  # the second run wrote nothing new


def test_every_report_has_rows_marked_simulated(simulated_day):
    path, _ = simulated_day
    with duckdb.connect(str(path), read_only=True) as con:
        for report in REPORTS:
            rows, simulated = con.execute(
                f"select count(*), bool_and(simulated_operations) from marts.{report} "
                f"where simulated_operations "
                f"or {'missions' if report == 'rpt_crime_dosage' else '1'} > 0"
            ).fetchall()[0]
            assert rows > 0, report
            assert simulated, report


def test_shift_report_accounts_for_the_dose(simulated_day):
    path, replay = simulated_day
    with duckdb.connect(str(path), read_only=True) as con:
        planned, missions, delivered = con.execute(
            "select sum(planned_minutes), sum(missions_planned), sum(delivered_minutes) from marts.rpt_shift"
        ).fetchall()[0]
        truth = con.execute(f"select sum(dose_minutes) from '{replay['files']['dose_truth']}'").fetchall()[0][
            0
        ]
        tracked, parts = con.execute(
            "select sum(tracked_minutes), sum(mission_minutes + call_minutes + elsewhere_minutes) "
            "from marts.fct_unit_shift_dosage"
        ).fetchall()[0]
    assert missions == replay["missions"] and planned == pytest.approx(missions * 30.0)
    # Measured from noisy 30 s pings with a 50 ft buffer, against the simulator's own arrival-to-departure.
    assert delivered == pytest.approx(truth, rel=0.1)
    assert parts == pytest.approx(tracked, rel=0.05)


def test_impact_estimate_is_written_and_audited(simulated_day, sample_config):
    path, _ = simulated_day
    with duckdb.connect(str(path)) as con:
        result = estimate_impact(con, sample_config, track=True)
        rows = con.execute(
            "select count(*), count(distinct outcome_window) from marts.rpt_impact"
        ).fetchall()[0]
        audited = con.execute("select count(*) from raw.audit_log where kind = 'impact'").fetchall()[0][0]
    assert result["plans"] == 2  # the last shift's next shift is not observed yet
    assert rows[0] > 0 and rows[1] == 2 and audited == 1
    assert result["mlflow_run_id"]  # logged to the real MLflow store of this BEATWISE_HOME
