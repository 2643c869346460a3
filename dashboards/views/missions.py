"""Missions for a shift: map and table; analysts and supervisors add or suppress a mission with a reason,
and see what the planner made of it on this page as soon as it has handled it."""

from __future__ import annotations

import json
from datetime import timedelta

import pandas as pd
import streamlit as st

from beatwise.clock import agency_now
from dashboards import auth, data, maps, overrides
from models.forecasting.shifts import shift_minutes
from models.impact.estimator import POOL_STRATA
from models.planning.tactics import describe

OUTCOME_WORDS = {"applied": "applied", "rejected": "refused", "awaiting_approval": "waiting for a supervisor"}
CLICKABLE_CELLS = 5_000  # cells in view beyond which the map offers no click-to-add layer


def tactic_codes(tactics) -> list[str]:
    """A mission's tactics (records, JSON or names) as tactic codes."""
    if tactics is None or (isinstance(tactics, float) and pd.isna(tactics)):
        return []
    if isinstance(tactics, str):
        try:
            tactics = json.loads(tactics)
        except json.JSONDecodeError:
            tactics = [t.strip() for t in tactics.split(",")]
    return [str(n) for n in (t.get("tactic") if isinstance(t, dict) else t for t in tactics) if n]


def tactic_names(tactics) -> str:
    return ", ".join(code.replace("_", " ") for code in tactic_codes(tactics))


def crime_shares(shares) -> str:
    """{"robbery": 0.4, ...} (JSON) as 'robbery 40%, theft 25%'."""
    try:
        parsed = json.loads(shares) if isinstance(shares, str) else dict(shares or {})
    except (TypeError, ValueError):
        return str(shares or "")
    return ", ".join(f"{k.replace('_', ' ')} {v:.0%}" for k, v in parsed.items() if v)


def live_shift_index(starts: pd.Series) -> int:
    """The next shift to start (the plan still open to overrides that officers have not been briefed on),
    else the shift on now, else the newest. `starts` is newest first."""
    config = data.agency_config()
    now = agency_now(config)
    begins = [pd.Timestamp(t).to_pydatetime() for t in starts]
    upcoming = [i for i, t in enumerate(begins) if t >= now]
    if upcoming:
        return upcoming[-1]
    live = [i for i, t in enumerate(begins) if t + timedelta(minutes=shift_minutes(config, pd.Timestamp(t))) > now]
    return live[-1] if live else 0

user = auth.guard(__file__)
st.title("Missions")
data.require("plans.missions", waiting_on="the mission planning assets (plans.*)")

shifts = data.query("select distinct shift_start from plans.missions order by shift_start desc limit 60")
if shifts.empty:
    st.info("No missions have been planned yet.")
    st.stop()
left, right = st.columns([2, 3])
shift = left.selectbox(
    "Shift",
    shifts["shift_start"],
    index=live_shift_index(shifts["shift_start"]),
    format_func=lambda t: pd.Timestamp(t).strftime("%a %d %b %Y %H:%M"),
)
missions = data.query(
    """select mission_id, plan_id, shift_start, district, beat, cell_id, status, crime_types, tactics,
              dose_minutes, visits, inclusion_probability, changed_by, changed_reason, changed_at
       from plans.missions where shift_start = ? order by district, status, mission_id""",
    (shift,),
)
missions["district"] = missions["district"].fillna("-")
missions = data.with_places(missions).drop(columns=["blocks"])  # a place name for every cell
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
layers = [
    maps.jurisdiction_layer(),
    maps.cell_layer(shown, overrides.MISSION_LAYER, fields=["mission_id", "district", "beat", "status"]),
]
drawn = set(missions["cell_id"])
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
    layers.insert(1, maps.cell_layer(pool, overrides.CANDIDATE_LAYER, [188, 189, 220, 150],
                                     ["district", "beat", "status"]))
    drawn |= set(pool["cell_id"])
