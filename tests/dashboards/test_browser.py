"""A real browser (Debian's chromium, headless) logs in as each role and opens every page it may.

It checks what a user sees: no developer toolbar, a deep link kept through the login, tactic names and no
raw JSON or dict in any table cell, the simulated-operations banner, an analyst's override placed and
applied in the demo and an auditor's refused with the reason, on screen. Screenshots go to
$BEATWISE_SCREENSHOTS (else the test's temporary folder).
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

from dashboards.auth import PAGE_ROLES
from dashboards.catalog import PAGES
from tests.dashboards.conftest import APP, PASSWORDS, snapshot_rows

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
            "--client.toolbarMode",
            "viewer",
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
        chart.locator("canvas, svg.marks").first.wait_for(timeout=30_000)  # Vega draws SVG in Streamlit 1.67
        page.locator("[data-testid='stDataFrame']").first.wait_for(timeout=30_000)
        page.locator("[data-testid='stDownloadButton']").first.wait_for(timeout=30_000)
        box = chart.bounding_box()
        assert box and box["width"] > 300 and box["height"] > 100
        assert page.get_by_text("No data yet").count() == 0
        page.screenshot(path=tmp_path / "shift_report.png", full_page=True)
        browser.close()


def _shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("BEATWISE_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _log_in(page, username: str) -> None:
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(PASSWORDS[username])
    page.get_by_role("button", name="Login").click()
    page.get_by_text("Signed in as").wait_for(timeout=60_000)


def _settle(page) -> None:
    """Wait until the script has finished running (no running indicator) and charts had time to draw."""
    page.wait_for_timeout(800)
    page.locator("[data-testid='stStatusWidget']").wait_for(state="detached", timeout=90_000)
    page.wait_for_timeout(700)


def _cells(page) -> list[str]:
    """The text of every table cell on the page (the grids' accessible tables)."""
    return page.locator("[data-testid='stDataFrame'] td, [data-testid='stTable'] td").all_inner_texts()


def _apply_overrides() -> None:
    """What the Dagster sensor does with `make ui` running: the apply_overrides job, then republish."""
    import dagster as dg

    from orchestration.definitions import defs

    with dg.DagsterInstance.get() as instance:
        assert defs.resolve_job_def("apply_overrides").execute_in_process(instance=instance).success


def _override(page, action_label: str, reason: str) -> None:
    page.get_by_role("link", name="Missions").click()
    page.get_by_role("heading", name="Missions").wait_for(timeout=60_000)
    _settle(page)
    form = page.locator("[data-testid='stForm']")
    form.get_by_text(action_label).click()
    form.get_by_placeholder("choose a mission of this shift").click()  # the selectbox placeholder (1.67)
    page.get_by_role("option").first.click()
    form.get_by_role("textbox", name="Reason").fill(reason)
    form.get_by_role("button", name="Send to the planner").click()
    page.get_by_text("is waiting for the planner").wait_for(timeout=60_000)


@pytest.mark.browser
def test_every_page_as_each_role_and_overrides_in_the_demo(app_url, served_tables, tmp_path):
    shots = _shots(tmp_path)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium") or CHROMIUM, args=ARGS)
        for role in ("analyst", "supervisor", "auditor", "admin"):
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = context.new_page()
            # A deep link: the login comes first, then the page the link points to.
            page.goto(f"{app_url}/tactic_report")
            _log_in(page, role)
            page.get_by_role("heading", name="Tactic report").wait_for(timeout=60_000)
            assert page.get_by_text("Page not found").count() == 0
            # Viewer toolbar: no Deploy button, no developer menu.
            assert page.get_by_role("button", name="Deploy").count() == 0
            assert page.locator("[data-testid='stAppDeployButton']").count() == 0
            for stem, (_, title, _) in PAGES.items():
                if role not in PAGE_ROLES[stem]:
                    continue
                page.get_by_role("link", name=title, exact=True).click()
                page.get_by_role("heading", name=title).first.wait_for(timeout=60_000)
                _settle(page)
                assert page.locator("[data-testid='stException']").count() == 0, (role, stem)
                cells = _cells(page)
                raw = [c for c in cells if c.lstrip().startswith(("{", "[{"))]
                assert not raw, (role, stem, raw[:3])
                if stem in {"missions", "shift_report", "tactic_report", "officer_report", "crime_dosage"}:
                    assert page.get_by_text("Simulated operations.").count() == 1, (role, stem)
                if stem == "commander_summary":  # its own week's warning, not the page banner as well
                    assert page.get_by_text("Simulated operations").count() == 1, (role, stem)
                if stem == "tactic_report":
                    assert "Park and walk" in cells or "Foot patrol" in cells, cells[:20]
                    assert not any("_" in c for c in cells if c in {"park_and_walk", "foot_patrol"})
                page.screenshot(path=shots / f"{role}_{stem}.png", full_page=True)
            context.close()

        # An analyst's override in the demo: placed, handled by the planner, applied, on screen.
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.goto(app_url)
        _log_in(page, "analyst")
        _override(page, "Suppress a mission", "a street festival closes the block")
        _apply_overrides()
        page.get_by_text("was applied by the planner").wait_for(timeout=60_000)
        page.screenshot(path=shots / "override_applied.png", full_page=True)
        context.close()

        # An auditor's is refused by the planner, with the reason on screen and in the audit log.
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.goto(app_url)
        _log_in(page, "auditor")
        _override(page, "Suppress a mission", "I should not be able to")
        _apply_overrides()
        page.get_by_text("the auditor role may not add or suppress missions").wait_for(timeout=60_000)
        page.screenshot(path=shots / "override_refused.png", full_page=True)
        context.close()
        browser.close()
    logged = snapshot_rows("select user_name, role, outcome, message from plans.overrides order by applied_at")
    assert ("analyst", "analyst", "applied", "") in logged
    assert any(r[:3] == ("auditor", "auditor", "rejected") for r in logged)


def _click_colour(page, canvas, rgb: tuple[int, int, int]) -> None:
    """Click the middle of the map's solid patches of colour `rgb` (a drawn cell, not a label or a dot)."""
    import io

    import numpy as np
    from PIL import Image
    from scipy.ndimage import binary_erosion

    shot = np.array(Image.open(io.BytesIO(canvas.screenshot())).convert("RGB")).astype(int)
    box = canvas.bounding_box()  # after the screenshot, which scrolls the canvas into view
    match = np.all(np.abs(shot - np.array(rgb)) < 4, axis=-1)
    ys, xs = np.nonzero(binary_erosion(match, np.ones((7, 7))))
    assert len(xs), f"no patch of colour {rgb} on the map"
    i = len(xs) // 2
    x, y = box["x"] + xs[i] * box["width"] / shot.shape[1], box["y"] + ys[i] * box["height"] / shot.shape[0]
    page.mouse.move(x, y)  # deck.gl picks on hover first
    page.wait_for_timeout(500)
    page.mouse.click(x, y)


@pytest.mark.browser
def test_a_click_on_the_missions_map_fills_the_override_form(app_url, served_tables):
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium") or CHROMIUM, args=ARGS)
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        page.goto(f"{app_url}/missions")
        _log_in(page, "analyst")
        page.get_by_role("heading", name="Missions").wait_for(timeout=60_000)
        _settle(page)
        canvas = page.locator("[data-testid='stDeckGlJsonChart'] canvas").first
        canvas.wait_for(timeout=30_000)
        page.wait_for_timeout(1500)
        # A planned mission (blue, [31, 119, 180] at 220/255 over the grey) picks it to suppress.
        _click_colour(page, canvas, (34, 120, 180))
        _settle(page)
        form = page.locator("[data-testid='stForm']")
        picked = form.get_by_placeholder("choose a mission of this shift").input_value()
        assert "· planned" in picked and "district" in picked, picked
        assert form.locator("input[type=radio]:checked").get_attribute("value") == "0"  # Suppress a mission
        browser.close()
