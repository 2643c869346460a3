"""Risk map: the shift's highest-risk cells for a crime type, with place names, expected counts in words
and what raised the risk in plain language."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import auth, data, maps
from models.forecasting.explain import crime_words, method_words
from models.forecasting.surfaces import EXPLAINED_PER_DISTRICT

auth.guard(__file__)
st.title("Risk map")
data.require("forecast.risk_surfaces", "marts.dim_cells", waiting_on="the forecasting assets (forecast.*)")

SHOWN = {"top 1% of cells": 0.99, "top 5% of cells": 0.95, "top 10% of cells": 0.90, "top 25% of cells": 0.75}

shifts = data.query("select distinct shift_start from forecast.risk_surfaces order by shift_start desc limit 60")
types = data.query("select distinct crime_type from forecast.risk_surfaces order by crime_type")
cells = maps.cells()
top_row = st.columns([2, 2, 2])
shift = top_row[0].selectbox(
    "Shift", shifts["shift_start"], format_func=lambda t: pd.Timestamp(t).strftime("%a %d %b %Y %H:%M")
)
crime_type = top_row[1].selectbox("Crime type", types["crime_type"], format_func=lambda t: t.replace("_", " "))
shown_as = top_row[2].selectbox("Show", list(SHOWN), index=1)
districts = sorted(cells["district"].dropna().unique())
chosen = st.multiselect("Districts (none chosen: the whole jurisdiction)", districts)

surface = data.risk_cells(shift, crime_type, SHOWN[shown_as])
area = cells
if chosen:
    surface = surface[surface["district"].isin(chosen)]
    area = cells[cells["district"].isin(chosen)]

a, b, c = st.columns(3)
a.metric("Cells shown", f"{len(surface):,}")
b.metric(f"Expected {crime_words(crime_type, 2)} in them this shift", f"{surface['expected_count'].sum():.1f}")
# A method's name is words, too long for a metric's large figure: a line of text beside the figures.
c.markdown(f"Model  \n**{method_words(surface['method'].iat[0]) if not surface.empty else '-'}**",
           help=f"version {surface['model_version'].iat[0]} in the model registry" if not surface.empty else None)

shown = pd.DataFrame(
    {
        "cell_id": surface["cell_id"],
        "colour": maps.percentile_colours((surface["percentile"] - SHOWN[shown_as]) / (1 - SHOWN[shown_as])).tolist(),
        "place": surface["place_name"],
        "pct": (surface["percentile"] * 100).round(1),
        "words": surface["expected_in_words"],
    }
)
maps.show(
    maps.deck(
        [maps.jurisdiction_layer(), maps.cell_layer(shown, "risk", fields=["place", "pct", "words"])],
        area if not area.empty else cells,
        "{place}: {words} (higher than {pct}% of cells)",
    ),
    key="risk_map",
)
maps.legend(
    f"Risk of {crime_words(crime_type, 1)} (percentile of the jurisdiction's cells):",
    f"{SHOWN[shown_as]:.0%}",
    "100%",
    [("#1565c0", "police station"), ("transparent", "district outline (thick) · beat outline (thin)")],
)

st.subheader(f"Highest-risk places for {crime_words(crime_type, 2)}")
listed = surface.head(EXPLAINED_PER_DISTRICT)  # the cells whose drivers the scoring run computed
drivers = data.risk_drivers_in_words(shift, crime_type, listed["cell_id"].tolist())
table = listed.merge(drivers, on="cell_id", how="left")
table = table.assign(drivers=table["drivers"].fillna(""))
data.table(
    table[["place_name", "district", "beat", "expected_in_words", "percentile", "drivers", "cell_id"]],
    hide_index=True,
    key="risk_table",
    column_config={
        "place_name": st.column_config.TextColumn("Place"),
        "expected_in_words": st.column_config.TextColumn("Expected this shift"),
        "percentile": st.column_config.ProgressColumn("Risk percentile", min_value=0, max_value=1, format="percent"),
        "drivers": st.column_config.TextColumn("What raised the risk", width="large"),
        "cell_id": st.column_config.TextColumn("Cell"),
    },
)
data.csv_download(table, f"risk_{crime_type}_{pd.Timestamp(shift):%Y%m%d_%H%M}")
