"""The `beatwise forecast` command (registered in beatwise/cli as `models.forecasting.cli:forecast`)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from beatwise.config import load_config

DATE = click.DateTime(formats=["%Y-%m-%d"])


@click.command()
@click.option(
    "--config",
    "config_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Agency configuration file.",
)
@click.option("--train-until", required=True, type=DATE, help="Last day of incidents to train on.")
@click.option("--start", required=True, type=DATE, help="First day to forecast (after --train-until).")
@click.option("--end", required=True, type=DATE, help="Last day to forecast.")
@click.option(
    "--every-days",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Forecast the shifts of every N-th day from --start.",
)
@click.option(
    "--incidents",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Incident files (Parquet or CSV, the config's column mapping) replacing the config's.",
)
@click.option(
    "--method",
    default="champion",
    show_default=True,
    type=click.Choice(
        ["champion", "lightgbm_poisson", "prior_28d", "prior_364d", "kernel_decay", "prospective_hotspot",
         "pooled_shrinkage"]
    ),
    help="champion: the method that wins the backtest before --train-until, per crime type.",
)
@click.option(
    "--refit/--no-refit",
    default=True,
    show_default=True,
    help="Refit the gate's winners on all incidents up to --train-until (else serve them as evaluated).",
)
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Output Parquet file.")
def forecast(
    config_file: str,
    train_until: datetime,
    start: datetime,
    end: datetime,
    every_days: int,
    incidents: tuple[str, ...],
    method: str,
    refit: bool,
    out: str,
) -> None:
    """Train on incidents up to --train-until and forecast every cell for the shifts from --start to --end.

    Writes one row per shift, crime type and cell: shift_start, crime_type, cell_id, x_min, y_min,
    x_max, y_max (agency CRS), expected_count, method.
    """
    from models.forecasting.forecast_command import run_forecast

    try:
        run = run_forecast(
            load_config(config_file),
            train_until.date(),
            start.date(),
            end.date(),
            Path(out),
            every_days,
            list(incidents) or None,
            method,
            refit,
            echo=click.echo,
        )
    except (ValueError, FileNotFoundError) as error:
        raise click.ClickException(str(error)) from error
    timings = ", ".join(f"{k} {v:.1f}s" for k, v in run.seconds.items())
    click.echo(f"methods: {run.methods}\ntimings: {timings}")
