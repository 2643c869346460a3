"""What `beatwise run` prints at the end: what the warehouse now holds."""

from __future__ import annotations

import click

from beatwise import paths, warehouse

TABLES = [
    ("raw.incidents", "incidents loaded"),
    ("raw.quarantine", "rows quarantined"),
    ("raw.cells", "grid cells in the jurisdiction"),
    ("marts.fct_cell_shift_counts", "cell-shifts with a modelled incident"),
    ("marts.fct_training_set", "training rows"),
    ("forecast.risk_surfaces", "risk surface rows"),
    ("plans.missions", "missions"),
    ("raw.audit_log", "audit records"),
]


def print_summary(elapsed_seconds: float) -> None:
    with warehouse.connect(paths.warehouse_path(), read_only=True) as con:
        click.echo(f"\nbeatwise run finished in {elapsed_seconds:.1f} s; warehouse {paths.warehouse_path()}")
        for qualified, label in TABLES:
            schema, table = qualified.split(".")
            if warehouse.table_exists(con, schema, table):
                n = con.execute(f"select count(*) from {qualified}").fetchall()[0][0]
                click.echo(f"  {label:<40} {n:>12,}")
        if warehouse.table_exists(con, "raw", "quarantine"):
            rows = con.execute(
                "select feed, reason, count(*) from raw.quarantine group by all order by 3 desc limit 8"
            ).fetchall()
            if rows:
                click.echo("  quarantined, by reason:")
                for feed, reason, n in rows:
                    click.echo(f"    {feed:<18} {reason[:70]:<70} {n:>8,}")
