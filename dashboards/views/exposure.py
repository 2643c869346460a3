"""Exposure and fairness: how patrol time and missions spread over areas and time, and how concentrated."""

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from dashboards import auth, data

auth.guard(__file__)
st.title("Exposure and fairness")
st.caption("Who gets directed patrols, how often, and how concentrated the attention is.")
data.require("plans.missions", waiting_on="the mission planning assets (plans.*)")

active = "status <> 'suppressed'"
by_day = data.query(f"""select date_trunc('day', shift_start) as day, district, count(*) as missions,
                               sum(dose_minutes * visits) as patrol_minutes
                        from plans.missions where {active} group by all order by day""")
st.subheader("Patrol minutes and missions by district over time")
st.altair_chart(
    alt.Chart(by_day)
    .mark_area()
    .encode(
        x=alt.X("day:T", title=None),
        y=alt.Y("patrol_minutes:Q", title="planned patrol minutes", stack=True),
        color="district:N",
        tooltip=["day:T", "district:N", "missions:Q", "patrol_minutes:Q"],
    ),
    width="stretch",
)

level = st.radio(
    "Area",
    ["cell_id", "beat", "district"],
    horizontal=True,
    format_func=lambda c: {"cell_id": "cell", "beat": "beat", "district": "district"}[c],
)
# Every area counts, missions or not: a Lorenz curve over only the patrolled areas would hide the rest.
universe = "marts.dim_cells" if data.has("marts.dim_cells") else "plans.missions"
minutes = data.query(f"""with areas as (select distinct {level} as area from {universe}),
                             got as (select {level} as area, sum(dose_minutes * visits) as minutes
                                     from plans.missions where {active} group by 1)
                         select areas.area, coalesce(got.minutes, 0) as minutes
                         from areas left join got using (area) order by minutes""")
values = np.sort(minutes["minutes"].to_numpy(float))
if values.sum() > 0:
    cum = np.concatenate([[0], np.cumsum(values) / values.sum()])
    share = np.linspace(0, 1, len(cum))
    gini = 1 - np.sum((cum[1:] + cum[:-1]) * np.diff(share))
    step = max(1, len(cum) // 500)
    curve = pd.DataFrame({"areas": share[::step], "patrol minutes": cum[::step]})
    a, b = st.columns([1, 2])
    a.metric(f"Gini over {len(values):,} areas", f"{gini:.3f}")
    a.metric("Areas never patrolled", f"{(values == 0).mean():.0%}")
    equality = (
        alt.Chart(pd.DataFrame({"x": [0, 1], "y": [0, 1]}))
        .mark_line(strokeDash=[4, 4], color="grey")
        .encode(x="x", y="y")
    )
    b.altair_chart(
        equality
        + alt.Chart(curve)
        .mark_line()
        .encode(
            x=alt.X("areas:Q", title="share of areas (least patrolled first)", axis=alt.Axis(format="%")),
            y=alt.Y("patrol minutes:Q", title="share of patrol minutes", axis=alt.Axis(format="%")),
        ),
        width="stretch",
    )

st.subheader("Cells by days as a mission in the last 30 days")
days = data.query(f"""with last as (select max(shift_start) as t from plans.missions),
                           per_cell as (select cell_id, count(distinct date_trunc('day', shift_start)) as days
                                        from plans.missions, last
                                        where {active} and shift_start > t - interval 30 day group by 1)
                      select days, count(*) as cells from per_cell group by 1 order by 1""")
st.altair_chart(
    alt.Chart(days)
    .mark_bar()
    .encode(x=alt.X("days:O", title="days as a mission"), y=alt.Y("cells:Q", title="cells")),
    width="stretch",
)

cfg = data.agency_config().exposure
st.subheader("Exposure caps")
repeats = data.query(
    f"""with ranked as (
        select cell_id, shift_start, dense_rank() over (order by shift_start) as k
        from plans.missions where {active}),
      windows as (select a.cell_id, a.shift_start, count(*) as in_window from ranked a join ranked b
                  on a.cell_id = b.cell_id and b.k between a.k - ? + 1 and a.k group by all)
      select count(*) filter (where in_window >= ?) as at_cap, count(*) as missions from windows""",
    (cfg.window_shifts, cfg.max_missions_per_cell),
)
at_cap, total = int(repeats["at_cap"].iat[0] or 0), int(repeats["missions"].iat[0] or 0)
st.metric(
    f"Missions that reached the cap ({cfg.max_missions_per_cell} in {cfg.window_shifts} shifts)",
    f"{at_cap:,} of {total:,}",
)
if data.has("plans.plan_candidates"):
    reasons = data.query("""select ineligible_reason, count(*) as candidates from plans.plan_candidates
                            where not eligible group by 1 order by 2 desc""")
    st.dataframe(reasons, hide_index=True, key="ineligible_reasons")
