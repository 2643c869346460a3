"""Read-only queries against the published serving snapshot.

Each query opens its own short read-only DuckDB connection and closes it (STACK.md: a connection held for
the app's lifetime would block the publisher). Results are cached briefly, keyed by the snapshot file's
modification time, so a republished snapshot is read as soon as it is swapped in.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import streamlit as st

from beatwise import paths
from beatwise.config import AgencyConfig, load_config
from beatwise.deployment import Agency, deployment_file, load_deployment

CACHE_SECONDS = 300


def current_agency() -> Agency | None:
    """In a deployment ($BEATWISE_DEPLOYMENT), the agency the signed-in user has open (session key `agency`,
    else their first), checked against the user store on every call; None in a one-agency install."""
    if deployment_file() is None:
        return None
    return load_deployment().agency_for(st.session_state.get("username") or "", st.session_state.get("agency"))


def user_agencies(username: str) -> tuple[Agency, ...]:
    """The deployment's agencies `username` may open (empty in a one-agency install)."""
    return load_deployment().open_for(username) if deployment_file() is not None else ()


def snapshot_file() -> Path:
    agency = current_agency()
    return agency.serving_file if agency else paths.serving_path()


def snapshot_version() -> int:
    """Changes whenever the snapshot is republished (0: none published yet)."""
    try:
        return snapshot_file().stat().st_mtime_ns
    except FileNotFoundError:
        return 0


@st.cache_data(ttl=CACHE_SECONDS, max_entries=512, show_spinner=False)
def _run(sql: str, params: tuple, version: int, file: str) -> pd.DataFrame:
    con = duckdb.connect(file, read_only=True)
    try:
        return con.execute(sql, list(params)).df()
    finally:
        con.close()


def query(sql: str, params: tuple | list = ()) -> pd.DataFrame:
    """Rows of `sql` against the snapshot (empty frame when nothing is published yet)."""
    version = snapshot_version()
    if not version:
        return pd.DataFrame()
    return _run(sql, tuple(params), version, str(snapshot_file()))


def scalar(sql: str, params: tuple | list = ()):
    frame = query(sql, params)
    return None if frame.empty else frame.iat[0, 0]


def tables() -> frozenset[str]:
    """`schema.table` names in the snapshot."""
    frame = query("select table_schema || '.' || table_name as name from information_schema.tables")
    return frozenset(frame["name"]) if not frame.empty else frozenset()


def has(*names: str) -> bool:
    return set(names) <= tables()


def columns(table: str) -> list[str]:
    schema, name = table.split(".")
    frame = query(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ?"
        " order by ordinal_position",
        (schema, name),
    )
    return [] if frame.empty else list(frame["column_name"])


def require(*names: str, waiting_on: str) -> None:
    """Stop the page with a clear 'no data yet' message unless every table is in the snapshot."""
    if not snapshot_version():
        st.info("No serving snapshot has been published yet: run `make run` (or the Dagster job `main`).")
        st.stop()
    missing = [n for n in names if n not in tables()]
    if missing:
        st.info(
            f"No data yet: {', '.join(missing)} is not in the serving snapshot. It comes from {waiting_on}."
        )
        st.stop()


@st.cache_resource(show_spinner=False)
def _config(file: str, mtime_ns: int) -> AgencyConfig:
    return load_config(file)


def agency_config() -> AgencyConfig:
    """The agency configuration the pipeline runs for: the open agency's in a deployment, else
    $BEATWISE_CONFIG, else the embedded sample."""
    agency = current_agency()
    file = str(agency.config) if agency else (os.environ.get("BEATWISE_CONFIG")
                                             or str(paths.PROJECT_ROOT / "config" / "chicago_sample.yaml"))
    return _config(file, Path(file).stat().st_mtime_ns)


def login_is_demo() -> bool:
    """Whether the login may use the demo's cookie key: only a one-agency install of the demo (a deployment
    serves real agencies and signs its sessions with a key of its own)."""
    return deployment_file() is None and agency_config().is_demo


