"""`beatwise config check FILE`: validate an agency configuration and print every problem."""

from __future__ import annotations

import sys

import click

from beatwise.config import ConfigError, load_config


@click.group()
def config() -> None:
    """Agency configuration files."""


@config.command("check")
@click.argument("file", type=click.Path(dir_okay=False))
def check(file: str) -> None:
    """Validate FILE; exit 1 and list every problem with its line if it is refused."""
    try:
        cfg = load_config(file)
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    click.echo(f"{file}: ok ({cfg.agency.name}; {len(cfg.crime_types)} crime types, "
               f"{len(cfg.feeds)} feeds, {cfg.grid.cell_size:g} {cfg.crs} cells)")
