"""Writers: the synthetic city's data in the layouts real systems deliver, byte-identical for a given seed.

Files and their source columns (the agency config maps them; see config/synthetic.yaml):
- districts.geojson (DIST_NUM, DIST_LABEL), beats.geojson (BEAT_NUM, DISTRICT, SECTOR, BEAT),
  land_use.geojson (category): WGS84 polygons, as Chicago's portal publishes them.
- liquor_licensed_premises.csv (fid, address, longitude, latitude), sports_venues.csv (fid, city, venue,
  longitude, latitude); iucr_codes.csv (the portal's IUCR lookup); weather_daily.csv (NOAA GHCN-Daily).
- incidents.parquet: the portal's crime extract (ID, Case Number, Date, Block, IUCR, Primary Type, ...,
  X Coordinate, Y Coordinate in EPSG:3435 feet, Updated On, Latitude, Longitude).
- calls_for_service.parquet, a CAD export: event_no, entry_time, nature_code, priority_code, x_coord,
  y_coord, district, beat.
- gunfire_detections.csv, an acoustic vendor's alerts: alert_id, alert_time (YYYY-MM-DD hh:mm:ss), rounds,
  alert_type, latitude, longitude.
- avl_pings/<name>.parquet, an AVL export: vehicle_id, gps_time, x_coord, y_coord (EPSG:3435 feet).
- patrol_activity/<name>.parquet, the officers' log: activity_no, vehicle_id, officer_key, mission_no,
  start_time, end_time, activity_code.
- dose_truth/<name>.parquet: ground truth, not a feed: directed-patrol time per mission visit.

`write_foreign_export` writes the same city as another police service would publish it (see
config/foreign_city.yaml): occurrences.csv.gz without ids, a date (DD/MM/YYYY) and an hour column,
offence and premises names, named divisions, WGS84 longitude/latitude; divisions.gpkg in UTM metres;
no weather, environment, offence-code or field feeds.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import shapely
from pyproj import Transformer

from beatwise.ingest.geopackage import write_layer
from beatwise.simulate.city import SyntheticCity
from beatwise.simulate.crime import KINDS
from beatwise.simulate.operations import Operations

ROW_GROUP = 1 << 20  # rows per Parquet row group


@contextmanager
def atomic(path: Path) -> Iterator[Path]:
    """Write to a hidden temporary file beside `path`, then rename it into place: a reader (the ingest of
    a landing folder) sees the whole file or none, even when the writer is killed half-way. A killed
    writer's `.partial` file is removed by the next run (beatwise.recovery)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.partial")
    try:
        yield temp
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def write_parquet(frame: pd.DataFrame, path: Path) -> Path:
    """Parquet without the pandas index, zstd: the same frame always gives the same bytes."""
    table = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)
    with atomic(path) as temp:
        pq.write_table(table, temp, compression="zstd", row_group_size=ROW_GROUP)
    return path


def write_parquet_pieces(tables: Iterable[pa.Table], path: Path) -> Path:
    """Tables of at most ROW_GROUP rows each, one row group apiece, into one Parquet file: the same bytes
    as `write_parquet` of them all at once, without holding them all."""
    writer = None
    with atomic(path) as temp:
        try:
            for table in tables:
                if writer is None:
                    writer = pq.ParquetWriter(temp, table.schema, compression="zstd")
                writer.write_table(table, row_group_size=ROW_GROUP)
        finally:
            if writer is not None:
                writer.close()
    return path


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    with atomic(path) as temp:
        frame.to_csv(temp, index=False, lineterminator="\n")
    return path