def simulated_operations() -> bool:
    """Whether the published operations (plans replayed, patrols, activity) include simulated ones."""
    if agency_config().is_demo:
        return True
    if not has("marts.rpt_shift") or "simulated_operations" not in columns("marts.rpt_shift"):
        return False
    return bool(scalar("select coalesce(bool_or(simulated_operations), false) from marts.rpt_shift"))


def in_list(values) -> tuple[str, list]:
    """A `(?, ?, ...)` placeholder list and its parameters, for filters chosen in the page."""
    values = list(values)
    return "(" + ", ".join("?" for _ in values) + ")", values


def json_in_words(value, width: int | None = None, nested: bool = False) -> str:
    """A JSON record (text or parsed) as words for a table cell: 'key: value · key: value', nested records in
    brackets, lists by comma, nulls as '(empty)'; cut to `width` characters when given."""
    if isinstance(value, str) and not nested:
        try:
            value = json.loads(value)
        except ValueError:
            pass
    if isinstance(value, dict):
        words = " · ".join(f"{k}: {json_in_words(v, nested=True)}" for k, v in value.items())
        words = f"({words})" if nested else words
    elif isinstance(value, list):
        words = ", ".join(json_in_words(v, nested=True) for v in value)
    else:
        words = "(empty)" if value is None or value == "" else str(value)
    return words if width is None or len(words) <= width else words[: width - 1] + "…"


# Columns whose values are codes (crime types, model and window names): shown with spaces, not underscores.
CODE_COLUMNS = {"crime_type", "outcome", "outcome_window", "population", "method", "champion", "best_baseline",
                "serves", "tactic", "activity", "activity_group", "stratum", "feed"}
# Headers that are not just the column name in words.
HEADERS = {"cell_id": "Cell", "unit_id": "Unit", "officer_id": "Officer", "mission_id": "Mission",
           "place_name": "Place", "ci_low": "Interval from", "ci_high": "Interval to", "p_value": "p-value",
           "mlflow_run_id": "MLflow run", "plan_id": "Plan", "load_id": "Load"}
DATETIME_FORMAT = "ddd D MMM YYYY, HH:mm"  # momentJS, as Streamlit's grid formats: "Sun 1 Jan 2017, 06:00"
DATE_FORMAT = "ddd D MMM YYYY"


def header(column: str) -> str:
    """A column name as a table header: 'shift_start' -> 'Shift start'."""
    return HEADERS.get(column, column.replace("_", " ").capitalize())


def readable(frame: pd.DataFrame, column_config: dict | None = None) -> tuple[pd.DataFrame, dict]:
    """A table as people read it, and the column settings that go with it: headers in words, times as
    'Sun 1 Jan 2017, 06:00' (days without the time), codes with spaces, and empty cells blank rather than
    'None'. The column names (what tests and CSVs see) are kept; settings given by the caller win."""
    shown, config = frame.copy(), dict(column_config or {})
    for column in shown.columns:
        values = shown[column]
        if pd.api.types.is_datetime64_any_dtype(values):
            stamps = pd.to_datetime(values)
            midnight = bool((stamps.dropna() == stamps.dropna().dt.normalize()).all())
            if midnight and column not in {"finished_at", "started_at", "computed_at", "published_at"}:
                config.setdefault(column, st.column_config.DateColumn(header(column), format=DATE_FORMAT))
            else:
                config.setdefault(column, st.column_config.DatetimeColumn(header(column), format=DATETIME_FORMAT))
            continue
        if values.dtype == object and values.map(lambda v: hasattr(v, "isoformat")).any():
            config.setdefault(column, st.column_config.DateColumn(header(column), format=DATE_FORMAT))
            continue
        if values.dtype == object or pd.api.types.is_string_dtype(values):
            if column in CODE_COLUMNS:
                shown[column] = values.map(lambda v: v.replace("_", " ") if isinstance(v, str) else v)
            shown[column] = shown[column].astype(object).where(shown[column].notna(), "")
        elif pd.api.types.is_float_dtype(values) and column.endswith("minutes") and column not in config:
            # Minutes from vehicle locations come as 52.7667: a tenth of a minute is all anyone reads.
            shown[column] = values.round(1)
        if pd.api.types.is_float_dtype(values) and values.isna().any() and column not in config:
            shown[column] = values.map(lambda v: "" if pd.isna(v) else f"{v:,.4g}")
        config.setdefault(column, st.column_config.Column(header(column)))
    return shown, config


