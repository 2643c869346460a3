"""Pages keep working while the pipeline rebuilds and republishes the serving snapshot."""

from __future__ import annotations

import threading

from beatwise import warehouse
from orchestration.defs.publish import publish
from tests.dashboards.conftest import logged_in, open_page, snapshot_rows

PAGES = ["missions", "risk_map", "exposure", "data_health", "audit_log"]


def test_pages_render_while_the_snapshot_is_republished(serving_snapshot):
    at = logged_in("supervisor")
    before = snapshot_rows("select count(*) from raw.audit_log where kind = 'publish'")[0][0]
    published, failures, stop = [], [], threading.Event()

    def republish() -> None:
        try:
            with warehouse.connect() as con:  # the pipeline's one writer
                while not stop.is_set() and len(published) < 20:
                    publish(con)
                    published.append(1)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            failures.append(exc)

    writer = threading.Thread(target=republish)
    writer.start()
    try:
        renders = 0
        while writer.is_alive() or renders < len(PAGES):
            open_page(at, PAGES[renders % len(PAGES)])  # asserts the page raised nothing
            renders += 1
    finally:
        stop.set()
        writer.join()
    assert not failures, failures
    assert published and renders >= len(PAGES)
    # The pages read the newest snapshot once it is swapped in.
    after = snapshot_rows("select count(*) from raw.audit_log where kind = 'publish'")[0][0]
    assert after == before + len(published)
    open_page(at, "audit_log")
    total = snapshot_rows("select count(*) from raw.audit_log")[0][0]
    assert f"of {total:,} matching records" in " ".join(c.value for c in at.caption)
