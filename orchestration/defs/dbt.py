"""dbt: the warehouse models (staging, intermediate, marts) as Dagster assets; dbt tests as asset checks.

Models are keyed `<schema>/<model>` (e.g. `marts/fct_training_set`); sources map to the raw assets that
write them through `meta.dagster.asset_key` in `dbt_project/models/sources.yml`. The manifest must exist
before this module imports: `make setup` (or `make manifest`) runs `dbt parse`; a manifest older than the
project's files is parsed again on import.
"""


import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)
from packaging import version

from beatwise import paths, recovery
from beatwise.config import AgencyConfig
from beatwise.config.units import metres_per_unit
from beatwise.memory import release_freed_memory
from beatwise.raw_layer import export_raw_layer
from models.forecasting.features import signal_feeds
from models.forecasting.tuning import serving_settings
from orchestration.resources import WAREHOUSE_POOL, AgencyResource, WarehouseResource

DBT_PROJECT_DIR = paths.PROJECT_ROOT / "dbt_project"

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
dbt_project.prepare_if_dev()


def patrol_tactics(config: AgencyConfig) -> list[str]:
    from models.planning.tactics import CATALOG, GENERAL_TACTICS, tactics_for

    names = set(CATALOG) | set(GENERAL_TACTICS)
    for crime_type in config.crime_types:
        names |= set(tactics_for(crime_type, config))
    return sorted(names)


def parse_if_stale() -> None:
    """Parse the dbt project again when a model, macro or test is newer than the manifest (after a pull or
    a merge): a stale manifest makes a run fail on a dbt node it does not know, with no word of the cause."""
    manifest = Path(dbt_project.manifest_path)
    sources = [p for folder in ("models", "macros", "tests", "seeds") for p in (DBT_PROJECT_DIR / folder).rglob("*")
               if p.is_file()] + [DBT_PROJECT_DIR / "dbt_project.yml"]
    built = manifest.stat().st_mtime if manifest.exists() else 0.0
    if all(p.stat().st_mtime <= built for p in sources if p.exists()):
        return
    subprocess.run([dbt_executable(), "parse", "--quiet", "--project-dir", str(DBT_PROJECT_DIR),
                    "--profiles-dir", str(DBT_PROJECT_DIR)], check=True)


def dbt_vars(config: AgencyConfig) -> dict[str, Any]:
    """The dbt vars of an agency configuration (grid, shifts, feature windows, sampling, history)."""
    return {
        "cell_size": config.grid.cell_size,
        "shift_start_hours": config.shift_start_hours,
        # The feature windows the agency's last tuning chose (models/forecasting/tuning.py), else the config's.
        "windows_days": list(serving_settings(config)[0].forecasting.windows_days),
        # The reporting feeds (calls for service, gunfire detections) whose records are features here.
        "signal_feeds": signal_feeds(config),
        "negatives_per_crime_type": config.forecasting.negatives_per_crime_type,
        "negatives_per_positive": config.forecasting.negatives_per_positive,
        "sample_seed": config.forecasting.seed,
        # How far back a shift refresh recomputes the incremental incident models (macros/refresh.sql).
        "refresh_lookback_days": config.forecasting.refresh_lookback_days,
        "history_start": config.history_start.isoformat() if config.history_start else None,
        "history_end": config.history_end.isoformat() if config.history_end else None,
        # Dosage distances in CRS units and the AVL speed limit (the SQL wants mph and CRS units a mile).
        "dosage_buffer": config.dosage.buffer,
        "dosage_bridge_seconds": config.dosage.bridge_seconds,
        "dosage_max_speed_mph": round(config.dosage.max_speed * 3600 / 1609.344, 6),
        "crs_units_per_mile": round(1609.344 / metres_per_unit(config.crs), 6),
        # Logged activities with these codes are directed-patrol tactics; anything else is other time.
        "patrol_tactics": patrol_tactics(config),
    }


def dbt_build_args(config: AgencyConfig, full_refresh: bool = True) -> list[str]:
    """`dbt build` with the agency's vars: models, data tests and unit tests in one run. A full refresh
    rebuilds the incremental incident models too (a changed config reaches every row); without it they take
    only the days of the refresh lookback."""
    return ["build", "--vars", json.dumps(dbt_vars(config)), *(["--full-refresh"] if full_refresh else [])]


def dbt_executable() -> str:
    """The dbt installed beside this Python (`.venv/bin/beatwise` runs without the venv on PATH), else PATH's."""
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else "dbt"


