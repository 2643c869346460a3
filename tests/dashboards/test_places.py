"""Places and plain language on the snapshot `make run` publishes: every cell has a place name from the
agency's own incidents; the risk map shows the shift's top cells with places, outlines, labels, stations and
a legend, counts in words and drivers without a feature's code name; model performance compares the
champion with every baseline from the long metrics table; the commander's summary adds up."""

from __future__ import annotations

import json
import re
from collections import Counter

import duckdb
import pytest

from beatwise import paths
from models.forecasting.explain import method_words
from tests.dashboards.conftest import charts, logged_in, open_page, snapshot_rows

# What a feature's or a method's code name looks like (n_all_cell_364d, kernel_decay, distance_to_liquor_m).
CODE_NAME = re.compile(r"\b(n_\w+_\d+d|kernel_decay|prior_\d+d|prospective_hotspot|\w+_share|distance_to_\w+)\b")


@pytest.fixture(scope="module")
def analyst(serving_snapshot):
    return logged_in("analyst")


def _deck(at) -> dict:
    return json.loads(at.get("deck_gl_json_chart")[0].proto.json)


def test_every_cell_is_named_by_its_most_frequent_block(serving_snapshot):
    places = dict(snapshot_rows("select cell_id, place_name from marts.dim_cell_places"))
    cells = {r[0] for r in snapshot_rows("select cell_id from marts.dim_cells")}
    assert set(places) == cells and all(places.values())
    con = duckdb.connect(str(paths.warehouse_path()), read_only=True)
    try:
        rows = con.execute(
            "select cell_id, block from intermediate.int_incidents where block is not null"
        ).fetchall()
    finally:
        con.close()
    blocks: dict[str, Counter] = {}
    for cell, block in rows:
        blocks.setdefault(cell, Counter())[block] += 1
    for cell, counter in list(blocks.items())[:300]:
        top = max(counter.values())
        assert places[cell] in {f"near {b}" for b, n in counter.items() if n == top}, cell
    # cells without an incident fall back to the agency's areas, never to a bare id
    for cell in cells - set(blocks):
        assert places[cell].startswith(("beat ", "district ")) or not places[cell].startswith("near ")


def test_risk_map_defaults_to_the_top_cells_with_places_and_words(analyst):
    at = open_page(analyst, "risk_map")
    assert not at.info, [i.value for i in at.info]
    shift, crime_type, shown = (s.value for s in at.selectbox[:3])
    assert shown == "top 5% of cells"
    expected = snapshot_rows(
        """select count(*) from forecast.risk_surfaces where shift_start = ? and crime_type = ?
           and percentile / (select case when max(percentile) > 1 then 100 else 1 end from forecast.risk_surfaces
                             where shift_start = ? and crime_type = ?) >= 0.95""",
        [shift, crime_type, shift, crime_type],
    )[0][0]
    total = snapshot_rows("select count(*) from marts.dim_cells")[0][0]
    deck = _deck(at)
    layers = {layer["id"]: layer for layer in deck["layers"]}
    assert len(layers["risk"]["data"]) == expected and expected <= 0.06 * total  # not half the city
    assert {"district_outlines", "district_labels", "beat_outlines", "beat_labels", "landmarks"} <= set(layers)
    assert {d["label"] for d in layers["district_labels"]["data"]} == {"District 10", "District 11", "District 12"}
    assert any("Ogden" in d["name"] for d in layers["landmarks"]["data"])
    assert deck["mapProvider"] == "carto"  # a street base map when the browser reaches it
    assert any("percentile" in m.value and "bw-legend" in m.value for m in at.markdown)

    table = at.dataframe[0].value
    assert table["place_name"].str.startswith("near ").mean() > 0.9
    assert table["expected_in_words"].str.match(r"(about|fewer than) ").all()
    assert table["drivers"].str.len().gt(0).all()
    assert not table["drivers"].str.contains(CODE_NAME).any(), table["drivers"].head().tolist()
    assert table["drivers"].str.contains(r"\d+ \w+.* in the last").any()


def test_model_performance_compares_the_champion_with_every_baseline(analyst):
    at = open_page(analyst, "model_performance")
    assert not at.info
    crime_type = at.selectbox[0].value
    methods = {
        method_words(r[0])
        for r in snapshot_rows(
            """select distinct method from forecast.backtest_metrics where crime_type = ?
               and evaluated_at = (select max(evaluated_at) from forecast.backtest_metrics)""",
            [crime_type],
        )
    }
    drawn = charts(at)
    specs = " ".join(json.dumps(spec) for spec, _ in drawn)
    for title in ("PAI at 1% of the area", "PAI at 5% of the area", "Hit rate at 1%", "Hit rate at 5%",
                  "Calibration", "Harm captured in the top 1% of cells"):
        assert f'"{title}"' in specs, title
    spec, rows = drawn[0]
    assert set(rows["method"]) == methods and (rows["is"] == "champion").sum() == 1
    pai = {method_words(m): v for m, v in snapshot_rows(
        """select method, value from forecast.backtest_metrics where crime_type = ? and metric = 'pai_1'
           and evaluated_at = (select max(evaluated_at) from forecast.backtest_metrics)""",
        [crime_type],
    )}
    assert dict(zip(rows["method"], rows["pai_1"], strict=True)) == pytest.approx(pai)
    assert sum("Higher is better" in c.value for c in at.caption) >= 4


def test_commanders_summary_adds_up(analyst):
    at = open_page(analyst, "commander_summary")
    assert [t.value for t in at.title] == ["Commander's summary"]
    assert not at.info
    week = at.selectbox[0].value
    planned = snapshot_rows(
        """select sum(missions_planned) from marts.rpt_shift
           where shift_start >= ? and shift_start < ? + interval 7 day""",
        [week, week],
    )[0][0]
    assert at.metric[0].value == f"{int(planned):,}"
    assert at.warning and "Simulated operations" in at.warning[0].value
    districts = at.dataframe[0].value
    assert districts["missions_planned"].sum() == planned
    assert any(m.value.startswith(("**Held.**", "**Held by the planner.**", "**Exceeded.**")) for m in at.markdown)
    assert [b.label for b in at.get("download_button")] == ["Download the summary (HTML, printable)"]
