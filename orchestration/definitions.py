"""The one Dagster code location: every area's definitions, merged."""

from __future__ import annotations

import importlib
import pkgutil

import dagster as dg

from orchestration import defs as defs_package
from orchestration.defs.operations import SIMULATED
from orchestration.resources import AgencyResource


def _area_definitions() -> list[dg.Definitions]:
    """Each module under orchestration/defs exposes `defs`, a dg.Definitions for its area."""
    found = []
    for info in sorted(pkgutil.iter_modules(defs_package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{defs_package.__name__}.{info.name}")
        if hasattr(module, "defs"):
            found.append(module.defs)
    return found


# The main job: everything but the demo's simulated operations, in dependency order; it never writes a
# simulated row. The demo job (defined only for a config with a `demo:` block) adds them. `beatwise run`
# executes one of the two in process.
main_job = dg.define_asset_job(
    "main",
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets(SIMULATED),
    description="the whole pipeline on the agency's own feeds; never writes simulated rows",
)
demo_job = dg.define_asset_job(
    "demo",
    selection=dg.AssetSelection.all(),
    description="the demo: the whole pipeline plus SIMULATED field operations, replayed before the next "
    "shift is planned",
)
jobs = [main_job, demo_job] if AgencyResource().load().is_demo else [main_job]

defs = dg.Definitions.merge(*_area_definitions(), dg.Definitions(jobs=jobs))
