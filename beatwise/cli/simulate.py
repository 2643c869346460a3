"""`beatwise simulate`: a synthetic city with known crime, and simulated field operations."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click
import pandas as pd

from beatwise import paths
from beatwise.config import load_config
from beatwise.config.schema import AgencyConfig
from beatwise.simulate import (
    FULL_COMPLIANCE,
    CityPlan,
    Compliance,
    compliance_for,
    make_roster,
    simulate_city,
    simulate_operations,
    write_operations,
)

# The synthetic city's configuration, shown by its place in the project rather than this machine's path.
synthetic_config = click.option(
    "--config",
    "config_file",
    default=str(paths.PROJECT_ROOT / "config" / "synthetic.yaml"),
    show_default="config/synthetic.yaml",
    type=click.Path(exists=True, dir_okay=False),
)


@click.group()
def simulate() -> None:
    """Simulated data: a synthetic city and field operations (AVL pings, activity logs)."""


@simulate.command("city")
@synthetic_config
@click.option("--incidents", default=100_000, show_default=True, help="about this many incident records")
@click.option(
    "--start", type=click.DateTime(["%Y-%m-%d"]), help="first day (default: the config's history_start)"
)
@click.option("--end", type=click.DateTime(["%Y-%m-%d"]), help="last day, inclusive (default: history_end)")
@click.option("--seed", default=1, show_default=True)
@click.option(
    "--out", type=click.Path(file_okay=False), help="folder to write (default: the config's data_root)"
)
@click.option("--layout", type=click.Choice(["chicago", "foreign"]), default="chicago", show_default=True,
              help="chicago: the portal's files and every feed; foreign: another service's export "
                   "(config/foreign_city.yaml: gzip CSV without ids, date + hour, named divisions in a GeoPackage)")
def city(
    config_file: str, incidents: int, start: datetime | None, end: datetime | None, seed: int, out: str | None,
    layout: str,
) -> None:
    """Write a synthetic city's layers, incidents, calls for service and gunfire detections."""
    cfg = load_config(config_file)
    first = start.date() if start else cfg.history_start
    last = end.date() if end else cfg.history_end
    if first is None or last is None:
        raise click.UsageError("give --start and --end (the config sets no history_start / history_end)")
    target = Path(out) if out else cfg.data_path()
    # The city is laid out in US feet (EPSG:3435); the foreign layout re-projects it on export.
    plan = CityPlan(cell_size=cfg.grid.cell_size) if layout == "chicago" else CityPlan()
    counts = simulate_city(target, incidents, first, last + pd.Timedelta(days=1), seed=seed, plan=plan,
                           layout=layout)
    for name, n in counts.items():
        click.echo(f"{name}: {n:,}")
    click.echo(f"written to {target}")


