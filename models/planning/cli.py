"""`beatwise plan`: plan one shift, replay a logged plan, put an override into the inbox."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click
import duckdb

from beatwise import paths, warehouse
from beatwise.config import load_config
from beatwise.config.load import ConfigError
from models.planning import PlanningError

SHIFT_FORMAT = "%Y-%m-%d %H:%M"


def _fail(message: str) -> None:
    raise click.ClickException(message)


def _warehouse():
    try:
        return warehouse.connect()
    except duckdb.IOException as exc:  # another process (the pipeline, the UI) holds the warehouse
        _fail(f"cannot open the warehouse {paths.warehouse_path()}: {exc}")


@click.group(invoke_without_command=True)
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="agency configuration file")
@click.option("--shift", help='shift start, "YYYY-MM-DD HH:MM" (agency local time)')
@click.option("--seed", type=int, default=None, help="random seed (default: derived from the inputs; logged)")
@click.option("--out", type=click.Path(dir_okay=False), help="also write the plan as JSON to this file")
@click.option("--json", "as_json", is_flag=True, help="print the plan as JSON")
@click.pass_context
def plan(
    ctx: click.Context,
    config_file: str | None,
    shift: str | None,
    seed: int | None,
    out: str | None,
    as_json: bool,
) -> None:
    """Plan the directed-patrol missions of one shift and print them."""
    if ctx.invoked_subcommand is not None:
        return
    if not config_file or not shift:
        _fail('give --config FILE and --shift "YYYY-MM-DD HH:MM" (or a subcommand: replay, override)')
    try:
        shift_start = datetime.strptime(shift, SHIFT_FORMAT)
    except ValueError:
        _fail(f'--shift {shift!r} is not "YYYY-MM-DD HH:MM"')
    from models.planning.briefing import read_places
    from models.planning.planner import plan_shift, read_plan
    from models.planning.store import has_risk

    try:
        config = load_config(config_file)
        with _warehouse() as con:
            scored = has_risk(con, shift_start)
        if not scored:
            # On demand: score the shift first, with the champions as of that shift (refused on look-ahead).
            from orchestration.cli import prepare_environment, score_shift

            click.echo(f"no risk surfaces for the shift {shift}: scoring it first", err=True)
            prepare_environment(config_file)
            score_shift(shift_start)
        with _warehouse() as con:
            result = plan_shift(con, config, shift_start, seed=seed, actor="cli")
            document = read_plan(con, result.plan_id)
            places = read_places(con)
    except (PlanningError, ConfigError) as exc:
        _fail(str(exc))
    briefings = paths.artifacts_dir() / "briefings" / result.plan_id
    if out:
        Path(out).write_text(json.dumps(document, indent=1), encoding="utf-8")
    if as_json:
        click.echo(json.dumps(document))
        return
    print_missions(document, result.warnings, places)
    click.echo(f"briefings: {briefings / 'index.html'}")


def print_missions(document: dict, warnings: list[str], places: dict[str, str] | None = None) -> None:
    """The plan as an aligned table: where (place name, else cell), why (the crime types driving the cell's
    risk) and what (the tactics), words rather than codes."""
    missions = document["missions"]
    places = places or {}
    click.echo(
        f"plan {document['plan_id']} for the shift {document['shift_start']}: {len(missions)} missions "
        f"drawn from {len(document['candidates'])} candidates (seed {document['seed']})"
    )
    rows = [("district", "beat", "place", "stratum", "p", "driving crime types", "tactics")]
    for m in missions:
        top = list(m["crime_types"].items())[:3]
        drivers = ", ".join(f"{t.replace('_', ' ')} {s:.0%}" for t, s in top) or "general deterrence"
        p = "-" if m["inclusion_probability"] is None else f"{m['inclusion_probability']:.3f}"
        tactics = ", ".join(t["tactic"].replace("_", " ") for t in m["tactics"])
        place = places.get(m["cell_id"]) or f"cell {m['cell_id']}"
        rows.append((str(m["district"]), str(m["beat"] or "-"), place, m["stratum"], p, drivers, tactics))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[-1])
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)


@plan.command()
@click.argument("plan_id")
@click.option("--json", "as_json", is_flag=True, help='print {"plan_id", "identical"}')
def replay(plan_id: str, as_json: bool) -> None:
    """Recompute a logged plan from its logged inputs and seed; say whether it is identical."""
    from models.planning.replay import replay_plan

    try:
        with _warehouse() as con:
            result = replay_plan(con, plan_id)
    except PlanningError as exc:
        _fail(str(exc))
    if as_json:
        click.echo(
            json.dumps({"plan_id": plan_id, "identical": result.identical, "differences": result.differences})
        )
    else:
        click.echo(f"plan {plan_id}: {'identical' if result.identical else 'NOT identical'}")
        for difference in result.differences:
            click.echo(f"  - {difference}")
    if not result.identical:
        raise SystemExit(1)


@plan.command()
@click.option("--suppress", "mission_id", help="the mission to suppress")
@click.option("--add", "cell_id", help="the cell to add a mission for (with --plan)")
@click.option("--plan", "plan_id", help="the plan to add the mission to")
@click.option("--approve", "approves", help="the override_id of an analyst's override to approve (supervisors)")
@click.option("--reason", required=True, help="why (required)")
@click.option("--user", required=True, help="who asks: a user of the user store (config/users.yaml)")
@click.option("--role", help="their role (default: the one the user store gives)")
@click.option("--password", prompt=True, hide_input=True, envvar="BEATWISE_PASSWORD",
              help="the user's dashboard password (prompted; or $BEATWISE_PASSWORD)")
def override(
    mission_id: str | None, cell_id: str | None, plan_id: str | None, approves: str | None, reason: str,
    user: str, role: str | None, password: str,
) -> None:
    """Put a signed override into the inbox; the pipeline checks the user's role, applies it and republishes."""
    from beatwise import users
    from models.planning.overrides import OverrideError, submit_override

    try:
        if not users.check_password(user, password):
            _fail(f"wrong user or password for {user!r} (the user store {users.users_file()})")
        role = role or users.role_of(user)
    except users.UserStoreError as exc:
        _fail(str(exc))
    action = "approve" if approves else "suppress" if mission_id else "add"
    try:
        path = submit_override(
            action, user, role, reason, mission_id=mission_id, plan_id=plan_id, cell_id=cell_id, approves=approves
        )
    except OverrideError as exc:
        _fail(str(exc))
    click.echo(f"override queued: {path}")
