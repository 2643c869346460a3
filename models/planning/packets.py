"""Roll-call packets: per shift and district, every mission of the plan on one map with its place, tactics,
dose and what raised the risk, and what changed since the district's last shift; as HTML and as PDF
(fpdf2), plus one GeoJSON of the shift's missions for in-car and CAD systems.

The packet map is drawn from the grid itself (the district's cells, the mission cells numbered, the
configured landmarks): no tiles, so it prints and works offline.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyproj
from fpdf import FPDF

from beatwise.config.schema import AgencyConfig

MAP_PX = 420


@dataclass(frozen=True)
class PacketMission:
    number: int
    mission_id: str
    cell_id: str
    place: str
    beat: str
    driving: str
    dose: str
    tactics: list[tuple[str, str]]
    drivers: str
    status: str


def _label(text: str) -> str:
    return text.replace("_", " ")


def packet_missions(missions: pd.DataFrame, places: dict[str, str], drivers: dict[str, str]) -> list[PacketMission]:
    """The district's active missions, numbered as on the packet map."""
    out = []
    for number, m in enumerate(missions.itertuples(), start=1):
        shares = json.loads(m.crime_types or "{}")
        out.append(
            PacketMission(
                number=number,
                mission_id=m.mission_id,
                cell_id=m.cell_id,
                place=places.get(m.cell_id, f"cell {m.cell_id}"),
                beat=str(m.beat) if pd.notna(m.beat) else "-",
                driving=", ".join(f"{_label(t)} {s:.0%}" for t, s in sorted(shares.items(), key=lambda kv: -kv[1]))
                or "general deterrence (a lower-risk place)",
                dose=f"{m.visits} visit(s) of {m.dose_minutes:.0f} min",
                tactics=[(_label(t["tactic"]), t["description"]) for t in json.loads(m.tactics or "[]")],
                drivers=drivers.get(m.cell_id, "") or "-",
                status=m.status,
            )
        )
    return out


def changes_since(current: pd.DataFrame, previous: pd.DataFrame | None, places: dict[str, str]) -> list[str]:
    """What changed against the district's previous shift: new places, places kept, places dropped."""
    if previous is None or previous.empty:
        return ["No earlier shift planned for this district."]
    now, before = set(current["cell_id"]), set(previous["cell_id"])

    def named(ids: set[str]) -> str:
        return "; ".join(sorted(places.get(c, f"cell {c}") for c in ids)) or "none"

    return [
        f"New this shift ({len(now - before)}): {named(now - before)}",
        f"Again from last shift ({len(now & before)}): {named(now & before)}",
        f"No longer a mission ({len(before - now)}): {named(before - now)}",
    ]


def district_svg(district_cells: pd.DataFrame, missions: list[PacketMission], landmarks: pd.DataFrame) -> str:
    """The district's cells (grey), the mission cells (orange, numbered) and landmarks (blue), north up."""
    x0, x1 = district_cells["x_min"].min(), district_cells["x_max"].max()
    y0, y1 = district_cells["y_min"].min(), district_cells["y_max"].max()
    scale = MAP_PX / max(x1 - x0, y1 - y0)
    width, height = round((x1 - x0) * scale), round((y1 - y0) * scale)

    def px(x: float, y: float) -> tuple[float, float]:
        return round((x - x0) * scale, 1), round((y1 - y) * scale, 1)

    size = round(float((district_cells["x_max"] - district_cells["x_min"]).median()) * scale, 2)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="district map of the missions">']
    xs, ys = px(district_cells["x_min"].to_numpy(), district_cells["y_max"].to_numpy())
    parts += [f'<rect x="{a:.1f}" y="{b:.1f}" width="{size}" height="{size}" fill="#eceff1"/>'
              for a, b in zip(np.atleast_1d(xs), np.atleast_1d(ys), strict=True)]
    by_id = district_cells.set_index("cell_id")
    for m in missions:
        if m.cell_id not in by_id.index:
            continue
        c = by_id.loc[m.cell_id]
        a, b = px(c["x_min"], c["y_max"])
        big = max(size, 8)
        parts.append(f'<rect x="{a}" y="{b}" width="{big}" height="{big}" fill="#ff9800" stroke="#e65100"/>'
                     f'<text x="{a + big + 2}" y="{b + big}" font-size="11" font-weight="bold">{m.number}</text>')
    for lm in landmarks.itertuples():
        a, b = px(lm.x, lm.y)
        if 0 <= a <= width and 0 <= b <= height:
            parts.append(f'<circle cx="{a}" cy="{b}" r="5" fill="#1565c0" stroke="white"/>'
                         f'<text x="{a + 7}" y="{b + 4}" font-size="10" fill="#0d47a1">{html.escape(lm.name)}</text>')
    parts.append(f'<text x="4" y="{height - 4}" font-size="10" fill="#555">N&#8593; orange: missions · '
                 f'blue: police stations</text></svg>')
    return "".join(parts)