def write_city_layers(city: SyntheticCity, out: Path) -> dict[str, Path]:
    """Boundaries, land use, premises, venues, offence codes: the static layers of the city."""
    to_wgs84 = Transformer.from_crs(city.crs, "EPSG:4326", always_xy=True)
    districts = city.district_boxes
    beats = city.beat_boxes
    files = {
        "districts": _write_boxes(
            out / "districts.geojson",
            districts,
            to_wgs84,
            lambda r: {"DIST_LABEL": r.district_label, "DIST_NUM": r.district},
        ),
        "beats": _write_boxes(
            out / "beats.geojson",
            beats,
            to_wgs84,
            lambda r: {"DISTRICT": r.district, "SECTOR": r.beat[2], "BEAT": r.beat[3], "BEAT_NUM": r.beat},
        ),
        "land_use": _write_boxes(
            out / "land_use.geojson", city.land_use, to_wgs84, lambda r: {"category": r.category}
        ),
    }
    lon, lat = to_wgs84.transform(city.premises["x"].to_numpy(), city.premises["y"].to_numpy())
    files["liquor_premises"] = write_csv(
        pd.DataFrame(
            {
                "fid": city.premises["premise_id"],
                "address": city.premises["address"],
                "longitude": np.round(lon, 9),
                "latitude": np.round(lat, 9),
            }
        ),
        out / "liquor_licensed_premises.csv",
    )
    lon, lat = to_wgs84.transform(city.venues["x"].to_numpy(), city.venues["y"].to_numpy())
    files["venues"] = write_csv(
        pd.DataFrame(
            {
                "fid": city.venues["venue_id"],
                "city": "Synthetic City",
                "venue": city.venues["venue"],
                "longitude": np.round(lon, 9),
                "latitude": np.round(lat, 9),
            }
        ),
        out / "sports_venues.csv",
    )
    recorded = [k for k in KINDS if k.iucr]
    files["offence_codes"] = write_csv(
        pd.DataFrame(
            {
                "IUCR": [k.iucr for k in recorded],
                "PRIMARY DESCRIPTION": [k.primary_type for k in recorded],
                "SECONDARY DESCRIPTION": [k.description for k in recorded],
                "INDEX CODE": ["N" if k.name in ("criminal_damage", "narcotics") else "I" for k in recorded],
            }
        ),
        out / "iucr_codes.csv",
    )
    return files


def write_weather(city: SyntheticCity, start, end, out: Path) -> Path:
    """Daily weather in NOAA GHCN-Daily's CSV layout (US units)."""
    w = city.weather(start, end)
    return write_csv(
        pd.DataFrame(
            {
                "STATION": "SYN00000001",
                "NAME": "SYNTHETIC CITY AIRPORT, IL US",
                "DATE": w["date"].dt.strftime("%Y-%m-%d"),
                "AWND": w["awnd"],
                "PRCP": w["prcp"],
                "SNOW": w["snow"],
                "TMAX": w["tmax"].astype(int),
                "TMIN": w["tmin"].astype(int),
            }
        ),
        out / "weather_daily.csv",
    )


def write_detections(detections: pd.DataFrame, path: Path) -> Path:
    frame = detections.copy()
    frame["alert_time"] = pd.to_datetime(frame["alert_time"]).dt.strftime("%Y-%m-%d %H:%M:%S")
    return write_csv(frame, path)


def write_operations(ops: Operations, out: Path, name: str) -> dict[str, Path]:
    """AVL pings, activity logs and the dose ground truth under `out/<feed>/<name>.parquet`."""
    pings = pa.table(
        {
            "vehicle_id": pa.DictionaryArray.from_arrays(
                pa.array(ops.pings["unit_id"].cat.codes.to_numpy(np.int32)),
                pa.array(ops.pings["unit_id"].cat.categories.to_numpy(dtype=object), pa.string()),
            ),
            "gps_time": pa.array(ops.pings["pinged_at"].to_numpy().astype("datetime64[us]")),
            "x_coord": pa.array(ops.pings["x"].to_numpy()),
            "y_coord": pa.array(ops.pings["y"].to_numpy()),
        }
    )
    (out / "avl_pings").mkdir(parents=True, exist_ok=True)
    pings_path = out / "avl_pings" / f"{name}.parquet"
    pq.write_table(pings, pings_path, compression="zstd", row_group_size=1 << 22)
    a = ops.activity
    activity = pd.DataFrame(
        {
            "activity_no": a["activity_id"],
            "vehicle_id": a["unit_id"],
            "officer_key": a["officer_id"],
            "mission_no": a["mission_id"].astype(object).where(a["mission_id"].notna(), None),
            "start_time": a["started_at"].astype("datetime64[us]"),
            "end_time": a["ended_at"].astype("datetime64[us]"),
            "activity_code": a["tactic"],
        }
    )
    dose = ops.dose.copy()
    for column in ("arrived_at", "departed_at"):
        dose[column] = pd.to_datetime(dose[column]).astype("datetime64[us]")
    return {
        "avl_pings": pings_path,
        "patrol_activity": write_parquet(activity, out / "patrol_activity" / f"{name}.parquet"),
        "dose_truth": write_parquet(dose, out / "dose_truth" / f"{name}.parquet"),
    }


