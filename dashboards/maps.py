"""Maps: grid cells drawn by pydeck over a street base map when the browser can reach one.

There are no tiles offline (nor in many police networks), so the data layers must carry the map on their
own: a faint layer of coarse blocks outlines the jurisdiction, district and beat outlines with their labels
and the configured landmarks (police stations) give it places, and the cells of interest are drawn on top.
The base map (Carto's light streets, no token) loads when the browser reaches it; offline it fails silently
and the layers stand alone.
Cells are squares in the agency CRS, drawn as deck.gl GridCellLayer squares from their south-west corner
(a position per cell instead of a polygon: a third of the JSON a full city's cells would need).
Cell corners are converted to longitude/latitude once per snapshot, vectorized.
"""

from __future__ import annotations

import html
import json

import numpy as np
import pandas as pd
import pydeck as pdk
import shapely
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


def geography_version() -> str:
    """Changes only when the cells or their districts and beats do: a republish after an override or a new
    shift keeps the grid and outlines built (on the full city they take seconds to build)."""
    row = data.query("select count(*) as n, cast(sum(hash(cell_id, district, beat, x_min, y_min, x_max, y_max))"
                     " as varchar) as h from marts.dim_cells")
    return f"{row['n'].iat[0]}:{row['h'].iat[0]}"


@st.cache_data(max_entries=4, show_spinner=False)
def _grid(version: str, crs: str) -> tuple[pd.DataFrame, pd.DataFrame, float]:
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
    return _grid(geography_version(), data.agency_config().crs)


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
        layers=[*layers[:1], *outline_layers(), *layers[1:], *landmark_layers()],
        initial_view_state=view,
        map_provider="carto",
        map_style="light",
        tooltip={"text": tooltip},
    )


def show(deck_: pdk.Deck, key: str, selectable: bool = False):
    """Draw the deck; when `selectable`, a click on a pickable object reruns the page and the selection
    state (Streamlit's {"indices": ..., "objects": ...}) is returned."""
    if not selectable:
        st.pydeck_chart(deck_, height=HEIGHT, key=key)
        return None
    event = st.pydeck_chart(deck_, height=HEIGHT, key=key, on_select="rerun", selection_mode="single-object")
    return event.selection if event is not None else None


def other_cells_layer(layer_id: str, drawn, among: pd.DataFrame) -> pdk.Layer:
    """The cells of `among` not in `drawn` (cell ids other layers draw), nearly transparent, so a click
    anywhere picks a cell. Drawn cells are left out: deck.gl may pick this layer over one drawn above it."""
    every = among[["cell_id"]]
    return cell_layer(every[~every["cell_id"].isin(set(drawn))], layer_id, [255, 255, 255, 1])


@st.cache_data(max_entries=4, show_spinner=False)
def _outlines(version: str, crs: str) -> dict[str, pd.DataFrame]:
    """Per level (district, beat): each area's outline as lon/lat paths and a label position, built from the
    cells that belong to it (the agency's own assignment: any city, no boundary file needed)."""
    grid = data.query("select cell_id, district, beat, x_min, y_min, x_max, y_max from marts.dim_cells")
    to_wgs84 = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    out = {}
    for level in ("district", "beat"):
        rows = []
        known = grid[grid[level].notna()] if not grid.empty else grid
        for name, group in known.groupby(level, sort=True):
            boxes = shapely.box(group["x_min"], group["y_min"], group["x_max"], group["y_max"])
            area = shapely.coverage_union_all(boxes)
            label = shapely.get_coordinates(area.point_on_surface())[0]
            polygons = getattr(area, "geoms", [area])
            paths = []
            for polygon in polygons:
                for ring in (polygon.exterior, *polygon.interiors):
                    xy = shapely.get_coordinates(ring)
                    lon, lat = to_wgs84.transform(xy[:, 0], xy[:, 1])
                    paths.append(np.round(np.column_stack([lon, lat]), 6).tolist())
            lon, lat = to_wgs84.transform(label[0], label[1])
            district = group["district"].iat[0]
            text = f"District {name}" if level == "district" else f"{name}"
            rows += [{"path": p, "name": str(name), "district": str(district), "label": text,
                      "lon": round(lon, 6), "lat": round(lat, 6)} for p in paths]
        out[level] = pd.DataFrame(rows, columns=["path", "name", "district", "label", "lon", "lat"])
    return out


def outline_layers() -> list[pdk.Layer]:
    """District outlines (dark) and beat outlines (faint) with their labels; not pickable."""
    outlines = _outlines(geography_version(), data.agency_config().crs)
    layers = []
    for level, colour, width, size in (("beat", [90, 90, 90, 120], 1, 11), ("district", [30, 30, 30, 230], 3, 15)):
        frame = outlines[level]
        if frame.empty:
            continue
        layers.append(pdk.Layer("PathLayer", frame[["path"]], id=f"{level}_outlines", get_path="path",
                                get_color=colour, get_width=0, width_min_pixels=width, pickable=False))
        labels = frame.drop_duplicates("name")[["label", "lon", "lat"]]
        layers.append(pdk.Layer("TextLayer", labels, id=f"{level}_labels", get_position=["lon", "lat"],
                                get_text="label", get_size=size, get_color=colour[:3] + [255],
                                font_weight=700 if level == "district" else 400, background=level == "district",
                                get_background_color=[255, 255, 255, 200], pickable=False))
    return layers


def landmark_layers() -> list[pdk.Layer]:
    """The config's landmarks (police stations, ...): a blue dot and the name."""
    landmarks = pd.DataFrame([lm.model_dump() for lm in data.agency_config().landmarks],
                             columns=["name", "kind", "longitude", "latitude"])
    if landmarks.empty:
        return []
    landmarks["label"] = landmarks["name"]
    return [
        pdk.Layer("ScatterplotLayer", landmarks, id="landmarks", get_position=["longitude", "latitude"],
                  get_fill_color=[21, 101, 192, 255], get_line_color=[255, 255, 255, 255], stroked=True,
                  line_width_min_pixels=2, get_radius=40, radius_min_pixels=5, radius_max_pixels=9,
                  pickable=False),
        pdk.Layer("TextLayer", landmarks, id="landmark_labels", get_position=["longitude", "latitude"],
                  get_text="label", get_size=12, get_color=[13, 71, 161, 255], get_pixel_offset=[0, -16],
                  background=True, get_background_color=[255, 255, 255, 210], pickable=False),
    ]


def legend(title: str, low: str, high: str, extra: list[tuple[str, str]] | None = None) -> None:
    """A colour legend under a map: the percentile ramp with its units, then `extra` (CSS colour, label)."""
    e = html.escape
    items = "".join(
        f'<span style="display:inline-flex;align-items:center;margin-left:1.2em">'
        f'<span style="width:14px;height:14px;background:{c};display:inline-block;margin-right:4px;'
        f'border:1px solid #888"></span>{e(label)}</span>'
        for c, label in (extra or [])
    )
    st.markdown(
        f'<div class="bw-legend" style="font-size:0.85em;display:flex;flex-wrap:wrap;align-items:center">'
        f"<b>{e(title)}</b>&nbsp;{e(low)}&nbsp;"
        f'<span style="width:160px;height:12px;display:inline-block;background:linear-gradient(90deg,'
        f'rgb(255,237,160),rgb(189,0,38));border:1px solid #888"></span>&nbsp;{e(high)}{items}</div>',
        unsafe_allow_html=True,
    )
