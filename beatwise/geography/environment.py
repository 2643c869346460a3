"""What surrounds each cell: liquor-licensed premises, land use, event venues (`raw.cell_environment`).

ENVIRONMENT_COLUMNS is the one list of the environment's columns: raw.cell_environment is written with
them, dbt's dim_cells and feature macro read whichever columns that table has, and the forecast
command's in-memory features take them from here. Distances are in metres (the `_m` columns), measured
from the cell's centre; the "nearby" radius is the config's `environment.liquor_radius`. A feed the agency
does not have (no liquor premises, no land use, no venues) leaves its columns NULL: the models then simply
lack those features. A distance is also NULL when the layer has no point at all.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from beatwise.config.schema import AgencyConfig
from beatwise.config.units import metres_per_unit
from beatwise.geography import grid
from beatwise.geography.layers import optional_layer, polygons
from beatwise.warehouse import replace_table

LAND_USE_CATEGORIES = ("residential", "commercial", "recreational")
LIQUOR_COLUMNS = ["liquor_premises_in_cell", "liquor_premises_nearby", "distance_to_liquor_m"]
LAND_USE_COLUMNS = [f"{c}_share" for c in LAND_USE_CATEGORIES]
VENUE_COLUMNS = ["distance_to_venue_m"]
# The environment features of a cell, in order: the one list (see the module docstring).
ENVIRONMENT_FEATURES = [*LIQUOR_COLUMNS, *LAND_USE_COLUMNS, *VENUE_COLUMNS]
ENVIRONMENT_COLUMNS = ["cell_id", *ENVIRONMENT_FEATURES]


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


def build_cell_environment(cells: pd.DataFrame, liquor_premises: pd.DataFrame | None,
                           land_use: pd.DataFrame | None, venues: pd.DataFrame | None, size: float,
                           radius: float, metres_per_crs_unit: float = 1.0) -> pd.DataFrame:
    """The environment of each cell of `cells` (a raw.cells frame), one row per cell: ENVIRONMENT_COLUMNS.

    `size` and `radius` are in CRS units; a layer given as None is a feed the agency does not have, and
    its columns are NULL.
    - liquor_premises_in_cell: premises whose point falls in the cell;
    - liquor_premises_nearby: premises within `radius` of the centre (the config's liquor_radius);
    - distance_to_liquor_m / distance_to_venue_m: from the centre to the nearest premise / venue, metres;
    - residential_share, commercial_share, recreational_share: share of the cell's area, 0..1.
    """
    cells = cells.reset_index(drop=True)
    centres = cells[["x_center", "y_center"]].to_numpy(dtype=np.float64)
    frame = pd.DataFrame({"cell_id": cells["cell_id"]})
    frame[ENVIRONMENT_FEATURES] = np.nan
    if liquor_premises is not None:
        premises = _points(liquor_premises, "raw.liquor_premises")
        frame["liquor_premises_in_cell"] = count_in_cells(cells, premises, size)
        frame["liquor_premises_nearby"] = count_within(centres, premises, radius)
        frame["distance_to_liquor_m"] = nearest_distance(centres, premises) * metres_per_crs_unit
    if land_use is not None:
        frame[LAND_USE_COLUMNS] = land_use_shares(cells, land_use, size).to_numpy()
    if venues is not None:
        frame["distance_to_venue_m"] = nearest_distance(centres, _points(venues, "raw.venues")) * metres_per_crs_unit
    return frame[ENVIRONMENT_COLUMNS]


def environment_of(cells: pd.DataFrame, layers: dict[str, pd.DataFrame | None],
                   config: AgencyConfig) -> pd.DataFrame:
    """build_cell_environment with the config's radius and units; `layers` maps feed -> frame or None."""
    return build_cell_environment(
        cells, layers.get("liquor_premises"), layers.get("land_use"), layers.get("venues"),
        config.grid.cell_size, config.environment.liquor_radius, metres_per_unit(config.crs),
    )


def write_cell_environment(con: duckdb.DuckDBPyConnection, config: AgencyConfig) -> pd.DataFrame:
    """(Re)build `raw.cell_environment` from raw.cells and the environment layers; returns the table."""
    try:
        cells = con.execute("select * from raw.cells").df()
    except duckdb.CatalogException as error:
        raise LookupError("raw.cells is missing from the warehouse: build the cells first") from error
    layers = {feed: optional_layer(con, config, feed) for feed in ("liquor_premises", "land_use", "venues")}
    environment = environment_of(cells, layers, config)
    replace_table(con, "raw.cell_environment", environment, key="cell_id")
    return environment
