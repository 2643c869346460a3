"""The jurisdiction's cells with their environment: the rows every risk surface has.

In the pipeline they are the warehouse's `marts.dim_cells`; without a warehouse (the forecast command,
backtests on files) they are built from the agency's feed files by the geography package itself, so
the cells and their environment have one definition.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from beatwise.config.schema import AgencyConfig
from beatwise.geography.cells import build_cells
from beatwise.geography.environment import ENVIRONMENT_COLUMNS, build_cell_environment
from beatwise.geography.layers import layers_from_files

CELL_COLUMNS = ["cell_id", "cell_col", "cell_row", "x_min", "y_min", "x_max", "y_max", "district", "beat"]
ENVIRONMENT = [c for c in ENVIRONMENT_COLUMNS if c != "cell_id"]


def cells_from_files(config: AgencyConfig) -> pd.DataFrame:
    """The jurisdiction's cells and environment, computed from the config's boundary and layer files."""
    layers = layers_from_files(config)
    size = config.grid.cell_size
    cells = build_cells(layers["districts"], layers["beats"], size, config.districts)
    environment = build_cell_environment(
        cells, layers["liquor_premises"], layers["land_use"], layers["venues"], size
    )
    return _ordered(cells.merge(environment, on="cell_id", how="left"))


def cells_from_warehouse(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The jurisdiction's cells and environment as the pipeline built them (`marts.dim_cells`)."""
    columns = ", ".join([*CELL_COLUMNS, *ENVIRONMENT])
    return _ordered(con.execute(f"select {columns} from marts.dim_cells").df())


def _ordered(cells: pd.DataFrame) -> pd.DataFrame:
    cells = cells[[*CELL_COLUMNS, *ENVIRONMENT]].astype({"cell_col": "int32", "cell_row": "int32"})
    return cells.sort_values(["cell_col", "cell_row"]).reset_index(drop=True)
