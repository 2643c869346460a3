"""Briefings: per mission, a printable HTML page and a GeoJSON file for in-car and mobile apps; per shift
and district, a roll-call packet (models.planning.packets) as HTML and PDF; per shift, a GeoJSON of all
its missions for CAD.

A briefing shows the cell's place name and the cell on a small map (inline SVG, north up, no map tiles:
they need the internet), the incidents of the driving crime types within a quarter mile over the last 7
days (type, time, block-level location: never personal data), the top risk drivers in plain language, the
tactics and the dose.
"""

from __future__ import annotations

import html
import json
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from beatwise import paths
from beatwise.config.schema import AgencyConfig
from beatwise.config.units import metres_per_unit as crs_metres
from beatwise.geography.grid import metres_per_unit
from beatwise.warehouse import table_exists
from models.forecasting.explain import explain_drivers
from models.planning import packets
from models.planning.packets import rows_of, transformer
from models.planning.store import read_cells

QUARTER_MILE_METRES = 402.336
LOOKBACK = timedelta(days=7)
MAP_PX = 320
COLOURS = {
    "homicide": "#7b1fa2",
    "gunfire": "#c62828",
    "aggravated_assault": "#d84315",
    "robbery": "#ef6c00",
    "burglary": "#1565c0",
    "motor_vehicle_theft": "#00838f",
    "theft": "#2e7d32",
}


def quarter_mile(config: AgencyConfig) -> float:
    """A quarter mile in the agency CRS's units (feet for Illinois East, metres for UTM)."""
    return QUARTER_MILE_METRES / metres_per_unit(config.crs)


def nearby_incidents(
    incidents: pd.DataFrame, x: float, y: float, radius: float, crime_types: list[str]
) -> pd.DataFrame:
    """Incidents of `crime_types` within `radius` of (x, y), newest first."""
    if incidents.empty:
        return incidents
    near = incidents[incidents["crime_type"].isin(crime_types)]
    distance = np.hypot(near["x"].to_numpy() - x, near["y"].to_numpy() - y)
    return near[distance <= radius].sort_values("occurred_at", ascending=False)


