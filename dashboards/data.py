"""Read-only queries against the published serving snapshot.

Each query opens its own short read-only DuckDB connection and closes it (STACK.md: a connection held for
the app's lifetime would block the publisher). Results are cached briefly, keyed by the snapshot file's
modification time, so a republished snapshot is read as soon as it is swapped in.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from beatwise import paths
from beatwise.config import AgencyConfig, load_config

CACHE_SECONDS = 300


def snapshot_file() -> Path:
    return paths.serving_path()


def snapshot_version() -> int:
    """Changes whenever the snapshot is republished (0: none published yet)."""
    try:
        return snapshot_file().stat().st_mtime_ns
    except FileNotFoundError:
        return 0


@st.cache_data(ttl=CACHE_SECONDS, max_entries=512, show_spinner=False)
def _run(sql: str, params: tuple, version: int, file: str) -> pd.DataFrame:
    con = duckdb.connect(file, read_only=True)
    try:
        return con.execute(sql, list(params)).df()
    finally:
        con.close()


def query(sql: str, params: tuple | list = ()) -> pd.DataFrame:
    """Rows of `sql` against the snapshot (empty frame when nothing is published yet)."""
    version = snapshot_version()
    if not version:
        return pd.DataFrame()
    return _run(sql, tuple(params), version, str(snapshot_file()))


def scalar(sql: str, params: tuple | list = ()):
    frame = query(sql, params)
    return None if frame.empty else frame.iat[0, 0]


def tables() -> frozenset[str]:
    """`schema.table` names in the snapshot."""
    frame = query("select table_schema || '.' || table_name as name from information_schema.tables")
    return frozenset(frame["name"]) if not frame.empty else frozenset()


def has(*names: str) -> bool:
    return set(names) <= tables()


def columns(table: str) -> list[str]:
    schema, name = table.split(".")
    frame = query(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ?"
        " order by ordinal_position",
        (schema, name),
    )
    return [] if frame.empty else list(frame["column_name"])


def require(*names: str, waiting_on: str) -> None:
    """Stop the page with a clear 'no data yet' message unless every table is in the snapshot."""
    if not snapshot_version():
        st.info("No serving snapshot has been published yet: run `make run` (or the Dagster job `main`).")
        st.stop()
    missing = [n for n in names if n not in tables()]
    if missing:
        st.info(
            f"No data yet: {', '.join(missing)} is not in the serving snapshot. It comes from {waiting_on}."
        )
        st.stop()


@st.cache_resource(show_spinner=False)
def _config(file: str, mtime_ns: int) -> AgencyConfig:
    return load_config(file)


def agency_config() -> AgencyConfig:
    """The agency configuration the pipeline runs for ($BEATWISE_CONFIG, else the embedded sample)."""
    file = os.environ.get("BEATWISE_CONFIG") or str(paths.PROJECT_ROOT / "config" / "chicago_sample.yaml")
    return _config(file, Path(file).stat().st_mtime_ns)


def simulated_operations() -> bool:
    """Whether the published operations (plans replayed, patrols, activity) include simulated ones."""
    if agency_config().is_demo:
        return True
    if not has("marts.rpt_shift") or "simulated_operations" not in columns("marts.rpt_shift"):
        return False
    return bool(scalar("select coalesce(bool_or(simulated_operations), false) from marts.rpt_shift"))


def in_list(values) -> tuple[str, list]:
    """A `(?, ?, ...)` placeholder list and its parameters, for filters chosen in the page."""
    values = list(values)
    return "(" + ", ".join("?" for _ in values) + ")", values


def csv_download(frame: pd.DataFrame, name: str, label: str = "Download CSV") -> None:
    """A download for signed-in users only. Streamlit serves a registered file to anyone holding its
    address, so none is registered up front: the button exists only in a signed-in session, and the file
    is made when that session (over its own connection) asks for it."""
    from dashboards.auth import current_user

    if current_user() is None:
        return
    st.download_button(
        label,
        lambda: frame.to_csv(index=False).encode("utf-8"),
        file_name=f"{name}.csv",
        mime="text/csv",
        key=f"csv_{name}",
    )
