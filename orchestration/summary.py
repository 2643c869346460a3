"""What `beatwise run` prints at the end: what the warehouse now holds, how good the forecasts are,
and the missions for the next shift."""

from __future__ import annotations

import click

from beatwise import paths, warehouse
from beatwise.ingest.upsert import REASON_RULE_SQL

TABLES = [
    ("raw.incidents", "incidents loaded"),
    ("raw.quarantine", "rows quarantined"),
    ("raw.cells", "grid cells in the jurisdiction"),
    ("marts.fct_cell_shift_counts", "cell-shifts with a modelled incident"),
    ("marts.fct_training_set", "training rows"),
    ("forecast.risk_surfaces", "risk surface rows"),
    ("plans.missions", "missions"),
    ("raw.avl_pings", "AVL pings (simulated operations)"),
    ("marts.fct_mission_dosage", "missions with measured dosage"),
    ("marts.rpt_shift", "Shift report rows"),
    ("marts.rpt_tactic", "Tactic report rows"),
    ("marts.rpt_officer", "Officer report rows"),
    ("marts.rpt_crime_type", "Crime Type report rows"),
    ("marts.rpt_crime_dosage", "Crime & Dosage report rows"),
    ("raw.audit_log", "audit records"),
]


def print_summary(elapsed_seconds: float, step_seconds: dict[str, float]) -> None:
    from models.forecasting.pipeline import accuracy_summary
    from models.planning.briefing import read_places
    from models.planning.cli import print_missions
    from models.planning.planner import read_plan

    with warehouse.connect(paths.warehouse_path(), read_only=True) as con:
        click.echo(f"\nbeatwise run finished in {elapsed_seconds:.1f} s; warehouse {paths.warehouse_path()}")
        slowest = sorted(step_seconds.items(), key=lambda kv: -kv[1])[:6]
        click.echo("  slowest steps: " + ", ".join(f"{k} {v:.1f} s" for k, v in slowest))
        for qualified, label in TABLES:
            schema, table = qualified.split(".")
            if warehouse.table_exists(con, schema, table):
                n = con.execute(f"select count(*) from {qualified}").fetchall()[0][0]
                click.echo(f"  {label:<40} {n:>12,}")
        rows = con.execute(
            f"select feed, {REASON_RULE_SQL} as why, count(*) "
            "from raw.quarantine group by all order by 3 desc limit 8"
        ).fetchall()
        if rows:
            click.echo("  quarantined, by reason:")
            for feed, reason, n in rows:
                click.echo(f"    {feed:<18} {reason[:72]:<72} {n:>8,}")

        if warehouse.table_exists(con, "forecast", "backtest_metrics"):
            click.echo("\nForecast accuracy on the backtest (champion against the best baseline):")
            click.echo(accuracy_summary(con))

        if warehouse.table_exists(con, "plans", "plans"):
            latest = con.execute(
                "select plan_id from plans.plans where status = 'published' order by shift_start desc limit 1"
            ).fetchall()
            if latest:
                click.echo("\nMissions for the next shift:")
                print_missions(read_plan(con, latest[0][0]), [], read_places(con))
                click.echo(f"briefings: {paths.artifacts_dir() / 'briefings' / latest[0][0] / 'index.html'}")