in_view = maps.cells()
in_view = in_view[in_view["district"].isin(chosen)]
# A layer of every cell in view lets a click anywhere pick one; past a few districts it costs seconds a render
# (the full city of Chicago has 27,000 cells), and the cell box below does the same job.
clickable = len(in_view) <= CLICKABLE_CELLS
if clickable:
    layers.insert(1, maps.other_cells_layer(overrides.CELL_LAYER, drawn, in_view))  # under the others
area = maps.cells()
area = area[area["cell_id"].isin(missions["cell_id"])] if not missions.empty else area
selection = maps.show(maps.deck(layers, area, "cell {cell_id}: click to pick it for an override"),
                      key="missions_map", selectable=True)
st.caption(
    "Blue: planned · green: added by an analyst · grey: suppressed · lavender: cells of the candidate pool "
    "(top and high strata) not drawn · faint grey: the rest of the jurisdiction. Click a mission to suppress "
    + ("it, or any other cell to add one there: the override form below is filled in." if clickable else
       f"it. To add one by clicking a cell, choose districts with at most {CLICKABLE_CELLS:,} cells in all, "
       "or type the cell id below.")
)
# A click fills the form once (a new selection), so a later change in the form is not undone on rerun.
picked = overrides.picked_on_map(selection, missions.loc[missions["status"] != "suppressed", "mission_id"])
if picked is not None and st.session_state.get("_map_pick") != picked:
    st.session_state["_map_pick"] = picked
    st.session_state["override_action"] = picked[0]
    if picked[0] == "suppress":
        st.session_state["override_mission"] = picked[1]
    else:
        st.session_state["override_cell"] = picked[1]

shown = missions.drop(columns=["plan_id", "shift_start"]).assign(
    crime_types=missions["crime_types"].map(crime_shares), tactics=missions["tactics"].map(tactic_names))
shown = shown[["place_name", *(c for c in shown.columns if c != "place_name")]]  # the place first
data.table(
    shown,
    hide_index=True,
    key="missions_table",
    column_config={
        "inclusion_probability": st.column_config.NumberColumn("P(selected)", format="%.3f"),
        "crime_types": st.column_config.TextColumn("Crime types", help="the crime types driving the mission"),
        "tactics": st.column_config.TextColumn(
            "tactics", help="; ".join(f"{t.replace('_', ' ')}: {describe(t)}" for t in sorted(
                {code for v in missions["tactics"] for code in tactic_codes(v)}))),
    },
)
data.csv_download(missions, f"missions_{pd.Timestamp(shift):%Y%m%d_%H%M}")


def mission_label(row: pd.Series) -> str:
    crimes = crime_shares(row["crime_types"]).split(",")[0] or "deterrence"
    return f"{row['place_name']} · district {row['district']} · beat {row['beat']} · {crimes} · {row['status']}"


st.subheader("Overrides")
if not user.can_override:
    st.caption(
        f"The {user.role} role reads missions but may not add or suppress them: the planner refuses such a "
        "request and records the attempt in the audit log."
    )
