"""The one Dagster code location: every area's definitions, merged."""

from __future__ import annotations

import importlib
import pkgutil

import dagster as dg

from orchestration import defs as defs_package


def _area_definitions() -> list[dg.Definitions]:
    """Each module under orchestration/defs exposes `defs`, a dg.Definitions for its area."""
    found = []
    for info in sorted(pkgutil.iter_modules(defs_package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{defs_package.__name__}.{info.name}")
        if hasattr(module, "defs"):
            found.append(module.defs)
    return found


# The main job: everything, in dependency order. `beatwise run` executes it in process.
main_job = dg.define_asset_job("main", selection=dg.AssetSelection.all(), description="the whole pipeline")

defs = dg.Definitions.merge(*_area_definitions(), dg.Definitions(jobs=[main_job]))
