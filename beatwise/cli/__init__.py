"""The `beatwise` command line: the entry point for everything.

Commands that live outside the domain core (forecasting, planning, the pipeline) are loaded only when
called, so `beatwise --help` stays fast and the core never imports the packages built on it.
"""

from __future__ import annotations

import importlib
import sys
import traceback

import click

# name -> ("module:attribute" of a click command, imported on first use; one line of help).
COMMANDS = {
    "deployment": ("beatwise.cli.deployment:deployment",
                   "Many agencies, one deployment: list them, write their Dagster workspace."),
    "config": ("beatwise.cli.config:config", "Check an agency configuration against its own data."),
    "init": ("beatwise.cli.config:init", "Draft a commented agency configuration from an incident export."),
    "audit": ("beatwise.cli.audit:audit", "Verify and read the tamper-evident audit log."),
    "sample": ("beatwise.cli.sample:sample", "Cut a few districts over a date range out of an agency's data."),
    "forecast": ("models.forecasting.cli:forecast",
                 "Train on incidents up to a day and forecast every cell for many shifts."),
    "impact": ("models.impact.cli:impact",
               "Estimate the effect of missions; prove the estimator on a synthetic city."),
    "plan": ("models.planning.cli:plan", "Plan a shift's missions; replay a plan; queue an override."),
    "simulate": ("beatwise.cli.simulate:simulate", "Simulate a synthetic city and field operations."),
    "run": ("orchestration.cli:run", "Run the whole pipeline once, in process, and print a summary."),
    "score": ("orchestration.cli:score", "Score a chosen shift: risk surfaces per crime type (no look-ahead)."),
    "ui": ("orchestration.cli:ui", "Start the Dagster UI, the MLflow UI and the dashboards."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attr = COMMANDS[name][0].split(":")
        return getattr(importlib.import_module(module), attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, COMMANDS[name][1]) for name in self.list_commands(ctx)])


@click.group(cls=LazyGroup)
def cli() -> None:
    """beatwise: open, auditable directed-patrol planning."""


def main() -> None:
    """Every failure ends with its cause on the last line of stderr (after the traceback if unexpected)."""
    try:
        cli()
    except Exception as exc:  # noqa: BLE001 - the traceback for the developer, the cause for the user
        from beatwise.config import ConfigError
        from beatwise.deployment import DeploymentError
        from beatwise.ingest.read import FeedError

        if isinstance(exc, (ConfigError, DeploymentError, FeedError)):
            cause = str(exc)
        else:
            traceback.print_exc()
            cause = f"{type(exc).__name__}: {exc}"
        click.echo(f"beatwise: {' '.join(cause.split())}", err=True)
        sys.exit(1)
