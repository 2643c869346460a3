"""The proof: on a synthetic city whose deterrence is known, the estimator recovers it.

Closed loop, shift by shift, for each seed:

    forecast (prior counts of the last 28 days, per crime type and cell)
      -> plan (the real planner: models.planning.make_plan, exact inclusion probabilities, caps)
      -> simulated operations (beatwise.simulate: units drive to the missions and stay; full compliance)
      -> crime of the shift (beatwise.simulate.CrimeProcess.step, responding to the dose delivered)

then the effect of assignment on the modelled crime of the shift is estimated from the plans'
candidates (models.impact.estimator, risk-driven pool). Truth: with full compliance every mission gets
at least the full dose, so an assigned cell's intensity is (1 - during_dose) times what it would have
been, whatever else happened: the true relative effect is exactly -during_dose (0 for the null).
"""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from beatwise.config import load_config
from beatwise.config.schema import AgencyConfig
from beatwise.paths import PROJECT_ROOT
from beatwise.simulate import (
    FULL_COMPLIANCE,
    NO_DETERRENCE,
    CityPlan,
    CrimeParameters,
    CrimeProcess,
    Deterrence,
    build_city,
    make_roster,
    simulate_operations,
)
from models.impact.estimator import Effect, assignment_effect, populations, randomized
from models.planning.plan import make_plan, planning_inputs

SYNTHETIC_CONFIG = PROJECT_ROOT / "config" / "synthetic.yaml"
FIRST_SHIFT = datetime(2016, 4, 1, 6)


@dataclass(frozen=True)
class ProofSettings:
    shifts: int = 45  # closed-loop shifts per seed (15 days)
    history_days: int = 28  # open-loop warm-up, also the forecaster's window
    events_per_day: float = 4000.0  # all kinds, city-wide: a busy city, so 15 days carry enough crime
    during_dose: float = 0.3  # the true effect (the null sets it to 0)
    residual_next_shift: float = 0.1
    city: CityPlan = CityPlan()


def _seed(*parts: object) -> int:
    return int(hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()[:15], 16)


