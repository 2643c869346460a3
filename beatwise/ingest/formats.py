"""The file formats beatwise reads, told by a file's name: one table for every command."""

from __future__ import annotations

from pathlib import Path

# Longest suffix first: `.csv.gz` is CSV, `.gz` alone too (a gzip-compressed export).
SUFFIX_FORMATS = {
    ".csv.gz": "csv", ".csv.zip": "csv", ".csv": "csv", ".txt": "csv", ".gz": "csv", ".zip": "csv",
    ".parquet": "parquet", ".pq": "parquet",
    ".geojson": "geojson", ".json": "geojson",
    ".gpkg": "gpkg",
}
POLYGON_FORMATS = ("geojson", "gpkg")


def format_of(name: str | Path) -> str | None:
    """The format a file's name says it holds, or None when it says nothing beatwise reads."""
    lowered = Path(name).name.lower()
    return next((fmt for suffix, fmt in SUFFIX_FORMATS.items() if lowered.endswith(suffix)), None)
