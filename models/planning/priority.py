"""Priority: per cell and shift, the crime-type risk surfaces weighted by harm and agency priorities.

    priority(cell) = sum over crime types t of
                     expected_count(cell, t) * severity_t * priority_t * district_weight(district, t)

where district_weight comes from `config.district_priorities[district][t]` (1 when not set). The weighted
terms are kept per crime type: their shares say which crime types drive a mission.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from beatwise.config.schema import AgencyConfig
from models.planning import PlanningError

CELL_COLUMNS = ["cell_id", "district", "beat"]


def crime_weights(config: AgencyConfig, districts: list[str]) -> pd.DataFrame:
    """district x crime type weight: severity * agency priority * district priority."""
    types = config.modelled_crime_types()
    base = pd.Series({t: config.crime_types[t].severity * config.crime_types[t].priority for t in types})
    rows = {
        d: base * pd.Series(config.district_priorities.get(d, {}), dtype=float).reindex(types).fillna(1.0)
        for d in districts
    }
    return pd.DataFrame.from_dict(rows, orient="index", columns=types)


def cell_priority(risk: pd.DataFrame, cells: pd.DataFrame, config: AgencyConfig) -> pd.DataFrame:
    """One row per cell: cell_id, district, beat, priority, and the weighted term of each crime type.

    `risk` is long (cell_id, crime_type, expected_count) for one shift; `cells` has cell_id, district, beat.
    Cells without a surface for a crime type count zero for it; a crime type the config does not model is
    ignored. Raises PlanningError when no surface covers any modelled crime type.
    """
    types = config.modelled_crime_types()
    missing = [c for c in ("cell_id", "crime_type", "expected_count") if c not in risk.columns]
    if missing:
        raise PlanningError(f"risk surfaces lack column(s) {missing}")
    risk = risk[risk["crime_type"].isin(types)]
    if risk.empty:
        raise PlanningError(f"the risk surfaces cover none of the modelled crime types {types}")
    wide = risk.pivot_table(index="cell_id", columns="crime_type", values="expected_count", aggfunc="sum")
    cells = cells[CELL_COLUMNS].dropna(subset=["district"]).drop_duplicates("cell_id")
    return weigh(cells.set_index("cell_id").join(wide, how="left").reset_index(), config)


def weigh(expected: pd.DataFrame, config: AgencyConfig) -> pd.DataFrame:
    """Priority from a wide frame: cell_id, district, beat and one expected-count column per crime type."""
    types = config.modelled_crime_types()
    counts = expected.reindex(columns=types).fillna(0.0).to_numpy(dtype=float)
    if np.isnan(counts).any() or (counts < 0).any():
        row, col = np.argwhere(np.isnan(counts) | (counts < 0))[0]
        raise PlanningError(
            f"risk surface for cell {expected['cell_id'].iloc[row]}, {types[col]} is negative"
        )
    weights = crime_weights(config, sorted(expected["district"].unique()))
    terms = counts * weights.loc[expected["district"]].to_numpy()
    out = expected[CELL_COLUMNS].reset_index(drop=True)
    out["priority"] = terms.sum(axis=1)
    for i, t in enumerate(types):
        out[f"w_{t}"] = terms[:, i]
    return out


def crime_type_shares(row: pd.Series, types: list[str], floor: float = 0.05) -> dict[str, float]:
    """The crime types driving a cell's priority with their shares (those under `floor` are left out)."""
    total = row["priority"]
    if total <= 0:
        return {}
    shares = {t: float(row[f"w_{t}"]) / total for t in types}
    kept = {t: round(s, 3) for t, s in sorted(shares.items(), key=lambda kv: -kv[1]) if s >= floor}
    return kept
