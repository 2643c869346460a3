"""The boundary and point layers geography reads, as canonical frames (see beatwise.contracts).

In the pipeline they come from the warehouse (`raw.districts`, `raw.beats`, ...), loaded by ingest.
`layers_from_files` reads the same frames straight from an agency's feed files, through the one reader
and mapping of ingest (unvalidated): for the forecast command, benchmarks and tests of geography alone.
A layer the config does not have, or whose table is empty, is None: every role is optional.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import shapely

from beatwise.config.schema import AgencyConfig
from beatwise.contracts import CONTRACTS

POLYGON_ROLES = ("jurisdiction", "districts", "beats", "neighbourhoods")
POINT_AND_AREA_LAYERS = ("liquor_premises", "land_use", "venues")
LAYERS = {
    "jurisdiction": ["part_id", "name", "geometry_wkt"],
    "districts": ["district", "district_label", "geometry_wkt"],
    "beats": ["vintage", "beat", "district", "valid_from", "valid_to", "geometry_wkt"],
    "neighbourhoods": ["neighbourhood", "geometry_wkt"],
    "liquor_premises": ["premise_id", "address", "x", "y"],
    "land_use": ["polygon_id", "category", "geometry_wkt"],
    "venues": ["venue_id", "venue", "x", "y"],
}


def read_layer(con: duckdb.DuckDBPyConnection, layer: str) -> pd.DataFrame:
    """The canonical columns of `raw.<layer>`; a clear error when ingest has not loaded it."""
    columns = LAYERS[layer]
    try:
        return con.execute(f"select {', '.join(columns)} from raw.{layer}").df()
    except duckdb.CatalogException as error:
        raise LookupError(f"raw.{layer} is missing from the warehouse: load the {layer} feed first") \
            from error


def optional_layer(con: duckdb.DuckDBPyConnection, config: AgencyConfig, layer: str) -> pd.DataFrame | None:
    """`raw.<layer>`'s canonical columns, or None when the config has no such feed or it holds no rows
    (LookupError when a configured feed was never loaded)."""
    if layer not in config.feeds:
        return None
    frame = read_layer(con, layer)
    return frame if len(frame) else None


def polygons(frame: pd.DataFrame, where: str) -> np.ndarray:
    """Valid shapely polygons from a frame's `geometry_wkt` column; `where` names the layer in errors."""
    try:
        geoms = shapely.from_wkt(frame["geometry_wkt"].to_numpy(), on_invalid="raise")
    except shapely.errors.GEOSException as error:
        raise ValueError(f"{where}: unreadable geometry_wkt ({error})") from error
    if shapely.is_missing(geoms).any():
        raise ValueError(f"{where}: {int(shapely.is_missing(geoms).sum())} rows have no geometry")
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        # Real boundary files carry self-touching rings; repairing keeps their area.
        geoms[invalid] = shapely.make_valid(geoms[invalid])
    return geoms


def layers_from_files(config: AgencyConfig) -> dict[str, pd.DataFrame | None]:
    """Every layer of `config` (POLYGON_ROLES and POINT_AND_AREA_LAYERS), read from its feed files through
    ingest's reader and mapping and projected to the agency CRS; None for a layer the config lacks."""
    from beatwise.ingest import read_mapped  # ingest imports geography: import it when called

    layers: dict[str, pd.DataFrame | None] = {}
    for feed in (*POLYGON_ROLES, *POINT_AND_AREA_LAYERS):
        files = config.feed_files(feed) if feed in config.feeds else []
        frames = []
        for path in files:
            mapped = read_mapped(config, feed, path)
            frames.append(mapped.frame.drop(index=mapped.rejections.rows))
        frame = pd.concat(frames, ignore_index=True) if frames else None
        if frame is not None and "geometry_wkt" in CONTRACTS[feed].columns:
            frame = _parts_joined(frame, feed)
        layers[feed] = frame[LAYERS[feed]] if frame is not None and len(frame) else None
    return layers


def _parts_joined(frame: pd.DataFrame, feed: str) -> pd.DataFrame:
    from beatwise.ingest.validate import merge_geometry_parts

    merged = merge_geometry_parts(frame, CONTRACTS[feed])
    return frame.drop(index=merged).reset_index(drop=True)
