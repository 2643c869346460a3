"""Publish the serving snapshot the dashboards read: their tables, copied and swapped in atomically."""

from __future__ import annotations

import time

import dagster as dg
import duckdb

from beatwise import audit, warehouse
from orchestration.defs.dbt import warehouse_models
from orchestration.defs.operations import IMPACT
from orchestration.resources import WAREHOUSE_POOL, WarehouseResource

# What the dashboards read, in the order they are copied. Tables not built yet are skipped.
SERVED_TABLES = [
    "raw.load_log",
    "raw.quarantine",
    "raw.audit_log",
    "marts.dim_cells",
    "marts.dim_cell_places",
    "marts.fct_cell_shift_counts",  # the recent counts behind the risk drivers' plain-language text
    "marts.fct_unit_shift_dosage",  # the commander's summary: compliance per unit
    "forecast.risk_surfaces",
    "forecast.risk_drivers",
    "forecast.backtest_metrics",
    "forecast.champion_history",
    "forecast.champion_gate",  # the gate's decision and reasons per crime type (Model performance)
    "plans.plans",
    "plans.plan_candidates",
    "plans.missions",
    "plans.overrides",
]
# Every report mart is served, whatever its name.
SERVED_PREFIXES = ["marts.rpt_"]

# The assets whose tables are served: the snapshot is published after them (in the main job, last of all).
UPSTREAM = [
    dg.AssetKey(["marts", "dim_cells"]),
    dg.AssetKey(["marts", "dim_cell_places"]),
    dg.AssetKey(["forecast", "risk_surfaces"]),
    dg.AssetKey(["forecast", "backtest_metrics"]),
    dg.AssetKey(["plans", "missions"]),
    IMPACT,
    *(key for key in warehouse_models.keys if key.path[0] == "marts" and key.path[-1].startswith("rpt_")),
]


def served_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The served tables (and views) that exist in the warehouse now."""
    present = [
        f"{s}.{t}"
        for s, t in con.execute(
            "select table_schema, table_name from information_schema.tables order by 1, 2"
        ).fetchall()
    ]
    named = [t for t in SERVED_TABLES if t in present]
    prefixed = [t for t in present if any(t.startswith(p) for p in SERVED_PREFIXES) and t not in named]
    return named + prefixed


def publish(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Audit the publication, then copy the served tables into a new snapshot and swap it in.

    Returns the row count of each table published.
    """
    tables = served_tables(con)
    rows = {t: int(con.execute(f"select count(*) from {t}").fetchall()[0][0]) for t in tables}
    audit.append(con, "publish", "pipeline", "serving", {"tables": rows})
    if "raw.audit_log" not in tables:
        tables.insert(0, "raw.audit_log")
    rows["raw.audit_log"] = int(con.execute("select count(*) from raw.audit_log").fetchall()[0][0])
    warehouse.publish_serving(con, tables)
    return rows


@dg.asset(
    key=["serving", "snapshot"],
    deps=UPSTREAM,
    group_name="serving",
    pool=WAREHOUSE_POOL,
    description="The read-only snapshot the dashboards serve from (serving.duckdb), swapped in atomically.",
)
def serving_snapshot(warehouse: WarehouseResource) -> dg.MaterializeResult:
    started = time.perf_counter()
    with warehouse.connect() as con:
        rows = publish(con)
    return dg.MaterializeResult(
        metadata={
            "tables": dg.MetadataValue.json(rows),
            "table_count": len(rows),
            "missing": dg.MetadataValue.json([t for t in SERVED_TABLES if t not in rows]),
            "seconds": round(time.perf_counter() - started, 3),
        }
    )


defs = dg.Definitions(assets=[serving_snapshot])
