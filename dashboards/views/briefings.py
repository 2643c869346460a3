"""Briefings: one per mission, printable (HTML) and downloadable with the mission area as GeoJSON."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st
import streamlit.components.v1 as components

from beatwise import paths
from dashboards import auth, data, maps

auth.guard(__file__)
st.title("Briefings")
data.require("plans.missions", waiting_on="the mission planning assets (plans.*)")

shifts = data.query("select distinct shift_start from plans.missions order by shift_start desc limit 60")
left, right = st.columns(2)
shift = left.selectbox(
    "Shift", shifts["shift_start"], format_func=lambda t: pd.Timestamp(t).strftime("%a %d %b %Y %H:%M")
)
missions = data.query(
    """select mission_id, plan_id, district, beat, cell_id, crime_types, tactics, dose_minutes, visits, status
       from plans.missions where shift_start = ? and status <> 'suppressed' order by district, mission_id""",
    (shift,),
)
if missions.empty:
    st.info("No active missions in this shift.")
    st.stop()
mission_id = right.selectbox(
    "Mission",
    missions["mission_id"],
    format_func=lambda m: f"{m} (district {missions.set_index('mission_id').at[m, 'district']})",
)
mission = missions.set_index("mission_id").loc[mission_id]


def _briefing_file(suffix: str):
    """The planner's briefing for this mission (models.planning.briefing writes one per active mission)."""
    file = paths.artifacts_dir() / "briefings" / mission["plan_id"] / f"{mission_id}{suffix}"
    return file if file.exists() else None


def _mission_geojson() -> str:
    cell = maps.with_polygons(pd.DataFrame({"cell_id": [mission["cell_id"]]}))
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Polygon", "coordinates": [row.polygon + [row.polygon[0]]]},
            "properties": {
                "mission_id": mission_id,
                "cell_id": row.cell_id,
                "district": mission["district"],
                "beat": mission["beat"],
                "dose_minutes": float(mission["dose_minutes"]),
                "visits": int(mission["visits"]),
                "tactics": json.loads(mission["tactics"] or "[]"),
            },
        }
        for row in cell.itertuples()
    ]
    return json.dumps({"type": "FeatureCollection", "features": features})


html_file, geojson_file = _briefing_file(".html"), _briefing_file(".geojson")
shares = json.loads(mission["crime_types"] or "{}")
tactics = json.loads(mission["tactics"] or "[]")
st.markdown(
    f"**Cell** {mission['cell_id']} · **district** {mission['district']} · **beat** {mission['beat']} · "
    f"**dose** {mission['dose_minutes']:.0f} min × {mission['visits']} visit(s)"
)
st.markdown(
    "**Driven by:** "
    + ", ".join(f"{k.replace('_', ' ')} ({v:.0%})" for k, v in sorted(shares.items(), key=lambda kv: -kv[1]))
)
st.markdown("**Recommended tactics:**")
for tactic in tactics:
    st.markdown(f"- **{tactic['tactic'].replace('_', ' ')}**: {tactic['description']}")
if not tactics:
    st.markdown("-")

a, b = st.columns(2)
if html_file is not None:
    html = html_file.read_text(encoding="utf-8")
    a.download_button("Download briefing (HTML, printable)", html, file_name=html_file.name, mime="text/html")
    components.html(html, height=700, scrolling=True)
else:
    st.info(
        "The planner has not written this mission's briefing yet; the summary above is from the plan."
    )
geojson = geojson_file.read_text(encoding="utf-8") if geojson_file is not None else _mission_geojson()
b.download_button(
    "Download mission area (GeoJSON)", geojson, file_name=f"{mission_id}.geojson", mime="application/geo+json"
)
