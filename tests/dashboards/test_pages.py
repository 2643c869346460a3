"""Every page on the snapshot `make run` publishes (the whole `main` job on the embedded sample): what each
page shows — maps, tables, totals, charts, downloads — checked against queries on the served tables.
"""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from beatwise.ingest.upsert import REASON_RULE_SQL
from dashboards import auth
from models.impact.estimator import DOSE_LABELS
from models.planning import overrides as inbox
from tests.dashboards.conftest import charts, logged_in, open_page, snapshot_rows


@pytest.fixture(scope="module")
def analyst(serving_snapshot):
    return logged_in("analyst")


def _shows_data(at) -> None:
    """The page did not fall back to a 'no data' message (the pages say so with st.info and nothing else)."""
    assert not at.info, [i.value for i in at.info]


def _deck(at) -> dict:
    charts = at.get("deck_gl_json_chart")
    assert charts, "no map rendered"
    return json.loads(charts[0].proto.json)


def test_the_whole_pipeline_was_published(served_tables):
    for table in (
        "plans.missions",
        "forecast.risk_surfaces",
        "forecast.backtest_metrics",
        "marts.dim_cells",
        "raw.load_log",
        "raw.audit_log",
        *(f"marts.rpt_{r}" for r in ("shift", "tactic", "officer", "crime_type", "crime_dosage", "impact")),
        "marts.rpt_operations_data_quality",
    ):
        assert table in served_tables, table
        assert snapshot_rows(f"select count(*) from {table}")[0][0] > 0, f"{table} is empty"


def test_missions_page(analyst):
    at = open_page(analyst, "missions")
    assert [t.value for t in at.title] == ["Missions"]
    _shows_data(at)
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
    # Tactics and crime types in words, never the records or JSON they are stored as.
    assert not any(str(v).lstrip().startswith(("{", "[")) for col in ("tactics", "crime_types") for v in table[col])
    assert [b.label for b in at.button if b.label == "Send to the planner"]
    # The demo's clock: the shift on screen is the plan still open to overrides, not a past one.
    assert at.selectbox[0].value == max(r[0] for r in snapshot_rows("select shift_start from plans.plans"))


def _widget(widgets, label):
    [found] = [w for w in widgets if w.label == label]
    return found


def test_an_analysts_override_goes_to_the_inbox_signed_with_their_name(analyst):
    at = open_page(analyst, "missions")
    picker = _widget(at.selectbox, "Mission to suppress")
    mission_id = at.dataframe[0].value.query("status != 'suppressed'")["mission_id"].iloc[0]
    before = set(inbox.pending())
    picker.set_value(mission_id)
    at.text_area[0].input("road closed for a street festival")
    [b for b in at.button if b.label == "Send to the planner"][0].click().run()
    assert not at.exception
    new = set(inbox.pending()) - before
    assert len(new) == 1
    file = new.pop()
    request = json.loads(file.read_text())
    assert (request["action"], request["mission_id"], request["user"], request["role"]) == (
        "suppress",
        mission_id,
        "analyst",
        "analyst",
    )
    assert request["reason"] == "road closed for a street festival"
    assert request["signature"] == inbox.signature(request)
    assert any("is waiting for the planner" in i.value for i in at.info)
    file.unlink()  # leave the shared snapshot's plans as they were for the other pages


def test_auditors_see_that_the_planner_refuses_their_overrides(serving_snapshot):
    at = open_page(logged_in("auditor"), "missions")
    assert any("may not add or suppress them" in c.value and "audit log" in c.value for c in at.caption)


# Each report page and its mart.
REPORTS = {
    "shift_report": ("Shift report", "marts.rpt_shift"),
    "tactic_report": ("Tactic report", "marts.rpt_tactic"),
    "officer_report": ("Officer report", "marts.rpt_officer_shift"),
    "crime_type_report": ("Crime type report", "marts.rpt_crime_type"),
    "crime_dosage": ("Crime & dosage", "marts.rpt_crime_dosage"),
}


def _mark(spec: dict) -> str:
    return spec["mark"]["type"] if isinstance(spec["mark"], dict) else spec["mark"]


def _rows_table(at) -> pd.DataFrame:
    """The report's rows: the one table on the page with dates (Crime & dosage has its impact table below
    them, the officer report its per-officer summary above)."""
    from dashboards.reports import DATE_COLUMNS

    [found] = [d.value for d in at.dataframe if set(DATE_COLUMNS) & set(d.value.columns)]
    return found


