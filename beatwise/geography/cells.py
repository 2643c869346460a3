"""The jurisdiction's cells and the district and beat each belongs to (`raw.cells`)."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from beatwise.config.schema import AgencyConfig
from beatwise.geography import grid
from beatwise.geography.layers import polygons, read_layer
from beatwise.warehouse import replace_table

CELLS_COLUMNS = [*grid.CELL_COLUMNS, "district", "beat", "area_share"]


def jurisdiction_districts(districts: pd.DataFrame, wanted: list[str] | None) -> pd.DataFrame:
    """The district rows of the jurisdiction: those listed in `wanted`, or all when it is None."""
    if wanted is None:
        return districts
    wanted = [str(d).lstrip("0") for d in wanted]
    missing = sorted(set(wanted) - set(districts["district"]))
    if missing:
        raise ValueError(f"config.districts lists {missing}, which raw.districts does not have")
    return districts[districts["district"].isin(wanted)]


def current_beats(beats: pd.DataFrame) -> pd.DataFrame:
    """The beats of the newest vintage (latest valid_from; a vintage without one is the oldest)."""
    if beats.empty:
        raise ValueError("raw.beats is empty: no beats to assign cells to")
    starts = beats.groupby("vintage")["valid_from"].max()
    # NaT sorts first: a vintage without a start date is older than any dated one; ties go to the name.
    ordered = starts.reset_index().sort_values(["valid_from", "vintage"], na_position="first")
    newest = ordered["vintage"].iloc[-1]
    return beats[beats["vintage"] == newest]


def largest_cover(shares: pd.DataFrame, keys: np.ndarray, n_cells: int) -> tuple[np.ndarray, np.ndarray]:
    """Per cell, the key whose polygons cover most of it and the share all keys together cover.

    `shares` is a (cell_index, polygon_index, share) overlay; `keys[polygon_index]` names the polygon
    (a district split into several polygons counts once). Ties go to the smallest key.
    """
    frame = pd.DataFrame({"cell_index": shares["cell_index"].to_numpy(),
                          "key": keys[shares["polygon_index"].to_numpy()],
                          "share": shares["share"].to_numpy()})
    per_key = frame.groupby(["cell_index", "key"], as_index=False)["share"].sum()
    best = (per_key.sort_values(["cell_index", "share", "key"], ascending=[True, False, True])
            .drop_duplicates("cell_index"))
    key = np.full(n_cells, None, dtype=object)
    key[best["cell_index"].to_numpy()] = best["key"].to_numpy()
    covered = np.zeros(n_cells)
    totals = per_key.groupby("cell_index")["share"].sum()
    covered[totals.index.to_numpy()] = np.clip(totals.to_numpy(), 0.0, 1.0)
    return key, covered


def build_cells(districts: pd.DataFrame, beats: pd.DataFrame, size: float,
                wanted_districts: list[str] | None = None) -> pd.DataFrame:
    """The jurisdiction's cells with their district, current beat and the share inside the jurisdiction.

    `districts` and `beats` are the canonical frames of raw.districts / raw.beats (WKT in the agency
    CRS). Columns: CELLS_COLUMNS, ordered by cell column then row. A cell's beat is taken among the
    current beats of the jurisdiction's districts; it is None where no such beat overlaps the cell.
    """
    districts = jurisdiction_districts(districts, wanted_districts)
    cells, district_shares = grid.jurisdiction_overlay(polygons(districts, "raw.districts"), size)
    district, area_share = largest_cover(district_shares, districts["district"].to_numpy(), len(cells))

    beats = current_beats(beats)
    if wanted_districts is not None:
        beats = beats[beats["district"].isin(districts["district"])]
    beat = np.full(len(cells), None, dtype=object)
    if len(beats):
        beat_shares = grid.cell_polygon_shares(cells, polygons(beats, "raw.beats"), size)
        beat, _ = largest_cover(beat_shares, beats["beat"].to_numpy(), len(cells))
    return cells.assign(district=district, beat=beat, area_share=area_share)[CELLS_COLUMNS]


def write_cells(con: duckdb.DuckDBPyConnection, config: AgencyConfig) -> pd.DataFrame:
    """(Re)build `raw.cells` from raw.districts and raw.beats; returns the table written."""
    cells = build_cells(read_layer(con, "districts"), read_layer(con, "beats"), config.grid.cell_size,
                        config.districts)
    replace_table(con, "raw.cells", cells, key="cell_id")
    return cells