def svg_map(cell: pd.Series, cells: pd.DataFrame, incidents: pd.DataFrame, radius: float) -> str:
    """The mission cell, its neighbours' outlines, the quarter-mile circle and the incidents, as SVG."""
    cx, cy = float(cell["x_center"]), float(cell["y_center"])
    half = radius * 1.15
    scale = MAP_PX / (2 * half)

    def px(x: float, y: float) -> tuple[float, float]:
        return round((x - cx + half) * scale, 1), round((cy + half - y) * scale, 1)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{MAP_PX}" height="{MAP_PX}" '
        f'viewBox="0 0 {MAP_PX} {MAP_PX}" role="img" '
        f'aria-label="map of cell {html.escape(cell["cell_id"])}">',
        f'<rect width="{MAP_PX}" height="{MAP_PX}" fill="#fafafa" stroke="#999"/>',
    ]
    near = cells[
        (cells["x_max"] > cx - half)
        & (cells["x_min"] < cx + half)
        & (cells["y_max"] > cy - half)
        & (cells["y_min"] < cy + half)
    ]
    for c in rows_of(near):
        x0, y0 = px(c.x_min, c.y_max)
        mine = c.cell_id == cell["cell_id"]
        size = round((c.x_max - c.x_min) * scale, 1)
        parts.append(
            f'<rect x="{x0}" y="{y0}" width="{size}" height="{size}" '
            f'fill="{"#ffe082" if mine else "none"}" stroke="{"#e65100" if mine else "#ddd"}" '
            f'stroke-width="{2 if mine else 0.5}"/>'
        )
    ox, oy = px(cx, cy)
    parts.append(
        f'<circle cx="{ox}" cy="{oy}" r="{round(radius * scale, 1)}" fill="none" stroke="#555" '
        f'stroke-dasharray="4 3"/>'
    )
    for i, inc in enumerate(rows_of(incidents), start=1):
        x, y = px(inc.x, inc.y)
        parts.append(
            f'<circle cx="{x}" cy="{y}" r="4" fill="{COLOURS.get(inc.crime_type, "#333")}"/>'
            f'<text x="{x + 5}" y="{y - 4}" font-size="9">{i}</text>'
        )
    parts.append(
        f'<text x="6" y="{MAP_PX - 6}" font-size="9" fill="#555">N&#8593; dashed circle: 1/4 mile</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def briefing_html(
    mission: pd.Series,
    cell: pd.Series,
    cells: pd.DataFrame,
    incidents: pd.DataFrame,
    drivers: pd.DataFrame,
    radius: float,
    place: str | None = None,
) -> str:
    """One printable page for one mission (`drivers` has a plain-language `text` column)."""
    e = html.escape
    shares = json.loads(mission["crime_types"]) or {}
    tactics = json.loads(mission["tactics"])
    driving = (
        ", ".join(f"{e(t.replace('_', ' '))} {s:.0%}" for t, s in shares.items()) or "general deterrence"
    )
    rows = "".join(
        f"<tr><td>{i}</td><td>{e(r.crime_type.replace('_', ' '))}</td>"
        f"<td>{pd.Timestamp(r.occurred_at):%a %d %b %H:%M}</td><td>{e(str(r.block or ''))}</td></tr>"
        for i, r in enumerate(rows_of(incidents), start=1)
    )
    drivers_html = (
        "".join(
            f"<li>{e(r.crime_type.replace('_', ' '))}: {e(str(r.text))}</li>"
            for r in rows_of(drivers)
        )
        or "<li>none recorded</li>"
    )
    tactics_html = "".join(
        f"<li><b>{e(t['tactic'].replace('_', ' '))}</b>: {e(t['description'])}</li>" for t in tactics
    )
    prob = mission["inclusion_probability"]
    prob_text = f"{prob:.3f}" if pd.notna(prob) else "added by an analyst"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Mission {e(mission["mission_id"])}</title>
