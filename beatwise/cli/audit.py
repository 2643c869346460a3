"""`beatwise audit verify | checkpoint | show | reproduce`: check, anchor and read the audit log."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from beatwise import audit as audit_log
from beatwise import paths, warehouse
from beatwise.audit import checkpoints


def _warehouse_option(func):
    return click.option(
        "--warehouse",
        "warehouse_file",
        type=click.Path(dir_okay=False),
        help="the DuckDB file (default: BEATWISE_HOME/warehouse.duckdb)",
    )(func)


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(1)


@click.group("audit")
def audit() -> None:
    """The tamper-evident audit log."""


@audit.command("verify")
@_warehouse_option
@click.option("--checkpoints", "checkpoints_file", type=click.Path(dir_okay=False),
              help="the signed checkpoint file (default: audit/<warehouse>.checkpoints.jsonl beside it)")
@click.option("--public-key", help="the signer's public key (hex, or a file holding it); "
              "default: the local signing key's")
@click.option("--published", "published_files", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="a checkpoint exported with `audit checkpoint --export` (repeatable)")
def verify(warehouse_file, checkpoints_file, public_key, published_files) -> None:
    """Check the chain against its signed checkpoints; exit 1 naming each record missing or forged."""
    target = warehouse_file or str(paths.warehouse_path())
    if not Path(target).exists():
        _fail(f"{target}: no warehouse")
    if not public_key and not checkpoints.key_path().exists():
        _fail(f"no signing key at {checkpoints.key_path()}: give the signer's --public-key")
    try:
        key = (checkpoints.read_public_key(public_key) if public_key
               else checkpoints.signing_key().public_key())
    except checkpoints.CheckpointError as err:
        _fail(str(err))
    published = [line for f in published_files for line in checkpoints.read_lines(Path(f))]
    with warehouse.connect(target, read_only=True) as con:
        report = checkpoints.verify_anchored(
            con, Path(checkpoints_file) if checkpoints_file else checkpoints.checkpoint_path(target),
            key, published,
        )
    if not report.ok:
        _fail(str(report))
    click.echo(str(report))


@audit.command("checkpoint")
@_warehouse_option
@click.option("--export", "export_to", type=click.Path(dir_okay=False),
              help="write the latest signed checkpoint to this file ('-': print it) for publication")
def checkpoint(warehouse_file: str | None, export_to: str | None) -> None:
    """Sign the chain's head now (if records were added); --export the latest checkpoint for publication."""
    target = warehouse_file or str(paths.warehouse_path())
    if not Path(target).exists():
        _fail(f"{target}: no warehouse")
    if not export_to:
        with warehouse.connect(target):  # closing a writer signs the head
            pass
    try:
        line = checkpoints.export(target)
    except checkpoints.CheckpointError as err:
        _fail(str(err))
    if export_to == "-":
        click.echo(line, nl=False)
    elif export_to:
        Path(export_to).write_text(line, encoding="utf-8")
        click.echo(f"latest checkpoint written to {export_to}")
    else:
        click.echo(f"latest checkpoint: {line.strip()}")
    click.echo(f"public key: {json.loads(line)['public_key']}", err=True)


@audit.command("show")
@_warehouse_option
@click.option("--kind", help="only records of this kind (feed_load, agency_config, ...)")
@click.option("--limit", type=int, default=20, show_default=True, help="the last N records")
def show(warehouse_file: str | None, kind: str | None, limit: int) -> None:
    """Print the last records of the log, oldest first."""
    target = warehouse_file or str(paths.warehouse_path())
    if not Path(target).exists():
        _fail(f"{target}: no warehouse")
    with warehouse.connect(target, read_only=True) as con:
        if not warehouse.table_exists(con, "raw", "audit_log"):
            click.echo("no audit log yet")
            return
        for rec in audit_log.records(con, kind=kind, limit=limit):
            click.echo(
                f"{rec.seq:>6}  {rec.recorded_at:%Y-%m-%d %H:%M:%S}  {rec.kind:<14} {rec.actor:<10} "
                f"{rec.subject}  {rec.payload}  {rec.hash[:12]}"
            )


@audit.command("reproduce")
@click.argument("run")
@_warehouse_option
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False),
              help="agency configuration (default: $BEATWISE_CONFIG, else config/chicago_sample.yaml)")
def reproduce(run: str, warehouse_file: str | None, config_file: str | None) -> None:
    """Re-derive a logged run from its logged inputs: RUN is a scoring record's number (audit show --kind
    scoring) or a plan id (as `plan replay`). Exit 1 naming each digest that differs."""
    import os

    from beatwise.config import load_config

    target = warehouse_file or str(paths.warehouse_path())
    if not run.isdigit():
        from models.planning.cli import replay

        replay.main([run], standalone_mode=False)
        return
    # Imported here: the reproduction needs the forecasting models, which the core never imports.
    from models.forecasting.reproduce import reproduce_scoring

    config = load_config(config_file or os.environ.get("BEATWISE_CONFIG")
                         or paths.PROJECT_ROOT / "config" / "chicago_sample.yaml")
    with warehouse.connect(target, read_only=True) as con:
        try:
            result = reproduce_scoring(con, config, int(run))
        except ValueError as err:
            _fail(str(err))
    for line in result.checked:
        click.echo(f"  equal: {line}")
    for line in result.differences:
        click.echo(f"  DIFFERS: {line}", err=True)
    if not result.equal:
        _fail(f"scoring run {run}: NOT reproduced")
    click.echo(f"scoring run {run}: reproduced, every digest equal")