def _download(at, downloads, label: str) -> tuple[str | None, pd.DataFrame]:
    """The file behind the page's download button `label` (made on click): its name and its rows."""
    [button] = [d for d in at.get("download_button") if d.label == label]
    url = button.proto.url or downloads.click(button.proto.deferred_file_id)
    name, content = downloads[url]
    return name, pd.read_csv(io.BytesIO(content))


def _no_raw_values(frame: pd.DataFrame) -> None:
    for column in frame.columns:
        raw = [v for v in frame[column] if isinstance(v, str) and v.lstrip().startswith(("{", "[{"))]
        assert not raw, (column, raw[:2])


@pytest.mark.parametrize("stem", list(REPORTS))
def test_report_pages(analyst, downloads, stem):
    from beatwise.clock import agency_now
    from dashboards.data import agency_config
    from dashboards.reports import FILTERS, last_worked

    title, mart = REPORTS[stem]
    at = open_page(analyst, stem)
    assert [t.value for t in at.title] == [title]
    _shows_data(at)
    columns = [
        r[0]
        for r in snapshot_rows(
            "select column_name from information_schema.columns where table_schema || '.' || table_name = ?"
            " order by ordinal_position",
            [mart],
        )
    ]
    date_col = "shift_start" if "shift_start" in columns else "date"
    latest, full_day = last_worked(agency_config(), agency_now(agency_config()))
    worked = "shift_start <= ?" if date_col == "shift_start" else "date <= ?"
    bound = latest if date_col == "shift_start" else full_day
    # Shifts not yet worked are left out; the default dates: the last 90 days worked.
    lo, hi = snapshot_rows(f"select min({date_col})::date, max({date_col})::date from {mart} where {worked}",
                           [bound])[0]
    default = (max(lo, hi - timedelta(days=90)), hi)
    assert tuple(at.date_input[0].value) == default
    where = f"where {worked} and {date_col}::date between ? and ?"
    params = [bound, *default]
    # Filters for every dimension the mart has, by date, district, beat, shift of day, unit, officer.
    assert [m.label for m in at.multiselect] == [label for col, label in FILTERS.items() if col in columns]
    rows = snapshot_rows(f"select count(*) from {mart} {where}", params)[0][0]
    assert 0 < rows <= 5000

    table = _rows_table(at)
    assert len(table) == rows
    _no_raw_values(table)
    assert f"{rows:,} of {rows:,} rows from `{mart}`" in [c.value for c in at.caption]

    drawn_charts = charts(at)
    assert drawn_charts
    for spec, drawn in drawn_charts:
        _no_raw_values(drawn)
        if "day" in drawn.columns and len(drawn):  # a time chart: no unworked shift at its end (no cliff)
            assert pd.to_datetime(drawn["day"]).max().date() <= (bound if date_col == "date" else latest.date())
        if "shift_name" in drawn.columns and "facet" in spec:  # small multiples, one per shift of day
            assert spec["facet"]["row"]["field"] == "shift_name"

    name, csv = _download(at, downloads, "Download CSV")
    assert name == f"{stem}.csv" and len(csv) == rows

    # A filter narrows the table.
    first = at.multiselect[0]
    column = next(col for col, label in FILTERS.items() if label == first.label)
    first.select(first.options[0]).run()
    assert not at.exception
    narrowed = snapshot_rows(f"select count(*) from {mart} {where} and {column} = ?", [*params, first.options[0]])[0][0]
    assert len(_rows_table(at)) == narrowed


def test_tactic_report_keeps_directed_patrol_apart_from_other_time(analyst):
    at = open_page(analyst, "tactic_report")
    (patrol_spec, patrol), (other_spec, other) = charts(at)[:2]
    assert patrol_spec["title"].startswith("Directed-patrol tactics") and other_spec["title"].startswith("Other time")
    patrol_codes = {r[0] for r in snapshot_rows(
        "select distinct tactic from marts.rpt_tactic where activity_group = 'directed_patrol'")}
    other_codes = {r[0] for r in snapshot_rows(
        "select distinct tactic from marts.rpt_tactic where activity_group = 'other'")}
    assert "roll_call" not in patrol_codes and {"report_writing", "traffic_stop"} & other_codes
    assert set(patrol["grp"]) <= patrol_codes and set(other["grp"]) <= other_codes
    # Named for people, with the description as a tooltip.
    assert "Park and walk" in set(patrol["name"]) or "Foot patrol" in set(patrol["name"])
    assert all(patrol["about"].str.len() > 10)


