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
# Per shift, not per day: the plan of the next shift alone would end a daily series in a cliff.
by_day = data.query(f"""select shift_start, district, count(*) as missions,
                               sum(dose_minutes * visits) as patrol_minutes
                        from plans.missions where {active} group by all order by shift_start""")
st.subheader("Planned patrol minutes by district, shift by shift")
st.altair_chart(
    alt.Chart(by_day)
    .mark_area()
    .encode(
        x=alt.X("shift_start:T", title=None),
        y=alt.Y("patrol_minutes:Q", title="planned patrol minutes per shift", stack=True),
        color="district:N",
        tooltip=[alt.Tooltip("shift_start:T", title="shift", format="%a %d %b %Y, %H:%M"), "district:N",
                 "missions:Q", alt.Tooltip("patrol_minutes:Q", title="planned minutes")],
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
span = data.query(f"select min(shift_start) as lo, max(shift_start) as hi from plans.missions where {active}")
windows = (data.missions_in_windows(span["lo"].iat[0], span["hi"].iat[0] + pd.Timedelta(seconds=1))
           if pd.notna(span["lo"].iat[0]) else pd.DataFrame(columns=["in_window", "drawn_in_window", "added"]))
st.metric(
    f"Missions that reached the cap ({cfg.max_missions_per_cell} in {cfg.window_shifts} shifts)",
    f"{int((windows['in_window'] >= cfg.max_missions_per_cell).sum()):,} of {len(windows):,}",
)
if data.has("plans.plan_candidates"):
    reasons = data.query("""select ineligible_reason, count(*) as candidates from plans.plan_candidates
                            where not eligible group by 1 order by 2 desc""")
    data.table(reasons, hide_index=True, key="ineligible_reasons")

# The exposure report: the window's patrol minutes against crime, the caps, the closed-loop result.
import json  # noqa: E402

from dashboards.exposure_report import closed_loop_table, exposure_pdf  # noqa: E402

st.header("Exposure report")
over = int((windows["drawn_in_window"] > cfg.max_missions_per_cell).sum())
added_over = int((windows["added"].astype(bool) & (windows["in_window"] > cfg.max_missions_per_cell)).sum())
caps = [
    f"At most {cfg.max_missions_per_cell} missions per cell in {cfg.window_shifts} shifts: "
    + (f"broken by {over:,} of the planner's missions." if over else "held by the planner on every shift.")
    + (f" {added_over:,} mission{'' if added_over == 1 else 's'} added by analysts went over it." if added_over
       else ""),
]
if data.has("plans.plan_candidates"):
    top = data.query("""select count(*) filter (where top_missions > floor(? * missions)) as over, count(*) as plans
                        from (select plan_id, district, count(*) filter (where stratum = 'top') as top_missions,
                                     count(*) as missions
                              from plans.plan_candidates where draw = 0 and selected group by all)""",
                     (cfg.top_cells_max_mission_share,))
    top_over = int(top["over"].iat[0] or 0)
    caps.append(
        f"The top {cfg.top_cells_share:.0%} of a district's cells take at most {cfg.top_cells_max_mission_share:.0%} "
        f"of its missions: " + ("held in every district plan." if top_over == 0
                                else f"broken in {top_over:,} of {int(top['plans'].iat[0]):,} district plans.")
    )
caps.append(f"{cfg.low_risk_reserved_share:.0%} of missions are reserved for lower-risk cells.")
for text in caps:
    st.write(text)

districts = deciles = pd.DataFrame()
simulated = False
MEASURES = {"minutes_share": "share of patrol minutes", "crime_share": "share of crime"}
if data.has("marts.rpt_exposure_district", "marts.rpt_exposure_risk_decile"):
    districts = data.query("select * from marts.rpt_exposure_district order by district")
    deciles = data.query("select * from marts.rpt_exposure_risk_decile order by risk_decile")
if districts.empty:
    st.info("The exposure marts (marts.rpt_exposure_*) appear once missions have dosage (field operations).")
else:
    simulated = bool(districts["simulated_operations"].any())
    st.caption(f"Last {(districts['window_end'].max() - districts['window_start'].min()).days + 1} days: "
               f"{districts['window_start'].min():%Y-%m-%d} to {districts['window_end'].max():%Y-%m-%d}."
               + (" SIMULATED field operations (demo)." if simulated else ""))
    views = ((districts, "district", "district"), (deciles, "risk_decile", "risk decile (1 = riskiest)"))
    for frame, by, title in views:
        long = frame.rename(columns=MEASURES).melt(id_vars=[by], value_vars=list(MEASURES.values()),
                                                   var_name="measure", value_name="share")
        st.subheader(f"Patrol minutes and crime by {title}")
        st.altair_chart(
            alt.Chart(long).mark_bar().encode(
                x=alt.X(f"{by}:N", title=title), xOffset="measure:N",
                y=alt.Y("share:Q", title="share of the jurisdiction's total", axis=alt.Axis(format="%")),
                color=alt.Color("measure:N", title=None, legend=alt.Legend(orient="bottom")),
                tooltip=[f"{by}:N", "measure:N", alt.Tooltip("share:Q", format=".1%")],
            ),
            width="stretch",
        )
        data.table(frame.drop(columns=["window_start", "window_end"]), hide_index=True, key=f"exposure_{by}",
                   column_config={c: st.column_config.NumberColumn(label, format="percent")
                                  for c, label in MEASURES.items()})

st.subheader("Closed loop: does patrol run away from true crime?")
from beatwise.paths import closed_loop_result  # noqa: E402

result_file = closed_loop_result(data.agency_config().agency.slug)
closed_loop = json.loads(result_file.read_text()) if result_file.exists() else None
if closed_loop is None:
    st.caption("Not run yet for this configuration: `beatwise simulate closed-loop --config <this agency's config>`.")
else:
    st.caption(f"Last run {closed_loop['run_at']}: {closed_loop['days']} days x {closed_loop['seeds']} seeds on a "
               f"synthetic city of {closed_loop['cells']:,} cells, planned with this configuration. "
               "Mean over seeds [90% interval]; top-1% cap "
               f"{next(iter(closed_loop['policies'].values()))['top1_share_cap']:.0%}.")
    data.table(closed_loop_table(closed_loop), hide_index=True, key="closed_loop")

st.download_button(
    "Download the exposure report (PDF)",
    exposure_pdf(data.agency_config().agency.name, districts, deciles, caps, closed_loop, simulated),
    file_name="exposure_report.pdf",
    mime="application/pdf",
)
