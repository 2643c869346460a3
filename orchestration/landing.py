"""What sensors see of the landing folder: files with their size and modification time, and one run request
for the new or changed ones. Sensors only look at files; they never write the warehouse."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import dagster as dg

from beatwise import paths

# Field operations feeds: they feed the dosage marts and reports, not forecasts or plans, so landing one
# starts `field_operations` (orchestration/defs/operations.py), not a refresh.
FIELD_FEEDS = ("avl_pings", "patrol_activity")


def landing_state(keep: Callable[[Path], bool]) -> dict[str, list[int]]:
    """Every landing file (relative path) that `keep` accepts, with its size and modification time."""
    root = paths.landing_dir()
    return {
        str(p.relative_to(root)): [p.stat().st_size, p.stat().st_mtime_ns]
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith(".") and keep(p.relative_to(root))
    }


def changed_files_request(
    context: dg.SensorEvaluationContext, state: dict[str, list[int]], prefix: str, nothing: str
) -> dg.SensorResult | dg.SkipReason:
    """One run for the files new or changed since the cursor; the cursor moves to `state`."""
    seen = json.loads(context.cursor) if context.cursor else {}
    changed = sorted(name for name, stamp in state.items() if seen.get(name) != stamp)
    if not changed:
        return dg.SkipReason(nothing)
    key = hashlib.sha256(json.dumps({n: state[n] for n in changed}).encode()).hexdigest()[:16]
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=f"{prefix}-{key}", tags={"landed": ",".join(changed)[:200]})],
        cursor=json.dumps(state),
    )
