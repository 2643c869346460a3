"""The jurisdiction's cells with their environment: the rows every risk surface has.

In the pipeline they are the warehouse's `marts.dim_cells`; without a warehouse (the forecast command,
backtests on files) they are built from the agency's feed files by the geography package itself, so
the cells and their environment have one definition.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from beatwise.config.schema import AgencyConfig
from beatwise.geography.cells import cells_for, incident_positions_from_files
from beatwise.geography.environment import ENVIRONMENT_FEATURES, environment_of
from beatwise.geography.layers import layers_from_files

CELL_COLUMNS = ["cell_id", "cell_col", "cell_row", "x_min", "y_min", "x_max", "y_max", "district", "beat"]
ENVIRONMENT = ENVIRONMENT_FEATURES  # the one list: beatwise.geography.environment


def cells_from_files(config: AgencyConfig, incident_positions=None) -> pd.DataFrame:
    """The jurisdiction's cells and environment, computed from the config's boundary and layer files
    (a jurisdiction without polygons is derived from the incidents, as the pipeline does)."""
    layers = layers_from_files(config)
    cells = cells_for(config, layers, incident_positions or incident_positions_from_files(config))
    environment = environment_of(cells, layers, config)
    return _ordered(cells.merge(environment, on="cell_id", how="left"))


def cells_from_warehouse(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The jurisdiction's cells and environment as the pipeline built them (`marts.dim_cells`)."""
    columns = ", ".join([*CELL_COLUMNS, *ENVIRONMENT])
    return _ordered(con.execute(f"select {columns} from marts.dim_cells").df())


def _ordered(cells: pd.DataFrame) -> pd.DataFrame:
    cells = cells[[*CELL_COLUMNS, *ENVIRONMENT]].astype({"cell_col": "int32", "cell_row": "int32"})
    return cells.sort_values(["cell_col", "cell_row"]).reset_index(drop=True)