def closed_loop(
    seed: int,
    settings: ProofSettings = ProofSettings(),
    config: AgencyConfig | None = None,
    true_effect: bool = True,
) -> pd.DataFrame:
    """Run one seed; return every plan's candidates with their outcomes (`all` and per crime type, this
    shift and `_next`)."""
    config = config or load_config(SYNTHETIC_CONFIG)
    deterrence = (
        Deterrence(settings.during_dose, settings.residual_next_shift) if true_effect else NO_DETERRENCE
    )
    city = build_city(settings.city, seed)
    process = CrimeProcess(city, CrimeParameters(settings.events_per_day, deterrence=deterrence), seed)
    cells = city.cells[["cell_id", "district", "beat"]].copy()
    index = pd.Series(np.arange(len(cells)), index=cells["cell_id"])
    types = [t for t in config.crime_types]
    type_index = {t: k for k, t in enumerate(types)}
    hours = config.shift_hours[0]
    per_day = len(config.shifts)
    window = settings.history_days * per_day
    counts = np.zeros((window, len(types), len(cells)))  # ring buffer of the last `window` shifts

    def tally(events: pd.DataFrame) -> np.ndarray:
        out = np.zeros((len(types), len(cells)))
        known = events[events["kind"].astype(str).isin(type_index) & events["cell_id"].notna()]
        np.add.at(
            out,
            (known["kind"].astype(str).map(type_index).to_numpy(), index.loc[known["cell_id"]].to_numpy()),
            1,
        )
        return out

    warm_start = FIRST_SHIFT - timedelta(days=settings.history_days)
    history = process.generate(warm_start, FIRST_SHIFT)
    shift_of = ((history["occurred_at"] - warm_start) // timedelta(hours=hours)).to_numpy()
    for s in range(window):
        counts[s] = tally(history[shift_of == s])

    recent: list[pd.Series] = []
    frames, previous = [], None
    for s in range(settings.shifts + 1):
        start = FIRST_SHIFT + timedelta(hours=hours * s)
        expected = counts.sum(axis=0) / window
        risk = pd.DataFrame(
            {
                "cell_id": np.tile(cells["cell_id"].to_numpy(), len(types)),
                "crime_type": np.repeat(types, len(cells)),
                "expected_count": expected.ravel(),
            }
        )
        recent_missions = (
            pd.concat(recent[-config.exposure.window_shifts :]).value_counts()
            if recent
            else pd.Series(dtype="int64")
        )
        plan = make_plan(
            planning_inputs(risk, cells, recent_missions), config, start, seed=_seed("proof", seed, s)
        )
        recent.append(plan.missions["cell_id"])
        dose = pd.Series(dtype=float)
        if not plan.missions.empty:
            missions = plan.missions.assign(tactics=plan.missions["tactics"].map(json.loads))
            roster = make_roster(
                [start],
                sorted(cells["district"].unique()),
                {
                    d: config.capacity.per_district.get(d, config.capacity.units_per_shift)
                    for d in cells["district"].unique()
                },
                shift_hours=hours,
                salt=f"proof{seed}",
            )
            ops = simulate_operations(
                missions,
                roster,
                None,
                seed=_seed("ops", seed, s) % 2**31,
                compliance=FULL_COMPLIANCE,
                cell_size=config.grid.cell_size,
            )
            dose = ops.dose.groupby("cell_id")["dose_minutes"].sum()
        events = process.step(start, start + timedelta(hours=hours), dose)
        observed = tally(events)
        counts[(window + s) % window] = observed  # the oldest shift leaves the window
        outcome = pd.DataFrame(observed.T, columns=types, index=cells["cell_id"])
        outcome["all"] = outcome[types].sum(axis=1)
        if previous is not None:
            prev_frame, prev_cells = previous
            next_values = outcome.loc[prev_cells].add_suffix("_next").reset_index(drop=True)
            frames.append(pd.concat([prev_frame.reset_index(drop=True), next_values], axis=1))
        if s < settings.shifts:
            candidates = plan.candidates.assign(plan_id=plan.plan_id, shift=s, draw=0)
            candidates = candidates.join(outcome, on="cell_id")
            previous = (candidates, candidates["cell_id"].to_numpy())
    return pd.concat(frames, ignore_index=True)


def seed_result(
    scenario: str, seed: int, settings: ProofSettings = ProofSettings(), level: float = 0.95
) -> dict:
    """One seed of one scenario ("effect" or "null"): the estimate, its interval, and what it says."""
    truth = -settings.during_dose if scenario == "effect" else 0.0
    frame = closed_loop(seed, settings, true_effect=scenario == "effect")
    pool = populations(randomized(frame))["pool"]
    effect: Effect = assignment_effect(pool, "all", cluster="plan_id", level=level)
    return {
        "scenario": scenario,
        "seed": seed,
        "truth": truth,
        "estimate": effect.estimate,
        "ci_low": effect.ci_low,
        "ci_high": effect.ci_high,
        "covered": bool(effect.ci_low <= truth <= effect.ci_high),
        "excludes_zero": bool(effect.ci_low > 0 or effect.ci_high < 0),
        "assigned": effect.assigned,
        "candidates": effect.candidates,
        "plans": effect.plans,
    }


def prove(
    seeds: int = 20, settings: ProofSettings = ProofSettings(), level: float = 0.95, workers: int = 2
) -> dict:
    """Run the proof for a true effect and a true null; per-seed rows and the summary the CLI prints."""
    jobs = [(scenario, seed) for scenario in ("effect", "null") for seed in range(1, seeds + 1)]
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            scenarios, seed_list = zip(*jobs, strict=True)
            rows = list(
                pool.map(seed_result, scenarios, seed_list, [settings] * len(jobs), [level] * len(jobs))
            )
    else:
        rows = [seed_result(scenario, seed, settings, level) for scenario, seed in jobs]
    return summarise(rows, settings)


def summarise(rows: list[dict], settings: ProofSettings) -> dict:
    """The summary of per-seed rows: coverage and relative bias for the effect, rejections for the null."""
    table = pd.DataFrame(rows)
    effect_rows, null_rows = table[table["scenario"] == "effect"], table[table["scenario"] == "null"]
    truth = -settings.during_dose
    return {
        "effect": {
            "seeds": int(len(effect_rows)),
            "covered": int(effect_rows["covered"].sum()),
            "relative_bias": float((effect_rows["estimate"].mean() - truth) / abs(truth)),
            "truth": truth,
            "mean_estimate": float(effect_rows["estimate"].mean()),
        },
        "null": {
            "seeds": int(len(null_rows)),
            "rejections": int(null_rows["excludes_zero"].sum()),
            "mean_estimate": float(null_rows["estimate"].mean()),
        },
        "rows": rows,
    }


def quick_settings() -> ProofSettings:
    """A small, fast version for tests."""
    return replace(ProofSettings(), shifts=24, city=CityPlan(districts_x=2, districts_y=1))
