"""A click on the Missions map picks what to override: the handler reads the selection state Streamlit 1.67
delivers for st.pydeck_chart(on_select="rerun") (AppTest cannot click a deck.gl canvas)."""

from __future__ import annotations

from dashboards.overrides import CANDIDATE_LAYER, CELL_LAYER, MISSION_LAYER, picked_on_map

ACTIVE = ["P1-2299_3778", "P1-2300_3788"]


def _clicked(layer: str, record: dict) -> dict:
    """Streamlit's selection state after a click on one object of one layer (single-object mode)."""
    return {"indices": {layer: [3]}, "objects": {layer: [record]}}


def test_a_click_on_an_active_mission_suppresses_it():
    record = {"cell_id": "2299_3778", "mission_id": "P1-2299_3778", "district": "10", "status": "planned"}
    assert picked_on_map(_clicked(MISSION_LAYER, record), ACTIVE) == ("suppress", "P1-2299_3778")


def test_a_click_on_a_suppressed_mission_asks_for_nothing():
    record = {"cell_id": "2301_3790", "mission_id": "P1-2301_3790", "status": "suppressed"}
    assert picked_on_map(_clicked(MISSION_LAYER, record), ACTIVE) is None


def test_a_click_on_another_cell_adds_a_mission_there():
    assert picked_on_map(_clicked(CANDIDATE_LAYER, {"cell_id": "2310_3700", "status": "not drawn"}), ACTIVE) == (
        "add", "2310_3700")
    assert picked_on_map(_clicked(CELL_LAYER, {"cell_id": "A-17"}), ACTIVE) == ("add", "A-17")


def test_no_click_or_an_empty_selection_asks_for_nothing():
    assert picked_on_map(None, ACTIVE) is None
    assert picked_on_map({"indices": {}, "objects": {}}, ACTIVE) is None
    assert picked_on_map({"indices": {CELL_LAYER: []}, "objects": {CELL_LAYER: []}}, ACTIVE) is None
