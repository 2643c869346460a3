"""Maps without a base map: grid cells drawn by pydeck with `map_style=None`.

There are no tiles offline (nor in many police networks), so the data layers must carry the map on their
own: a faint layer of coarse blocks outlines the jurisdiction and the cells of interest are drawn on top.
Cells are squares in the agency CRS, drawn as deck.gl GridCellLayer squares from their south-west corner
(a position per cell instead of a polygon: a third of the JSON a full city's cells would need).
Cell corners are converted to longitude/latitude once per snapshot, vectorized.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pydeck as pdk
import streamlit as st
from pydeck.bindings.json_tools import default_serialize
from pyproj import Transformer

from beatwise.geography.grid import metres_per_unit
from dashboards import data

BLOCK = 4  # the jurisdiction outline groups BLOCK x BLOCK cells into one square
CORNERS = ["sw", "se", "ne", "nw"]
HEIGHT = 560  # pixels


class _CompactDeck(pdk.Deck):
    # pydeck indents its JSON, which makes Python fall back from the C encoder to the pure-Python one:
    # over a second for a city of cells. Compact JSON is the same spec, several times faster and smaller.
    def to_json(self) -> str:
        return json.dumps(self, default=default_serialize, separators=(",", ":"))


@st.cache_data(ttl=data.CACHE_SECONDS, max_entries=4, show_spinner=False)
def _grid(version: int, crs: str) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """(cells with their corners in lon/lat, the jurisdiction's blocks, the cell edge in metres)."""
    cells = data.query("select cell_id, district, beat, x_min, y_min, x_max, y_max from marts.dim_cells")
    if cells.empty:
        corners = [f"{axis}_{c}" for c in CORNERS for axis in ("lon", "lat")]
        empty = pd.DataFrame(columns=["cell_id", "district", "beat", *corners, "lon", "lat"])
        return empty, pd.DataFrame(columns=["position"]), 0.0
    to_wgs84 = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    xs = cells[["x_min", "x_max", "x_max", "x_min"]].to_numpy(float)
    ys = cells[["y_min", "y_min", "y_max", "y_max"]].to_numpy(float)
    lon, lat = (np.round(v, 6) for v in to_wgs84.transform(xs, ys))
    frame = cells[["cell_id", "district", "beat"]].copy()
    for i, corner in enumerate(CORNERS):
        frame[f"lon_{corner}"], frame[f"lat_{corner}"] = lon[:, i], lat[:, i]
    frame["lon"], frame["lat"] = lon.mean(axis=1), lat.mean(axis=1)

    edge = float((cells["x_max"] - cells["x_min"]).median())
    size = edge * BLOCK
    blocks = (
        pd.DataFrame({"x": (cells["x_min"] // size) * size, "y": (cells["y_min"] // size) * size})
        .drop_duplicates()
        .to_numpy(float)
    )
    block_lon, block_lat = to_wgs84.transform(blocks[:, 0], blocks[:, 1])
    outline = pd.DataFrame({"position": np.round(np.column_stack([block_lon, block_lat]), 6).tolist()})
    return frame, outline, edge * metres_per_unit(crs)


def _grid_now() -> tuple[pd.DataFrame, pd.DataFrame, float]:
    return _grid(data.snapshot_version(), data.agency_config().crs)


def cells() -> pd.DataFrame:
    """Every cell: id, district, beat, its corners (lon_sw, lat_sw, ... lat_nw) and its centre (lon, lat)."""
    return _grid_now()[0]


def with_polygons(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` (with a cell_id column) plus each cell's corner ring in lon/lat (`polygon`) and its centre;
    cells not in the grid are dropped. Builds the rings for `frame`'s rows only."""
    joined = frame.merge(cells(), on="cell_id", how="inner", suffixes=("", "_cell"))
    ring = np.stack(
        [joined[[f"lon_{c}" for c in CORNERS]].to_numpy(float), joined[[f"lat_{c}" for c in CORNERS]].to_numpy(float)],
        axis=2,
    )
    joined["polygon"] = ring.tolist()
    return joined.drop(columns=[f"{axis}_{c}" for axis in ("lon", "lat") for c in CORNERS])


def percentile_colours(values: pd.Series) -> np.ndarray:
    """Pale yellow (low) to dark red (high) for values in [0, 1], as RGBA rows."""
    t = np.clip(values.to_numpy(float), 0, 1)[:, None]
    low, high = np.array([255, 237, 160]), np.array([189, 0, 38])
    rgb = (low + (high - low) * t).round().astype(int)
    alpha = np.full((len(t), 1), 190)
    return np.hstack([rgb, alpha])


def cell_layer(
    frame: pd.DataFrame, layer_id: str, colour: list[int] | None = None, fields: list[str] | None = None
) -> pdk.Layer:
    """A layer of the cells in `frame` (cell_id column). A `colour` column (RGBA lists) wins over a fixed
    `colour`; `fields` are the columns the tooltip may show (cell_id is always there)."""
    grid, _, edge = _grid_now()
    joined = frame.merge(grid[["cell_id", "lon_sw", "lat_sw"]], on="cell_id", how="inner")
    records = pd.DataFrame(
        {"position": joined[["lon_sw", "lat_sw"]].to_numpy(float).tolist(), "cell_id": joined["cell_id"]}
    )
    for field in fields or []:
        records[field] = joined[field].to_numpy()
    if "colour" in joined.columns:
        records["colour"] = [[int(v) for v in c] for c in joined["colour"]]
    return pdk.Layer(
        "GridCellLayer",
        records,
        id=layer_id,
        get_position="position",
        get_fill_color="colour" if "colour" in records.columns else (colour or [120, 120, 120, 90]),
        cell_size=edge,
        coverage=0.94,  # a hairline between neighbouring cells
        extruded=False,
        pickable=True,
        auto_highlight=True,
    )


def jurisdiction_layer() -> pdk.Layer:
    """The jurisdiction's outline: coarse grey blocks under the data layers, not pickable."""
    _, blocks, edge = _grid_now()
    return pdk.Layer(
        "GridCellLayer",
        blocks,
        id="jurisdiction",
        get_position="position",
        get_fill_color=[128, 128, 128, 40],
        cell_size=edge * BLOCK,
        extruded=False,
        pickable=False,
    )


def deck(layers: list[pdk.Layer], around: pd.DataFrame, tooltip: str) -> pdk.Deck:
    """A deck with no base map, centred on the cells of `around` (lon and lat columns)."""
    if around.empty:
        view = pdk.ViewState(latitude=0, longitude=0, zoom=1)
    else:
        (lon_min, lon_max), (lat_min, lat_max) = (around[c].agg(["min", "max"]) for c in ("lon", "lat"))
        lon_span, lat_span, middle = lon_max - lon_min, lat_max - lat_min, (lat_max + lat_min) / 2
        # In degrees of longitude on the Mercator map (a degree of latitude is 1/cos(lat) of them), the
        # larger span fills 90% of the map's height (deck.gl: 512 * 2**zoom pixels per 360 degrees).
        span = max(lon_span, lat_span / np.cos(np.radians(middle)), 0.005)
        zoom = float(np.clip(np.log2(360 / span * 0.9 * HEIGHT / 512), 8, 16))
        view = pdk.ViewState(latitude=float(middle), longitude=float(lon_max + lon_min) / 2, zoom=zoom)
    return _CompactDeck(
        layers=layers, initial_view_state=view, map_style=None, map_provider=None, tooltip={"text": tooltip}
    )


def show(deck_: pdk.Deck, key: str) -> None:
    st.pydeck_chart(deck_, height=HEIGHT, key=key)
