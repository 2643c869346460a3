"""The closed loop: forecast from what was recorded -> plan -> patrol -> crime -> record, shift after shift.

Every shift of the run:

1. **forecast** each modelled crime type per cell from the *recorded* history only: the kernel-decay
   baseline (models.forecasting.baselines.KernelDecay's kernel and half-life), kept as exponentially
   decayed counts updated every shift, recalibrated ("retrained") every `retrain_days` on the recorded
   counts of the days before;
2. **plan** with the policy: `beatwise` is the real planner (models.planning: priority weights, candidate
   pool, randomized draw, exposure caps, low-risk reserve); `greedy` sends every mission to the district's
   top-priority cells, no randomization, no caps; `uniform` draws the cells at random; `none` patrols
   nothing (the counterfactual that crime prevented is measured against);
3. **patrol**: each mission's visits delivered with the operations simulator's compliance model
   (skipped, cut short, lognormal stay around the planned dose), without GPS tracks: the loop needs
   minutes per cell, and tracks cost a thousand times more;
4. **crime**: the synthetic city's true process (CrimeProcess.step) given those minutes, with its known
   deterrence;
5. **record**: a `discovered_share` of crime comes to police notice only when a patrol is in the cell
   (recorded with probability min(dose / full dose, 1)); the rest is community-reported at the
   reporting rate (Reporting: calls, acoustic detection for gunfire). When `protect` is on, a record a
   patrol discovered counts p / pi_c in the history, p being the district's mean inclusion probability
   and pi_c the cell's in that shift's plan (Ensign et al. 2018's correction): what patrols discover then
   no longer depends on where the planner sent them.

The same seed drives the same city, the same true process and the same warm-up for every policy.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from beatwise.config.schema import AgencyConfig
from beatwise.simulate import CityPlan, Compliance, CrimeParameters, CrimeProcess, Reporting, build_city
from models.forecasting.baselines import KernelDecay
from models.forecasting.history import Grid
from models.planning.priority import crime_weights
from models.planning.selection import design_selection, mission_capacity

POLICIES = ("beatwise", "greedy", "beatwise-high-discovery", "uniform")
NO_PATROL = "none"
DEFAULT_CELLS_PER_DISTRICT_SIDE = 20


@dataclass(frozen=True)
class LoopSettings:
    """How the loop records crime and relearns; everything else comes from the agency's config."""

    days: int = 365
    start: date = date(2017, 1, 1)
    warmup_days: int = 91  # open-loop history (no patrol) the first forecast learns from
    discovered_share: float = 0.1  # share of crime recorded only when a patrol is there
    high_discovered_share: float = 0.6  # the same, for the beatwise-high-discovery policy
    protect: bool = True  # down-weight patrol-discovered records (Ensign et al.) in beatwise's history
    retrain_days: int = 28
    period_days: int = 28  # the measures over time are per period of this length
    events_per_cell_day: float = 150.0 / 2400  # the synthetic city's default density
    compliance: Compliance = field(default_factory=Compliance)
    reporting: Reporting = field(default_factory=Reporting)


