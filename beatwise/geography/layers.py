"""The boundary and point layers geography reads, as canonical frames (see beatwise.contracts).

In the pipeline they come from the warehouse (`raw.districts`, `raw.beats`, ...), loaded by ingest.
`layers_from_files` reads the same frames straight from an agency's feed files, unvalidated: for
benchmarks and tests that measure geography alone.
"""

from __future__ import annotations

import json

import duckdb
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from beatwise.config.schema import AgencyConfig
from beatwise.contracts import normalise_beat, normalise_district

LAYERS = {
    "districts": ["district", "district_label", "geometry_wkt"],
    "beats": ["vintage", "beat", "district", "valid_from", "valid_to", "geometry_wkt"],
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


def layers_from_files(config: AgencyConfig) -> dict[str, pd.DataFrame]:
    """The five layers of `config`, read from its feed files and projected to the agency CRS."""
    transformers: dict[str, Transformer] = {}

    def to_agency(crs: str | None) -> Transformer:
        crs = crs or "EPSG:4326"
        if crs not in transformers:
            transformers[crs] = Transformer.from_crs(crs, config.crs, always_xy=True)
        return transformers[crs]

    def features(feed: str) -> list[tuple[dict, str, str]]:
        """(properties, file name, WKT in the agency CRS) of every feature of a GeoJSON feed."""
        spec = config.feeds[feed]
        transformer = to_agency(spec.crs)
        rows = []
        for path in config.feed_files(feed):
            doc = json.loads(path.read_text(encoding=spec.encoding))
            geoms = shapely.from_geojson([json.dumps(f["geometry"]) for f in doc["features"]])
            geoms = shapely.transform(geoms, lambda xy: np.column_stack(transformer.transform(*xy.T)))
            rows += [(f["properties"], path.name, wkt)
                     for f, wkt in zip(doc["features"], shapely.to_wkt(geoms), strict=True)]
        return rows

    def points(feed: str, key: str, label: str) -> pd.DataFrame:
        spec = config.feeds[feed]
        raw = pd.concat(pd.read_csv(p, dtype=str, encoding=spec.encoding) for p in config.feed_files(feed))
        lon, lat = (pd.to_numeric(raw[spec.columns[c]]).to_numpy() for c in ("longitude", "latitude"))
        x, y = to_agency(spec.crs).transform(lon, lat)
        return pd.DataFrame({key: raw[spec.columns[key]].to_numpy(),
                             label: raw[spec.columns[label]].to_numpy(), "x": x, "y": y})

    d_cols = config.feeds["districts"].columns
    districts = pd.DataFrame([
        {"district": normalise_district(p[d_cols["district"]]),
         "district_label": p.get(d_cols.get("district_label")), "geometry_wkt": wkt}
        for p, _, wkt in features("districts")])
    beat_feed = config.feeds["beats"]
    beat_rows = []
    for p, name, wkt in features("beats"):
        edition = beat_feed.editions.get(name)
        beat_rows.append({
            "vintage": edition.vintage if edition else (beat_feed.vintage or name),
            "beat": normalise_beat(p[beat_feed.columns["beat"]]),
            "district": normalise_district(p[beat_feed.columns["district"]]),
            "valid_from": pd.Timestamp(edition.valid_from if edition else beat_feed.valid_from),
            "valid_to": pd.Timestamp(edition.valid_to if edition else beat_feed.valid_to),
            "geometry_wkt": wkt,
        })
    category = config.feeds["land_use"].columns.get("category", "category")
    land_use = pd.DataFrame([{"polygon_id": str(i), "category": p[category], "geometry_wkt": wkt}
                             for i, (p, _, wkt) in enumerate(features("land_use"))])
    return {
        "districts": districts,
        "beats": pd.DataFrame(beat_rows),
        "liquor_premises": points("liquor_premises", "premise_id", "address"),
        "land_use": land_use,
        "venues": points("venues", "venue_id", "venue"),
    }
