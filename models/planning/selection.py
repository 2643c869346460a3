"""Selection: per district, which cells get the shift's missions, with caps, strata and capacity.

Per district d with capacity n_d (units on duty x missions per unit):

- **eligible**: a cell chosen `max_missions_per_cell` times or more in the last `window_shifts` shifts is
  capped (ineligible, with the reason recorded).
- **strata**: *top* = the highest-priority `top_cells_share` of the district's cells (with positive
  priority); *high* = the rest of the candidate pool (the `candidate_pool_size` highest-priority eligible
  cells with positive priority, top cells included); *low* = every other eligible cell.
- **allocation**: n_low = round(low_risk_reserved_share x n_d) missions are reserved for the low stratum,
  n_pool = n_d - n_low go to the pool (what a stratum cannot take moves to the other; what neither can
  take is reported as a shortfall). The top cells together may take at most
  m_top = floor(top_cells_max_mission_share x n_d) missions.
- **probabilities** (exact; see sampling.py): in the pool pi_i = min(1, c w_i), w_i = priority, sum = n_pool.
  If the top cells' sum exceeds m_top, they are re-solved to sum to m_top, pi_i = min(1, c_top w_i), and
  the high cells to sum to n_pool - m_top, pi_i = min(1, c_high w_i). In the low stratum every eligible
  cell has pi_i = n_low / N_low (equal: deterrence spread over the whole district).
- **draw**: one randomized systematic draw over the pool with the top cells contiguous (so the top cells
  receive floor or ceil of their sum, never more than m_top, and the pool exactly n_pool), one over the low
  stratum. Ineligible cells have pi_i = 0.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from beatwise.config.schema import AgencyConfig, Exposure
from models.planning import PlanningError
from models.planning.sampling import inclusion_probabilities, systematic_sample

CANDIDATE_COLUMNS = [
    "district",
    "cell_id",
    "beat",
    "priority",
    "stratum",
    "eligible",
    "ineligible_reason",
    "inclusion_probability",
    "selected",
]


@dataclass
class Selection:
    """Every candidate of one shift (selected or not) and what could not be planned."""

    candidates: pd.DataFrame
    warnings: list[str] = field(default_factory=list)


@dataclass
class DistrictDesign:
    district: str
    rows: slice
    top: np.ndarray  # masks over the district's rows
    pool: np.ndarray
    low: np.ndarray
    m_top: int
    size: int  # missions drawn


@dataclass
class Design:
    """The deterministic half of a selection: strata and exact inclusion probabilities, before the draw."""

    candidates: pd.DataFrame
    districts: list[DistrictDesign]
    warnings: list[str]

    def draw(self, seed: int) -> np.ndarray:
        """Which candidates a draw with `seed` selects (fixed size per district, caps holding)."""
        pi = self.candidates["inclusion_probability"].to_numpy()
        selected = np.zeros(len(pi), dtype=bool)
        for d in self.districts:
            part, chosen = pi[d.rows], np.zeros(d.rows.stop - d.rows.start, dtype=bool)
            rng = district_rng(seed, d.district)
            if d.pool.any():
                chosen[d.pool] = systematic_sample(part[d.pool], rng, blocks=~d.top[d.pool])
            if d.low.any():
                chosen[d.low] = systematic_sample(part[d.low], rng)
            if chosen[d.top].sum() > d.m_top or chosen.sum() != d.size:  # guards the float edge cases
                raise PlanningError(f"district {d.district}: the draw broke a cap (a bug: please report)")
            selected[d.rows] = chosen
        return selected


def mission_capacity(
    config: AgencyConfig, districts: list[str], shift_name: str | None = None
) -> dict[str, int]:
    """Missions per district for one shift: units on duty (per district, else per shift, else the default)
    times missions per unit."""
    cap = config.capacity
    default_units = cap.per_shift.get(shift_name, cap.units_per_shift) if shift_name else cap.units_per_shift
    return {d: cap.per_district.get(d, default_units) * cap.missions_per_unit for d in districts}


def district_rng(seed: int, district: str, draw: int = 0) -> np.random.Generator:
    """An independent random stream per district (and redraw), so districts do not depend on each other."""
    key = int(hashlib.sha256(str(district).encode()).hexdigest()[:8], 16)
    return np.random.default_rng([int(seed), key, int(draw)])


def select_missions(
    priority: pd.DataFrame,
    capacity: dict[str, int],
    recent_missions: pd.Series,
    exposure: Exposure,
    seed: int,
) -> Selection:
    """Draw the missions of one shift. Pure: priority frame in, candidates out.

    `priority`: cell_id, district, beat, priority (see priority.cell_priority). `recent_missions`: cell_id ->
    missions in the last `exposure.window_shifts` shifts. Raises PlanningError on zero capacity, when every
    cell is capped, or when a district with capacity has no eligible cell.
    """
    design = design_selection(priority, capacity, recent_missions, exposure)
    candidates = design.candidates.assign(selected=design.draw(seed))
    return Selection(candidates[CANDIDATE_COLUMNS], design.warnings)


def design_selection(
    priority: pd.DataFrame, capacity: dict[str, int], recent_missions: pd.Series, exposure: Exposure
) -> Design:
    """Eligibility, strata, allocation and inclusion probabilities of every candidate (no randomness)."""
    if sum(capacity.get(d, 0) for d in priority["district"].unique()) == 0:
        raise PlanningError(
            "zero capacity: the configuration gives no missions for this shift "
            "(capacity.units_per_shift / per_district / per_shift x missions_per_unit is 0)"
        )
    frame = (
        priority[["district", "cell_id", "beat", "priority"]]
        .sort_values(["district", "priority", "cell_id"], ascending=[True, False, True], kind="stable")
        .reset_index(drop=True)
    )
    recent = recent_missions.reindex(frame["cell_id"]).fillna(0).to_numpy()
    eligible = recent < exposure.max_missions_per_cell
    if not eligible.any():
        raise PlanningError(
            f"every cell is capped: each was chosen at least {exposure.max_missions_per_cell} times in the "
            f"last {exposure.window_shifts} shifts (exposure.max_missions_per_cell / window_shifts)"
        )
    reason = np.full(len(frame), None, dtype=object)
    reason[~eligible] = [
        f"exposure cap: chosen {int(k)} times in the last {exposure.window_shifts} shifts "
        f"(max {exposure.max_missions_per_cell})"
        for k in recent[~eligible]
    ]
    stratum = np.full(len(frame), "excluded", dtype=object)
    pi = np.zeros(len(frame))
    warnings: list[str] = []
    designs = []
    districts, starts = np.unique(frame["district"].to_numpy(), return_index=True)
    prio = frame["priority"].to_numpy()
    for district, s, e in zip(districts, starts, [*starts[1:], len(frame)], strict=True):
        rows = slice(int(s), int(e))
        design, stratum[rows], pi[rows] = _design_district(
            district, rows, prio[rows], eligible[rows], int(capacity.get(district, 0)), exposure, warnings
        )
        designs.append(design)
    frame["stratum"] = stratum
    frame["eligible"] = eligible
    frame["ineligible_reason"] = reason
    frame["inclusion_probability"] = pi
    return Design(frame, designs, warnings)


def _design_district(
    district: str,
    rows: slice,
    prio: np.ndarray,
    eligible: np.ndarray,
    n: int,
    exposure: Exposure,
    warnings: list[str],
) -> tuple[DistrictDesign, np.ndarray, np.ndarray]:
    size = len(prio)
    is_top = (np.arange(size) < math.ceil(exposure.top_cells_share * size)) & (prio > 0)
    usable = eligible & (prio > 0)
    pool = usable & ((np.cumsum(usable) <= exposure.candidate_pool_size) | is_top)
    top, high, low = pool & is_top, pool & ~is_top, eligible & ~pool
    stratum = np.where(top, "top", np.where(high, "high", np.where(low, "low", "excluded"))).astype(object)
    pi = np.zeros(size)
    m_top = math.floor(exposure.top_cells_max_mission_share * n)
    if n == 0:
        nothing = np.zeros(size, dtype=bool)
        return DistrictDesign(district, rows, nothing, nothing, nothing, 0, 0), stratum, pi
    if not eligible.any():
        raise PlanningError(
            f"district {district} has no eligible cells for its {n} missions: all {size} cells are capped "
            f"(chosen {exposure.max_missions_per_cell}+ times in the last {exposure.window_shifts} shifts)"
        )

    n_top_cells, n_high_cells, n_low_cells = int(top.sum()), int(high.sum()), int(low.sum())
    n_low = min(math.floor(exposure.low_risk_reserved_share * n + 0.5), n_low_cells)
    n_pool = min(n - n_low, min(m_top, n_top_cells) + n_high_cells)
    n_low = min(n - n_pool, n_low_cells)
    if n_pool + n_low < n:
        warnings.append(
            f"district {district}: only {n_pool + n_low} of {n} missions could be planned "
            f"({int(eligible.sum())} eligible cells, at most {m_top} in the top cells)"
        )
    if n_pool:
        pool_pi = inclusion_probabilities(prio[pool], n_pool)
        in_top = is_top[pool]
        if pool_pi[in_top].sum() > m_top + 1e-9:
            pool_pi[in_top] = inclusion_probabilities(prio[top], m_top)
            pool_pi[~in_top] = inclusion_probabilities(prio[high], n_pool - m_top)
        pi[pool] = pool_pi
    if n_low:
        pi[low] = n_low / n_low_cells
    return (
        DistrictDesign(
            district, rows, top, pool, low if n_low else np.zeros(size, dtype=bool), m_top, n_pool + n_low
        ),
        stratum,
        pi,
    )


def redraw_one(
    district_candidates: pd.DataFrame, stratum: str, top_cap_reached: bool, seed: int, draw: int
) -> pd.DataFrame:
    """Draw one replacement mission for a suppressed one from the same stratum's unselected eligible cells.

    Pool strata (top, high) draw proportional to priority, pi_i = w_i / sum w (top cells left out when the
    top cap is already reached); the low stratum draws with equal probability. Returns the draw's
    candidates with their (conditional) inclusion probability and which one was selected; empty if none.
    """
    pool_strata = {"top", "high"} if stratum in ("top", "high") else {"low"}
    if top_cap_reached:
        pool_strata.discard("top")
    open_ = district_candidates[
        district_candidates["eligible"]
        & ~district_candidates["selected"]
        & district_candidates["stratum"].isin(pool_strata)
    ].copy()
    weights = open_["priority"].to_numpy() if stratum != "low" else np.ones(len(open_))
    if len(open_) == 0 or weights.sum() <= 0:
        return open_.iloc[0:0]
    open_["inclusion_probability"] = inclusion_probabilities(weights, 1)
    open_["selected"] = systematic_sample(
        open_["inclusion_probability"].to_numpy(), district_rng(seed, open_["district"].iloc[0], draw)
    )
    return open_