def _write_boxes(path: Path, boxes: pd.DataFrame, to_wgs84: Transformer, properties) -> Path:
    features = []
    for r in boxes.itertuples():
        xs = [r.x_min, r.x_max, r.x_max, r.x_min, r.x_min]
        ys = [r.y_min, r.y_min, r.y_max, r.y_max, r.y_min]
        lon, lat = to_wgs84.transform(xs, ys)
        ring = [[round(a, 9), round(b, 9)] for a, b in zip(lon, lat, strict=True)]
        features.append(
            {
                "type": "Feature",
                "properties": properties(r),
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    with atomic(path) as temp:
        temp.write_text(
            json.dumps({"type": "FeatureCollection", "features": features}, separators=(",", ":")),
            encoding="utf-8",
        )
    return path


# How the foreign service names offences and premises (by the simulator's kinds and Chicago-style values).
FOREIGN_OFFENCES = {
    "THEFT": "Theft Under $5000", "BURGLARY": "Break and Enter", "MOTOR VEHICLE THEFT": "Theft of Motor Vehicle",
    "ROBBERY": "Robbery", "HOMICIDE": "Homicide", "BATTERY": "Assault Causing Bodily Harm",
    "ASSAULT": "Assault Causing Bodily Harm", "CRIMINAL DAMAGE": "Mischief", "NARCOTICS": "Drug Possession",
}
FOREIGN_DIVISIONS = ("Harbourfront", "Old Mill", "Northgate", "Riverside", "Eastlake", "Cedar Heights")
FOREIGN_CRS = 32616  # WGS 84 / UTM zone 16N, metres: the zone of the synthetic city
DETENTION_CENTRE = "Detention Centre"


def foreign_division_names(districts) -> dict[str, str]:
    """District number -> the foreign service's division name."""
    return {str(d): FOREIGN_DIVISIONS[(int(d) - 1) % len(FOREIGN_DIVISIONS)] for d in districts}


def write_foreign_export(city: SyntheticCity, records: pd.DataFrame, out: Path) -> dict[str, Path]:
    """The city's incidents and divisions in a foreign service's layout (see the module docstring).

    One theft in twenty is recorded in the detention centre (the config leaves those out by premises)."""
    names = foreign_division_names(city.district_boxes["district"])
    occurred = pd.to_datetime(records["Date"])
    premises = records["Location Description"].astype(str).str.title()
    thefts = np.flatnonzero(records["Primary Type"].to_numpy() == "THEFT")
    premises.iloc[thefts[::20]] = DETENTION_CENTRE
    frame = pd.DataFrame({
        "OCC_DATE": occurred.dt.strftime("%d/%m/%Y"),
        "OCC_HOUR": occurred.dt.hour,
        "OFFENCE": records["Primary Type"].map(FOREIGN_OFFENCES).fillna(records["Primary Type"].str.title()),
        "PREMISES_TYPE": premises,
        "DIVISION": records["District"].astype(str).str.lstrip("0").map(names),
        "LONG_WGS84": np.round(records["Longitude"].to_numpy(), 6),
        "LAT_WGS84": np.round(records["Latitude"].to_numpy(), 6),
    })
    out.mkdir(parents=True, exist_ok=True)
    incidents = out / "occurrences.csv.gz"
    # mtime=0: the same city always gives the same bytes.
    with atomic(incidents) as temp, temp.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        gz.write(frame.to_csv(index=False, lineterminator="\n").encode("utf-8"))
    to_utm = Transformer.from_crs(city.crs, f"EPSG:{FOREIGN_CRS}", always_xy=True)
    boxes = city.district_boxes
    polygons = [shapely.transform(shapely.box(r.x_min, r.y_min, r.x_max, r.y_max).segmentize(500.0),
                                  lambda xy: np.column_stack(to_utm.transform(xy[:, 0], xy[:, 1])))
                for r in boxes.itertuples()]
    attributes = pd.DataFrame({"DIVISION_NAME": boxes["district"].map(names),
                               "DIV_CODE": "D" + boxes["district"].astype(str)})
    divisions = write_layer(out / "divisions.gpkg", "police_divisions", attributes, polygons, FOREIGN_CRS)
    return {"incidents": incidents, "districts": divisions}
