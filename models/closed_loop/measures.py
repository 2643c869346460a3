"""The measures of a closed-loop run and the comparison of policies over seeds (with 90% intervals)."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime

import numpy as np

from beatwise.config.schema import AgencyConfig
from models.closed_loop.loop import NO_PATROL, ClosedLoop, LoopSettings, RunResult


def gini(values: np.ndarray) -> float:
    v = np.sort(np.asarray(values, dtype=float))
    if v.sum() <= 0:
        return 0.0
    n = v.size
    return float((2 * np.arange(1, n + 1) - n - 1) @ v / (n * v.sum()))


def top_share(values: np.ndarray, share: float) -> float:
    """Share of the total held by the top `share` of cells."""
    v = np.sort(np.asarray(values, dtype=float))[::-1]
    k = max(1, math.ceil(share * v.size))
    return float(v[:k].sum() / v.sum()) if v.sum() > 0 else 0.0


def drift(true: np.ndarray, recorded: np.ndarray) -> float:
    """Total-variation distance between where crime happened and where it was recorded (0 = same shares)."""
    if true.sum() <= 0 or recorded.sum() <= 0:
        return 0.0
    return float(0.5 * np.abs(true / true.sum() - recorded / recorded.sum()).sum())


def measures(run: RunResult, top: float, prevented_against: RunResult | None) -> dict[str, float]:
    total = run.minutes
    return {
        "top1_share": top_share(total, top),
        "gini": gini(total),
        "max_cell_share": float(total.max() / total.sum()) if total.sum() > 0 else 0.0,
        "recorded_true_drift": drift(run.true_by_area.sum(axis=0), run.recorded_by_area.sum(axis=0)),
        "crime_prevented": float(prevented_against.true_crime - run.true_crime) if prevented_against else 0.0,
        "caps_held": float(run.caps_held),
    }


def over_time(run: RunResult, top: float) -> dict[str, list[float]]:
    """Per period: top-1% share and largest cell's share of that period's minutes, recorded-vs-true drift."""
    return {
        "top1_share": [round(top_share(m, top), 4) for m in run.period_minutes],
        "max_cell_share": [round(float(m.max() / m.sum()) if m.sum() else 0.0, 4) for m in run.period_minutes],
        "recorded_true_drift": [
            round(drift(t, r), 4) for t, r in zip(run.true_by_area, run.recorded_by_area, strict=True)
        ],
    }


def interval(values: list[float], level: float = 0.90) -> tuple[float, float, float]:
    """Mean and its two-sided `level` t-interval over seeds (a single seed gives a zero-width interval)."""
    v = np.asarray(values, dtype=float)
    mean = float(v.mean())
    if v.size < 2:
        return mean, mean, mean
    from scipy import stats

    half = float(stats.t.ppf(0.5 + level / 2, v.size - 1) * v.std(ddof=1) / math.sqrt(v.size))
    return mean, mean - half, mean + half


def compare(
    config: AgencyConfig,
    policies: list[str],
    days: int,
    seeds: int,
    cells: int = 2400,
    settings: LoopSettings | None = None,
    first_seed: int = 1,
) -> dict:
    """Every policy on the same seeds, plus the no-patrol run: the command's JSON object."""
    settings = replace(settings or LoopSettings(), days=days)
    loop = ClosedLoop(config, cells, settings)
    top = config.exposure.top_cells_share
    per_policy: dict[str, list[dict]] = {p: [] for p in policies}
    curves: dict[str, list[dict]] = {p: [] for p in policies}
    cpu = 0.0
    for seed in range(first_seed, first_seed + seeds):
        counterfactual = loop.run(NO_PATROL, seed)
        cpu += counterfactual.seconds
        for policy in policies:
            run = loop.run(policy, seed)
            cpu += run.seconds
            per_policy[policy].append(measures(run, top, counterfactual))
            curves[policy].append(over_time(run, top))
    out: dict = {
        "days": days,
        "seeds": seeds,
        "cells": loop.plan.rows * loop.plan.cols,
        "agency": config.agency.slug,
        "run_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "settings": {
            "discovered_share": settings.discovered_share,
            "high_discovered_share": settings.high_discovered_share,
            "protect_discovered": settings.protect,
            "retrain_days": settings.retrain_days,
            "warmup_days": settings.warmup_days,
        },
        "cpu_seconds": round(cpu, 2),
        "policies": {},
    }
    for policy, rows in per_policy.items():
        entry: dict = {}
        for key in rows[0]:
            mean, low, high = interval([r[key] for r in rows])
            entry[key], entry[f"{key}_low"], entry[f"{key}_high"] = round(mean, 4), round(low, 4), round(high, 4)
        entry["caps_held"] = all(r["caps_held"] == 1.0 for r in rows)
        entry.pop("caps_held_low"), entry.pop("caps_held_high")
        entry["top1_share_cap"] = config.exposure.top_cells_max_mission_share
        entry["over_time"] = {
            key: [round(float(np.mean(col)), 4) for col in zip(*(c[key] for c in curves[policy]), strict=True)]
            for key in curves[policy][0]
        }
        out["policies"][policy] = entry
    return out

