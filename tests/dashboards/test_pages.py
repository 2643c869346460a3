"""Every page on the snapshot the real pipeline published: what it shows, checked against the snapshot.

A page whose tables the pipeline has not built yet must say so plainly ('No data yet'); once they are
built, the same test checks the page's map, tables and figures against the snapshot.
"""

from __future__ import annotations

import json

import pytest

from dashboards import auth
from models.planning import overrides as inbox
from tests.dashboards.conftest import logged_in, open_page, snapshot_rows


@pytest.fixture(scope="module")
def analyst(serving_snapshot):
    return logged_in("analyst")


def _no_data(at, table: str) -> bool:
    return any(table in i.value and "No data yet" in i.value for i in at.info)


def _deck(at) -> dict:
    charts = at.get("deck_gl_json_chart")
    assert charts, "no map rendered"
    return json.loads(charts[0].proto.json)


def test_missions_page(analyst, served_tables):
    at = open_page(analyst, "missions")
    assert [t.value for t in at.title] == ["Missions"]
    if "plans.missions" not in served_tables:
        assert _no_data(at, "plans.missions")
        return
    shift = at.selectbox[0].value
    expected = snapshot_rows(
        "select count(*) filter (where status <> 'suppressed') from plans.missions where shift_start = ?",
        [shift],
    )[0][0]
    assert at.metric[0].value == str(expected)
    layers = {layer["id"]: layer for layer in _deck(at)["layers"]}
    assert (
        len(layers["missions"]["data"])
        == snapshot_rows("select count(*) from plans.missions where shift_start = ?", [shift])[0][0]
    )
    table = at.dataframe[0].value
    assert len(table) == layers["missions"]["data"].__len__() and "inclusion_probability" in table.columns
    assert [b.label for b in at.button if b.label == "Send to the planner"]  # analysts may override


def test_an_analysts_override_goes_to_the_inbox_with_their_name(analyst, served_tables):
    assert "plans.missions" in served_tables
    at = open_page(analyst, "missions")
    mission_id = at.dataframe[0].value["mission_id"].iloc[0]
    before = set(inbox.pending())
    at.text_input[0].input(mission_id)
    at.text_area[0].input("road closed for a street festival")
    [b for b in at.button if b.label == "Send to the planner"][0].click().run()
    assert not at.exception
    new = set(inbox.pending()) - before
    assert len(new) == 1
    request = json.loads(new.pop().read_text())
    assert (request["action"], request["mission_id"], request["user"], request["role"]) == (
        "suppress",
        mission_id,
        "analyst",
        "analyst",
    )
    assert request["reason"] == "road closed for a street festival"


def test_auditors_read_missions_but_cannot_override(served_tables):
    at = open_page(logged_in("auditor"), "missions")
    assert not [b for b in at.button if b.label == "Send to the planner"]
    if "plans.missions" in served_tables:
        assert any("cannot add or suppress" in c.value for c in at.caption)


def test_risk_map_page(analyst, served_tables):
    at = open_page(analyst, "risk_map")
    assert [t.value for t in at.title] == ["Risk map"]
    if not {"forecast.risk_surfaces", "marts.dim_cells"} <= served_tables:
        assert any("No data yet" in i.value for i in at.info)
        return
    deck = _deck(at)
    assert deck.get("mapStyle") in (None, "")  # no base map: the cells are the map
    layers = {layer["id"]: layer for layer in deck["layers"]}
    assert layers["jurisdiction"]["data"] and not layers["jurisdiction"]["pickable"]
    cells = layers["risk"]["data"]
    shift, crime_type = at.selectbox[0].value, at.selectbox[1].value
    floor = at.slider[0].value / 100
    expected = snapshot_rows(
        """select count(*) from forecast.risk_surfaces s join marts.dim_cells using (cell_id)
        where shift_start = ? and crime_type = ?
          and percentile / (select case when max(percentile) > 1 then 100 else 1 end
        from forecast.risk_surfaces where shift_start = ? and crime_type = ?) >= ?""",
        [shift, crime_type, shift, crime_type, floor],
    )[0][0]
    assert len(cells) == expected > 0
    lon, lat = cells[0]["position"]
    assert -180 <= lon <= 180 and -90 <= lat <= 90
    assert at.dataframe[0].value["percentile"].is_monotonic_decreasing

    district = at.dataframe[0].value["district"].iloc[0]
    at.multiselect[0].select(district).run()
    assert not at.exception
    assert set(at.dataframe[0].value["district"]) == {district}
    in_district = {r[0] for r in snapshot_rows("select cell_id from marts.dim_cells where district = ?", [district])}
    assert {c["cell_id"] for c in _deck(at)["layers"][1]["data"]} <= in_district


