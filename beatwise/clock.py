"""The agency's clock: what "now" is for the planner and the dashboards.

Real agencies run on the wall clock of their own time zone. The demo runs on a clock of its own: it stands
at the start of the config's `demo.as_of` day (the day after the data ends), so the plans it makes are for
"today" and the README demo's overrides apply. BEATWISE_NOW (ISO) fixes the clock for replays and tests.
"""

from __future__ import annotations

import os
from datetime import datetime, time
from zoneinfo import ZoneInfo

from beatwise.config import AgencyConfig


def agency_now(config: AgencyConfig) -> datetime:
    """Now, in the agency's local time (naive, like shift starts)."""
    fixed = os.environ.get("BEATWISE_NOW")
    if fixed:
        return datetime.fromisoformat(fixed)
    today = config.demo_today()
    if today is not None:
        return datetime.combine(today, time())
    return datetime.now(ZoneInfo(config.agency.timezone)).replace(tzinfo=None)
