"""Issue 13 item 6: running the demo twice on the same inputs gives the SAME next-shift plan. The demo's
replayed plans (simulated) lie inside the next shift's exposure window, yet never feed it.

A demo copy of the sample config, lightened in YAML (three replayed days, which still cover the exposure
window; fewer sampled negatives; a short backtest) so that two whole runs stay affordable.
"""

from __future__ import annotations

import duckdb
import yaml

from tests.orchestration.test_production import LIGHT_FORECASTING, ROOT, beatwise


def test_two_demo_runs_on_the_same_inputs_publish_the_same_next_plan(tmp_path):
    raw = yaml.safe_load((ROOT / "config" / "chicago_sample.yaml").read_text(encoding="utf-8"))
    raw["extends"] = str(ROOT / "config" / "chicago.yaml")
    raw["data_root"] = str(ROOT / "data" / "chicago_sample")
    raw["demo"]["simulated_operations_days"] = 3
    raw["forecasting"] = dict(LIGHT_FORECASTING)
    config, home = tmp_path / "demo.yaml", tmp_path / "home"
    config.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")

    def next_plan() -> tuple[str, list[str], int]:
        with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
            plan_id = con.execute("select plan_id from plans.plans where status = 'published' and not simulated "
                                  "order by shift_start desc limit 1").fetchall()[0][0]
            cells = [r[0] for r in con.execute("select cell_id from plans.missions where plan_id = ? "
                                               "order by cell_id", [plan_id]).fetchall()]
            replayed = con.execute("select count(*) from plans.plans where simulated").fetchall()[0][0]
        return plan_id, cells, replayed

    first = beatwise("run", "--config", str(config), home=home)
    assert "running the demo job" in first.stdout
    plan_id, cells, replayed = next_plan()
    assert replayed == 9 and len(cells) == 24  # 3 days x 3 shifts replayed before the next shift's plan
    beatwise("run", "--config", str(config), home=home)
    assert next_plan() == (plan_id, cells, replayed)
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        plans = con.execute("select count(*) from plans.plans where not simulated").fetchall()[0][0]
        # The rerun read no feed file again: each was as the first run had loaded it.
        incidents = con.execute("select status from raw.load_log where feed = 'incidents' order by started_at"
                                ).fetchall()
        # Records name files inside the state folder relative to it: nothing of this machine's directories.
        machine = [f"%{home.resolve()}%"]
        in_audit = con.execute("select count(*) from raw.audit_log where payload like ?", machine).fetchall()[0][0]
        in_plans = con.execute("select count(*) from plans.plans where inputs_artifact like ?", machine).fetchall()
    assert plans == 1  # the rerun drew the same plan: nothing superseded, nothing written again
    assert [s for (s,) in incidents] == ["loaded", "unchanged"]
    assert (in_audit, in_plans[0][0]) == (0, 0)