def test_officer_report_charts_each_officer_not_their_sum(analyst):
    at = open_page(analyst, "officer_report")
    by_officer = next(d for s, d in charts(at) if s["title"].startswith("Per officer"))
    officers = snapshot_rows("select count(distinct officer_id) from marts.rpt_officer_shift")[0][0]
    assert by_officer["grp"].nunique() == min(40, officers) > 1
    assert set(by_officer["measure"]) == {"planned minutes", "delivered minutes"}


def test_crime_dosage_shows_the_impact_estimate_with_its_interval(analyst, downloads):
    at = open_page(analyst, "crime_dosage")
    _shows_data(at)
    impact = "marts.rpt_impact"
    window, population = at.selectbox[0], at.selectbox[1]
    assert (window.label, population.label) == ("Outcome window", "Population")
    assert (window.value, population.value) == ("same_shift", "pool")  # the headline estimate

    def expect(window: str, population: str) -> None:
        estimate, low, high, level = snapshot_rows(
            f"""select estimate, ci_low, ci_high, level from {impact}
                where outcome = 'all' and outcome_window = ? and population = ?""",
            [window, population],
        )[0]
        plans = snapshot_rows(
            f"select plans from {impact} where outcome = 'all' and outcome_window = ? and population = ?",
            [window, population])[0][0]
        statement = " ".join(m.value for m in at.markdown if "Change in all crime" in m.value)
        assert f"{estimate:+.1%}" in statement and f"{plans} plans" in statement
        if low is None:
            assert "no interval" in statement
        else:
            assert low <= estimate <= high
            assert f"{level:.0%} interval {low:+.1%} to {high:+.1%}" in statement
            assert ("not distinguishable from zero" in statement) == (low <= 0 <= high)
        # The interval chart: one row per outcome of the chosen slice that has an interval; the others (a
        # lone point, often -100% from no crime where assigned) are named under the chart, not drawn.
        expected = snapshot_rows(
            f"""select crime_type, estimate, ci_low, ci_high from {impact}
                where outcome_window = ? and population = ? and ci_low is not null and ci_high is not null
                order by crime_type""",
            [window, population],
        )
        bare = snapshot_rows(
            f"""select crime_type from {impact} where outcome_window = ? and population = ?
                and (ci_low is null or ci_high is null) order by crime_type""",
            [window, population],
        )
        if bare:
            named = ", ".join(r[0].replace("_", " ") for r in bare)
            assert f"Not drawn, too few crimes in an arm for an interval: {named}." in [c.value for c in at.caption]
        found = [(sp, d) for sp, d in charts(at) if "layer" in sp and "ci_low" in d.columns]
        assert len(found) == (1 if expected else 0), "an interval chart exactly when an outcome has an interval"
        if not expected:
            return
        spec, drawn = found[0]
        assert [_mark(layer) for layer in spec["layer"]][:2] == ["rule", "point"]
        assert spec["layer"][0]["encoding"]["x"]["field"] == "ci_low"
        assert spec["layer"][0]["encoding"]["x2"]["field"] == "ci_high"
        assert spec["layer"][1]["encoding"]["x"]["field"] == "estimate"
        drawn = drawn.dropna(subset=["crime_type"])
        got = drawn.sort_values("crime_type")[["crime_type", "estimate", "ci_low", "ci_high"]]
        assert list(got["crime_type"]) == [r[0] for r in expected]
        for col, i in (("estimate", 1), ("ci_low", 2), ("ci_high", 3)):
            want = np.array([np.nan if r[i] is None else r[i] for r in expected], dtype=float)
            np.testing.assert_allclose(got[col].to_numpy(float), want, rtol=1e-12)

    expect("same_shift", "pool")
    assert snapshot_rows(
        f"select ci_low is not null from {impact} where outcome = 'all' and outcome_window = 'same_shift'"
        " and population = 'pool'"
    ) == [(True,)], "the headline estimate has an interval on the sample"

    everything = snapshot_rows(f"select count(*) from {impact}")[0][0]
    assert len(at.dataframe[1].value) == everything
    name, csv = _download(at, downloads, "Download the impact estimate (CSV)")
    assert name == "impact_estimate.csv" and len(csv) == everything

    at.selectbox[0].select("next_shift")
    at.selectbox[1].select("all").run()
    assert not at.exception
    expect("next_shift", "all")


