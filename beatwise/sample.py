"""Cut a small, self-contained slice of an agency's data: a few districts over a date range.

The embedded default (`data/chicago_sample/`, `config/chicago_sample.yaml`) is such a slice of the real
Chicago data, made with `beatwise sample`; tests cut their own smaller slices the same way.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
from shapely.geometry import box, shape

from beatwise.config.schema import AgencyConfig
from beatwise.contracts import normalise_district


def _district_key(value: object) -> str:
    return normalise_district(value) or ""


def _filter_geojson(src: Path, dst: Path, keep) -> None:
    doc = json.loads(src.read_text(encoding="utf-8"))
    doc["features"] = [f for f in doc["features"] if keep(f)]
    dst.write_text(json.dumps(doc, separators=(",", ":")), encoding="utf-8")


def cut_sample(config: AgencyConfig, districts: list[str], start: date, end: date, out_dir: Path) -> dict[str, int]:
    """Write the slice of every feed of `config` for `districts` between `start` and `end` into `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    wanted = {_district_key(d) for d in districts}
    counts: dict[str, int] = {}

    district_feed = config.feeds["districts"]
    district_col = district_feed.columns["district"]
    district_file = config.feed_files("districts")[0]
    doc = json.loads(district_file.read_text(encoding="utf-8"))
    area = [shape(f["geometry"]) for f in doc["features"]
            if _district_key(f["properties"][district_col]) in wanted]
    if not area:
        raise ValueError(f"no district among {sorted(wanted)} in {district_file.name}")
    min_x = min(a.bounds[0] for a in area)
    min_y = min(a.bounds[1] for a in area)
    max_x = max(a.bounds[2] for a in area)
    max_y = max(a.bounds[3] for a in area)
    bbox = box(min_x, min_y, max_x, max_y).buffer(0.01)  # degrees: a margin for cells on the border

    for feed in ("districts", "beats"):
        col = config.feeds[feed].columns["district"]
        for path in config.feed_files(feed):
            _filter_geojson(path, out_dir / path.name,
                            lambda f, col=col: _district_key(f["properties"].get(col)) in wanted)
    land_use = config.feed_files("land_use")[0]
    _filter_geojson(land_use, out_dir / land_use.name,
                    lambda f: f["geometry"] is not None and shape(f["geometry"]).intersects(bbox))

    premises_path = config.feed_files("liquor_premises")[0]
    premises = pd.read_csv(premises_path, dtype=str)
    lon, lat = pd.to_numeric(premises["longitude"]), pd.to_numeric(premises["latitude"])
    bx = bbox.bounds
    premises = premises[(lon >= bx[0]) & (lon <= bx[2]) & (lat >= bx[1]) & (lat <= bx[3])]
    premises.to_csv(out_dir / premises_path.name, index=False)
    counts["liquor_premises"] = len(premises)

    for feed in ("offence_codes", "venues", "sports_events", "weather_daily"):
        for path in config.feed_files(feed):
            (out_dir / path.name).write_bytes(path.read_bytes())

    incidents = config.feeds["incidents"]
    district, occurred = incidents.columns["district"], incidents.columns["occurred_at"]
    keys = ", ".join("'" + d.replace("'", "''") + "'" for d in sorted(wanted))
    out_file = out_dir / "incidents.parquet"
    with duckdb.connect() as con:
        files = [str(p) for p in config.feed_files("incidents")]
        con.execute(
            f"""copy (
                  select * from read_parquet(?)
                  where ltrim("{district}", '0') in ({keys})
                    and "{occurred}" >= ?::timestamp and "{occurred}" < (?::date + 1)::timestamp
                  order by "{occurred}", 1
               ) to '{out_file}' (format parquet, compression zstd)""",
            [files, start.isoformat(), end.isoformat()],
        )
        counts["incidents"] = con.execute(f"select count(*) from '{out_file}'").fetchall()[0][0]
    return counts