def test_briefings_page(analyst, served_tables):
    at = open_page(analyst, "briefings")
    assert [t.value for t in at.title] == ["Briefings"]
    if "plans.missions" not in served_tables:
        assert _no_data(at, "plans.missions")
        return
    labels = [d.label for d in at.get("download_button")]
    assert "Download mission area (GeoJSON)" in labels
    assert any(m.value.startswith("**Cell**") for m in at.markdown)


@pytest.mark.parametrize(
    "stem,title",
    [
        ("shift_report", "Shift report"),
        ("tactic_report", "Tactic report"),
        ("officer_report", "Officer report"),
        ("crime_type_report", "Crime type report"),
        ("crime_dosage", "Crime & dosage"),
    ],
)
def test_report_pages(analyst, served_tables, stem, title):
    at = open_page(analyst, stem)
    assert [t.value for t in at.title] == [title]
    reports = sorted(t for t in served_tables if t.startswith("marts.rpt_"))
    if not reports:
        assert any("No data yet" in i.value for i in at.info)
    else:
        assert at.dataframe or any("No data yet" in i.value for i in at.info)


def test_model_performance_page(analyst, served_tables):
    at = open_page(analyst, "model_performance")
    assert [t.value for t in at.title] == ["Model performance"]
    assert any("http://127.0.0.1:5000" in c.value for c in at.caption)
    if "forecast.backtest_metrics" not in served_tables:
        assert _no_data(at, "forecast.backtest_metrics")
        return
    crime_type = at.selectbox[0].value
    rows = snapshot_rows("select count(*) from forecast.backtest_metrics where crime_type = ?", [crime_type])[0][0]
    assert len(at.dataframe[-1].value) == rows > 0


def test_exposure_page(analyst, served_tables):
    at = open_page(analyst, "exposure")
    assert [t.value for t in at.title] == ["Exposure and fairness"]
    if "plans.missions" not in served_tables:
        assert _no_data(at, "plans.missions")
        return
    gini = float(at.metric[0].value)
    assert 0 < gini <= 1  # missions go to few of the jurisdiction's cells
    assert at.metric[2].label.startswith("Missions that reached the cap")


def test_audit_log_page(served_tables):
    at = open_page(logged_in("auditor"), "audit_log")
    assert [t.value for t in at.title] == ["Audit log"]
    assert "raw.audit_log" in served_tables  # publishing itself is audited
    assert [s.value for s in at.success][0].startswith("OK:")
    total = snapshot_rows("select count(*) from raw.audit_log")[0][0]
    assert f"of {total:,} matching records" in " ".join(c.value for c in at.caption)
    assert "publish" in set(at.dataframe[0].value["kind"])
    at.multiselect[0].select("publish").run()
    assert set(at.dataframe[0].value["kind"]) == {"publish"}
    assert at.json, "a record's payload is shown"


def test_data_health_page(analyst, served_tables):
    at = open_page(analyst, "data_health")
    assert [t.value for t in at.title] == ["Data health"]
    if "raw.load_log" not in served_tables:
        assert _no_data(at, "raw.load_log")
        return
    feeds = at.dataframe[0].value
    assert set(feeds["feed"]) == {r[0] for r in snapshot_rows("select distinct feed from raw.load_log")}
    assert "incidents" in set(feeds["feed"])


def test_every_page_is_in_the_role_table():
    from pathlib import Path

    pages = {p.stem for p in (Path(auth.__file__).parent / "pages").glob("*.py")}
    assert pages == set(auth.PAGE_ROLES)