def landmarks_in_crs(config: AgencyConfig) -> pd.DataFrame:
    frame = pd.DataFrame([lm.model_dump() for lm in config.landmarks], columns=["name", "kind", "longitude", "latitude"])
    if frame.empty:
        return frame.assign(x=[], y=[])
    to_crs = pyproj.Transformer.from_crs("EPSG:4326", config.crs, always_xy=True)
    frame["x"], frame["y"] = to_crs.transform(frame["longitude"].to_numpy(), frame["latitude"].to_numpy())
    return frame


def packet_html(title: str, subtitle: str, missions: list[PacketMission], changes: list[str], svg: str) -> str:
    e = html.escape
    rows = "".join(
        f"<tr><td><b>{m.number}</b></td><td><b>{e(m.place)}</b><br><small>beat {e(m.beat)} · "
        f"{e(m.status)}</small></td><td>{e(m.driving)}</td><td>{e(m.dose)}</td>"
        f"<td>{'<br>'.join(f'<b>{e(t)}</b>: {e(d)}' for t, d in m.tactics) or '-'}</td>"
        f"<td>{e(m.drivers)}</td></tr>"
        for m in missions
    )
    changed = "".join(f"<li>{e(c)}</li>" for c in changes)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{e(title)}</title>
<style>body{{font-family:sans-serif;max-width:1000px;margin:1em auto;color:#222}}
table{{border-collapse:collapse;font-size:12px;width:100%}}td,th{{border:1px solid #ccc;padding:3px 6px;
vertical-align:top;text-align:left}}@media print{{a{{display:none}}}}</style></head>
<body><h1>{e(title)}</h1><p>{e(subtitle)}</p>
<div style="display:flex;gap:1.5em"><div>{svg}</div><div><h2>What changed since the last shift</h2>
<ul>{changed}</ul></div></div>
<h2>Missions ({len(missions)})</h2>
<table><tr><th>#</th><th>place</th><th>driving crime types</th><th>dose</th><th>tactics</th>
<th>what raised the risk</th></tr>{rows}</table>
<p style="font-size:11px;color:#666">Block-level places only; no personal data. Non-enforcement presence.</p>
</body></html>
"""


def _latin1(text: str) -> str:
    # fpdf2's core fonts are Latin-1; the packet's text is plain, so replace the few others.
    return text.replace("·", "-").replace("×", "x").replace("–", "-").encode("latin-1", "replace").decode("latin-1")


def packet_pdf(title: str, subtitle: str, missions: list[PacketMission], changes: list[str],
               district_cells: pd.DataFrame, landmarks: pd.DataFrame) -> bytes:
    """The same packet as a PDF: a drawn district map, the changes, then one block per mission."""
    pdf = FPDF(format="Letter", unit="mm")
    pdf.set_auto_page_break(True, margin=12)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    pdf.multi_cell(0, 7, _latin1(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    pdf.multi_cell(0, 5, _latin1(subtitle), new_x="LMARGIN", new_y="NEXT")
    # the map: 90 mm square, north up
    x0, x1 = district_cells["x_min"].min(), district_cells["x_max"].max()
    y0, y1 = district_cells["y_min"].min(), district_cells["y_max"].max()
    left, top, side = pdf.l_margin, pdf.get_y() + 2, 90.0
    scale = side / max(x1 - x0, y1 - y0)
    edge = float((district_cells["x_max"] - district_cells["x_min"]).median()) * scale
    pdf.set_fill_color(230, 233, 236)
    for c in district_cells.itertuples():
        pdf.rect(left + (c.x_min - x0) * scale, top + (y1 - c.y_max) * scale, edge, edge, style="F")
    by_id = district_cells.set_index("cell_id")
    pdf.set_fill_color(255, 152, 0)
    pdf.set_font("Helvetica", "B", 8)
    for m in missions:
        if m.cell_id in by_id.index:
            c = by_id.loc[m.cell_id]
            x, y = left + (c["x_min"] - x0) * scale, top + (y1 - c["y_max"]) * scale
            pdf.rect(x, y, max(edge, 1.6), max(edge, 1.6), style="F")
            pdf.text(x + max(edge, 1.6) + 0.5, y + 2, str(m.number))
    pdf.set_fill_color(21, 101, 192)
    pdf.set_font("Helvetica", "", 7)
    for lm in landmarks.itertuples():
        x, y = left + (lm.x - x0) * scale, top + (y1 - lm.y) * scale
        if left <= x <= left + side and top <= y <= top + side:
            pdf.ellipse(x - 1, y - 1, 2, 2, style="F")
            pdf.text(x + 1.5, y + 1, _latin1(lm.name))
    pdf.set_xy(left + side + 6, top)
    pdf.set_font("Helvetica", "B", 11)
    pdf.multi_cell(0, 6, "What changed since the last shift", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    for change in changes:
        pdf.set_x(left + side + 6)
        pdf.multi_cell(0, 4.5, _latin1(change), new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(max(pdf.get_y(), top + (y1 - y0) * scale) + 4)
    for m in missions:
        pdf.set_font("Helvetica", "B", 10)
        pdf.multi_cell(0, 5, _latin1(f"{m.number}. {m.place} (beat {m.beat}, {m.status})"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 9)
        lines = [f"Dose: {m.dose}. Driving: {m.driving}.",
                 *(f"- {t}: {d}" for t, d in m.tactics),
                 f"What raised the risk: {m.drivers}"]
        for line in lines:
            pdf.multi_cell(0, 4.3, _latin1(line), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1.5)
    return bytes(pdf.output())


def shift_geojson(missions: pd.DataFrame, cells: pd.DataFrame, places: dict[str, str], config: AgencyConfig) -> dict:
    """Every active mission of the shift as a cell polygon (WGS84, RFC 7946) with its place and tactics."""
    to_wgs84 = pyproj.Transformer.from_crs(config.crs, "EPSG:4326", always_xy=True)
    joined = missions.merge(cells[["cell_id", "x_min", "y_min", "x_max", "y_max"]], on="cell_id")
    xs = joined[["x_min", "x_max", "x_max", "x_min", "x_min"]].to_numpy(float)
    ys = joined[["y_min", "y_min", "y_max", "y_max", "y_min"]].to_numpy(float)
    lon, lat = to_wgs84.transform(xs, ys)
    features = []
    for i, m in enumerate(joined.itertuples()):
        features.append({
            "type": "Feature",
            "geometry": {"type": "Polygon",
                         "coordinates": [[[round(a, 6), round(b, 6)] for a, b in zip(lon[i], lat[i], strict=True)]]},
            "properties": {
                "mission_id": m.mission_id, "plan_id": m.plan_id, "district": str(m.district),
                "beat": None if pd.isna(m.beat) else str(m.beat), "cell_id": m.cell_id,
                "place": places.get(m.cell_id, f"cell {m.cell_id}"),
                "shift_start": f"{pd.Timestamp(m.shift_start):%Y-%m-%dT%H:%M}",
                "dose_minutes": float(m.dose_minutes), "visits": int(m.visits), "status": m.status,
                "crime_types": json.loads(m.crime_types or "{}"),
                "tactics": [t["tactic"] for t in json.loads(m.tactics or "[]")],
            },
        })
    return {"type": "FeatureCollection", "features": features}
