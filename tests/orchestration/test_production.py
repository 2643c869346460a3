"""Production is not the demo: on the slice with a NON-demo copy of the sample config, `beatwise run` runs
the `main` job, which writes no simulated row anywhere; real AVL and activity files dropped in the landing
folder reach the report marts marked simulated = false; `score` and on-demand `plan` refuse to look ahead;
and every failure ends with its cause on the last line of stderr.

Commands run as a user runs them: `.venv/bin/beatwise` in a process of its own with PATH stripped to
/usr/bin:/bin (dbt is found beside the interpreter), in one state folder shared by this module's tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BEATWISE = Path(sys.executable).parent / "beatwise"
NEXT_SHIFT = "2017-01-01 06:00"
# The forecasting set-up lightened for tests (fewer sampled negatives and windows, half a year of training,
# a six-week backtest scored every other week): the same code paths, a fraction of the cost.
LIGHT_FORECASTING = {"windows_days": [7, 28, 91], "negatives_per_crime_type": 15000, "negatives_per_positive": 1,
                     "train_start": "2016-06-01", "backtest_days": 42, "backtest_every_days": 14}


def non_demo_config(folder: Path, **feeds) -> Path:
    """The sample config as a real agency would have it: no `demo:` block (feeds overridden by `feeds`)."""
    raw = yaml.safe_load((ROOT / "config" / "chicago_sample.yaml").read_text(encoding="utf-8"))
    raw.pop("demo")
    raw["extends"] = str(ROOT / "config" / "chicago.yaml")
    raw["data_root"] = str(ROOT / "data" / "chicago_sample")
    raw["forecasting"] = dict(LIGHT_FORECASTING)
    for feed, spec in feeds.items():
        raw["feeds"].setdefault(feed, {}).update(spec)
    path = folder / "agency.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def beatwise(*args: str, home: Path, check: bool = True, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("BEATWISE_CONFIG", "BEATWISE_WAREHOUSE", "PATH")}
    result = subprocess.run(
        [str(BEATWISE), *args], cwd=ROOT, capture_output=True, text=True, timeout=2400,
        env={**clean, "PATH": "/usr/bin:/bin", "BEATWISE_HOME": str(home), "DAGSTER_HOME": str(home / "dagster"),
             **env},
    )
    if check and result.returncode != 0:
        raise AssertionError(f"beatwise {' '.join(args)} exited {result.returncode}:\n{result.stdout[-3000:]}\n"
                             f"{result.stderr[-5000:]}")
    return result


def last_line(result: subprocess.CompletedProcess) -> str:
    return result.stderr.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def real(tmp_path_factory) -> tuple[Path, Path]:
    """(config, home) after one `beatwise run` of the non-demo config."""
    folder = tmp_path_factory.mktemp("real_agency")
    config, home = non_demo_config(folder), folder / "home"
    result = beatwise("run", "--config", str(config), home=home)
    assert "running the main job" in result.stdout
    return config, home


def simulated_rows(database: Path) -> dict[str, int]:
    """Per table: rows flagged simulated (any boolean or integer column named *simulated*), rows of the
    demo's simulated_shifts table, and rows loaded from the demo's simulated files."""
    found = {}
    with duckdb.connect(str(database), read_only=True) as con:
        columns = con.execute(
            "select table_schema, table_name, column_name, data_type from information_schema.columns"
        ).fetchall()
        for schema, table, column, dtype in columns:
            name = f"{schema}.{table}"
            if "simulated" in column and dtype in ("BOOLEAN", "INTEGER", "BIGINT"):
                n = con.execute(f'select count(*) from {name} where cast("{column}" as integer) = 1').fetchall()[0][0]
                found[f"{name}.{column}"] = n
            if column in ("source_file", "file", "pings_file", "activity_file"):
                n = con.execute(f"select count(*) from {name} where \"{column}\" like '%simulated_operations%'"
                                ).fetchall()[0][0]
                found[f"{name}.{column} (demo files)"] = n
        tables = {f"{s}.{t}" for s, t, _, _ in columns}
        if "operations.simulated_shifts" in tables:
            found["operations.simulated_shifts"] = con.execute(
                "select count(*) from operations.simulated_shifts").fetchall()[0][0]
        if "raw.audit_log" in tables:
            found["raw.audit_log (simulated_operations)"] = con.execute(
                "select count(*) from raw.audit_log where kind = 'simulated_operations'").fetchall()[0][0]
    return found


def test_main_writes_no_simulated_row_in_the_warehouse_or_the_serving_snapshot(real):
    _, home = real
    for database in (home / "warehouse.duckdb", home / "serving.duckdb"):
        found = simulated_rows(database)
        assert any(k.endswith("simulated_operations") for k in found), "no simulated flag column checked"
        assert not {k: n for k, n in found.items() if n}, (database.name, found)
    landing = home / "landing"
    assert not [p for p in landing.rglob("*") if p.name.startswith("simulated_operations")]
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        plans = con.execute("select count(*), count(*) filter (where simulated) from plans.plans").fetchall()[0]
    assert plans == (1, 0)  # the next shift's plan only, not simulated


def test_real_avl_and_activity_files_reach_the_report_marts_as_not_simulated(real, tmp_path):
    """A small real-looking delivery: the simulator's output for the published plan, named as an agency's
    export (not the demo's files), dropped in the landing folder; the sensor asks for field_operations."""
    config, home = real
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        missions = con.execute("select mission_id, shift_start, district, cell_id, dose_minutes, visits, tactics "
                               "from plans.missions where status = 'planned'").df()
    missions["tactics"] = missions["tactics"].map(json.loads)
    missions.to_parquet(tmp_path / "missions.parquet", index=False)
    beatwise("simulate", "operations", "--config", str(config), "--missions", str(tmp_path / "missions.parquet"),
             "--out", str(home / "landing"), home=home)
    landed = sorted(p.relative_to(home / "landing").as_posix() for p in (home / "landing").rglob("*.parquet"))
    assert {p.split("/")[0] for p in landed} >= {"avl_pings", "patrol_activity"}

    sensor = subprocess.run(
        [sys.executable, "-c",
         "import dagster as dg; from orchestration.defs.operations import new_field_files; "
         "r = new_field_files(dg.build_sensor_context()); print([q.run_key for q in r.run_requests])"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=True,
        env={**os.environ, "BEATWISE_HOME": str(home), "BEATWISE_CONFIG": str(config)},
    )
    assert "field-" in sensor.stdout

    subprocess.run(
        [sys.executable, "-c", "import sys; from orchestration.cli import prepare_environment, execute; "
         "prepare_environment(sys.argv[1]); execute('field_operations', 'field_operations')", str(config)],
        cwd=ROOT, capture_output=True, text=True, timeout=1800, check=True,
        env={**{k: v for k, v in os.environ.items() if k != "BEATWISE_WAREHOUSE"}, "BEATWISE_HOME": str(home),
             "DAGSTER_HOME": str(home / "dagster")},
    )
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        pings = con.execute("select count(*) from raw.avl_pings").fetchall()[0][0]
        shifts = con.execute("select shift_start, simulated_operations from marts.rpt_shift").df()
        dosage = con.execute("select count(*), count(*) filter (where simulated_operations) "
                             "from marts.fct_mission_dosage where delivered_minutes > 0").fetchall()[0]
    assert pings > 100
    assert pd.Timestamp(NEXT_SHIFT) in set(shifts["shift_start"]) and not shifts["simulated_operations"].any()
    assert dosage[0] > 0 and dosage[1] == 0
    assert not {k: n for k, n in simulated_rows(home / "serving.duckdb").items() if n}


def test_score_refuses_a_shift_the_champions_have_seen(real):
    config, home = real
    result = beatwise("score", "--config", str(config), "--shift", "2016-12-20 06:00", home=home, check=False)
    assert result.returncode == 1
    assert "would look ahead" in last_line(result) and "2016-12-20 06:00" in last_line(result)


def test_plan_scores_a_shift_without_risk_surfaces_first(real, tmp_path):
    config, home = real
    out = tmp_path / "plan.json"
    result = beatwise("plan", "--config", str(config), "--shift", "2017-01-01 14:00", "--out", str(out), home=home)
    assert "scoring it first" in result.stderr
    plan = json.loads(out.read_text(encoding="utf-8"))
    assert plan["shift_start"] == "2017-01-01 14:00" and plan["missions"]
    scored = beatwise("score", "--config", str(config), "--shift", "2017-01-01 22:00", home=home)
    assert "risk surfaces for the shift 2017-01-01 22:00" in scored.stdout


def test_failures_end_with_their_cause_on_the_last_line(real, tmp_path):
    config, home = real
    missing = non_demo_config(tmp_path, incidents={"files": ["no_such_export.parquet"]})
    result = beatwise("run", "--config", str(missing), home=tmp_path / "h1", check=False)
    assert result.returncode == 1 and "no_such_export.parquet" in last_line(result), result.stderr[-2000:]

    (tmp_path / "bad").mkdir()
    mapped = non_demo_config(tmp_path / "bad", incidents={"columns": {"occurred_at": "when_it_happened"}})
    result = beatwise("forecast", "--config", str(mapped), "--train-until", "2016-11-30", "--start", "2016-12-01",
                      "--end", "2016-12-01", "--method", "prior_28d", "--out", str(tmp_path / "f.parquet"),
                      home=tmp_path / "h2", check=False)
    assert result.returncode == 1 and "when_it_happened" in last_line(result), result.stderr[-2000:]

    # dbt fails: a table the scoring model reads is gone; the last line names the model, its file, dbt's error
    with duckdb.connect(str(home / "warehouse.duckdb")) as con:
        con.execute("drop table marts.dim_cells")
    result = beatwise("score", "--config", str(config), "--shift", "2017-01-02 06:00", home=home, check=False)
    line = last_line(result)
    assert result.returncode == 1 and "dbt build failed" in line and "fct_scoring_features" in line, line
