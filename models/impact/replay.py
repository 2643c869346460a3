"""Replay recent shifts with simulated field operations, so that dosage, the reports and the impact
estimate have data where no AVL or activity-log system exists (the embedded Chicago slice).

For each shift of the last `days` days of the data: the risk surfaces of the forecasting champions (or,
when none is registered, 28-day prior counts), computed from events before the shift only -> the real
planner (plans published, inputs kept, audited: replayable like any plan) -> units simulated working the
missions (beatwise.simulate) -> AVL pings and activity logs written as landing files -> loaded through the
real ingest and contracts. The shifts are recorded in operations.simulated_shifts, so every report says
that its operations were simulated.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb
import pandas as pd

from beatwise import audit, paths
from beatwise.config.schema import AgencyConfig
from beatwise.ingest import load_feed
from beatwise.simulate import compliance_for, make_roster, simulate_operations
from beatwise.simulate.files import write_parquet
from models.forecasting.history import MINUTES_PER_DAY, to_minutes
from models.forecasting.pipeline import champion_forecasters, load_history
from models.forecasting.shifts import shift_minutes, shift_starts
from models.planning import store
from models.planning.plan import make_plan, planning_inputs

SIMULATED_TABLE = "operations.simulated_shifts"
FILE_PREFIX = "simulated_operations"


def replay_shifts(con: duckdb.DuckDBPyConnection, config: AgencyConfig, days: int = 28) -> list[datetime]:
    """The shifts of the last `days` days of incident data (history_end caps it)."""
    last = con.execute("select max(occurred_at) from intermediate.int_incidents").fetchall()[0][0]
    if last is None:
        raise ValueError("intermediate.int_incidents is empty: there is nothing to replay")
    end = pd.Timestamp(last).date()
    if config.history_end:
        end = min(end, config.history_end)
    return shift_starts(config, end - timedelta(days=days - 1), end)


def risk_for(
    history, forecasters: dict, crime_types: list[str], shift_start: datetime, per_day: int
) -> pd.DataFrame:
    """Long risk frame (cell_id, crime_type, expected_count) for one shift, from events before it."""
    cells = history.cells["cell_id"].to_numpy()
    start = to_minutes(shift_start)
    frames = []
    for crime_type in crime_types:
        if crime_type in forecasters:
            expected = forecasters[crime_type][0].predict(history, shift_start)
        else:  # no champion registered: the prior-count baseline, uncalibrated
            grid = history.counts(crime_type, start - 28 * MINUTES_PER_DAY, start) / (28 * per_day)
            expected = grid[history.cell_index]
        frames.append(pd.DataFrame({"cell_id": cells, "crime_type": crime_type, "expected_count": expected}))
    return pd.concat(frames, ignore_index=True)


def simulate_recent_operations(
    con: duckdb.DuckDBPyConnection,
    config: AgencyConfig,
    days: int = 28,
    seed: int = 1,
    actor: str = "pipeline",
) -> dict:
    """Plan, simulate and ingest the last `days` days; returns counts. Idempotent: the same data and seed
    give the same plans (not written twice), the same files (loaded unchanged) and the same records."""
    shifts = replay_shifts(con, config, days)
    history, calendar = load_history(con, config)
    crime_types = [t for t in config.modelled_crime_types() if t in history.crime_types]
    try:
        forecasters = champion_forecasters(config, calendar, crime_types)
        method = "champion"
    except Exception:  # noqa: BLE001 - no registry yet: fall back to prior counts, and say so
        forecasters, method = {}, "prior_28d"
    cells = store.read_cells(con)
    per_day = len(config.shifts)
    missions, plan_ids, recent = [], {}, []
    for shift_start in shifts:
        risk = risk_for(history, forecasters, crime_types, shift_start, per_day)
        recent_missions = (
            pd.concat(recent[-config.exposure.window_shifts :]).value_counts()
            if recent
            else pd.Series(dtype="int64")
        )
        inputs = planning_inputs(risk, cells, recent_missions)
        plan = make_plan(inputs, config, shift_start)
        if not store.plan_exists(con, plan.plan_id):
            store.write_plan(con, plan, store.save_inputs(plan, inputs, config), actor, simulated=True)
        active = con.execute(
            "select * from plans.missions where plan_id = ? and status in ('planned', 'added')",
            [plan.plan_id],
        ).df()
        recent.append(active["cell_id"])
        missions.append(active)
        plan_ids[shift_start] = plan.plan_id
    planned = pd.concat(missions, ignore_index=True)
    roster = pd.concat(
        [
            make_roster(
                [s],
                sorted(cells["district"].astype(str).unique()),
                {
                    d: config.capacity.per_district.get(d, config.capacity.units_per_shift)
                    for d in cells["district"].astype(str).unique()
                },
                shift_hours=shift_minutes(config, s) / 60,
                salt=config.agency.slug,
            )
            for s in shifts
        ],
        ignore_index=True,
    )
    ops = simulate_operations(
        planned.assign(tactics=planned["tactics"].map(_tactics)),
        roster,
        _calls(con),
        seed=seed,
        compliance=compliance_for(config),
        cell_size=config.grid.cell_size,
        cells=cells[["cell_id", "district"]],
    )
    name = f"{FILE_PREFIX}_{shifts[0]:%Y%m%dT%H%M}_{shifts[-1]:%Y%m%dT%H%M}_seed{seed}"
    files = _write_landing(ops, name, config)
    loaded = {feed: load_feed(con, config, feed, actor=actor) for feed in ("avl_pings", "patrol_activity")}
    _record(con, shifts, plan_ids, seed, method, files)
    audit.append(
        con,
        "simulated_operations",
        actor,
        SIMULATED_TABLE,
        {
            "first_shift": f"{shifts[0]:%Y-%m-%d %H:%M}",
            "last_shift": f"{shifts[-1]:%Y-%m-%d %H:%M}",
            "seed": seed,
            "risk_method": method,
            "plans": sorted(set(plan_ids.values())),
            "files": {k: paths.in_home(v) for k, v in files.items()},
            "pings": len(ops.pings),
            "activities": len(ops.activity),
        },
    )
    return {
        "shifts": len(shifts),
        "first_shift": shifts[0],
        "last_shift": shifts[-1],
        "missions": len(planned),
        "pings": len(ops.pings),
        "activities": len(ops.activity),
        "risk_method": method,
        "rows_quarantined": {f: r.total("rows_quarantined") for f, r in loaded.items()},
        "files": {k: str(v) for k, v in files.items()},
    }


def _tactics(value) -> list[str]:
    import json

    return json.loads(value) if isinstance(value, str) else list(value)


def _calls(con: duckdb.DuckDBPyConnection) -> pd.DataFrame | None:
    """Calls for service to answer between missions, when the agency has that feed."""
    from beatwise.warehouse import table_exists

    if not table_exists(con, "raw", "calls_for_service"):
        return None
    calls = con.execute("select received_at, x, y from raw.calls_for_service").df()
    return calls if not calls.empty else None


def _write_landing(ops, name: str, config: AgencyConfig) -> dict[str, object]:
    """Pings and activity as landing files in the layout the agency's config maps (canonical columns
    renamed to the feed's source columns), so they go through the ingest like any delivery."""
    landing = paths.landing_dir()

    def source_layout(frame: pd.DataFrame, feed: str) -> pd.DataFrame:
        mapping = config.feeds[feed].columns if feed in config.feeds else {}
        return frame.rename(columns={canonical: source for canonical, source in mapping.items()})

    pings = ops.pings.assign(unit_id=ops.pings["unit_id"].astype(str))
    activity = ops.activity.assign(mission_id=ops.activity["mission_id"].astype(object))
    return {
        "avl_pings": write_parquet(
            source_layout(pings, "avl_pings"), landing / "avl_pings" / f"{name}.parquet"
        ),
        "patrol_activity": write_parquet(
            source_layout(activity, "patrol_activity"), landing / "patrol_activity" / f"{name}.parquet"
        ),
        "dose_truth": write_parquet(ops.dose, paths.artifacts_dir() / "dose_truth" / f"{name}.parquet"),
    }


def _record(con, shifts, plan_ids, seed, method, files) -> None:
    con.execute("create schema if not exists operations")
    con.execute(f"""create table if not exists {SIMULATED_TABLE} (
        shift_start timestamp primary key, plan_id varchar, seed bigint, risk_method varchar,
        pings_file varchar,
        activity_file varchar, note varchar)""")
    frame = pd.DataFrame(
        {
            "shift_start": shifts,
            "plan_id": [plan_ids[s] for s in shifts],
            "seed": seed,
            "risk_method": method,
            "pings_file": paths.in_home(files["avl_pings"]),
            "activity_file": paths.in_home(files["patrol_activity"]),
            "note": "field operations simulated by beatwise.simulate: not real AVL or activity logs",
        }
    )
    con.register("_simulated", frame)
    con.execute(f"insert or replace into {SIMULATED_TABLE} select * from _simulated")
    con.unregister("_simulated")
