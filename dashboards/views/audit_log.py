"""Audit log: every load, run, plan and override; the hash chain's verification; drill into a record."""

import json

import duckdb
import pandas as pd
import streamlit as st

from beatwise import audit
from dashboards import auth, data

auth.guard(__file__)
st.title("Audit log")
data.require("raw.audit_log", waiting_on="the ingest and pipeline runs (raw.audit_log)")


@st.cache_data(ttl=data.CACHE_SECONDS, max_entries=4, show_spinner=False)
def chain_status(version: int, file: str) -> audit.Verification:
    con = duckdb.connect(file, read_only=True)
    try:
        return audit.verify(con)
    finally:
        con.close()


status = chain_status(data.snapshot_version(), str(data.snapshot_file()))
(st.success if status.ok else st.error)(str(status))
if status.ok:
    st.caption(
        f"Last hash (keep a copy elsewhere to detect a rewrite of the whole chain): `{status.last_hash}`"
    )

kinds = data.query("select kind, count(*) as n from raw.audit_log group by 1 order by 1")
span = data.query("select min(recorded_at)::date as lo, max(recorded_at)::date as hi from raw.audit_log")
c1, c2, c3, c4 = st.columns(4)
picked_kinds = c1.multiselect("Kind", kinds["kind"], key="audit_kinds")
dates = c2.date_input("Dates", (span["lo"].iat[0], span["hi"].iat[0]), key="audit_dates")
actor = c3.text_input("User or actor", key="audit_actor")
subject = c4.text_input("Run or subject contains", key="audit_subject")

clauses, params = [], []
if picked_kinds:
    marks, more = data.in_list(picked_kinds)
    clauses.append(f"kind in {marks}")
    params += more
if isinstance(dates, tuple | list) and len(dates) == 2:
    clauses.append("recorded_at::date between ? and ?")
    params += list(dates)
if actor.strip():
    clauses.append("actor ilike ?")
    params.append(f"%{actor.strip()}%")
if subject.strip():
    clauses.append("(subject ilike ? or payload ilike ?)")
    params += [f"%{subject.strip()}%"] * 2
where = ("where " + " and ".join(clauses)) if clauses else ""
rows = data.query(
    f"""select seq, recorded_at, kind, actor, subject, payload as payload_start
                      from raw.audit_log {where} order by seq desc limit 1000""",
    params,
)
rows["payload_start"] = rows["payload_start"].map(lambda p: data.json_in_words(p, width=160))
total = data.scalar(f"select count(*) from raw.audit_log {where}", params)
data.table(rows, hide_index=True, key="audit_table")
st.caption(f"{len(rows):,} of {total:,} matching records (newest first)")
data.csv_download(rows, "audit_log")

if not rows.empty:
    st.subheader("Record")
    seq = st.selectbox(
        "Open record",
        rows["seq"],
        format_func=lambda s: (
            f"#{s} " + " · ".join(str(v) for v in rows.set_index("seq").loc[s, ["kind", "actor", "subject"]])
        ),
    )
    record = data.query("select * from raw.audit_log where seq = ?", (int(seq),)).iloc[0]
    when = pd.Timestamp(record["recorded_at"])
    st.markdown(f"**{record['kind']}** by **{record['actor']}** on `{record['subject']}` at "
                f"{when:%a} {when.day} {when:%b %Y, %H:%M:%S}")
    payload = json.loads(record["payload"])
    st.json(payload, expanded=2)
    st.caption(f"hash `{record['hash']}` · previous `{record['prev_hash']}`")
    related = data.query(
        """select seq, recorded_at, kind, actor from raw.audit_log
                            where subject = ? and seq <> ? order by seq desc limit 50""",
        (record["subject"], int(seq)),
    )
    if not related.empty:
        st.markdown(f"Other records about `{record['subject']}`")
        data.table(pd.DataFrame(related), hide_index=True, key="audit_related")
