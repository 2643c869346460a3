"""`beatwise deployment`: the agencies of a deployment file and their Dagster workspace."""

from __future__ import annotations

from pathlib import Path

import click

from beatwise.deployment import load_deployment, workspace_yaml

FILE_OPTION = click.option("--deployment", "file", type=click.Path(exists=True, dir_okay=False),
                           help="deployment file (default: $BEATWISE_DEPLOYMENT, else config/deployment.yaml)")


@click.group()
def deployment() -> None:
    """Many agencies, one deployment (docs/deploy.md)."""


@deployment.command("list")
@FILE_OPTION
def list_agencies(file: str | None) -> None:
    """Each agency's slug, configuration file and state folder."""
    for agency in load_deployment(file).agencies:
        click.echo(f"{agency.slug:<24} {agency.config}  {agency.home}")


@deployment.command()
@FILE_OPTION
@click.option("--out", type=click.Path(dir_okay=False), help="write the workspace here (default: print it)")
def workspace(file: str | None, out: str | None) -> None:
    """A Dagster workspace with one code location per agency. Start Dagster with the same deployment file in
    $BEATWISE_DEPLOYMENT, e.g. `BEATWISE_DEPLOYMENT=F dagster dev -w OUT`."""
    text = workspace_yaml(load_deployment(file))
    if out:
        Path(out).write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)
