"""The closed loop (issue 16): speed on a 10,000-cell city, and the policy comparison over 10 seeds.

closed_loop_year_10k: one year of closed loop (1,095 shifts: forecast, real planner, patrol, true crime,
recording, recalibration every 28 days) on a synthetic city of 10,000 cells, beatwise's policy, one seed
(target: 600 s). closed_loop_*: the full year on the 2,400-cell synthetic city, four policies and the
no-patrol counterfactual on the same 10 seeds; each figure the mean with its 90% interval.
"""

from __future__ import annotations

import json
import time

from beatwise import paths
from beatwise.config import load_config
from models.closed_loop.loop import POLICIES, ClosedLoop, LoopSettings
from models.closed_loop.measures import compare

CONFIG = paths.PROJECT_ROOT / "config" / "synthetic.yaml"
KEYS = ("top1_share", "gini", "max_cell_share", "recorded_true_drift", "crime_prevented")


def bench_closed_loop_year_10k() -> dict[str, float]:
    loop = ClosedLoop(load_config(CONFIG), cells=10_000, settings=LoopSettings(days=365))
    started = time.perf_counter()
    run = loop.run("beatwise", 1)
    return {
        "closed_loop_year_10k_seconds": round(time.perf_counter() - started, 1),
        "closed_loop_year_10k_cpu_seconds": round(run.seconds, 1),
        "closed_loop_year_10k_cells": int(run.minutes.size),
        "closed_loop_year_10k_shifts": run.shifts,
    }


def bench_closed_loop_policies() -> dict[str, float]:
    cfg = load_config(CONFIG)
    started = time.perf_counter()
    result = compare(cfg, list(POLICIES), days=365, seeds=10)
    paths.closed_loop_result(cfg.agency.slug).write_text(json.dumps(result, indent=2))
    figures: dict[str, float] = {"closed_loop_policies_seconds": round(time.perf_counter() - started, 1),
                                 "closed_loop_policies_cpu_seconds": result["cpu_seconds"]}
    for policy, entry in result["policies"].items():
        name = policy.replace("-", "_")
        for key in KEYS:
            for suffix in ("", "_low", "_high"):
                figures[f"closed_loop_{name}_{key}{suffix}"] = entry[key + suffix]
        figures[f"closed_loop_{name}_caps_held"] = entry["caps_held"]
    return figures
