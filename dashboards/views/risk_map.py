"""Risk map: the cells coloured by risk percentile, per crime type and shift, with no base map."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import auth, data, maps

auth.guard(__file__)
st.title("Risk map")
data.require("forecast.risk_surfaces", "marts.dim_cells", waiting_on="the forecasting assets (forecast.*)")

shifts = data.query("select distinct shift_start from forecast.risk_surfaces order by shift_start desc limit 60")
types = data.query("select distinct crime_type from forecast.risk_surfaces order by crime_type")
cells = maps.cells()
top_row = st.columns([2, 2, 2])
shift = top_row[0].selectbox(
    "Shift", shifts["shift_start"], format_func=lambda t: pd.Timestamp(t).strftime("%a %d %b %Y %H:%M")
)
crime_type = top_row[1].selectbox("Crime type", types["crime_type"], format_func=lambda t: t.replace("_", " "))
floor = top_row[2].slider("Show cells at or above percentile", 0, 99, 50, step=1)
districts = sorted(cells["district"].dropna().unique())
chosen = st.multiselect("Districts (none chosen: the whole jurisdiction)", districts)

# Percentiles may be stored as 0-1 or 0-100; the map works in 0-1.
surface = data.query(
    """with s as (select cell_id, expected_count, percentile, method, model_version
                  from forecast.risk_surfaces where shift_start = ? and crime_type = ?),
            scale as (select case when max(percentile) > 1 then 100.0 else 1.0 end as unit from s)
       select cell_id, expected_count, percentile / unit as percentile, method, model_version
       from s, scale where percentile / unit >= ? order by percentile desc""",
    (shift, crime_type, floor / 100),
)
surface = surface.merge(cells[["cell_id", "district", "beat"]], on="cell_id", how="left")
area = cells
if chosen:
    surface = surface[surface["district"].isin(chosen)]
    area = cells[cells["district"].isin(chosen)]

a, b, c = st.columns(3)
a.metric("Cells shown", f"{len(surface):,}")
b.metric("Expected events in shown cells", f"{surface['expected_count'].sum():.1f}")
c.metric("Model", f"{surface['method'].iat[0]} {surface['model_version'].iat[0]}" if not surface.empty else "-")

shown = pd.DataFrame(
    {
        "cell_id": surface["cell_id"],
        "colour": maps.percentile_colours(surface["percentile"]).tolist(),
        "pct": (surface["percentile"] * 100).round(1),
        "expected": surface["expected_count"].round(3),
    }
)
maps.show(
    maps.deck(
        [maps.jurisdiction_layer(), maps.cell_layer(shown, "risk", fields=["pct", "expected"])],
        area if not area.empty else cells,
        "{cell_id}: percentile {pct}, expected {expected}",
    ),
    key="risk_map",
)
st.caption(
    "Pale yellow: lower risk · dark red: highest risk · faint grey: the rest of the jurisdiction. "
    "No base map: the cells are the map."
)

st.subheader("Highest-risk cells")
st.dataframe(
    surface.head(100),
    hide_index=True,
    key="risk_table",
    column_config={"percentile": st.column_config.ProgressColumn("Percentile", min_value=0, max_value=1)},
)
data.csv_download(surface, f"risk_{crime_type}_{pd.Timestamp(shift):%Y%m%d_%H%M}")

if data.has("forecast.risk_drivers"):
    st.subheader("What raised the risk")
    drivers = data.query(
        "select * from forecast.risk_drivers where shift_start = ? and crime_type = ? limit 200",
        (shift, crime_type),
    )
    st.dataframe(drivers, hide_index=True, key="risk_drivers")
