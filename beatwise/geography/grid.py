"""The square grid every forecast, mission and dose is counted on.

Cells are squares of `size` CRS units aligned to multiples of the size: the cell of a point is
(col, row) = (floor(x / size), floor(y / size)) and its id is "{col}_{row}". A point on a border belongs
to the cell to its upper right. Only cells whose square overlaps the jurisdiction (its districts) exist.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

CELL_COLUMNS = ["cell_id", "cell_col", "cell_row", "x_min", "y_min", "x_max", "y_max", "x_center", "y_center"]


def cell_ids(col: np.ndarray, row: np.ndarray) -> np.ndarray:
    """The ids "{col}_{row}" of cells given by integer columns and rows."""
    col = pd.Series(np.asarray(col, dtype=np.int64)).astype(str)
    row = pd.Series(np.asarray(row, dtype=np.int64)).astype(str)
    return (col + "_" + row).to_numpy(dtype=object)


def cell_index(x, y, size: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Columns and rows of the cells holding points (x, y), and which points have no coordinate (NaN);
    those get col/row -1. Vectorised over arrays."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    missing = ~(np.isfinite(x) & np.isfinite(y))
    # floor_divide is exact at the borders where floor(x / size) can be off by one ulp.
    col = np.floor_divide(np.where(missing, 0.0, x), size).astype(np.int64)
    row = np.floor_divide(np.where(missing, 0.0, y), size).astype(np.int64)
    col[missing] = -1
    row[missing] = -1
    return col, row, missing


def cell_of(x, y, size: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Columns, rows and ids of the cells holding points (x, y), vectorised over arrays.

    Points without a coordinate (NaN) get col/row -1 and id None: callers decide what to do with them.
    """
    col, row, missing = cell_index(x, y, size)
    ids = cell_ids(col, row)
    ids[missing] = None
    return col, row, ids


def parse_cell_id(cell_id: str) -> tuple[int, int]:
    """(col, row) of a cell id such as "2309_3791" or "-1_-3"."""
    col, sep, row = cell_id.partition("_")
    if not sep:
        raise ValueError(f"not a cell id (expected 'col_row'): {cell_id!r}")
    return int(col), int(row)


def cell_bounds(col, row, size: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_min, y_min, x_max, y_max) of cells, vectorised."""
    col = np.asarray(col, dtype=np.float64)
    row = np.asarray(row, dtype=np.float64)
    return col * size, row * size, (col + 1) * size, (row + 1) * size


def neighbours(cell_id: str, rings: int = 1) -> list[str]:
    """Ids of the cells within `rings` steps (king's moves) of a cell, itself excluded.

    The ids are of the infinite grid: intersect them with the jurisdiction's cells where that matters.
    """
    col, row = parse_cell_id(cell_id)
    return [f"{col + dc}_{row + dr}"
            for dr in range(-rings, rings + 1) for dc in range(-rings, rings + 1) if dc or dr]


def cells_frame(col, row, size: float) -> pd.DataFrame:
    """The cells table columns (CELL_COLUMNS) for the given cells."""
    col = np.asarray(col, dtype=np.int64)
    row = np.asarray(row, dtype=np.int64)
    x_min, y_min, x_max, y_max = cell_bounds(col, row, size)
    return pd.DataFrame({
        "cell_id": cell_ids(col, row), "cell_col": col, "cell_row": row,
        "x_min": x_min, "y_min": y_min, "x_max": x_max, "y_max": y_max,
        "x_center": (x_min + x_max) / 2, "y_center": (y_min + y_max) / 2,
    })


def cell_boxes(cells: pd.DataFrame) -> np.ndarray:
    """Shapely squares of the cells of a cells frame."""
    return shapely.box(cells["x_min"].to_numpy(), cells["y_min"].to_numpy(),
                       cells["x_max"].to_numpy(), cells["y_max"].to_numpy())


def candidate_cells(bounds: tuple[float, float, float, float], size: float) -> pd.DataFrame:
    """Every cell whose square meets the bounding box (x_min, y_min, x_max, y_max)."""
    x_min, y_min, x_max, y_max = bounds
    cols = np.arange(np.floor_divide(x_min, size), np.floor_divide(x_max, size) + 1, dtype=np.int64)
    rows = np.arange(np.floor_divide(y_min, size), np.floor_divide(y_max, size) + 1, dtype=np.int64)
    col, row = np.meshgrid(cols, rows, indexing="ij")
    return cells_frame(col.ravel(), row.ravel(), size)


def cell_polygon_shares(cells: pd.DataFrame, polygons, size: float) -> pd.DataFrame:
    """The share of each cell's area that each polygon covers, for every overlapping (cell, polygon) pair.

    Returns a frame (cell_index, polygon_index, share) with positional indexes into `cells` and
    `polygons`; pairs that only touch (share 0) are left out. Cells wholly inside a polygon get share 1
    without an intersection: only border cells pay for one.
    """
    polygons = np.asarray(polygons, dtype=object)
    boxes = cell_boxes(cells)
    tree = shapely.STRtree(boxes)
    # The polygons are the query side, so shapely prepares them once each: the costly side.
    poly_i, cell_i = tree.query(polygons, predicate="intersects")
    inside_poly, inside_cell = tree.query(polygons, predicate="contains_properly")
    border = ~np.isin(cell_i * len(polygons) + poly_i, inside_cell * len(polygons) + inside_poly)
    share = np.ones(len(cell_i))
    if border.any():
        b_cell, b_poly = cell_i[border], poly_i[border]
        share[border] = shapely.area(shapely.intersection(boxes[b_cell], polygons[b_poly])) / (size * size)
    out = pd.DataFrame({"cell_index": cell_i, "polygon_index": poly_i, "share": np.clip(share, 0.0, 1.0)})
    return out[out["share"] > 0].sort_values(["cell_index", "polygon_index"], ignore_index=True)


def jurisdiction_cells(district_polygons, size: float) -> pd.DataFrame:
    """The cells whose square overlaps (with a positive area) any of the district polygons.

    Columns: CELL_COLUMNS, ordered by column then row.
    """
    cells, _ = jurisdiction_overlay(district_polygons, size)
    return cells


def jurisdiction_overlay(district_polygons, size: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The jurisdiction's cells and their (cell_index, polygon_index, share) overlay with the districts."""
    polygons = np.asarray(district_polygons, dtype=object)
    if len(polygons) == 0:
        raise ValueError("no district polygons: the jurisdiction is empty")
    bounds = shapely.total_bounds(polygons)
    candidates = candidate_cells(tuple(bounds), size)
    shares = cell_polygon_shares(candidates, polygons, size)
    kept = np.unique(shares["cell_index"].to_numpy())
    cells = candidates.iloc[kept].reset_index(drop=True)
    shares["cell_index"] = np.searchsorted(kept, shares["cell_index"].to_numpy())
    return cells, shares


def metres_per_unit(crs: str) -> float:
    """Metres in one unit of the CRS's first axis (0.3048006 for US survey feet, 1 for UTM)."""
    from pyproj import CRS

    return CRS.from_user_input(crs).axis_info[0].unit_conversion_factor
