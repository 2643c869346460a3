"""A stand-in `raw` schema for the dbt tests and benchmark, built with plain SQL from an agency's files.

It has the column names of the real ingest and geography assets (docs/warehouse.md) but none of their
care: no quarantine, no policy guard, cells only where incidents occur (plus a margin), district and beat
by the most frequent incident value, environment from straight-line distances. Enough to exercise the
dbt models; the pipeline's own raw tables replace it wherever they exist.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import holidays
from pyproj import Transformer

from beatwise.config import AgencyConfig

META = "'sample' as _source_file, 'digest' as _row_digest, current_timestamp as _loaded_at"


def build_raw_warehouse(config: AgencyConfig, path: Path, incidents_where: str = "true") -> Path:
    """Write the raw tables of `config`'s feeds into the DuckDB file `path` (replaced if present)."""
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema raw")
        _incidents(con, config, incidents_where)
        _lookups(con, config)
        _config_tables(con, config)
        _cells(con, config)
    finally:
        con.close()
    return path


def _incidents(con: duckdb.DuckDBPyConnection, config: AgencyConfig, where: str) -> None:
    cols = config.feeds["incidents"].columns
    files = ", ".join(f"'{f}'" for f in config.feed_files("incidents"))
    con.execute(f"""
        create table raw.incidents as
        select cast("{cols['incident_id']}" as varchar) as incident_id,
               cast("{cols['occurred_at']}" as timestamp) as occurred_at,
               "{cols['block']}" as block, "{cols['offence_code']}" as offence_code,
               "{cols['offence_name']}" as offence_name,
               "{cols['offence_description']}" as offence_description,
               "{cols['offence_group']}" as offence_group,
               "{cols['location_description']}" as location_description,
               lpad(cast("{cols['beat']}" as varchar), 4, '0') as beat,
               nullif(ltrim(cast("{cols['district']}" as varchar), '0'), '') as district,
               cast("{cols['x']}" as double) as x, cast("{cols['y']}" as double) as y,
               cast("{cols['updated_at']}" as timestamp) as updated_at, {META}
        from read_parquet([{files}])
        where "{cols['x']}" > 0 and "{cols['y']}" > 0 and ({where})
    """)


def _lookups(con: duckdb.DuckDBPyConnection, config: AgencyConfig) -> None:
    data = config.data_path()
    con.execute(f"""
        create table raw.offence_codes as
        select lpad("IUCR", 4, '0') as offence_code, "PRIMARY DESCRIPTION" as offence_name,
               "SECONDARY DESCRIPTION" as offence_description, "INDEX CODE" as index_code, {META}
        from read_csv('{data / 'iucr_codes.csv'}', all_varchar = true)
    """)
    con.execute(f"""
        create table raw.weather_daily as
        select "STATION" as station, cast("DATE" as timestamp) as date,
               try_cast("PRCP" as double) as precipitation,
               try_cast("SNOW" as double) as snowfall, try_cast("TMAX" as double) as temperature_max,
               try_cast("TMIN" as double) as temperature_min, try_cast("AWND" as double) as wind_speed, {META}
        from read_csv('{data / 'weather_ohare_daily.csv'}', all_varchar = true)
    """)
    con.execute(f"""
        create table raw.sports_events as
        select cast(row_number() over () as varchar) as event_id, venue,
               cast(replace(replace(date_time, 'T', ' '), 'Z', '') as timestamp) as starts_at, league, {META}
        from read_csv('{data / 'sports_events.csv'}', all_varchar = true)
    """)


def _config_tables(con: duckdb.DuckDBPyConnection, config: AgencyConfig) -> None:
    con.execute("create table raw.crime_type_offences (crime_type varchar, field varchar, value varchar)")
    con.execute("create table raw.crime_types (crime_type varchar, source varchar, severity double, "
                "priority double)")
    con.execute("create table raw.district_priorities (district varchar, crime_type varchar, weight double)")
    con.execute("create table raw.shifts (shift_name varchar, start_hour integer, hours integer)")
    con.execute("create table raw.holidays (date date, holiday varchar)")
    for name, ct in config.crime_types.items():
        con.execute("insert into raw.crime_types values (?, ?, ?, ?)",
                    [name, ct.source, ct.severity, ct.priority])
        for match in ct.offences:
            con.executemany("insert into raw.crime_type_offences values (?, ?, ?)",
                            [[name, match.field, v] for v in match.values])
    for district, weights in config.district_priorities.items():
        con.executemany("insert into raw.district_priorities values (?, ?, ?)",
                        [[district, ct, w] for ct, w in weights.items()])
    con.executemany("insert into raw.shifts values (?, ?, ?)",
                    [[s.name, s.start.hour, h]
                     for s, h in zip(config.shifts, config.shift_hours, strict=True)])
    years = range(2010, 2020)
    days = holidays.country_holidays(config.agency.country, subdiv=config.agency.subdivision, years=years)
    con.executemany("insert into raw.holidays values (?, ?)", sorted(days.items()))


def _cells(con: duckdb.DuckDBPyConnection, config: AgencyConfig) -> None:
    size = config.grid.cell_size
    # Cells within two cells of any incident: close to a jurisdiction mask, without the polygons.
    con.execute(f"""
        create table raw.cells as
        with hit as (
            select cast(floor(x / {size}) as integer) as c, cast(floor(y / {size}) as integer) as r,
                   mode(district) as district, mode(beat) as beat
            from raw.incidents group by 1, 2
        ), near as (
            select distinct hit.c + dc as c, hit.r + dr as r
            from hit, range(-2, 3) a(dc), range(-2, 3) b(dr)
        )
        select near.c || '_' || near.r as cell_id, near.c as cell_col, near.r as cell_row,
               near.c * {size} as x_min, near.r * {size} as y_min, (near.c + 1) * {size} as x_max,
               (near.r + 1) * {size} as y_max, (near.c + 0.5) * {size} as x_center,
               (near.r + 0.5) * {size} as y_center, hit.district, hit.beat, 1.0 as area_share
        from near left join hit using (c, r)
    """)
    data = config.data_path()
    to_crs = Transformer.from_crs("EPSG:4326", config.crs, always_xy=True)
    points = {}
    for name, file in (("liquor", "liquor_licensed_premises.csv"), ("venue", "sports_venues.csv")):
        query = f"select longitude::double, latitude::double from read_csv('{data / file}')"
        rows = con.execute(query).fetchall()
        points[name] = [to_crs.transform(lon, lat) for lon, lat in rows]
        con.execute(f"create temp table {name} (x double, y double)")
        con.executemany(f"insert into {name} values (?, ?)", points[name])
    con.execute("""
        create table raw.cell_environment as
        select c.cell_id,
               count(*) filter (where l.x between c.x_min and c.x_max and l.y between c.y_min and c.y_max)
                   as liquor_premises_in_cell,
               count(*) filter (where sqrt((l.x - c.x_center) ^ 2 + (l.y - c.y_center) ^ 2) <= 1000)
                   as liquor_premises_within_1000ft,
               min(sqrt((l.x - c.x_center) ^ 2 + (l.y - c.y_center) ^ 2)) as distance_to_liquor,
               0.0 as residential_share, 0.0 as commercial_share, 0.0 as recreational_share,
               (select min(sqrt((v.x - c.x_center) ^ 2 + (v.y - c.y_center) ^ 2)) from venue v)
                   as distance_to_venue
        from raw.cells c, liquor l group by c.cell_id, c.x_center, c.y_center
    """)
