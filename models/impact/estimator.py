"""Inverse-probability-weighted effect of assignment, with design-based confidence intervals.

Every plan records, for every candidate cell, its inclusion probability pi_i and whether it was drawn
(T_i). For the eligible candidates with 0 < pi_i < 1 (certainties and cells that could not be drawn have
no counterfactual arm) the Hajek estimators of the mean outcome under each arm are

    m1 = sum_i T_i Y_i / pi_i  /  sum_i T_i / pi_i
    m0 = sum_i (1 - T_i) Y_i / (1 - pi_i)  /  sum_i (1 - T_i) / (1 - pi_i)

(Horvitz-Thompson totals divided by their estimated sizes: unbiased up to O(1/n) whatever the outcome,
because pi_i is the true probability of the draw). The effect is reported as the relative change
m1 / m0 - 1 (the scale of the deterrence: a multiplicative reduction) and the difference m1 - m0.

Intervals: the draws of different plans (shifts) are independent given the past, while the candidates of
one plan are drawn jointly (a fixed-size systematic sample, whose pairwise probabilities are not
recorded). So each plan is a cluster: the linearised (influence) scores of its candidates are summed per
plan, and the variance is the between-plan variance of those sums (the cluster-robust sandwich, a
martingale CLT across shifts). It is consistent when there are many plans, needs no joint inclusion
probabilities, and is conservative for heterogeneous effects (Neyman). The relative effect's interval
is built on the log ratio and mapped back, so it respects the ratio's skew.

Within a plan, selection is stratified (top / high: risk-driven pool; low: the reserved spread share);
`stratum` lets a caller estimate per stratum: the low stratum's tiny pi make its estimate noisy.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats

POOL_STRATA = ("top", "high")
# Fewer outcome events than this in either arm: the sandwich variance is not trustworthy (a zero count has
# no spread), so the estimate is reported without an interval.
MIN_EVENTS = 10


@dataclass(frozen=True)
class Effect:
    """One estimated effect of assignment."""

    outcome: str  # which crime count (a crime type or "all")
    outcome_window: str  # same_shift | next_shift
    population: str  # which candidates: pool | low | all
    estimate: float  # relative change m1 / m0 - 1
    ci_low: float
    ci_high: float
    difference: float  # m1 - m0, crimes per candidate-shift
    difference_low: float
    difference_high: float
    mean_assigned: float  # m1
    mean_not_assigned: float  # m0
    candidates: int
    assigned: int
    plans: int
    p_value: float
    events_assigned: float = 0.0
    events_not_assigned: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


def randomized(candidates: pd.DataFrame) -> pd.DataFrame:
    """The candidates an effect can be estimated on: eligible, draw 0, 0 < pi < 1."""
    pi = candidates["inclusion_probability"].astype(float)
    keep = candidates["eligible"].astype(bool) & (pi > 0) & (pi < 1)
    if "draw" in candidates:
        keep &= candidates["draw"] == 0
    return candidates[keep]


def assignment_effect(
    units: pd.DataFrame,
    outcome: str,
    cluster: str = "plan_id",
    level: float = 0.95,
    outcome_window: str = "same_shift",
    population: str = "pool",
) -> Effect:
    """The Hajek IPW effect of `selected` on `outcome` over `units` (already restricted to 0 < pi < 1)."""
    y = units[outcome].to_numpy(dtype=float)
    t = units["selected"].to_numpy(dtype=bool)
    pi = units["inclusion_probability"].to_numpy(dtype=float)
    plans = units[cluster].to_numpy()
    n_assigned, n = int(t.sum()), len(units)
    if np.any((pi <= 0) | (pi >= 1)):
        raise ValueError(
            f"{outcome}: inclusion probabilities must lie strictly between 0 and 1 "
            "(keep the candidates of `randomized`)"
        )
    if n_assigned == 0 or n_assigned == n:
        raise ValueError(
            f"{outcome}: need both assigned and unassigned candidates ({n_assigned} of {n} assigned)"
        )
    w1, w0 = np.where(t, 1 / pi, 0.0), np.where(t, 0.0, 1 / (1 - pi))
    size1, size0 = w1.sum(), w0.sum()
    m1, m0 = (w1 * y).sum() / size1, (w0 * y).sum() / size0
    # Influence scores of m1 and m0, summed per plan.
    u1, u0 = w1 * (y - m1) / size1, w0 * (y - m0) / size0
    codes, _ = pd.factorize(plans)
    k = codes.max() + 1
    z = lambda scores: np.bincount(codes, weights=scores, minlength=k)  # noqa: E731
    correction = k / (k - 1) if k > 1 else np.nan
    var_diff = correction * ((z(u1 - u0)) ** 2).sum()
    quantile = stats.norm.ppf(0.5 + level / 2)
    diff, se_diff = m1 - m0, np.sqrt(var_diff)
    if m1 > 0 and m0 > 0:
        log_ratio = np.log(m1 / m0)
        se_log = np.sqrt(correction * ((z(u1 / m1 - u0 / m0)) ** 2).sum())
        low, high = np.exp(log_ratio - quantile * se_log) - 1, np.exp(log_ratio + quantile * se_log) - 1
        p = 2 * stats.norm.sf(abs(log_ratio) / se_log) if se_log > 0 else np.nan
    else:
        low = high = p = np.nan
    events1, events0 = float(y[t].sum()), float(y[~t].sum())
    if min(events1, events0) < MIN_EVENTS:
        low = high = p = se_diff = np.nan
    return Effect(
        outcome,
        outcome_window,
        population,
        m1 / m0 - 1 if m0 > 0 else np.nan,
        low,
        high,
        diff,
        diff - quantile * se_diff,
        diff + quantile * se_diff,
        m1,
        m0,
        n,
        n_assigned,
        int(k),
        float(p),
        events1,
        events0,
    )


def populations(units: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The candidate populations effects are reported for: the risk-driven pool, the low stratum, all."""
    pool = units["stratum"].isin(POOL_STRATA)
    return {"pool": units[pool], "low": units[units["stratum"] == "low"], "all": units}


