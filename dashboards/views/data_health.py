"""Data health: feed freshness, rows loaded and quarantined with reasons, the last loads."""

from datetime import datetime

import altair as alt
import streamlit as st

from beatwise.ingest.upsert import REASON_RULE_SQL
from dashboards import auth, data

auth.guard(__file__)
st.title("Data health")
data.require("raw.load_log", waiting_on="the ingest assets (raw.load_log)")

cols = set(data.columns("raw.load_log"))
rows_in = next((c for c in ("rows_read", "rows_in") if c in cols), None)
loaded = [c for c in ("rows_inserted", "rows_updated") if c in cols]
finished = "finished_at" if "finished_at" in cols else ("finished" if "finished" in cols else None)
stamp = finished or next(c for c in ("started_at", "started") if c in cols)

freshness = data.query(f"""select feed, max({stamp}) as last_load, count(*) as loads,
        {f"sum({rows_in})" if rows_in else "null"} as rows_read,
        {" + ".join(f"sum({c})" for c in loaded) if loaded else "null"} as rows_loaded,
        {"sum(rows_quarantined)" if "rows_quarantined" in cols else "null"} as rows_quarantined
    from raw.load_log group by feed order by feed""")
snapshot_at = data.scalar("select max(" + stamp + ") from raw.load_log")
st.subheader("Feeds")
published = datetime.fromtimestamp(data.snapshot_version() / 1e9)
last_load = f"{snapshot_at:%a %d %b %Y, %H:%M}" if hasattr(snapshot_at, "strftime") else "none yet"
st.caption(f"Serving snapshot published {published:%a %d %b %Y, %H:%M}; last feed load {last_load}")
data.table(freshness, hide_index=True, key="feeds_table")

st.subheader("Quarantined rows")
if data.has("raw.quarantine"):
    reasons = data.query("""select feed, reason, count(*) as rows from raw.quarantine
                            group by all order by rows desc limit 200""")
    if reasons.empty:
        st.success("No row has been quarantined.")
    else:
        # The chart counts by rule; the details (a cell, row numbers) are in the table below.
        rules = data.query(f"""select feed, {REASON_RULE_SQL} as rule, count(*) as rows
                               from raw.quarantine group by all order by rows desc limit 20""")
        rules["feed"] = rules["feed"].str.replace("_", " ")  # the legend in words, as the tables
        st.altair_chart(
            alt.Chart(rules)
            .mark_bar()
            .encode(
                x=alt.X("rows:Q", title="rows quarantined"),
                y=alt.Y("rule:N", sort="-x", title=None, axis=alt.Axis(labelLimit=360)),
                color=alt.Color("feed:N", legend=alt.Legend(orient="bottom")),
                tooltip=["feed", "rule", "rows"],
            ),
            width="stretch",
        )
        data.table(reasons, hide_index=True, key="quarantine_reasons")
        feed = st.selectbox("Examples from feed", reasons["feed"].unique(), format_func=lambda f: f.replace("_", " "))
        examples = data.query(
            """select source_file, row_number, natural_key, reason, record from raw.quarantine
                                 where feed = ? order by load_id desc, row_number limit 100""",
            (feed,),
        )
        examples["record"] = examples["record"].map(data.json_in_words)
        data.table(examples, hide_index=True, key="quarantine_examples")
else:
    st.info("raw.quarantine is not in the serving snapshot yet.")

st.subheader("Last loads")
st.caption("A file marked unchanged was loaded before with the same contents and settings, onto the table as "
           "it is now: it was not read again, and the row counts are those of that load.")
SHOWN = {"feed": "feed", "file": "file", "status": "status", "finished": stamp, "rows read": rows_in,
         "new rows": "rows_inserted", "changed rows": "rows_updated", "rows as before": "rows_unchanged",
         "quarantined": "rows_quarantined", "why refused": "error"}
shown = ", ".join(f'{sql} as "{label}"' for label, sql in SHOWN.items() if sql in cols)
data.table(data.query(f"select {shown} from raw.load_log order by {stamp} desc limit 50"),
           hide_index=True, key="loads_table")
data.csv_download(data.query(f"select * from raw.load_log order by {stamp} desc limit 50"), "load_log")
