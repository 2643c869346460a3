"""One Dagster code location per agency of the deployment: `orchestration.agencies:<slug>`.

Dagster loads a location's definitions with `getattr(module, "<slug>")` in the location's own code server
(and again in each run's worker process). Reading the attribute points this process at the agency (its
configuration, state folder and warehouse) and then imports the definitions, which read them. A process
serves one agency only: asking it for a second one is refused, since the definitions are already bound.
"""

from __future__ import annotations

import os

import dagster as dg

from beatwise.deployment import AGENCY_VARIABLE, load_deployment


def __getattr__(slug: str) -> dg.Definitions:
    if slug.startswith("__"):
        raise AttributeError(slug)
    agency = load_deployment().agency(slug)
    serving = os.environ.get(AGENCY_VARIABLE)
    if serving and serving != slug:
        raise RuntimeError(f"this process serves agency {serving!r}; agency {slug!r} needs a code location "
                           "(a process) of its own")
    agency.home.mkdir(parents=True, exist_ok=True)
    os.environ.update(agency.environment())

    from orchestration.definitions import defs

    return defs
