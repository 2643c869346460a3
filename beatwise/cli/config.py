"""`beatwise config check FILE`: validate an agency configuration against its own data, every problem
with its line; `beatwise init`: draft a configuration from an export (beatwise.config.draft)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from beatwise.config import ConfigError, load_config
from beatwise.config.units import describe_distance


@click.group()
def config() -> None:
    """Agency configuration files."""


@config.command("check")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--rows", default=2000, show_default=True, help="rows read from the start of each feed file")
@click.option("--schema-only", is_flag=True, help="check the schema and the policy only; read no data")
def check(file: str, rows: int, schema_only: bool) -> None:
    """Validate FILE and read the first rows of every feed through its mapping; exit 1 and list every
    error (and warning) with its line if a run would fail."""
    try:
        cfg = load_config(file)
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    findings = []
    if not schema_only:
        from beatwise.config.check import check_config

        findings = check_config(cfg, Path(file), rows)
    errors = [f for f in findings if f.severity == "error"]
    for finding in sorted(findings, key=lambda f: f.severity):
        click.echo(str(finding), err=finding.severity == "error")
    if errors:
        click.echo(f"{file}: {len(errors)} error(s): `beatwise run` would fail or load nothing useful; "
                   "fix the lines above", err=True)
        sys.exit(1)
    read = "" if schema_only else f"; the first {rows:,} rows of every feed read through the mapping"
    click.echo(f"{file}: ok ({cfg.agency.name}; {len(cfg.crime_types)} crime types, {len(cfg.feeds)} feeds, "
               f"{describe_distance(cfg.grid.cell_size, cfg.crs)} cells in {cfg.crs}{read}"
               + (f"; {len(findings)} warning(s)" if findings else "") + ")")