@simulate.command("operations")
@synthetic_config
@click.option(
    "--missions",
    "missions_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Parquet or CSV: mission_id, shift_start, district, cell_id, dose_minutes, visits, tactics",
)
@click.option(
    "--shift",
    "shifts",
    multiple=True,
    type=click.DateTime(["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]),
    help="shift start(s) to simulate (default: every shift in the missions file)",
)
@click.option(
    "--calls",
    "calls_file",
    type=click.Path(exists=True, dir_okay=False),
    help="calls for service in the config's calls_for_service layout, answered between missions",
)
@click.option("--seed", default=1, show_default=True)
@click.option(
    "--compliance", type=click.Choice(["realistic", "full"]), default="realistic", show_default=True
)
@click.option(
    "--out", type=click.Path(file_okay=False), help="landing folder (default: BEATWISE_HOME/landing)"
)
def operations(
    config_file: str,
    missions_file: str,
    shifts: tuple[datetime, ...],
    calls_file: str | None,
    seed: int,
    compliance: str,
    out: str | None,
) -> None:
    """Simulate units working the missions: AVL pings, activity logs and the dose ground truth."""
    cfg = load_config(config_file)
    missions = _read(Path(missions_file))
    missions["shift_start"] = pd.to_datetime(missions["shift_start"])
    starts = sorted(pd.Timestamp(s) for s in shifts) if shifts else sorted(missions["shift_start"].unique())
    missions = missions[missions["shift_start"].isin(starts)]
    if missions.empty:
        raise click.UsageError("no missions in the chosen shifts")
    roster = pd.concat(
        [_roster(cfg, start, sorted(missions["district"].astype(str).unique())) for start in starts],
        ignore_index=True,
    )
    calls = _canonical_calls(cfg, Path(calls_file)) if calls_file else None
    ops = simulate_operations(
        missions,
        roster,
        calls,
        seed=seed,
        cell_size=cfg.grid.cell_size,
        compliance=compliance_for(cfg, FULL_COMPLIANCE if compliance == "full" else Compliance()),
    )
    name = f"{cfg.agency.slug}_{pd.Timestamp(starts[0]):%Y%m%dT%H%M}_{pd.Timestamp(starts[-1]):%Y%m%dT%H%M}"
    files = write_operations(ops, Path(out) if out else paths.landing_dir(), name)
    click.echo(f"{len(roster):,} unit-shifts, {len(ops.pings):,} pings, {len(ops.activity):,} activities")
    for feed, path in files.items():
        click.echo(f"{feed}: {path}")


def _read(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path, dtype={"district": str})


def _roster(cfg: AgencyConfig, start: pd.Timestamp, districts: list[str]) -> pd.DataFrame:
    starts = cfg.shift_start_hours
    hours = cfg.shift_hours[starts.index(start.hour)] if start.hour in starts else 8
    units = {d: cfg.capacity.per_district.get(d, cfg.capacity.units_per_shift) for d in districts}
    return make_roster([start], districts, units, shift_hours=hours, salt=cfg.agency.slug)


def _canonical_calls(cfg: AgencyConfig, path: Path) -> pd.DataFrame:
    """Calls renamed from the feed's source columns to canonical ones (received_at, x, y)."""
    mapping = cfg.feeds["calls_for_service"].columns if "calls_for_service" in cfg.feeds else {}
    frame = _read(path)
    renamed = frame.rename(columns={src: canon for canon, src in mapping.items()})
    missing = {"received_at", "x", "y"} - set(renamed.columns)
    if missing:
        raise click.UsageError(f"{path.name}: no column for {sorted(missing)} (see feeds.calls_for_service)")
    keep = ["received_at", "x", "y"] + (["district"] if "district" in renamed else [])  # CAD exports carry it
    return renamed[keep].assign(received_at=lambda f: pd.to_datetime(f["received_at"]))


@simulate.command("closed-loop")
@synthetic_config
@click.option("--days", default=365, show_default=True, help="days of closed loop after the warm-up")
@click.option("--seeds", default=10, show_default=True, help="seeds (cities and crime draws) per policy")
@click.option(
    "--policy",
    "policies",
    multiple=True,
    type=click.Choice(["beatwise", "greedy", "beatwise-high-discovery", "uniform"]),
    help="repeat for each policy to compare (default: all four)",
)
@click.option("--cells", default=2400, show_default=True, help="cells of the synthetic city (about)")
@click.option("--discovered-share", default=0.1, show_default=True,
              help="share of crime recorded only when a patrol is in the cell")
@click.option("--no-protect", is_flag=True,
              help="count patrol-discovered records in full (without Ensign et al.'s down-weighting)")
@click.option("--json", "as_json", is_flag=True, help="print the result as one JSON object")
def closed_loop(
    config_file: str, days: int, seeds: int, policies: tuple[str, ...], cells: int, discovered_share: float,
    no_protect: bool, as_json: bool,
) -> None:
    """A year (or --days) of forecast -> plan -> patrol -> crime -> record, per policy on the same seeds."""
    import json

    from models.closed_loop.loop import POLICIES, LoopSettings
    from models.closed_loop.measures import compare

    if days < 1 or seeds < 1:
        raise click.UsageError("--days and --seeds must be at least 1")
    cfg = load_config(config_file)
    settings = LoopSettings(discovered_share=discovered_share, protect=not no_protect)
    result = compare(cfg, list(policies or POLICIES), days, seeds, cells, settings)
    target = paths.closed_loop_result(cfg.agency.slug)
    target.write_text(json.dumps(result, indent=2))
    if as_json:
        click.echo(json.dumps(result))
        return
    keys = ("top1_share", "gini", "max_cell_share", "recorded_true_drift", "crime_prevented")
    click.echo(f"{days} days x {seeds} seeds, {result['cells']:,} cells; mean [90% interval]")
    for policy, entry in result["policies"].items():
        figures = "  ".join(f"{k} {entry[k]:.3f} [{entry[k + '_low']:.3f}, {entry[k + '_high']:.3f}]" for k in keys)
        click.echo(f"{policy:<24} {figures}  caps held: {'yes' if entry['caps_held'] else 'no'}")
    click.echo(f"written to {target}")
