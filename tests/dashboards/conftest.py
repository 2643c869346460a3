"""The serving snapshot `make run` publishes, built once per test session: `beatwise run` (the whole `main`
job, in process) on the embedded sample, simulated operations and report marts included. The run must succeed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from click.testing import CliRunner
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
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
    os.environ.pop("BEATWISE_CONFIG", None)  # the embedded sample, as `make run`
    os.environ["BEATWISE_WAREHOUSE"] = str(paths.warehouse_path())
    # No BEATWISE_NOW: the demo's own clock (demo.as_of) is the one under test.
    from beatwise.cli import cli

    result = CliRunner().invoke(cli, ["run"], catch_exceptions=False)  # the console script `beatwise run`
    assert result.exit_code == 0, result.output[-6000:]
    return paths.serving_path()


@pytest.fixture(scope="session")
def served_tables(serving_snapshot: Path) -> frozenset[str]:
    con = duckdb.connect(str(serving_snapshot), read_only=True)
    try:
        rows = con.execute("select table_schema || '.' || table_name from information_schema.tables").fetchall()
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
    at.switch_page(f"views/{stem}.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def charts(at: AppTest) -> list[tuple[dict, pd.DataFrame]]:
    """Each Altair/Vega-Lite chart on the page: its spec and the rows it draws."""
    found = []
    for chart in at.get("vega_lite_chart"):
        spec = json.loads(chart.proto.spec)
        frames = [convert_arrow_bytes_to_pandas_df(d.data.data) for d in chart.proto.datasets]
        found.append((spec, pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()))
    return found


class Downloads(dict):
    """What the page's download buttons serve: media URL -> (file name, bytes), recorded as AppTest's media
    storage stores them. A button whose file is made on click (a deferred download) is clicked with `click`:
    AppTest drops its media manager after each run, so the manager that registered it is kept here."""

    def __init__(self) -> None:
        super().__init__()
        self.managers: dict[str, MediaFileManager] = {}

    def click(self, file_id: str) -> str:
        """Make the deferred file `file_id` as a click does; returns its media URL."""
        return self.managers[file_id].execute_deferred(file_id)


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> Downloads:
    served = Downloads()
    store = MemoryMediaFileStorage.load_and_get_id
    defer = MediaFileManager.add_deferred

    def spy(self, path_or_data, mimetype, kind, filename=None):
        file_id = store(self, path_or_data, mimetype, kind, filename)
        served[self.get_url(file_id)] = (filename, self.get_file(file_id).content)
        return file_id

    def spy_deferred(self, *args, **kwargs):
        file_id = defer(self, *args, **kwargs)
        served.managers[file_id] = self
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", spy)
    monkeypatch.setattr(MediaFileManager, "add_deferred", spy_deferred)
    return served
