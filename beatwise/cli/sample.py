"""`beatwise sample`: cut a few districts over a date range out of an agency's data."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from beatwise.config import load_config
from beatwise.sample import cut_sample


@click.command()
@click.option("--config", "config_file", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--districts", required=True, multiple=True, help="district codes; repeat or space-separate")
@click.option("--start", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--end", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--out", required=True, type=click.Path(file_okay=False))
def sample(config_file: str, districts: tuple[str, ...], start: datetime, end: datetime, out: str) -> None:
    """Write a self-contained slice of every feed into OUT."""
    wanted = [d for group in districts for d in group.split()]
    counts = cut_sample(load_config(config_file), wanted, start.date(), end.date(), Path(out))
    for feed, n in counts.items():
        click.echo(f"{feed}: {n:,} rows")
