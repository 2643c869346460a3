"""Roll-call packets: per shift and district, every mission of the plan on one map with its place, tactics,
dose and what raised the risk, and what changed since the district's last shift; as HTML and as PDF
(fpdf2), plus one GeoJSON of the shift's missions for in-car and CAD systems.

The packet map is drawn from the grid itself (the district's cells, the mission cells numbered, the
configured landmarks): no tiles, so it prints and works offline.
"""

from __future__ import annotations

import html
import json
import textwrap
from dataclasses import dataclass
from functools import lru_cache
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pyproj
from fpdf import FPDF

from beatwise.config.schema import AgencyConfig

MAP_PX = 420


def rows_of(frame: pd.DataFrame) -> list[SimpleNamespace]:
    """A frame's rows with attribute access: DataFrame.itertuples builds a namedtuple class per call, which
    cost a tenth of a second per plan over a plan's small frames."""
    names = [str(c) for c in frame.columns]
    return [SimpleNamespace(**dict(zip(names, values, strict=True)))
            for values in zip(*(frame[c].tolist() for c in frame.columns), strict=True)]


@lru_cache(maxsize=16)
def transformer(source: str, target: str) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(source, target, always_xy=True)


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
    for number, m in enumerate(rows_of(missions), start=1):
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


def row_runs(cells: pd.DataFrame) -> np.ndarray:
    """The cells as horizontal runs of touching cells (x_min, y_max, x_max): a district's background
    drawn with a few hundred shapes instead of thousands."""
    order = cells.sort_values(["y_max", "x_min"])
    x0, x1, y = (order[c].to_numpy(float) for c in ("x_min", "x_max", "y_max"))
    new = np.ones(len(order), bool)
    new[1:] = (y[1:] != y[:-1]) | (np.abs(x0[1:] - x1[:-1]) > 1e-6 * np.maximum(1, np.abs(x0[1:])))
    starts = np.flatnonzero(new)
    ends = np.r_[starts[1:], len(order)] - 1
    return np.column_stack([x0[starts], y[starts], x1[ends]])


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
    runs = row_runs(district_cells)
    parts += [f'<rect x="{(a - x0) * scale:.1f}" y="{(y1 - b) * scale:.1f}" width="{(c - a) * scale:.1f}" '
              f'height="{size}" fill="#eceff1"/>' for a, b, c in runs]
    by_id = district_cells.set_index("cell_id")
    for m in missions:
        if m.cell_id not in by_id.index:
            continue
        c = by_id.loc[m.cell_id]
        a, b = px(c["x_min"], c["y_max"])
        big = max(size, 8)
        parts.append(f'<rect x="{a}" y="{b}" width="{big}" height="{big}" fill="#ff9800" stroke="#e65100"/>'
                     f'<text x="{a + big + 2}" y="{b + big}" font-size="11" font-weight="bold">{m.number}</text>')
    for lm in rows_of(landmarks):
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
    to_crs = transformer("EPSG:4326", config.crs)
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


class _Writer:
    """Lines of text on PDF pages, pre-wrapped to a character width: fpdf2's multi_cell measures every
    character and took seconds per packet; Helvetica's average width makes a fixed wrap good enough."""

    def __init__(self, pdf: FPDF):
        self.pdf, self.y = pdf, pdf.t_margin

    def lines(self, text: str, size: float, bold: bool = False, left: float | None = None,
              width_mm: float | None = None) -> None:
        pdf = self.pdf
        left = pdf.l_margin if left is None else left
        width_mm = (pdf.w - pdf.r_margin - left) if width_mm is None else width_mm
        pdf.set_font("Helvetica", "B" if bold else "", size)
        chars = max(20, int(width_mm / (size * 0.353 * 0.5)))  # mean glyph ~0.5 em; 1 pt = 0.353 mm
        step = size * 0.353 * 1.3
        for line in textwrap.wrap(_latin1(text), chars) or [""]:
            if self.y + step > pdf.h - pdf.b_margin:
                pdf.add_page()
                self.y = pdf.t_margin
            self.y += step
            pdf.text(left, self.y, line)


def packet_pdf(title: str, subtitle: str, missions: list[PacketMission], changes: list[str],
               district_cells: pd.DataFrame, landmarks: pd.DataFrame) -> bytes:
    """The same packet as a PDF: a drawn district map, the changes, then one block per mission."""
    pdf = FPDF(format="Letter", unit="mm")
    pdf.set_auto_page_break(False)
    pdf.add_page()
    out = _Writer(pdf)
    out.lines(title, 15, bold=True)
    out.lines(subtitle, 10)
    # the map: 90 mm square, north up
    x0, x1 = district_cells["x_min"].min(), district_cells["x_max"].max()
    y0, y1 = district_cells["y_min"].min(), district_cells["y_max"].max()
    left, top, side = pdf.l_margin, out.y + 3, 90.0
    scale = side / max(x1 - x0, y1 - y0)
    edge = float((district_cells["x_max"] - district_cells["x_min"]).median()) * scale
    pdf.set_fill_color(230, 233, 236)
    for a, b, c in row_runs(district_cells):
        pdf.rect(left + (a - x0) * scale, top + (y1 - b) * scale, (c - a) * scale, edge, style="F")
    by_id = district_cells.set_index("cell_id")
    pdf.set_fill_color(255, 152, 0)
    pdf.set_font("Helvetica", "B", 8)
    mark = max(edge, 1.6)
    for m in missions:
        if m.cell_id in by_id.index:
            c = by_id.loc[m.cell_id]
            x, y = left + (c["x_min"] - x0) * scale, top + (y1 - c["y_max"]) * scale
            pdf.rect(x, y, mark, mark, style="F")
            pdf.text(x + mark + 0.5, y + 2, str(m.number))
    pdf.set_fill_color(21, 101, 192)
    pdf.set_font("Helvetica", "", 7)
    for lm in rows_of(landmarks):
        x, y = left + (lm.x - x0) * scale, top + (y1 - lm.y) * scale
        if left <= x <= left + side and top <= y <= top + side:
            pdf.ellipse(x - 1, y - 1, 2, 2, style="F")
            pdf.text(x + 1.5, y + 1, _latin1(lm.name))
    out.y = top
    beside = left + side + 6
    out.lines("What changed since the last shift", 11, bold=True, left=beside)
    for change in changes:
        out.lines(change, 9, left=beside)
    out.y = max(out.y, top + (y1 - y0) * scale) + 4
    for m in missions:
        out.lines(f"{m.number}. {m.place} (beat {m.beat}, {m.status})", 10, bold=True)
        out.lines(f"Dose: {m.dose}. Driving: {m.driving}.", 9)
        for t, d in m.tactics:
            out.lines(f"- {t}: {d}", 9)
        out.lines(f"What raised the risk: {m.drivers}", 9)
        out.y += 1.5
    return bytes(pdf.output())


def shift_geojson(missions: pd.DataFrame, cells: pd.DataFrame, places: dict[str, str], config: AgencyConfig) -> dict:
    """Every active mission of the shift as a cell polygon (WGS84, RFC 7946) with its place and tactics."""
    to_wgs84 = transformer(config.crs, "EPSG:4326")
    joined = missions.merge(cells[["cell_id", "x_min", "y_min", "x_max", "y_max"]], on="cell_id")
    xs = joined[["x_min", "x_max", "x_max", "x_min", "x_min"]].to_numpy(float)
    ys = joined[["y_min", "y_min", "y_max", "y_max", "y_min"]].to_numpy(float)
    lon, lat = to_wgs84.transform(xs, ys)
    features = []
    for i, m in enumerate(rows_of(joined)):
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