def table(frame: pd.DataFrame, key: str, column_config: dict | None = None, **kwargs):
    """st.dataframe of `frame` made readable (see `readable`), without its index."""
    shown, config = readable(frame, column_config)
    kwargs.setdefault("hide_index", True)
    return st.dataframe(shown, key=key, column_config=config, **kwargs)


def csv_download(frame: pd.DataFrame, name: str, label: str = "Download CSV") -> None:
    """A download for signed-in users only. Streamlit serves a registered file to anyone holding its
    address, so none is registered up front: the button exists only in a signed-in session, and the file
    is made when that session (over its own connection) asks for it."""
    from dashboards.auth import current_user

    if current_user() is None:
        return
    st.download_button(
        label,
        lambda: frame.to_csv(index=False).encode("utf-8"),
        file_name=f"{name}.csv",
        mime="text/csv",
        key=f"csv_{name}",
    )


# --- places, risk in words, the week's summary (read functions of the maps, risk, briefing pages) ---


def cell_metres() -> float:
    """The grid's cell edge in metres."""
    from beatwise.config.units import metres_per_unit

    config = agency_config()
    return float(config.grid.cell_size) * metres_per_unit(config.crs)


def cell_places() -> pd.DataFrame:
    """Every cell's place name (marts.dim_cell_places): cell_id, place_name, blocks, district, beat."""
    if not has("marts.dim_cell_places"):
        cells = query("select cell_id, district, beat from marts.dim_cells")
        return cells.assign(place_name="district " + cells["district"].astype(str), blocks="")
    return query("select cell_id, place_name, blocks, district, district_label, beat from marts.dim_cell_places")


