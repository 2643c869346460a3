"""What surrounds each cell: liquor-licensed premises, land use, event venues (`raw.cell_environment`).

Distances and radii are in the agency CRS's units (feet for Chicago's EPSG:3435), measured from the
cell's centre. A distance is NULL when the layer has no point at all.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from beatwise.config.schema import AgencyConfig
from beatwise.geography import grid
from beatwise.geography.layers import polygons, read_layer
from beatwise.warehouse import replace_table

LAND_USE_CATEGORIES = ("residential", "commercial", "recreational")
LIQUOR_RADIUS = 1000.0  # CRS units: 1,000 ft for Chicago
ENVIRONMENT_COLUMNS = [
    "cell_id", "liquor_premises_in_cell", "liquor_premises_within_1000ft", "distance_to_liquor",
    *(f"{c}_share" for c in LAND_USE_CATEGORIES), "distance_to_venue",
]


def _points(frame: pd.DataFrame, where: str) -> np.ndarray:
    xy = frame[["x", "y"]].to_numpy(dtype=np.float64)
    bad = ~np.isfinite(xy).all(axis=1)
    if bad.any():
        raise ValueError(f"{where}: {int(bad.sum())} rows have no x/y (first: row {int(np.argmax(bad))})")
    return xy


def nearest_distance(centres: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Distance from each centre to the nearest point (NaN for all when there are no points)."""
    if len(points) == 0:
        return np.full(len(centres), np.nan)
    distance, _ = cKDTree(points).query(centres, k=1)
    return distance


def count_within(centres: np.ndarray, points: np.ndarray, radius: float) -> np.ndarray:
    """How many points lie within `radius` (inclusive) of each centre."""
    if len(points) == 0:
        return np.zeros(len(centres), dtype=np.int64)
    return cKDTree(points).query_ball_point(centres, r=radius, return_length=True).astype(np.int64)


def count_in_cells(cells: pd.DataFrame, points: np.ndarray, size: float) -> np.ndarray:
    """How many points fall in each cell (by the grid's floor rule)."""
    _, _, ids = grid.cell_of(points[:, 0], points[:, 1], size)
    counts = pd.Series(ids, dtype=object).value_counts()
    return cells["cell_id"].map(counts).fillna(0).to_numpy(dtype=np.int64)


def land_use_shares(cells: pd.DataFrame, land_use: pd.DataFrame, size: float) -> pd.DataFrame:
    """Share of each cell's area under each land-use category (columns `<category>_share`, 0..1).

    Overlapping polygons of one category are counted once at most: a share never exceeds 1.
    """
    shares = pd.DataFrame(0.0, index=cells.index, columns=[f"{c}_share" for c in LAND_USE_CATEGORIES])
    category = land_use["category"].astype(str).str.strip().str.lower()
    known = category.isin(LAND_USE_CATEGORIES).to_numpy()
    if not known.any():
        return shares
    overlay = grid.cell_polygon_shares(cells, polygons(land_use[known], "raw.land_use"), size)
    overlay["column"] = category[known].to_numpy()[overlay["polygon_index"].to_numpy()] + "_share"
    summed = overlay.groupby(["cell_index", "column"])["share"].sum().clip(upper=1.0).unstack(fill_value=0.0)
    shares.loc[cells.index[summed.index], summed.columns] = summed.to_numpy()
    return shares


def build_cell_environment(cells: pd.DataFrame, liquor_premises: pd.DataFrame, land_use: pd.DataFrame,
                           venues: pd.DataFrame, size: float, radius: float = LIQUOR_RADIUS) -> pd.DataFrame:
    """The environment of each cell of `cells` (a raw.cells frame), one row per cell: ENVIRONMENT_COLUMNS.

    - liquor_premises_in_cell: premises whose point falls in the cell;
    - liquor_premises_within_1000ft: premises within `radius` CRS units (1,000 ft in Chicago) of the centre;
    - distance_to_liquor / distance_to_venue: from the centre to the nearest premise / venue, CRS units;
    - residential_share, commercial_share, recreational_share: share of the cell's area, 0..1.
    """
    cells = cells.reset_index(drop=True)
    centres = cells[["x_center", "y_center"]].to_numpy(dtype=np.float64)
    premises = _points(liquor_premises, "raw.liquor_premises")
    venue_points = _points(venues, "raw.venues")
    frame = pd.DataFrame({
        "cell_id": cells["cell_id"],
        "liquor_premises_in_cell": count_in_cells(cells, premises, size),
        "liquor_premises_within_1000ft": count_within(centres, premises, radius),
        "distance_to_liquor": nearest_distance(centres, premises),
    })
    frame = pd.concat([frame, land_use_shares(cells, land_use, size)], axis=1)
    frame["distance_to_venue"] = nearest_distance(centres, venue_points)
    return frame[ENVIRONMENT_COLUMNS]


def write_cell_environment(con: duckdb.DuckDBPyConnection, config: AgencyConfig) -> pd.DataFrame:
    """(Re)build `raw.cell_environment` from raw.cells and the environment layers; returns the table."""
    try:
        cells = con.execute("select * from raw.cells").df()
    except duckdb.CatalogException as error:
        raise LookupError("raw.cells is missing from the warehouse: build the cells first") from error
    environment = build_cell_environment(
        cells, read_layer(con, "liquor_premises"), read_layer(con, "land_use"), read_layer(con, "venues"),
        config.grid.cell_size,
    )
    replace_table(con, "raw.cell_environment", environment, key="cell_id")
    return environment