def dbt_failure(run_results: Mapping[str, Any], manifest: Mapping[str, Any]) -> str:
    """One line naming each failed dbt node, its file and dbt's message (from run_results.json)."""
    nodes = manifest.get("nodes", {})
    failed = []
    for result in run_results.get("results", []):
        if result.get("status") not in ("error", "fail", "runtime error"):
            continue
        node = nodes.get(result["unique_id"], {})
        where = node.get("original_file_path") or result["unique_id"]
        message = " ".join(str(result.get("message") or "").split())
        failed.append(f"{result['unique_id']} ({where}): {message}")
    if not failed:
        return "dbt build failed before running a model (see the dbt output above)"
    return f"dbt build failed: {failed[0]}" + (f" (and {len(failed) - 1} more)" if len(failed) > 1 else "")


def keep_parse_state(invocation_target: Path) -> None:
    """Keep this invocation's parse as the one the next invocation starts from. dagster-dbt gives each
    invocation a fresh target folder seeded from the project's; that seed comes from `dbt parse` without the
    agency's vars, so every build re-parsed the whole project (about 25 s each, five builds a run). dbt
    checks vars, profile and files against the state it loads and re-parses whatever differs, so a state
    kept from another agency or home only costs the re-parse it would have done anyway."""
    state = invocation_target / "partial_parse.msgpack"
    if not state.exists():
        return
    kept = DBT_PROJECT_DIR / "target" / "partial_parse.msgpack"
    partial = kept.with_name(f"{kept.name}.{os.getpid()}.tmp")
    shutil.copyfile(state, partial)
    os.replace(partial, kept)  # atomic: a concurrent invocation never copies half a file


parse_if_stale()


class WarehouseTranslator(DagsterDbtTranslator):
    """Models keyed by their schema and name; every model in the `warehouse` group."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "model":
            return dg.AssetKey([dbt_resource_props["config"]["schema"], dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return "warehouse"


# The four config tables all come from the one raw/agency_config asset.
translator = WarehouseTranslator(
    settings=DagsterDbtTranslatorSettings(enable_duplicate_source_asset_keys=True)
)


class DbtBuildConfig(dg.Config):
    """False for a shift refresh: the incremental models take only the lookback's days (refresh job)."""

    full_refresh: bool = True


@dbt_assets(manifest=dbt_project.manifest_path, dagster_dbt_translator=translator, pool=WAREHOUSE_POOL)
def warehouse_models(
    context: dg.AssetExecutionContext,
    config: DbtBuildConfig,
    dbt: DbtCliResource,
    agency: AgencyResource,
    warehouse: WarehouseResource,
):
    # profiles.yml reads the DuckDB file from BEATWISE_WAREHOUSE; the dbt subprocess inherits it.
    os.environ["BEATWISE_WAREHOUSE"] = warehouse.file
    # On another engine (BEATWISE_DBT_TARGET=spark...), the models read the raw layer from its Parquet export.
    if folder := os.environ.get("BEATWISE_RAW_PARQUET"):
        with warehouse.connect() as con:
            tables = export_raw_layer(con, folder)
        context.log.info(f"raw layer exported to {folder}: {len(tables)} tables")
    release_freed_memory()  # the run process and the dbt child share the memory budget
    invocation = dbt.cli(dbt_build_args(agency.load(), config.full_refresh), context=context, raise_on_error=False)
    recovery.pause_point("dbt")  # with `dbt build` running
    yield from invocation.stream()
    keep_parse_state(invocation.target_path)
    if not invocation.is_successful():
        try:
            cause = dbt_failure(invocation.get_artifact("run_results.json"), invocation.get_artifact("manifest.json"))
        except Exception:  # noqa: BLE001 - no artifacts (dbt failed to start): dbt's own error
            cause = " ".join(str(invocation.get_error()).split())[-2000:]
        raise dg.Failure(cause)


class ProjectDbtCli(DbtCliResource):
    """dagster-dbt asks the executable for its version (`dbt --version`: a 3 s process on 2 cores) in every
    run; the executable beside this Python is this environment's dbt-core, whose package says it at once."""

    @cached_property
    def _cli_version(self) -> version.Version:
        if Path(self.dbt_executable).parent != Path(sys.executable).parent:
            return super()._cli_version
        return version.parse(importlib.metadata.version("dbt-core"))


defs = dg.Definitions(
    assets=[warehouse_models],
    resources={"dbt": ProjectDbtCli(project_dir=dbt_project, profiles_dir=str(DBT_PROJECT_DIR),
                                    dbt_executable=dbt_executable())},
)