def city_plan(cells: int, cell_size: float = 500.0) -> CityPlan:
    """A synthetic city of about `cells` cells: square districts of 20 x 20 cells on a near-square layout."""
    districts = max(1, round(cells / DEFAULT_CELLS_PER_DISTRICT_SIDE**2))
    across = max(1, math.isqrt(districts))
    while districts % across:
        across -= 1
    return CityPlan(districts_x=districts // across, districts_y=across, cell_size=cell_size)


@dataclass
class RunResult:
    """One policy on one seed: per-cell minutes, per-period measures, crime true and recorded."""

    policy: str
    seed: int
    minutes: np.ndarray  # patrol minutes per cell over the run
    period_minutes: np.ndarray  # periods x cells
    true_by_area: np.ndarray  # periods x areas (beats), modelled crime that happened
    recorded_by_area: np.ndarray  # periods x areas, what the history learned from (weighted)
    true_crime: int
    caps_held: bool
    shifts: int
    seconds: float = 0.0


class ClosedLoop:
    """One synthetic city under one agency config; `run(policy, seed)` plays the loop for a policy."""

    def __init__(self, config: AgencyConfig, cells: int = 2400, settings: LoopSettings | None = None):
        self.config = config
        self.settings = settings or LoopSettings()
        self.plan = city_plan(cells, config.grid.cell_size)
        self.types = config.modelled_crime_types()

    # -- one run ------------------------------------------------------------------------------------------
    def run(self, policy: str, seed: int) -> RunResult:
        began = time.process_time()
        s, cfg = self.settings, self.config
        if policy not in (*POLICIES, NO_PATROL):
            raise ValueError(f"unknown policy {policy!r}: choose from {', '.join((*POLICIES, NO_PATROL))}")
        city = build_city(self.plan, seed)
        cells = city.cells
        n = len(cells)
        params = CrimeParameters(events_per_day=s.events_per_cell_day * n)
        crime = CrimeProcess(city, params, seed)
        rng = np.random.default_rng([seed, 16])  # recording and patrol draws

        kinds = [k.name for k in params.kinds]
        type_of_kind = np.array([self.types.index(k) if k in self.types else -1 for k in kinds])
        report_rate = np.array(
            [s.reporting.detect_gunfire if t == "gunfire" else s.reporting.call_crime for t in self.types]
        )
        discovered_share = s.high_discovered_share if policy == "beatwise-high-discovery" else s.discovered_share
        protect = s.protect and policy.startswith("beatwise")

        grid = Grid(int(cells["cell_col"].min()) - 3, int(cells["cell_row"].min()) - 3,
                    self.plan.cols + 6, self.plan.rows + 6)
        dense = grid.index(cells["cell_col"].to_numpy(), cells["cell_row"].to_numpy())
        baseline = KernelDecay(self.types[0])
        shift_hours = cfg.shift_hours
        districts = cells["district"].to_numpy()
        district_codes, district_of = np.unique(districts, return_inverse=True)
        beats, beat_of = np.unique(cells["beat"].to_numpy(), return_inverse=True)
        weights = crime_weights(cfg, list(district_codes)).loc[districts, self.types].to_numpy()
        cell_ids = pd.Index(cells["cell_id"])
        frame = cells[["cell_id", "district", "beat"]].copy()

        decayed = np.zeros((len(self.types), n))  # the kernel-decay state: recorded counts, decayed
        recent_counts = deque()  # per shift: recorded per type (weighted), for recalibration
        alpha = np.ones(len(self.types))

        def decay(hours: float) -> None:
            decayed[...] *= math.exp(-math.log(2) * hours / (baseline.half_life_days * 24))

        def score() -> np.ndarray:
            plane = np.zeros(grid.size)
            out = np.empty_like(decayed)
            for t in range(len(self.types)):
                plane[dense] = decayed[t]
                out[t] = grid.neighbourhood_sum(plane, baseline.kernel)[dense]
            return out

        def recalibrate(scores: np.ndarray) -> None:
            if not recent_counts:
                return
            per_shift = np.mean(recent_counts, axis=0)
            totals = scores.sum(axis=1)
            alpha[:] = np.where(totals > 0, per_shift / np.maximum(totals, 1e-12), 1.0)

        def record(events: pd.DataFrame, dose: np.ndarray, pi: np.ndarray, mean_pi: np.ndarray):
            kind = events["kind"].cat.codes.to_numpy()
            t = type_of_kind[kind]
            keep = t >= 0
            cell = cell_ids.get_indexer(events["cell_id"].to_numpy()[keep])
            t = t[keep]
            present = np.clip(dose[cell] / params.deterrence.full_dose_minutes, 0, 1)
            discoverable = rng.random(t.size) < discovered_share
            seen = rng.random(t.size)
            recorded = np.where(discoverable, seen < present, seen < report_rate[t])
            weight = np.ones(t.size)
            if protect:
                found = discoverable & recorded
                weight[found] = np.minimum(mean_pi[district_of[cell[found]]] / np.maximum(pi[cell[found]], 1e-9), 1)
            w = np.where(recorded, weight, 0.0)
            counts = np.zeros((len(self.types), n))
            np.add.at(counts, (t, cell), w)
            return t, cell, counts

        # warm-up: open loop, community-reported only
        warm_start = datetime.combine(s.start - timedelta(days=s.warmup_days), datetime.min.time())
        loop_start = datetime.combine(s.start, datetime.min.time()) + timedelta(hours=cfg.shift_start_hours[0])
        history = crime.generate(warm_start, loop_start)
        no_dose, no_pi = np.zeros(n), np.zeros(n)
        _, _, counts = record(history, no_dose, no_pi, np.zeros(len(district_codes)))
        hours_before = ((loop_start - pd.to_datetime(history["occurred_at"])).dt.total_seconds() / 3600).to_numpy()
        # the warm-up's records decayed by their age, as the kernel-decay baseline weighs them
        kind = history["kind"].cat.codes.to_numpy()
        keep = type_of_kind[kind] >= 0
        age_w = np.exp(-math.log(2) * hours_before[keep] / (baseline.half_life_days * 24))
        share = counts.sum() / max(keep.sum(), 1)  # the reporting rate actually drawn
        np.add.at(decayed, (type_of_kind[kind][keep], cell_ids.get_indexer(history["cell_id"].to_numpy()[keep])),
                  age_w * share)
        shifts_per_day = len(cfg.shifts)
        warm_per_shift = counts.sum(axis=1) / (s.warmup_days * shifts_per_day)
        for _ in range(s.retrain_days * shifts_per_day):
            recent_counts.append(warm_per_shift)
        recalibrate(score())

        n_shifts = s.days * shifts_per_day
        periods = math.ceil(s.days / s.period_days)
        period_minutes = np.zeros((periods, n))
        true_by_area = np.zeros((periods, len(beats)))
        recorded_by_area = np.zeros((periods, len(beats)))
        window = deque(maxlen=cfg.exposure.window_shifts)
        recent_missions = np.zeros(n, dtype=np.int64)
        caps_held, true_crime = True, 0
        dose_minutes = cfg.capacity.dose_minutes * 1.0
        visits = cfg.capacity.visits_per_mission
        c = s.compliance
        start = loop_start
        for i in range(n_shifts):
            k = i % shifts_per_day
            hours = shift_hours[k]
            end = start + timedelta(hours=hours)
            period = min(i // (s.period_days * shifts_per_day), periods - 1)
            if i and i % (s.retrain_days * shifts_per_day) == 0:
                recalibrate(score())
            expected = alpha[:, None] * score()  # per type x cell, per shift
            priority = (expected.T * weights).sum(axis=1)
            capacity = mission_capacity(cfg, list(district_codes), cfg.shifts[k].name)
            selected = np.zeros(n, dtype=bool)
            pi = np.zeros(n)
            if policy in ("beatwise", "beatwise-high-discovery"):
                frame["priority"] = priority
                design = design_selection(frame, capacity, pd.Series(recent_missions, index=cell_ids), cfg.exposure)
                shift_seed = int(hashlib.sha256(f"{seed}:{policy}:{i}".encode()).hexdigest()[:15], 16)
                where = cell_ids.get_indexer(design.candidates["cell_id"])
                selected[where] = design.draw(shift_seed)
                pi[where] = design.candidates["inclusion_probability"].to_numpy()
            elif policy == "greedy":
                order = np.lexsort((-priority, district_of))
                rank = np.empty(n, dtype=np.int64)
                starts = np.searchsorted(district_of[order], np.arange(len(district_codes)))
                rank[order] = np.arange(n) - starts[district_of[order]]
                selected = rank < np.array([capacity[d] for d in district_codes])[district_of]
                pi = selected.astype(float)
            elif policy == "uniform":
                for d, code in enumerate(district_codes):
                    members = np.flatnonzero(district_of == d)
                    chosen = rng.choice(members, min(capacity[code], members.size), replace=False)
                    selected[chosen] = True
                    pi[members] = capacity[code] / members.size
            caps_held &= self._caps_hold(selected, priority, recent_missions, district_of, capacity, district_codes)
            mean_pi = np.bincount(district_of, weights=pi, minlength=len(district_codes)) / np.bincount(district_of)

            # patrol: each visit skipped, cut short, or a lognormal stay around the planned dose
            missions = np.flatnonzero(selected)
            draws = rng.random((missions.size, visits))
            short = rng.uniform(0.2, 0.7, draws.shape)
            stay = np.exp(rng.normal(-(c.dose_spread**2) / 2, c.dose_spread, draws.shape))
            factor = np.where(draws < c.skip, 0.0, np.where(draws < c.skip + c.cut_short, short, stay))
            dose = np.zeros(n)
            dose[missions] = dose_minutes * factor.sum(axis=1)
            period_minutes[period] += dose

            events = crime.step(start, end, pd.Series(dose[missions], index=cell_ids[missions]))
            t, cell, counts = record(events, dose, pi, mean_pi)
            true_crime += t.size
            np.add.at(true_by_area[period], beat_of[cell], 1.0)
            recorded_by_area[period] += np.bincount(beat_of, weights=counts.sum(axis=0), minlength=len(beats))

            decay(hours)
            decayed += counts
            recent_counts.append(counts.sum(axis=1))
            while len(recent_counts) > s.retrain_days * shifts_per_day:
                recent_counts.popleft()
            if len(window) == window.maxlen:
                recent_missions -= window[0]
            window.append(selected.astype(np.int64))
            recent_missions += window[-1]
            start = end
        return RunResult(policy, seed, period_minutes.sum(axis=0), period_minutes, true_by_area,
                         recorded_by_area, true_crime, caps_held, n_shifts, time.process_time() - began)

    def _caps_hold(self, selected, priority, recent, district_of, capacity, codes) -> bool:
        """The exposure caps for this shift: no capped cell chosen, the top cells' missions within their cap."""
        exposure = self.config.exposure
        if (selected & (recent >= exposure.max_missions_per_cell)).any():
            return False
        for d, code in enumerate(codes):
            members = np.flatnonzero(district_of == d)
            top = math.ceil(exposure.top_cells_share * members.size)
            order = members[np.argsort(-priority[members], kind="stable")][:top]
            if selected[order].sum() > math.floor(exposure.top_cells_max_mission_share * capacity[code]):
                return False
        return True