def estimate_effects(
    candidates: pd.DataFrame, outcomes: list[str], windows: dict[str, str] | None = None, level: float = 0.95
) -> pd.DataFrame:
    """Effects per outcome column, window and population. `windows` maps a window name to a column suffix
    (default: same_shift -> "", next_shift -> "_next"); outcome columns are `<outcome><suffix>`."""
    windows = windows or {"same_shift": "", "next_shift": "_next"}
    units = randomized(candidates)
    rows = []
    for population, part in populations(units).items():
        for window, suffix in windows.items():
            for outcome in outcomes:
                column = f"{outcome}{suffix}"
                if column not in part or part.empty or part["selected"].all() or not part["selected"].any():
                    continue
                effect = assignment_effect(
                    part, column, level=level, outcome_window=window, population=population
                )
                rows.append({**effect.as_dict(), "outcome": outcome})
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    # "all" mixes the strata by their weights; where a stratum has too few events for an interval, the
    # mixture's interval would rest on it too (the low stratum's weights are large): leave it out.
    keys = ["outcome", "outcome_window"]
    shaky = table[(table["population"] != "all") & table["ci_low"].isna()][keys].drop_duplicates()
    mixed = table.reset_index().merge(shaky, on=keys)["index"]
    mixed = mixed[table.loc[mixed, "population"].eq("all").to_numpy()]
    table.loc[mixed, ["ci_low", "ci_high", "difference_low", "difference_high", "p_value"]] = np.nan
    return table


DOSE_BINS = (-np.inf, 0.0, 5.0, 10.0, 15.0, 30.0, np.inf)
DOSE_LABELS = ("0", "0-5", "5-10", "10-15", "15-30", "30+")


def dose_response(missions: pd.DataFrame, outcome: str = "crime_count") -> pd.DataFrame:
    """Mean crime per mission by delivered dose (minutes): DESCRIPTIVE, OBSERVATIONAL. How long units
    stayed was not randomized (they stay longer where it is quiet, leave for calls where it is not), so
    this curve is not an effect; the randomized estimate is `estimate_effects`."""
    binned = missions.assign(dose_bin=pd.cut(missions["delivered_minutes"], DOSE_BINS, labels=DOSE_LABELS))
    curve = binned.groupby("dose_bin", observed=True).agg(
        missions=(outcome, "size"), mean_crime=(outcome, "mean"), mean_minutes=("delivered_minutes", "mean")
    )
    curve = curve.reset_index()
    return curve.assign(
        bin_order=curve["dose_bin"].cat.codes.astype(int),  # the labels do not sort as text ("5-10" < "0-5")
        dose_bin=curve["dose_bin"].astype(str),
        observational=True,
    )