def with_places(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` (with a cell_id column) plus place_name and blocks; a cell without one keeps its id. A few
    cells are looked up by id: reading every cell's places costs seconds on a big city."""
    ids = frame["cell_id"].dropna().astype(str).unique().tolist()
    if not ids:
        return frame.assign(place_name=pd.Series(dtype=object), blocks=pd.Series(dtype=object))
    if has("marts.dim_cell_places") and len(ids) <= 2_000:
        marks, params = in_list(ids)
        places = query(f"select cell_id, place_name, blocks from marts.dim_cell_places where cell_id in {marks}",
                       tuple(params))
    else:
        places = cell_places()[["cell_id", "place_name", "blocks"]]
    joined = frame.merge(places, on="cell_id", how="left")
    joined["place_name"] = joined["place_name"].fillna("cell " + joined["cell_id"].astype(str))
    return joined


def risk_cells(shift_start, crime_type: str, floor: float) -> pd.DataFrame:
    """The shift's cells at or above percentile `floor` (0-1) for a crime type, highest first, with their
    place, district, beat and the expected count in words."""
    from models.forecasting.explain import expected_in_words

    surface = query(
        """with s as (select cell_id, expected_count, percentile, method, model_version
                      from forecast.risk_surfaces where shift_start = ? and crime_type = ?),
                scale as (select case when max(percentile) > 1 then 100.0 else 1.0 end as unit from s)
           select cell_id, expected_count, percentile / unit as percentile, method, model_version
           from s, scale where percentile / unit >= ? order by percentile desc, expected_count desc""",
        (shift_start, crime_type, floor),
    )
    surface = with_places(surface)
    cells = query("select cell_id, district, beat from marts.dim_cells")
    surface = surface.merge(cells, on="cell_id", how="left")
    surface["expected_in_words"] = [expected_in_words(v, crime_type) for v in surface["expected_count"]]
    return surface


def risk_drivers_in_words(shift_start, crime_type: str, cell_ids: list[str]) -> pd.DataFrame:
    """cell_id -> drivers: the cell's top risk drivers for the shift in plain language ("; " between them)."""
    from models.forecasting.explain import explain_drivers

    empty = pd.DataFrame(columns=["cell_id", "drivers"])
    if not cell_ids or not has("forecast.risk_drivers"):
        return empty
    marks, params = in_list(cell_ids)
    drivers = query(
        f"""select cell_id, crime_type, rank, feature from forecast.risk_drivers
            where shift_start = ? and crime_type = ? and cell_id in {marks} order by cell_id, rank""",
        (shift_start, crime_type, *params),
    )
    if drivers.empty:
        return empty
    env = [c for c in columns("marts.dim_cells") if c.endswith(("_m", "_share")) or c.startswith("liquor_")]
    grid = query(f"select cell_id, cell_col, cell_row{''.join(', ' + c for c in env)} from marts.dim_cells")
    wanted = grid[grid["cell_id"].isin(cell_ids)]
    near = grid.merge(
        pd.DataFrame(
            [(c + dc, r + dr) for c, r in zip(wanted["cell_col"], wanted["cell_row"], strict=True)
             for dc in (-1, 0, 1) for dr in (-1, 0, 1)],
            columns=["cell_col", "cell_row"],
        ).drop_duplicates(),
        on=["cell_col", "cell_row"],
    )
    counts = pd.DataFrame(columns=["cell_id", "crime_type", "shift_start", "incident_count"])
    if has("marts.fct_cell_shift_counts"):
        marks, params = in_list(near["cell_id"])
        start = pd.Timestamp(shift_start)
        counts = query(
            f"""select cell_id, crime_type, shift_start, incident_count from marts.fct_cell_shift_counts
                where shift_start >= ? and shift_start < ? and cell_id in {marks}""",
            (start - pd.Timedelta(days=365), start, *params),
        )
    drivers["text"] = explain_drivers(drivers, counts, near, shift_start, cell_metres())
    return drivers.groupby("cell_id", as_index=False)["text"].agg("; ".join).rename(columns={"text": "drivers"})


def _published_missions(start, end) -> pd.DataFrame:
    """Active missions of the published plans whose shift starts in [start, end), with whether their plan was
    simulated (the demo's replay) and whether an analyst added them."""
    return query(
        """select m.shift_start, m.district, m.cell_id, m.status = 'added' as added,
                  coalesce(p.simulated, false) as simulated
           from plans.missions m join plans.plans p on p.plan_id = m.plan_id
           where p.status = 'published' and m.status in ('planned', 'added')
             and m.shift_start >= ? and m.shift_start < ?""",
        (start, end),
    )


def missions_in_windows(start, end) -> pd.DataFrame:
    """The active published missions of [start, end), each with the missions its cell had in the config's
    window_shifts consecutive shifts ending with its own: `in_window` (all of them) and `drawn_in_window` (the
    planner's draws only; 0 for a mission an analyst added).

    Counted as the planner counts (planning.store.read_recent_missions): real shifts by the config's shift
    calendar (a shift without a plan still takes its place in the window), and the demo's replayed plans
    apart from real ones, since a real plan never counts the replay's missions."""
    from models.forecasting.shifts import shift_starts

    config = agency_config()
    window = config.exposure.window_shifts
    first = pd.Timestamp(start) - pd.Timedelta(hours=24 / len(config.shifts) * window)
    missions = _published_missions(first, end)
    calendar = shift_starts(config, first.date(), pd.Timestamp(end).date())
    index = {pd.Timestamp(s): i for i, s in enumerate(calendar)}
    missions["k"] = pd.to_datetime(missions["shift_start"]).map(index)
    missions = missions.dropna(subset=["k"]).reset_index(drop=True)  # a shift off the calendar has no place
    group = missions.groupby(["simulated", "cell_id"]).ngroup().to_numpy(np.int64)
    k = missions["k"].to_numpy(np.int64)
    missions["in_window"] = _in_window(group, k, window)
    drawn = ~missions["added"].astype(bool).to_numpy()
    missions["drawn_in_window"] = 0
    missions.loc[drawn, "drawn_in_window"] = _in_window(group[drawn], k[drawn], window)
    return missions[pd.to_datetime(missions["shift_start"]) >= pd.Timestamp(start)].reset_index(drop=True)


def _in_window(group: np.ndarray, k: np.ndarray, window: int) -> np.ndarray:
    """For each (group, shift index k): the rows of its group with an index in (k - window, k]."""
    if not k.size:
        return np.zeros(0, np.int64)
    keys = group * (k.max() + window + 1) + k  # groups never overlap
    ordered = np.sort(keys)
    return np.searchsorted(ordered, keys, side="right") - np.searchsorted(ordered, keys - window + 1, side="left")


def exposure_caps(start, end) -> dict:
    """Did the exposure cap hold in [start, end)? The most missions any cell had in any window of the
    config's window_shifts consecutive shifts (windows ending in the week), against the cap, counted as
    `missions_in_windows` counts. Only the planner's draws are capped: a mission an analyst adds is their
    call, so a cap passed by one is said to be theirs."""
    config = agency_config()
    cap, window = config.exposure.max_missions_per_cell, config.exposure.window_shifts
    missions = missions_in_windows(start, end)
    if missions.empty:
        return {"held": True, "most": 0, "cap": cap, "window": window, "text": "No missions this week."}
    worst = missions["in_window"].idxmax()
    most, drawn_most = int(missions["in_window"].max()), int(missions["drawn_in_window"].max())
    if most <= cap:
        text = (f"**Held.** No cell had more than {most} mission(s) in any {window} consecutive shifts "
                f"(cap: {cap}).")
    else:
        place = with_places(pd.DataFrame({"cell_id": [missions["cell_id"].iat[worst]]}))["place_name"].iat[0]
        if drawn_most <= cap:
            text = (f"**Held by the planner.** Its draws gave no cell more than {drawn_most} mission(s) in any "
                    f"{window} consecutive shifts (cap: {cap}); with missions added by analysts, {place} had "
                    f"{most}.")
        else:
            text = (f"**Exceeded.** The planner gave a cell {drawn_most} missions in {window} consecutive shifts "
                    f"(cap: {cap}): {place}.")
    return {"held": drawn_most <= cap, "most": most, "cap": cap, "window": window, "text": text}


def week_summary(start, end) -> dict:
    """The commander's week: totals, per shift, per district, per unit, crime in and out of mission cells,
    the exposure caps, and the same as a printable HTML page."""
    import html as html_lib

    shifts = query(
        """select shift_start, sum(missions_planned) as missions_planned, sum(missions_dosed) as missions_dosed,
                  sum(planned_minutes) as planned_minutes, sum(delivered_minutes) as delivered_minutes,
                  sum(tracked_minutes) > 0 or sum(delivered_minutes) > 0 as worked,
                  bool_or(simulated_operations) as simulated
           from marts.rpt_shift where shift_start >= ? and shift_start < ? group by shift_start order by 1""",
        (start, end),
    )
    by_district = query(
        """select district, sum(missions_planned) as missions_planned, sum(missions_dosed) as missions_dosed,
                  sum(missions_full_dose) as missions_full_dose, sum(planned_minutes) as planned_minutes,
                  sum(delivered_minutes) as delivered_minutes,
                  sum(compliance * planned_minutes) / nullif(sum(planned_minutes), 0) as compliance
           from marts.rpt_shift where shift_start >= ? and shift_start < ? group by district order by district""",
        (start, end),
    )
    by_unit = pd.DataFrame()
    if has("marts.fct_unit_shift_dosage"):
        by_unit = query(
            """select unit_id, district, count(*) as shifts, sum(missions_worked) as missions_worked,
                      sum(planned_minutes) as planned_minutes, sum(mission_minutes) as mission_minutes,
                      sum(compliance * planned_minutes) / nullif(sum(planned_minutes), 0) as compliance
               from marts.fct_unit_shift_dosage where shift_start >= ? and shift_start < ?
               group by unit_id, district order by district, unit_id""",
            (start, end),
        )
    crime = pd.DataFrame()
    if has("marts.rpt_crime_dosage"):
        n_cells = int(scalar("select count(*) from marts.dim_cells where district is not null") or 0)
        crime = query(
            """with per_shift as (select distinct shift_start, district, missions from marts.rpt_crime_dosage
                                  where shift_start >= ? and shift_start < ?),
                    cell_shifts as (select sum(missions) as mission_cells, count(distinct shift_start) as shifts
                                    from per_shift)
               select crime_type, sum(crime_in_mission_cells) as in_mission_cells,
                      sum(crime_count) - sum(crime_in_mission_cells) as elsewhere,
                      100.0 * sum(crime_in_mission_cells) / nullif(max(mission_cells), 0)
                          as per_100_mission_cell_shifts,
                      100.0 * (sum(crime_count) - sum(crime_in_mission_cells))
                          / nullif(max(shifts) * ? - max(mission_cells), 0) as per_100_other_cell_shifts
               from marts.rpt_crime_dosage, cell_shifts where shift_start >= ? and shift_start < ?
               group by crime_type order by crime_type""",
            (start, end, n_cells, start, end),
        )
    worked = shifts[shifts["worked"].astype(bool)] if not shifts.empty else shifts
    planned = float(worked["planned_minutes"].sum()) if not worked.empty else 0.0
    delivered = float(worked["delivered_minutes"].sum()) if not worked.empty else 0.0
    credited = (by_district["compliance"].fillna(0) * by_district["planned_minutes"]).sum()
    caps = exposure_caps(start, end)
    totals = {
        "missions_planned": int(shifts["missions_planned"].sum()) if not shifts.empty else 0,
        "missions_dosed": int(shifts["missions_dosed"].sum()) if not shifts.empty else 0,
        "planned_minutes": planned,
        "delivered_minutes": delivered,
        "compliance": credited / total if (total := by_district["planned_minutes"].sum()) else float("nan"),
        "simulated": bool(shifts["simulated"].any()) if not shifts.empty else False,
    }

    def table(frame: pd.DataFrame) -> str:
        return frame.to_html(index=False, float_format=lambda v: f"{v:,.2f}", na_rep="-", border=0)

    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>Commander's summary</title><style>"
        "body{font-family:sans-serif;max-width:900px;margin:1em auto}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 6px}</style></head><body>"
        f"<h1>Commander's summary: week of {pd.Timestamp(start):%d %b %Y}</h1>"
        + ("<p><b>Simulated operations.</b></p>" if totals["simulated"] else "")
        + f"<p>{totals['missions_planned']} missions planned, {totals['missions_dosed']} delivered; "
        f"{delivered:,.0f} of {planned:,.0f} planned minutes delivered.</p>"
        f"<h2>By district</h2>{table(by_district)}<h2>By unit</h2>{table(by_unit)}"
        f"<h2>Crime in mission cells and elsewhere</h2>{table(crime)}"
        f"<h2>Exposure caps</h2><p>{html_lib.escape(caps['text'].replace('**', ''))}</p></body></html>"
    )
    return {**totals, "shifts": shifts, "by_district": by_district, "by_unit": by_unit, "crime": crime,
            "caps": caps, "html": page}
