"""Missions for a shift: map and table; analysts and supervisors add or suppress a mission with a reason."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import auth, data, maps, overrides
from models.impact.estimator import POOL_STRATA

user = auth.guard(__file__)
st.title("Missions")
data.require("plans.missions", waiting_on="the mission planning assets (plans.*)")

shifts = data.query("select distinct shift_start from plans.missions order by shift_start desc limit 60")
if shifts.empty:
    st.info("No missions have been planned yet.")
    st.stop()
left, right = st.columns([2, 3])
shift = left.selectbox(
    "Shift", shifts["shift_start"], format_func=lambda t: pd.Timestamp(t).strftime("%a %d %b %Y %H:%M")
)
missions = data.query(
    """select mission_id, plan_id, shift_start, district, beat, cell_id, status, crime_types, tactics,
              dose_minutes, visits, inclusion_probability, changed_by, changed_reason, changed_at
       from plans.missions where shift_start = ? order by district, status, mission_id""",
    (shift,),
)
missions["district"] = missions["district"].fillna("-")
districts = sorted(missions["district"].unique())
chosen = right.multiselect("Districts", districts, default=districts)
missions = missions[missions["district"].isin(chosen)]

active = missions[missions["status"] != "suppressed"]
a, b, c, d = st.columns(4)
a.metric("Active missions", len(active))
b.metric("Suppressed", int((missions["status"] == "suppressed").sum()))
c.metric("Added by analysts", int((missions["status"] == "added").sum()))
d.metric("Planned patrol minutes", f"{(active['dose_minutes'] * active['visits']).sum():,.0f}")

status_colour = {
    "planned": [31, 119, 180, 220],
    "added": [44, 160, 44, 220],
    "suppressed": [150, 150, 150, 160],
}
shown = missions[["mission_id", "cell_id", "district", "beat", "status"]].copy()
shown["colour"] = [status_colour.get(s, [214, 39, 40, 220]) for s in shown["status"]]
layers = [maps.jurisdiction_layer(), maps.cell_layer(shown, "missions", fields=["district", "beat", "status"])]
if data.has("plans.plan_candidates") and not missions.empty:
    # The candidate pool's cells that were not drawn. The low stratum (every other cell, the exploration
    # reserve) is most of the city: it stays in the jurisdiction layer.
    plans, plan_params = data.in_list(missions["plan_id"].unique())
    within, district_params = data.in_list(chosen)
    strata, strata_params = data.in_list(POOL_STRATA)
    pool = data.query(
        f"""select cell_id, any_value(district) as district, any_value(beat) as beat,
                   'not drawn (' || any_value(stratum) || ' stratum)' as status
            from plans.plan_candidates
            where plan_id in {plans} and district in {within} and stratum in {strata} and not selected
            group by cell_id""",
        plan_params + district_params + strata_params,
    )
    layers.insert(1, maps.cell_layer(pool, "candidates", [188, 189, 220, 150], ["district", "beat", "status"]))
area = maps.cells()
area = area[area["cell_id"].isin(missions["cell_id"])] if not missions.empty else area
maps.show(maps.deck(layers, area, "{cell_id} (district {district}, beat {beat}): {status}"), key="missions_map")
st.caption(
    "Blue: planned · green: added by an analyst · grey: suppressed · lavender: cells of the candidate pool "
    "(top and high strata) not drawn · faint grey: the rest of the jurisdiction"
)

st.dataframe(
    missions.drop(columns=["plan_id", "shift_start"]),
    hide_index=True,
    key="missions_table",
    column_config={"inclusion_probability": st.column_config.NumberColumn("P(selected)", format="%.3f")},
)
data.csv_download(missions, f"missions_{pd.Timestamp(shift):%Y%m%d_%H%M}")

st.subheader("Overrides")
if user.can_override:
    with st.form("override", clear_on_submit=True):
        action = st.radio(
            "Action",
            ["suppress", "add"],
            horizontal=True,
            format_func=lambda a: {"suppress": "Suppress a mission", "add": "Add a mission"}[a],
        )
        target = st.text_input("Mission id to suppress, or cell id to add a mission in")
        reason = st.text_area("Reason (recorded with your name in the audit log)")
        if st.form_submit_button("Send to the planner"):
            target = target.strip()
            if action == "suppress" and target not in set(missions["mission_id"]):
                st.error(f"No mission {target!r} in this shift's plan.")
            elif action == "add" and not data.scalar(
                "select count(*) from marts.dim_cells where cell_id = ?", (target,)
            ):
                st.error(f"No cell {target!r} in the jurisdiction.")
            elif missions.empty:
                st.error("No plan for this shift in the chosen districts.")
            else:
                try:
                    file = overrides.submit(
                        user,
                        action,
                        reason,
                        mission_id=target if action == "suppress" else None,
                        plan_id=missions["plan_id"].iat[0],
                        cell_id=target if action == "add" else None,
                    )
                except ValueError as exc:  # the planner's OverrideError: an incomplete request
                    st.error(str(exc))
                else:
                    st.success(f"Sent ({file.name}); the planner applies it on its next run.")
else:
    st.caption(f"The {user.role} role reads missions but cannot add or suppress them.")

waiting = overrides.pending()
st.markdown(f"**Waiting in the inbox:** {len(waiting)}")
if waiting:
    st.dataframe(pd.DataFrame(waiting), hide_index=True, key="pending_overrides")
if data.has("plans.overrides") and not missions.empty:
    marks, params = data.in_list(missions["plan_id"].unique())
    done = data.query(
        f"""select requested_at, applied_at, action, mission_id, cell_id, user_name, role, reason,
                                 outcome, message, replacement_mission_id
                          from plans.overrides where plan_id in {marks} order by applied_at desc limit 200""",
        params,
    )
    st.markdown(f"**Handled by the planner for this shift:** {len(done)}")
    if not done.empty:
        st.dataframe(done, hide_index=True, key="handled_overrides")
