"""`beatwise audit verify | show`: check and read the hash-chained audit log."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from beatwise import audit as audit_log
from beatwise import paths, warehouse


def _warehouse_option(func):
    return click.option(
        "--warehouse",
        "warehouse_file",
        type=click.Path(dir_okay=False),
        help="the DuckDB file (default: BEATWISE_HOME/warehouse.duckdb)",
    )(func)


@click.group("audit")
def audit() -> None:
    """The tamper-evident audit log."""


@audit.command("verify")
@_warehouse_option
def verify(warehouse_file: str | None) -> None:
    """Recompute the chain; exit 1 naming the first altered, removed or inserted record."""
    target = warehouse_file or str(paths.warehouse_path())
    if not Path(target).exists():
        click.echo(f"{target}: no warehouse", err=True)
        sys.exit(1)
    with warehouse.connect(target, read_only=True) as con:
        if not warehouse.table_exists(con, "raw", "audit_log"):
            click.echo(f"{target}: no audit log", err=True)
            sys.exit(1)
        result = audit_log.verify(con)
    if not result.ok:
        click.echo(str(result), err=True)
        sys.exit(1)
    click.echo(str(result))


@audit.command("show")
@_warehouse_option
@click.option("--kind", help="only records of this kind (feed_load, agency_config, ...)")
@click.option("--limit", type=int, default=20, show_default=True, help="the last N records")
def show(warehouse_file: str | None, kind: str | None, limit: int) -> None:
    """Print the last records of the log, oldest first."""
    target = warehouse_file or str(paths.warehouse_path())
    if not Path(target).exists():
        click.echo(f"{target}: no warehouse", err=True)
        sys.exit(1)
    with warehouse.connect(target, read_only=True) as con:
        if not warehouse.table_exists(con, "raw", "audit_log"):
            click.echo("no audit log yet")
            return
        for rec in audit_log.records(con, kind=kind, limit=limit):
            click.echo(
                f"{rec.seq:>6}  {rec.recorded_at:%Y-%m-%d %H:%M:%S}  {rec.kind:<14} {rec.actor:<10} "
                f"{rec.subject}  {rec.payload}  {rec.hash[:12]}"
            )