def test_crime_dosage_shows_the_observational_dose_response_curve(analyst, downloads):
    at = open_page(analyst, "crime_dosage")
    _shows_data(at)
    expected = snapshot_rows("select dose_bin, missions, mean_crime from marts.rpt_dose_response")
    expected.sort(key=lambda row: DOSE_LABELS.index(row[0]))  # the bars run from no dose to the most
    assert sum(r[1] for r in expected) > 0
    [(spec, drawn)] = [(sp, d) for sp, d in charts(at) if "dose_bin" in d.columns]
    assert _mark(spec) == "bar"
    assert (spec["encoding"]["x"]["field"], spec["encoding"]["y"]["field"]) == ("dose_bin", "mean_crime")
    assert [tuple(r) for r in drawn[["dose_bin", "missions", "mean_crime"]].itertuples(index=False)] == expected
    assert any("not randomized" in c.value for c in at.caption), "the curve is labelled as observational"
    name, csv = _download(at, downloads, "Download the dose-response curve (CSV)")
    assert name == "dose_response.csv" and list(csv["dose_bin"].astype(str)) == [r[0] for r in expected]


def test_exposure_page(analyst, sample_config):
    at = open_page(analyst, "exposure")
    assert [t.value for t in at.title] == ["Exposure and fairness"]
    _shows_data(at)
    active = "status <> 'suppressed'"
    missions = snapshot_rows(f"select cell_id, shift_start, dose_minutes * visits from plans.missions where {active}")
    assert missions

    # Planned patrol minutes by district and day: every active mission, once.
    spec, drawn = charts(at)[0]
    assert _mark(spec) == "area" and spec["encoding"]["color"]["field"] == "district"
    assert drawn["missions"].sum() == len(missions)
    assert drawn["patrol_minutes"].sum() == pytest.approx(sum(m[2] for m in missions), rel=1e-9)

    # Concentration over every cell of the jurisdiction, patrolled or not: the Gini of the cells' minutes
    # (here by the mean-difference formula, not the page's Lorenz curve) and the share never patrolled.
    assert at.radio[0].value == "cell_id"
    per_cell = dict.fromkeys((r[0] for r in snapshot_rows("select distinct cell_id from marts.dim_cells")), 0.0)
    for cell, _, minutes in missions:
        per_cell[cell] += minutes
    x = np.sort(np.array(list(per_cell.values())))
    n = len(x)
    gini = float(np.sum((2 * np.arange(1, n + 1) - n - 1) * x) / (n * x.sum()))
    assert 0 < gini < 1
    assert at.metric[0].label == f"Gini over {n:,} areas"
    assert float(at.metric[0].value) == pytest.approx(gini, abs=0.0005 + 1e-9)
    assert at.metric[1].label == "Areas never patrolled"
    assert at.metric[1].value == f"{(x == 0).mean():.0%}"
    assert len(charts(at)[1][1]) > 1  # the Lorenz curve

    # Cells by days as a mission over the last 30 days: every cell with an active mission then, once.
    last = max(m[1] for m in missions)
    recent = {m[0] for m in missions if m[1] > last - timedelta(days=30)}
    spec, drawn = charts(at)[2]
    assert _mark(spec) == "bar" and drawn["cells"].sum() == len(recent)

    # The exposure cap, counted as the planner counts: the published plans' active missions, real and
    # replayed apart, over windows of consecutive shifts of the calendar (a shift without a plan counts).
    from models.forecasting.shifts import shift_starts

    cap, window = sample_config.exposure.max_missions_per_cell, sample_config.exposure.window_shifts
    published = snapshot_rows("""select m.cell_id, m.shift_start, coalesce(p.simulated, false), m.status = 'added'
                                 from plans.missions m join plans.plans p on p.plan_id = m.plan_id
                                 where p.status = 'published' and m.status in ('planned', 'added')""")
    first, last = min(m[1] for m in published), max(m[1] for m in published)
    calendar = shift_starts(sample_config, (first - timedelta(days=window)).date(), last.date())
    k_of = {pd.Timestamp(s): i for i, s in enumerate(calendar)}
    every: dict[tuple, list[int]] = {}
    drawn: dict[tuple, list[int]] = {}
    for cell, shift, simulated, added in published:
        every.setdefault((cell, simulated), []).append(k_of[pd.Timestamp(shift)])
        if not added:
            drawn.setdefault((cell, simulated), []).append(k_of[pd.Timestamp(shift)])
    at_cap = over = 0
    for cell, shift, simulated, added in published:
        k = k_of[pd.Timestamp(shift)]
        at_cap += sum(k - window < j <= k for j in every[cell, simulated]) >= cap
        over += not added and sum(k - window < j <= k for j in drawn[cell, simulated]) > cap
    assert at.metric[2].label == f"Missions that reached the cap ({cap} in {window} shifts)"
    assert at.metric[2].value == f"{at_cap:,} of {len(published):,}"
    text = " ".join(m.value for m in at.markdown)
    assert ("broken by" in text) == (over > 0) and ("held by the planner on every shift" in text) == (over == 0)

    reasons = at.dataframe[0].value
    expected = snapshot_rows(
        "select ineligible_reason, count(*) from plans.plan_candidates where not eligible group by 1 order by 2 desc"
    )
    assert sorted(map(tuple, reasons.itertuples(index=False))) == sorted(expected)


