"""GeoPackage layers, read and written with the standard library's sqlite3 and shapely.

A GeoPackage is an SQLite file: each feature table holds its attributes and a geometry blob, which is a
small GPKG header (magic, flags, SRS id, optional envelope) followed by standard WKB. Reading it this way
needs no GDAL: the one binary dependency beatwise would otherwise take for a single file format, and one
that Python wheels do not ship everywhere. Only what the specification requires of a reader is read:
gpkg_contents, gpkg_geometry_columns, gpkg_spatial_ref_sys.
"""

from __future__ import annotations

import sqlite3
import struct
from pathlib import Path

import pandas as pd
import shapely

# Envelope sizes by the flags' envelope indicator (bits 1-3): none, xy, xyz, xym, xyzm.
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


class GeoPackageError(ValueError):
    pass


def _connect(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        con.execute("select count(*) from gpkg_contents").fetchall()
    except sqlite3.DatabaseError as exc:
        con.close()
        raise GeoPackageError(f"not a GeoPackage ({exc})") from exc
    return con


def layers(path: Path) -> list[str]:
    """The feature layers of a GeoPackage, in file order."""
    con = _connect(path)
    try:
        return [r[0] for r in con.execute(
            "select table_name from gpkg_contents where data_type = 'features' order by rowid")]
    finally:
        con.close()


def _layer(con: sqlite3.Connection, path: Path, layer: str | None) -> tuple[str, str, str]:
    """(table, geometry column, CRS) of the chosen layer (the only one when `layer` is None)."""
    found = [r[0] for r in con.execute("select table_name from gpkg_contents where data_type = 'features'")]
    if layer is None:
        if len(found) != 1:
            raise GeoPackageError(f"holds {len(found)} layers ({', '.join(found)}); set the feed's layer")
        layer = found[0]
    elif layer not in found:
        raise GeoPackageError(f"has no layer {layer!r}; its layers: {', '.join(found) or 'none'}")
    row = con.execute(
        "select g.column_name, s.organization, s.organization_coordsys_id from gpkg_geometry_columns g "
        "left join gpkg_spatial_ref_sys s on s.srs_id = g.srs_id where g.table_name = ?", [layer]).fetchone()
    if row is None:
        raise GeoPackageError(f"layer {layer!r} has no geometry column")
    column, org, code = row
    crs = f"{org.upper()}:{code}" if org and code and code > 0 else "OGC:CRS84"
    return layer, column, crs


def attribute_columns(path: Path, layer: str | None = None) -> list[str]:
    con = _connect(path)
    try:
        table, geometry, _ = _layer(con, path, layer)
        return [r[1] for r in con.execute(f'pragma table_info("{table}")') if r[1] != geometry and r[5] == 0]
    finally:
        con.close()


def geometry_from_blob(blob: bytes | None):
    """A shapely geometry from a GeoPackage geometry blob (None for a missing or empty geometry)."""
    if blob is None:
        return None
    blob = bytes(blob)
    if blob[:2] != b"GP":
        raise GeoPackageError("a geometry blob without the GPKG header")
    flags = blob[3]
    if flags & 0b10000:  # the empty-geometry flag
        return None
    envelope = _ENVELOPE_BYTES.get((flags >> 1) & 0b111)
    if envelope is None:
        raise GeoPackageError(f"a geometry blob with an invalid envelope indicator ({flags:#x})")
    return shapely.from_wkb(blob[8 + envelope:])


def read_layer(path: Path, layer: str | None = None) -> tuple[pd.DataFrame, list, str]:
    """(attributes, shapely geometries, CRS) of one layer; attribute values as the file stores them."""
    con = _connect(path)
    try:
        table, geometry, crs = _layer(con, path, layer)
        cursor = con.execute(f'select * from "{table}"')
        names = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    finally:
        con.close()
    at = names.index(geometry)
    attributes = pd.DataFrame([r[:at] + r[at + 1:] for r in rows], columns=names[:at] + names[at + 1:])
    pk = [n for n in attributes.columns if n.lower() == "fid"]
    return attributes.drop(columns=pk), [geometry_from_blob(r[at]) for r in rows], crs


def write_layer(path: Path, layer: str, attributes: pd.DataFrame, geometries, epsg: int) -> Path:
    """Write one layer of polygons (or any geometry) with text/number attributes into a new GeoPackage."""
    path.unlink(missing_ok=True)
    con = sqlite3.connect(path)
    try:
        con.execute("pragma application_id = 1196444487")  # 'GPKG'
        con.execute("pragma user_version = 10300")
        con.executescript("""
            create table gpkg_spatial_ref_sys (srs_name text not null, srs_id integer primary key,
                organization text not null, organization_coordsys_id integer not null,
                definition text not null, description text);
            create table gpkg_contents (table_name text primary key, data_type text not null,
                identifier text unique, description text default '', last_change datetime,
                min_x double, min_y double, max_x double, max_y double, srs_id integer);
            create table gpkg_geometry_columns (table_name text not null, column_name text not null,
                geometry_type_name text not null, srs_id integer not null, z tinyint not null,
                m tinyint not null, primary key (table_name, column_name));
        """)
        from pyproj import CRS

        con.executemany("insert into gpkg_spatial_ref_sys values (?, ?, ?, ?, ?, ?)", [
            ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", None),
            ("Undefined geographic SRS", 0, "NONE", 0, "undefined", None),
            (f"EPSG:{epsg}", epsg, "EPSG", epsg, CRS.from_epsg(epsg).to_wkt(), None),
        ])
        bounds = shapely.total_bounds(list(geometries))
        con.execute("insert into gpkg_contents values (?, 'features', ?, '', datetime('now'), ?, ?, ?, ?, ?)",
                    [layer, layer, *map(float, bounds), epsg])
        con.execute("insert into gpkg_geometry_columns values (?, 'geom', 'GEOMETRY', ?, 0, 0)", [layer, epsg])
        kinds = {c: "real" if pd.api.types.is_float_dtype(t) else
                 "integer" if pd.api.types.is_integer_dtype(t) else "text"
                 for c, t in attributes.dtypes.items()}
        columns = ", ".join(f'"{c}" {k}' for c, k in kinds.items())
        con.execute(f'create table "{layer}" (fid integer primary key autoincrement, geom blob, {columns})')
        header = b"GP\x00\x01" + struct.pack("<i", epsg)  # version 0, little-endian, no envelope
        blobs = [header + shapely.to_wkb(g, byte_order=1) for g in geometries]
        marks = ", ".join("?" * (len(kinds) + 1))
        con.executemany(
            f'insert into "{layer}" (geom, {", ".join(f"{chr(34)}{c}{chr(34)}" for c in kinds)}) values ({marks})',
            [(b, *row) for b, row in zip(blobs, attributes.astype(object).itertuples(index=False), strict=True)])
        con.commit()
    finally:
        con.close()
    return path
