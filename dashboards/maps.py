"""Maps without a base map: cell polygons in WGS84 drawn by pydeck with `map_style=None`.

There are no tiles offline (nor in many police networks), so the data layers must carry the map on their
own. Cell bounds come in the agency CRS; they are converted to longitude/latitude once per snapshot.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pydeck as pdk
import streamlit as st
from pyproj import Transformer

from dashboards import data


@st.cache_data(ttl=data.CACHE_SECONDS, max_entries=4, show_spinner=False)
def _cell_polygons(version: int, crs: str) -> pd.DataFrame:
    cells = data.query("select cell_id, district, beat, x_min, y_min, x_max, y_max from marts.dim_cells")
    if cells.empty:
        return pd.DataFrame(columns=["cell_id", "district", "beat", "polygon", "lon", "lat"])
    to_wgs84 = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    xs = cells[["x_min", "x_max", "x_max", "x_min"]].to_numpy(float)
    ys = cells[["y_min", "y_min", "y_max", "y_max"]].to_numpy(float)
    lon, lat = to_wgs84.transform(xs, ys)
    lon, lat = np.round(lon, 6), np.round(lat, 6)
    corners = np.stack([lon, lat], axis=2)
    return pd.DataFrame(
        {
            "cell_id": cells["cell_id"],
            "district": cells["district"],
            "beat": cells["beat"],
            "polygon": [c.tolist() for c in corners],
            "lon": lon.mean(axis=1),
            "lat": lat.mean(axis=1),
        }
    )


def cell_polygons() -> pd.DataFrame:
    """Every cell: id, district, beat, its corner ring in lon/lat, and its centre."""
    return _cell_polygons(data.snapshot_version(), data.agency_config().crs)


def with_polygons(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` (with a cell_id column) joined to the cells' polygons; cells not in the grid are dropped."""
    cells = cell_polygons()[["cell_id", "polygon", "lon", "lat"]]
    return frame.merge(cells, on="cell_id", how="inner")


def percentile_colours(values: pd.Series) -> np.ndarray:
    """Pale yellow (low) to dark red (high) for values in [0, 1], as RGBA rows."""
    t = np.clip(values.to_numpy(float), 0, 1)[:, None]
    low, high = np.array([255, 237, 160]), np.array([189, 0, 38])
    rgb = (low + (high - low) * t).round().astype(int)
    alpha = np.full((len(t), 1), 190)
    return np.hstack([rgb, alpha])


def cell_layer(frame: pd.DataFrame, layer_id: str, colour: list[int] | None = None) -> pdk.Layer:
    """A polygon layer of cells; a `colour` column (RGBA lists) wins over a fixed `colour`."""
    fill = "colour" if "colour" in frame.columns else (colour or [120, 120, 120, 90])
    return pdk.Layer(
        "PolygonLayer",
        frame,
        id=layer_id,
        get_polygon="polygon",
        get_fill_color=fill,
        get_line_color=[60, 60, 60, 120],
        line_width_min_pixels=0.5,
        stroked=True,
        filled=True,
        pickable=True,
        auto_highlight=True,
    )


def deck(layers: list[pdk.Layer], around: pd.DataFrame, tooltip: str) -> pdk.Deck:
    """A deck with no base map, centred on the cells of `around`."""
    if around.empty:
        view = pdk.ViewState(latitude=0, longitude=0, zoom=1)
    else:
        lat_span = float(around["lat"].max() - around["lat"].min())
        lon_span = float(around["lon"].max() - around["lon"].min())
        span = max(lat_span, lon_span, 0.005)
        zoom = float(np.clip(np.log2(360 / span) + 0.5, 8, 16))  # the span fills most of the map
        view = pdk.ViewState(
            latitude=float(around["lat"].mean()), longitude=float(around["lon"].mean()), zoom=zoom
        )
    return pdk.Deck(
        layers=layers, initial_view_state=view, map_style=None, map_provider=None, tooltip={"text": tooltip}
    )


def show(deck_: pdk.Deck, key: str) -> None:
    st.pydeck_chart(deck_, height=560, key=key)