<style>body{{font-family:sans-serif;max-width:780px;margin:1em auto;color:#222}}
table{{border-collapse:collapse;font-size:12px}}td,th{{border:1px solid #ccc;padding:2px 6px}}
.grid{{display:flex;gap:1em}}@media print{{.page{{page-break-after:always}}}}</style></head>
<body><div class="page">
<h1>Directed patrol: {e(place or "cell " + mission["cell_id"])}</h1>
<p>Shift {pd.Timestamp(mission["shift_start"]):%a %d %b %Y %H:%M} &middot;
district {e(str(mission["district"]))}
&middot; beat {e(str(mission["beat"] or "-"))} &middot; status <b>{e(mission["status"])}</b></p>
<p><b>Dose:</b> {mission["visits"]} visit(s) of {mission["dose_minutes"]:.0f} minutes, spread over the shift.
<b>Driving crime types:</b> {driving}. <b>Inclusion probability:</b> {prob_text}</p>
<div class="grid"><div>{svg_map(cell, cells, incidents, radius)}</div>
<div><h2>Tactics</h2><ol>{tactics_html}</ol><h2>What raised the risk</h2><ul>{drivers_html}</ul></div></div>
<h2>Incidents within 1/4 mile, last 7 days ({len(incidents)})</h2>
<table><tr><th>#</th><th>type</th><th>time</th><th>block</th></tr>{rows}</table>
<p style="font-size:11px;color:#666">Mission {e(mission["mission_id"])}, cell {e(mission["cell_id"])}.
Block-level locations only; no personal data.</p>
</div></body></html>
"""


def briefing_geojson(
    mission: pd.Series, cell: pd.Series, incidents: pd.DataFrame, config: AgencyConfig
) -> dict:
    """A GeoJSON FeatureCollection (WGS84, RFC 7946): the mission cell and the nearby incidents."""
    to_wgs84 = transformer(config.crs, "EPSG:4326")
    xs = [cell["x_min"], cell["x_max"], cell["x_max"], cell["x_min"], cell["x_min"]]
    ys = [cell["y_min"], cell["y_min"], cell["y_max"], cell["y_max"], cell["y_min"]]
    lon, lat = to_wgs84.transform(xs, ys)
    props = {
        k: (None if pd.isna(mission[k]) else mission[k])
        for k in (
            "mission_id",
            "plan_id",
            "district",
            "beat",
            "cell_id",
            "dose_minutes",
            "visits",
            "status",
            "inclusion_probability",
        )
    }
    props.update(
        shift_start=f"{pd.Timestamp(mission['shift_start']):%Y-%m-%dT%H:%M}",
        crime_types=json.loads(mission["crime_types"]),
        tactics=[t["tactic"] for t in json.loads(mission["tactics"])],
    )
    features = [
        {
            "type": "Feature",
            "properties": {"kind": "mission_cell", **props},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[round(a, 6), round(b, 6)] for a, b in zip(lon, lat, strict=True)]],
            },
        }
    ]
    if len(incidents):
        ilon, ilat = to_wgs84.transform(incidents["x"].to_numpy(), incidents["y"].to_numpy())
        for r, a, b in zip(rows_of(incidents), ilon, ilat, strict=True):
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [round(a, 6), round(b, 6)]},
                    "properties": {
                        "kind": "incident",
                        "crime_type": r.crime_type,
                        "occurred_at": f"{pd.Timestamp(r.occurred_at):%Y-%m-%dT%H:%M}",
                        "block": r.block,
                    },
                }
            )
    return {"type": "FeatureCollection", "features": features}


def read_recent_incidents(con: duckdb.DuckDBPyConnection, shift_start: datetime) -> pd.DataFrame:
    """Modelled incidents of the 7 days before the shift (intermediate.int_incidents; empty before dbt)."""
    if not table_exists(con, "intermediate", "int_incidents"):
        return pd.DataFrame(columns=["crime_type", "occurred_at", "block", "x", "y"])
    return con.execute(
        """select crime_type, occurred_at, block, x, y from intermediate.int_incidents
           where occurred_at >= ? and occurred_at < ? and x is not null and y is not null""",
        [shift_start - LOOKBACK, shift_start],
    ).df()


def read_drivers(
    con: duckdb.DuckDBPyConnection, shift_start: datetime, top: int = 3, cell_ids: list[str] | None = None
) -> pd.DataFrame:
    """The top risk drivers of the shift (of `cell_ids` only, when given)."""
    if not table_exists(con, "forecast", "risk_drivers"):
        return pd.DataFrame(columns=["cell_id", "crime_type", "rank", "feature", "contribution"])
    return con.execute(
        """select cell_id, crime_type, rank, feature, contribution from forecast.risk_drivers
           where shift_start = ? and rank <= ? and (? is null or list_contains(?, cell_id))
           order by cell_id, crime_type, rank""",
        [shift_start, top, cell_ids, cell_ids],
    ).df()


def read_places(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """cell_id -> place name (marts.dim_cell_places; empty before dbt built it)."""
    if not table_exists(con, "marts", "dim_cell_places"):
        return {}
    return dict(con.execute("select cell_id, place_name from marts.dim_cell_places").fetchall())


def drivers_in_words(
    con: duckdb.DuckDBPyConnection, drivers: pd.DataFrame, cells: pd.DataFrame, shift_start: datetime, config
) -> pd.DataFrame:
    """`drivers` with a `text` column: each driver in plain language, valued from the year before the shift."""
    if drivers.empty:
        return drivers.assign(text=pd.Series(dtype=object))
    wanted = cells[cells["cell_id"].isin(drivers["cell_id"])]
    near = cells.merge(
        pd.DataFrame([(c + dc, r + dr) for c, r in zip(wanted["cell_col"], wanted["cell_row"], strict=True)
                      for dc in (-1, 0, 1) for dr in (-1, 0, 1)], columns=["cell_col", "cell_row"]).drop_duplicates(),
        on=["cell_col", "cell_row"],
    )
    counts = pd.DataFrame(columns=["cell_id", "crime_type", "shift_start", "incident_count"])
    if table_exists(con, "marts", "fct_cell_shift_counts"):
        con.register("near_cells", near[["cell_id"]])
        try:
            counts = con.execute(
                """select c.cell_id, c.crime_type, c.shift_start, c.incident_count
                   from marts.fct_cell_shift_counts c join near_cells n on n.cell_id = c.cell_id
                   where c.shift_start >= ? and c.shift_start < ?""",
                [shift_start - timedelta(days=365), shift_start],
            ).df()
        finally:
            con.unregister("near_cells")
    edge = float((cells["x_max"] - cells["x_min"]).median()) * crs_metres(config.crs)
    env = [c for c in near.columns if c.endswith(("_m", "_share")) or c.startswith("liquor_")]
    return drivers.assign(text=explain_drivers(drivers, counts, near[["cell_id", "cell_col", "cell_row", *env]],
                                               shift_start, edge))


def previous_missions(con: duckdb.DuckDBPyConnection, shift_start: datetime) -> pd.DataFrame:
    """The active missions of the shift before `shift_start` (its newest plan)."""
    return con.execute(
        """select district, cell_id from plans.missions where status <> 'suppressed' and shift_start =
               (select max(shift_start) from plans.missions where shift_start < ?)""",
        [shift_start],
    ).df()


def write_briefings(
    con: duckdb.DuckDBPyConnection, config: AgencyConfig, plan_id: str, out_dir: Path | None = None
) -> Path:
    """Write every active mission's briefing (HTML + GeoJSON), a packet per district (HTML + PDF), the
    shift's missions as one GeoJSON, and an index; returns the folder."""
    missions = con.execute(
        "select * from plans.missions where plan_id = ? and status <> 'suppressed' "
        "order by district, mission_id",
        [plan_id],
    ).df()
    folder = out_dir or paths.artifacts_dir() / "briefings" / plan_id
    folder.mkdir(parents=True, exist_ok=True)
    if missions.empty:
        return folder
    shift_start = pd.Timestamp(missions["shift_start"].iloc[0]).to_pydatetime()
    cells = read_cells(con)
    by_id = cells.set_index("cell_id", drop=False)
    incidents = read_recent_incidents(con, shift_start)
    places = read_places(con)
    from models.forecasting.drivers import explain_cells  # loads MLflow: not for the dashboards' imports

    explain_cells(con, config, shift_start, missions["cell_id"].unique())  # e.g. a low-risk mission's cells
    drivers = read_drivers(con, shift_start, cell_ids=missions["cell_id"].tolist())
    drivers = drivers_in_words(con, drivers, cells, shift_start, config)
    radius = quarter_mile(config)
    links = []
    for _, mission in missions.iterrows():
        cell = by_id.loc[mission["cell_id"]]
        driving = list(json.loads(mission["crime_types"])) or config.modelled_crime_types()
        near = nearby_incidents(incidents, cell["x_center"], cell["y_center"], radius, driving)
        mine = drivers[(drivers["cell_id"] == mission["cell_id"]) & drivers["crime_type"].isin(driving)]
        name = mission["mission_id"]
        place = places.get(mission["cell_id"])
        (folder / f"{name}.html").write_text(
            briefing_html(mission, cell, cells, near, mine, radius, place), encoding="utf-8"
        )
        (folder / f"{name}.geojson").write_text(
            json.dumps(briefing_geojson(mission, cell, near, config)), encoding="utf-8"
        )
        links.append(
            f'<li><a href="{html.escape(name)}.html">district {html.escape(str(mission["district"]))} '
            f"&middot; {html.escape(place or 'cell ' + mission['cell_id'])}</a> ({len(near)} incidents nearby)</li>"
        )
    packet_links = write_packets(con, config, missions, cells, places, drivers, folder)
    (folder / "index.html").write_text(
        f"<!doctype html><html><head><meta charset='utf-8'><title>Plan {html.escape(plan_id)}</title></head>"
        f"<body><h1>Plan {html.escape(plan_id)}: {len(missions)} missions, "
        f"shift {shift_start:%Y-%m-%d %H:%M}</h1><h2>Roll-call packets</h2><ul>{''.join(packet_links)}</ul>"
        f"<p><a href='{SHIFT_GEOJSON}'>All missions of the shift (GeoJSON, for CAD)</a></p>"
        f"<h2>Missions</h2><ul>{''.join(links)}</ul></body></html>",
        encoding="utf-8",
    )
    return folder


SHIFT_GEOJSON = "shift_missions.geojson"


def packet_name(district: str) -> str:
    """The file stem of a district's packet (district ids are text: keep them file-safe)."""
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in str(district))
    return f"packet_district_{safe}"


def write_packets(
    con: duckdb.DuckDBPyConnection,
    config: AgencyConfig,
    missions: pd.DataFrame,
    cells: pd.DataFrame,
    places: dict[str, str],
    drivers: pd.DataFrame,
    folder: Path,
) -> list[str]:
    """A packet per district (HTML + PDF) and the shift's GeoJSON; returns the index's links."""
    shift_start = pd.Timestamp(missions["shift_start"].iloc[0]).to_pydatetime()
    previous = previous_missions(con, shift_start)
    landmarks = packets.landmarks_in_crs(config)
    told = (drivers.groupby("cell_id")["text"].agg(lambda t: "; ".join(dict.fromkeys(t))).to_dict()
            if len(drivers) else {})
    shift_name = next((s.name for s in config.shifts if s.start.hour == shift_start.hour), "")
    links = []
    for district, group in missions.groupby("district", sort=True):
        items = packets.packet_missions(group, places, told)
        title = f"Roll call: district {district}, {shift_start:%a %d %b %Y %H:%M} {shift_name} shift"
        minutes = float((group["dose_minutes"] * group["visits"]).sum())
        subtitle = (f"{len(items)} directed-patrol missions, {minutes:.0f} minutes of presence in all. "
                    f"Plan {group['plan_id'].iat[0]}.")
        changes = packets.changes_since(group, previous[previous["district"] == district], places)
        area = cells[cells["district"] == district]
        stem = packet_name(district)
        (folder / f"{stem}.html").write_text(
            packets.packet_html(title, subtitle, items, changes, packets.district_svg(area, items, landmarks)),
            encoding="utf-8",
        )
        (folder / f"{stem}.pdf").write_bytes(packets.packet_pdf(title, subtitle, items, changes, area, landmarks))
        links.append(f'<li><a href="{stem}.html">district {html.escape(str(district))}</a> '
                     f'(<a href="{stem}.pdf">PDF</a>): {len(items)} missions</li>')
    (folder / SHIFT_GEOJSON).write_text(json.dumps(packets.shift_geojson(missions, cells, places, config)),
                                        encoding="utf-8")
    return links


def write_missing_briefings(con: duckdb.DuckDBPyConnection, config: AgencyConfig) -> list[str]:
    """Briefings for every plan that has none yet (the demo's replayed past shifts): kept for every plan."""
    written = []
    for (plan_id,) in con.execute("select distinct plan_id from plans.missions order by plan_id").fetchall():
        if not (paths.artifacts_dir() / "briefings" / plan_id / "index.html").exists():
            write_briefings(con, config, plan_id)
            written.append(plan_id)
    return written