def test_audit_log_page(serving_snapshot):
    at = open_page(logged_in("auditor"), "audit_log")
    assert [t.value for t in at.title] == ["Audit log"]
    assert [s.value for s in at.success][0].startswith("OK:")
    total = snapshot_rows("select count(*) from raw.audit_log")[0][0]
    assert f"of {total:,} matching records" in " ".join(c.value for c in at.caption)
    assert "publish" in set(at.dataframe[0].value["kind"])
    at.multiselect[0].select("publish").run()
    assert set(at.dataframe[0].value["kind"]) == {"publish"}
    assert at.json, "a record's payload is shown"


def test_data_health_page(analyst, downloads):
    at = open_page(analyst, "data_health")
    assert [t.value for t in at.title] == ["Data health"]
    _shows_data(at)

    # Feeds: one row per feed with its loads and rows, as raw.load_log sums them.
    feeds = at.dataframe[0].value
    expected = snapshot_rows(
        """select replace(feed, '_', ' '), count(*), sum(rows_read), sum(rows_inserted) + sum(rows_updated),
           sum(rows_quarantined) from raw.load_log group by feed order by feed"""
    )
    shown = feeds[["feed", "loads", "rows_read", "rows_loaded", "rows_quarantined"]].itertuples(index=False)
    assert [tuple(r) for r in shown] == [tuple(r) for r in expected]
    assert {"incidents", "offence codes"} <= set(feeds["feed"])

    # Quarantined rows: the reasons with their counts, a chart of the commonest, a feed's examples.
    reasons = at.dataframe[1].value
    expected = snapshot_rows("select replace(feed, '_', ' '), reason, count(*) from raw.quarantine group by all")
    assert expected, "the sample has quarantined rows"
    assert sorted(map(tuple, reasons.itertuples(index=False))) == sorted(expected)
    # The chart counts by rule: the details after ':' or '(' (a cell, row numbers) are the table's.
    rules = snapshot_rows(f"select distinct replace(feed, '_', ' '), {REASON_RULE_SQL} from raw.quarantine")
    spec, drawn = charts(at)[0]
    assert _mark(spec) == "bar" and len(drawn) == min(20, len(rules)) < len(expected)
    assert not any(":" in rule or "(" in rule or re.search(r"\d", rule) for rule in drawn["rule"])
    feed = at.selectbox[0].value  # the feed's code; shown in words, as in the tables
    assert feed.replace("_", " ") == reasons["feed"].iloc[0]
    examples = at.dataframe[2].value
    in_feed = snapshot_rows("select count(*) from raw.quarantine where feed = ?", [feed])[0][0]
    assert len(examples) == min(100, in_feed) and set(examples["reason"]) <= set(reasons["reason"])

    # The last loads, newest first, and their CSV.
    loads = snapshot_rows("select count(*) from raw.load_log")[0][0]
    last = at.dataframe[3].value
    assert len(last) == min(50, loads)
    assert {"feed", "file", "status", "rows read", "new rows", "quarantined"} <= set(last.columns)
    assert not any("sha256" in c or "digest" in c or c.endswith("_id") for c in last.columns)
    assert last["finished"].is_monotonic_decreasing
    name, csv = _download(at, downloads, "Download CSV")
    assert name == "load_log.csv" and len(csv) == len(last)


def test_every_page_is_in_the_role_table():
    from pathlib import Path

    pages = {p.stem for p in (Path(auth.__file__).parent / "views").glob("*.py")}
    assert pages == set(auth.PAGE_ROLES)
