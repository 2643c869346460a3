"""Briefings for roll call: per shift and district a packet (HTML and PDF) with every mission, per shift a
GeoJSON of its missions for in-car and CAD systems, and per mission the planner's printable briefing."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from beatwise import paths
from dashboards import auth, data, maps

auth.guard(__file__)
st.title("Briefings")
data.require("plans.missions", waiting_on="the mission planning assets (plans.*)")

shifts = data.query(
    """select distinct m.shift_start from plans.missions m join plans.plans p on p.plan_id = m.plan_id
       where p.status = 'published' order by shift_start desc limit 200"""
)
left, middle, right = st.columns(3)
shift = left.selectbox(
    "Shift", shifts["shift_start"], format_func=lambda t: pd.Timestamp(t).strftime("%a %d %b %Y %H:%M")
)
missions = data.query(
    """select m.mission_id, m.plan_id, m.district, m.beat, m.cell_id, m.crime_types, m.tactics, m.dose_minutes,
              m.visits, m.status
       from plans.missions m join plans.plans p on p.plan_id = m.plan_id
       where m.shift_start = ? and p.status = 'published' and m.status <> 'suppressed'
       order by m.district, m.mission_id""",
    (shift,),
)
if missions.empty:
    st.info("No active missions in this shift.")
    st.stop()
missions = data.with_places(missions)
plan_id = missions["plan_id"].iat[0]
folder = paths.artifacts_dir() / "briefings" / plan_id
district = middle.selectbox("District", sorted(missions["district"].astype(str).unique()))
here = missions[missions["district"].astype(str) == district]


def _packet_stem() -> str:
    from models.planning.briefing import packet_name

    return packet_name(district)


def _shift_geojson() -> str:
    """The planner's file, else the mission cells from the snapshot (same properties, no incidents)."""
    from models.planning.briefing import SHIFT_GEOJSON

    file = folder / SHIFT_GEOJSON
    if file.exists():
        return file.read_text(encoding="utf-8")
    features = [
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [m.polygon + [m.polygon[0]]]},
         "properties": {"mission_id": m.mission_id, "cell_id": m.cell_id, "place": m.place_name,
                        "district": str(m.district), "beat": None if pd.isna(m.beat) else str(m.beat),
                        "dose_minutes": float(m.dose_minutes), "visits": int(m.visits),
                        "tactics": [t["tactic"] for t in json.loads(m.tactics or "[]")]}}
        for m in maps.with_polygons(missions).itertuples()
    ]
    return json.dumps({"type": "FeatureCollection", "features": features})


st.subheader(f"Roll-call packet: district {district}, {len(here)} missions")
packet_html, packet_pdf = folder / f"{_packet_stem()}.html", folder / f"{_packet_stem()}.pdf"
a, b, c = st.columns(3)
if packet_html.exists():
    a.download_button("Packet (HTML, printable)", packet_html.read_text(encoding="utf-8"),
                      file_name=f"{plan_id}_{packet_html.name}", mime="text/html", key="packet_html")
if packet_pdf.exists():
    b.download_button("Packet (PDF)", packet_pdf.read_bytes(), file_name=f"{plan_id}_{packet_pdf.name}",
                      mime="application/pdf", key="packet_pdf")
c.download_button("All missions of the shift (GeoJSON, for CAD)", _shift_geojson(),
                  file_name=f"{plan_id}_missions.geojson", mime="application/geo+json", key="shift_geojson")
data.table(
    here.assign(
        tactics=[", ".join(t["tactic"].replace("_", " ") for t in json.loads(v or "[]")) for v in here["tactics"]],
        driven_by=[", ".join(k.replace("_", " ") for k in json.loads(v or "{}")) or "general deterrence"
                   for v in here["crime_types"]],
        dose=[f"{v} x {m:.0f} min" for v, m in zip(here["visits"], here["dose_minutes"], strict=True)],
    )[["place_name", "beat", "driven_by", "dose", "tactics", "status", "cell_id"]],
    hide_index=True,
    key="packet_missions",
    column_config={"place_name": "Place", "driven_by": "Driven by", "cell_id": "Cell"},
)
if packet_html.exists():
    with st.expander("Packet preview", expanded=True):
        st.iframe(packet_html.read_text(encoding="utf-8"), height=640)
else:
    st.caption("The planner has not written this shift's packets yet; the table above is from the plan.")

st.subheader("One mission")
mission_id = right.selectbox(
    "Mission", here["mission_id"], format_func=lambda m: here.set_index("mission_id").at[m, "place_name"]
)
mission = here.set_index("mission_id").loc[mission_id]
st.markdown(
    f"**{mission['place_name']}** · **district** {mission['district']} · **beat** {mission['beat']} · "
    f"**dose** {mission['dose_minutes']:.0f} min × {mission['visits']} visit(s) · cell {mission['cell_id']}"
)
html_file, geojson_file = folder / f"{mission_id}.html", folder / f"{mission_id}.geojson"
d, e = st.columns(2)
if html_file.exists():
    d.download_button("Mission briefing (HTML)", html_file.read_text(encoding="utf-8"), file_name=html_file.name,
                      mime="text/html", key="mission_html")
    with st.expander("Mission briefing preview"):
        st.iframe(html_file.read_text(encoding="utf-8"), height=700)
if geojson_file.exists():
    e.download_button("Mission area and nearby incidents (GeoJSON)", geojson_file.read_text(encoding="utf-8"),
                      file_name=geojson_file.name, mime="application/geo+json", key="mission_geojson")