active = missions[missions["status"] != "suppressed"]
with st.form("override", clear_on_submit=False):
    action = st.radio(
        "Action",
        ["suppress", "add"],
        horizontal=True,
        format_func=lambda a: {"suppress": "Suppress a mission", "add": "Add a mission"}[a],
        key="override_action",
    )
    labels = {r["mission_id"]: mission_label(r) for _, r in active.iterrows()}
    to_suppress = st.selectbox("Mission to suppress", list(labels), format_func=labels.get, index=None,
                               placeholder="choose a mission of this shift", key="override_mission")
    pool_cells = (
        data.query(
            f"""select cell_id, any_value(district) as district, any_value(beat) as beat, max(priority) as priority
                from plans.plan_candidates where plan_id in {data.in_list(missions['plan_id'].unique())[0]}
                and draw = 0 and not selected group by cell_id order by priority desc limit 300""",
            list(missions["plan_id"].unique()),
        )
        if data.has("plans.plan_candidates") and not missions.empty and "priority" in data.columns(
            "plans.plan_candidates") else pd.DataFrame(columns=["cell_id", "district", "beat"])
    )
    cell_labels = {r["cell_id"]: f"cell {r['cell_id']} · district {r['district']} · beat {r['beat']}"
                   for _, r in pool_cells.iterrows()}
    to_add = st.selectbox("Cell to add a mission in (highest priority first)", list(cell_labels),
                          format_func=cell_labels.get, index=None, placeholder="choose a cell")
    other_cell = st.text_input("... or any cell id of the jurisdiction (or click it on the map)", key="override_cell")
    reason = st.text_area("Reason (recorded with your name in the audit log)")
    if st.form_submit_button("Send to the planner"):
        target = to_suppress if action == "suppress" else (other_cell.strip() or to_add)
        if missions.empty:
            st.error("No plan for this shift in the chosen districts.")
        elif not target:
            st.error("Choose a mission to suppress." if action == "suppress" else "Choose a cell to add a mission in.")
        elif action == "add" and not data.scalar(
            "select count(*) from marts.dim_cells where cell_id = ?", (target,)
        ):
            st.error(f"No cell {target!r} in the jurisdiction.")
        else:
            try:
                request = overrides.submit(
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
                st.session_state.setdefault("my_overrides", []).append(request["override_id"])


@st.fragment(run_every=5)
def my_requests() -> None:
    """This session's requests and what the planner made of them, refreshed until each is handled."""
    mine = st.session_state.get("my_overrides") or []
    if not mine:
        return
    waiting = {r["override_id"] for r in overrides.pending()}
    handled = (
        data.query(
            f"select override_id, action, outcome, message, replacement_mission_id from plans.overrides "
            f"where override_id in {data.in_list(mine)[0]}", mine,
        ).set_index("override_id")
        if data.has("plans.overrides") else pd.DataFrame()
    )
    for override_id in reversed(mine):
        if override_id in handled.index:
            row = handled.loc[override_id]
            outcome = OUTCOME_WORDS.get(row["outcome"], row["outcome"])
            words = f"Your {row['action']} request ({override_id[:8]}) was {outcome}"
            if row["outcome"] == "applied":
                extra = f"; its capacity was redrawn as {row['replacement_mission_id']}" \
                    if row["replacement_mission_id"] else ""
                st.success(f"{words} by the planner{extra}.", icon=":material/check_circle:")
            elif row["outcome"] == "awaiting_approval":
                st.info(f"{words}.", icon=":material/hourglass_top:")
            else:
                st.error(f"{words} by the planner: {row['message']}", icon=":material/block:")
        elif override_id in waiting:
            st.info(f"Request {override_id[:8]} is waiting for the planner (it checks the inbox every few seconds).",
                    icon=":material/hourglass_top:")
        else:
            st.info(f"Request {override_id[:8]} is being applied; the page shows the result when it is published.")


my_requests()

if user.can_approve:
    waiting_approval = overrides.awaiting()
    if waiting_approval:
        st.markdown(f"**Analysts' overrides waiting for your approval:** {len(waiting_approval)}")
        for request in waiting_approval:
            what = request.get("mission_id") or request.get("cell_id")
            cols = st.columns([4, 1])
            cols[0].write(f"{request['user']}: {request['action']} {what}: {request['reason']}")
            if cols[1].button("Approve", key=f"approve_{request['override_id']}"):
                sent = overrides.submit(user, "approve", f"approved by {user.username}",
                                        approves=request["override_id"])
                st.session_state.setdefault("my_overrides", []).append(sent["override_id"])

waiting = overrides.pending()
st.markdown(f"**Waiting in the inbox:** {len(waiting)}")
if waiting:
    data.table(pd.DataFrame(waiting), hide_index=True, key="pending_overrides")
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
        data.table(done, hide_index=True, key="handled_overrides")
