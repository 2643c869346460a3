"""The exposure report on the served sample: patrol minutes vs crime by district and risk decile over the
last 90 days (dbt's rpt_exposure_* marts), the caps and whether they held, the closed-loop result, the PDF."""

from __future__ import annotations

import json

import pytest

from beatwise import paths
from beatwise.config import load_config
from models.closed_loop.measures import compare
from tests.conftest import SAMPLE_CONFIG
from tests.dashboards.conftest import open_page, snapshot_rows
from tests.dashboards.test_pages import analyst  # noqa: F401 (the logged-in analyst fixture)


@pytest.fixture(scope="module")
def closed_loop_result(serving_snapshot):
    config = load_config(SAMPLE_CONFIG)
    result = compare(config, ["beatwise", "greedy"], days=2, seeds=2, cells=400)
    paths.closed_loop_result(config.agency.slug).write_text(json.dumps(result))
    yield result
    paths.closed_loop_result(config.agency.slug).unlink()


def test_exposure_marts_share_out_patrol_and_crime(serving_snapshot):
    districts = snapshot_rows("select district, delivered_minutes, minutes_share, crime_count, crime_share, "
                              "window_start, window_end from marts.rpt_exposure_district")
    all_districts = snapshot_rows("select count(distinct district) from marts.dim_cells")[0][0]
    assert len(districts) == all_districts
    assert sum(r[2] for r in districts) == pytest.approx(1.0)
    assert sum(r[4] for r in districts) == pytest.approx(1.0)
    start, end = districts[0][5], districts[0][6]
    # rpt_crime_dosage repeats each district-shift's dose once per crime type
    delivered = snapshot_rows("select sum(delivered_minutes) from (select distinct shift_start, district, "
                              "delivered_minutes from marts.rpt_crime_dosage where shift_start between ? and ?)",
                              [start, end])
    assert sum(r[1] for r in districts) == pytest.approx(delivered[0][0])
    deciles = snapshot_rows("select risk_decile, cells, minutes_share, crime_share, mean_priority "
                            "from marts.rpt_exposure_risk_decile order by risk_decile")
    assert [r[0] for r in deciles] == list(range(1, 11))
    assert sum(r[2] for r in deciles) == pytest.approx(1.0)
    priorities = [r[4] for r in deciles]
    assert priorities == sorted(priorities, reverse=True)  # decile 1 is the riskiest


def test_exposure_page_shows_the_report(analyst, closed_loop_result):  # noqa: F811
    at = open_page(analyst, "exposure")
    assert [h.value for h in at.header] == ["Exposure report"]
    text = " ".join(m.value for m in at.markdown)
    assert "held by the planner on every shift" in text or "broken by" in text
    tables = [d.value for d in at.dataframe]  # a dataframe without selection has no element id to key by
    served = snapshot_rows("select count(*) from marts.rpt_exposure_district")[0][0]
    assert any(len(v) == served and "minutes_share" in v for v in tables)
    shown = at.dataframe[-1].value
    assert list(shown["policy"]) == ["beatwise", "greedy"]
    greedy = closed_loop_result["policies"]["greedy"]
    assert shown.loc[1, "top1_share"].startswith(f"{greedy['top1_share']:.3f} [")
    assert any(closed_loop_result["run_at"] in c.value for c in at.caption)


def test_exposure_pdf(serving_snapshot, closed_loop_result):
    import pandas as pd

    from dashboards.exposure_report import exposure_pdf

    districts = pd.DataFrame(snapshot_rows("select * from marts.rpt_exposure_district"),
                             columns=[c[0] for c in snapshot_rows(
                                 "select column_name, ordinal_position from information_schema.columns "
                                 "where table_name = 'rpt_exposure_district' order by ordinal_position")])
    deciles = pd.DataFrame(snapshot_rows("select * from marts.rpt_exposure_risk_decile"),
                           columns=[c[0] for c in snapshot_rows(
                               "select column_name, ordinal_position from information_schema.columns "
                               "where table_name = 'rpt_exposure_risk_decile' order by ordinal_position")])
    pdf = exposure_pdf("Sample PD", districts, deciles, ["cap held"], closed_loop_result, True)
    assert pdf.startswith(b"%PDF") and len(pdf) > 2000
