"""A serving snapshot built by the real pipeline on the embedded sample, once per test session.

The assets upstream of ["serving", "snapshot"] run in process and must all succeed.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from beatwise import paths

APP = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"
PASSWORDS = {
    "analyst": "analyst-demo",
    "supervisor": "supervisor-demo",
    "auditor": "auditor-demo",
    "admin": "admin-demo",
}


@pytest.fixture(scope="session")
def serving_snapshot(beatwise_home: Path) -> Path:
    os.environ.pop("BEATWISE_CONFIG", None)  # the embedded sample
    os.environ["BEATWISE_WAREHOUSE"] = str(paths.warehouse_path())
    os.environ.setdefault("BEATWISE_NOW", "2016-12-31T00:00:00")
    from orchestration.definitions import defs

    snapshot = dg.AssetKey(["serving", "snapshot"])
    job = dg.define_asset_job("dashboards_upstream", selection=dg.AssetSelection.assets(snapshot).upstream())
    merged = dg.Definitions.merge(defs, dg.Definitions(jobs=[job]))
    with dg.DagsterInstance.ephemeral() as instance:
        result = merged.resolve_job_def("dashboards_upstream").execute_in_process(instance=instance)
    assert any(e.asset_key == snapshot for e in result.get_asset_materialization_events())
    return paths.serving_path()


@pytest.fixture(scope="session")
def served_tables(serving_snapshot: Path) -> frozenset[str]:
    con = duckdb.connect(str(serving_snapshot), read_only=True)
    try:
        rows = con.execute(
            "select table_schema || '.' || table_name from information_schema.tables"
        ).fetchall()
    finally:
        con.close()
    return frozenset(r[0] for r in rows)


def snapshot_rows(sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(paths.serving_path()), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def logged_in(username: str) -> AppTest:
    """The app after `username` logged in through the real login form."""
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.text_input[0].input(username)
    at.text_input[1].input(PASSWORDS[username])
    at.button[0].click()
    at.run()
    assert not at.exception, at.exception
    return at


def open_page(at: AppTest, stem: str) -> AppTest:
    at.switch_page(f"pages/{stem}.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at
