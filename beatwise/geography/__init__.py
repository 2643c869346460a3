"""Geography: the jurisdiction's grid cells, the district and beat of each, their environment, holidays.

Everything is computed in Python (shapely, scipy) from the raw layers in the agency CRS and written to
plain DuckDB tables: `raw.cells`, `raw.cell_environment`, `raw.holidays`.
"""

from beatwise.geography.calendar import holiday_calendar, write_holidays
from beatwise.geography.cells import build_cells, write_cells
from beatwise.geography.environment import build_cell_environment, write_cell_environment
from beatwise.geography.grid import cell_bounds, cell_of, jurisdiction_cells, neighbours

__all__ = [
    "build_cell_environment", "build_cells", "cell_bounds", "cell_of", "holiday_calendar",
    "jurisdiction_cells", "neighbours", "write_cell_environment", "write_cells", "write_holidays",
]
