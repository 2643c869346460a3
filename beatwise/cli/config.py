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


@click.command("init")
@click.argument("incidents", type=click.Path(exists=True, dir_okay=False))
@click.option("--boundary", "boundaries", multiple=True, metavar="[ROLE=]FILE",
              help="a polygon file (GeoJSON, GeoPackage); ROLE is jurisdiction, districts, beats or "
                   "neighbourhoods (default: guessed from the file name, else districts)")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="the draft config to write")
@click.option("--name", help="the agency's name")
@click.option("--slug", help="a short lower-case id for the agency (default: from the file name)")
@click.option("--timezone", default="UTC", show_default=True, help="the agency's IANA timezone")
@click.option("--country", help="ISO country code whose public holidays apply")
@click.option("--force", is_flag=True, help="overwrite OUT if it exists")
def init(incidents: str, boundaries: tuple[str, ...], out: str, name: str | None, slug: str | None,
         timezone: str, country: str | None, force: bool) -> None:
    """Profile an INCIDENTS export (and boundary files) and write a commented draft configuration."""
    from beatwise.config.draft import draft_from_files
    from beatwise.ingest import FeedError

    target = Path(out)
    if target.exists() and not force:
        raise click.UsageError(f"{out} exists; give --force to overwrite it")
    parsed = []
    for item in boundaries:
        role, _, path = item.rpartition("=")
        if role and role not in ("jurisdiction", "districts", "beats", "neighbourhoods"):
            raise click.UsageError(f"--boundary {item}: the role must be jurisdiction, districts, beats or "
                                   "neighbourhoods")
        parsed.append((role or None, Path(path)))
    try:
        text = draft_from_files(Path(incidents), target, parsed, name=name, slug=slug, timezone=timezone,
                                country=country)
    except (FeedError, ValueError) as exc:
        click.echo(f"beatwise init: {exc}", err=True)
        sys.exit(1)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    edits = sum("EDIT" in line for line in text.splitlines())
    click.echo(f"wrote {out}: {edits} line(s) marked EDIT; next: beatwise config check {out}")
