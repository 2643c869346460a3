"""A real browser (Debian's chromium, headless) logs in and opens the Missions page, the Risk map and a report.

Fails, never skips, when chromium is missing: `.ci/run` installs it (apt-get install chromium).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.dashboards.conftest import APP, PASSWORDS

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def app_url(serving_snapshot, tmp_path):
    port = _free_port()
    streamlit = Path(sys.executable).with_name("streamlit")
    log = (tmp_path / "streamlit.log").open("w")
    proc = subprocess.Popen(
        [
            str(streamlit),
            "run",
            str(APP),
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
        ],
        env=os.environ.copy(),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
                break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    log_text = (tmp_path / "streamlit.log").read_text()[-2000:]
                    raise RuntimeError(f"streamlit did not start: {log_text}") from None
                time.sleep(0.5)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
        log.close()


@pytest.mark.browser
def test_log_in_and_open_missions_risk_map_and_a_report(app_url, served_tables, tmp_path):
    assert Path(CHROMIUM).exists() or shutil.which("chromium"), (
        "Debian's chromium is missing: apt-get install -y chromium chromium-driver"
    )
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium") or CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(app_url)
        page.get_by_role("textbox", name="Username").fill("analyst")
        page.get_by_role("textbox", name="Password").fill(PASSWORDS["analyst"])
        page.get_by_role("button", name="Login").click()
        page.get_by_text("Signed in as").wait_for(timeout=30_000)
        page.screenshot(path=tmp_path / "after_login.png")

        for stem, title, needs in [
            ("missions", "Missions", {"plans.missions"}),
            ("risk_map", "Risk map", {"forecast.risk_surfaces", "marts.dim_cells"}),
        ]:
            assert needs <= served_tables
            page.get_by_role("link", name=title).click()  # in-app navigation keeps the session
            page.get_by_role("heading", name=title).wait_for(timeout=30_000)
            page.locator("[data-testid='stDeckGlJsonChart'] canvas").first.wait_for(timeout=30_000)
            page.locator("[data-testid='stDataFrame']").first.wait_for(timeout=30_000)
            time.sleep(1.5)  # let deck.gl draw the cells before the screenshot
            box = page.locator("[data-testid='stDeckGlJsonChart'] canvas").first.bounding_box()
            assert box and box["width"] > 300 and box["height"] > 300
            page.screenshot(path=tmp_path / f"{stem}.png", full_page=True)
            assert (tmp_path / f"{stem}.png").stat().st_size > 10_000

        # A report page: its chart, table and CSV download, from the report marts of the simulated operations.
        assert "marts.rpt_shift" in served_tables
        page.get_by_role("link", name="Shift report").click()
        page.get_by_role("heading", name="Shift report").wait_for(timeout=30_000)
        chart = page.locator("[data-testid='stVegaLiteChart']").first
        chart.locator("canvas, svg").first.wait_for(timeout=30_000)
        page.locator("[data-testid='stDataFrame']").first.wait_for(timeout=30_000)
        page.locator("[data-testid='stDownloadButton']").first.wait_for(timeout=30_000)
        box = chart.bounding_box()
        assert box and box["width"] > 300 and box["height"] > 100
        assert page.get_by_text("No data yet").count() == 0
        page.screenshot(path=tmp_path / "shift_report.png", full_page=True)
        browser.close()
