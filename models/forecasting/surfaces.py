"""Risk surfaces: per shift, crime type and cell, the champion's expected count, its percentile within
the jurisdiction, and each cell's top risk drivers; written to the warehouse's `forecast` schema with
the scoring inputs and outputs kept as files whose digests go into the audit log.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime

import duckdb
import numpy as np
import pandas as pd

from beatwise import audit, paths
from beatwise.audit import artifacts
from models.forecasting.baselines import Forecaster
from models.forecasting.gbm import GradientBoostedPoisson
from models.forecasting.history import EventHistory

TOP_DRIVERS = 3
EXPLAINED_PER_DISTRICT = 100  # the Risk map lists up to 100 cells of a district, or of the city
FRAME_DIGEST = "columns"  # how the logged sha256 of a kept frame is computed (frame_digest)

TABLES = {
    "forecast.risk_surfaces": """shift_start timestamp, crime_type varchar, cell_id varchar,
        expected_count double, percentile double, method varchar, model_version varchar""",
    "forecast.risk_drivers": """shift_start timestamp, crime_type varchar, cell_id varchar, rank integer,
        feature varchar, contribution double""",
    "forecast.backtest_metrics": """evaluated_at timestamp, crime_type varchar, method varchar, role varchar,
        metric varchar, value double, first_shift timestamp, last_shift timestamp, shifts integer""",
    # The champion gate's decision and its reasons, per crime type and backtest (Model performance page).
    "forecast.champion_gate": """evaluated_at timestamp, crime_type varchar, champion varchar, best_baseline varchar,
        candidate_wins boolean, blend_weight double, reason varchar, first_shift timestamp, last_shift timestamp""",
}


def surface_frame(
    crime_type: str,
    cell_ids: np.ndarray,
    shift_start: datetime,
    expected: np.ndarray,
    method: str,
    model_version: str = "",
) -> pd.DataFrame:
    """One row per cell: expected count, percentile within the jurisdiction (0-100, ties averaged)."""
    return pd.DataFrame(
        {
            "shift_start": pd.Timestamp(shift_start),
            "crime_type": crime_type,
            "cell_id": cell_ids,
            "expected_count": expected,
            "percentile": pd.Series(expected).rank(method="average", pct=True).to_numpy() * 100.0,
            "method": method,
            "model_version": model_version,
        }
    )


def top_drivers(
    crime_type: str,
    cell_ids: np.ndarray,
    shift_start: datetime,
    contributions: np.ndarray,
    features: list[str],
    top: int = TOP_DRIVERS,
) -> pd.DataFrame:
    """Each cell's `top` features by contribution (cells x features matrix), rank 1 the largest."""
    top = min(top, contributions.shape[1])
    order = np.argsort(-contributions, axis=1, kind="stable")[:, :top]
    return pd.DataFrame(
        {
            "shift_start": pd.Timestamp(shift_start),
            "crime_type": crime_type,
            "cell_id": np.repeat(cell_ids, top),
            "rank": np.tile(np.arange(1, top + 1), len(cell_ids)),
            "feature": np.asarray(features)[order].ravel(),
            "contribution": np.take_along_axis(contributions, order, axis=1).ravel(),
        }
    )


def risk_surface(
    forecaster: Forecaster, history: EventHistory, shift_start: datetime, model_version: str = ""
) -> pd.DataFrame:
    """A forecaster's surface over the jurisdiction's cells for one shift."""
    return surface_frame(
        forecaster.crime_type,
        history.cells["cell_id"].to_numpy(),
        shift_start,
        forecaster.predict(history, shift_start),
        forecaster.method,
        model_version,
    )


def risk_drivers(
    forecaster: Forecaster, history: EventHistory, shift_start: datetime, top: int = TOP_DRIVERS
) -> pd.DataFrame:
    """Each cell's top drivers: the features pushing its expected count up most (LightGBM contributions
    to the log expected count); a baseline's only driver is its own score (the expected count)."""
    cells = history.cells["cell_id"].to_numpy()
    if isinstance(forecaster, GradientBoostedPoisson):
        contributions = forecaster.contributions(forecaster.shift_frame(history, shift_start))
        return top_drivers(forecaster.crime_type, cells, shift_start, contributions, forecaster.features, top)
    expected = forecaster.predict(history, shift_start)
    return top_drivers(forecaster.crime_type, cells, shift_start, expected[:, None], [forecaster.method], 1)


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists forecast")
    for table, columns in TABLES.items():
        con.execute(f"create table if not exists {table} ({columns})")


def replace_rows(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame, keys: list[str]) -> None:
    """Replace the rows of `table` sharing `keys` values with `frame`'s (re-running gives the same table)."""
    ensure_tables(con)
    con.register("incoming", frame)
    try:
        match = " and ".join(f"t.{k} = i.{k}" for k in keys)
        con.execute(
            f"delete from {table} t where exists (select 1 from (select distinct {', '.join(keys)} "
            f"from incoming) i where {match})"
        )
        con.execute(f"insert into {table} by name select * from incoming")
    finally:
        con.unregister("incoming")


def explained_cells(
    expected: np.ndarray, districts: np.ndarray, per_district: int = EXPLAINED_PER_DISTRICT
) -> np.ndarray:
    """Positions (ascending) of the cells a scoring run explains: each district's `per_district` highest
    expected counts, ties at the edge included, so any district's (or the city's) top list on the Risk map
    is explained. Other cells (a mission drawn from the low-risk stratum) are explained on demand."""
    rank = pd.Series(expected).groupby(pd.Series(districts).fillna(""), sort=False).rank(method="min", ascending=False)
    return np.flatnonzero(rank.to_numpy() <= per_district)


def frame_digest(frame: pd.DataFrame, method: str = FRAME_DIGEST) -> str:
    """sha256 of a frame's values, independent of Parquet encoder versions and of column dtypes.

    `columns`: column by column, its name and its values in one binary form: numbers as float64 (one NaN,
    no negative zero), times as nanoseconds since 1970, anything else as UTF-8 text, a missing value as a
    marker. `csv`: the canonical CSV text that scoring runs logged before this form (slower: 8 s a shift
    on the full city); kept so that their records still verify."""
    if method == "csv":
        return hashlib.sha256(frame.to_csv(index=False, float_format="%.12g").encode()).hexdigest()
    if method != "columns":
        raise ValueError(f"unknown frame digest {method!r}")
    digest = hashlib.sha256()
    for name in frame.columns:
        column = frame[name]
        digest.update(f"\x1e{name}\x1f".encode())
        if pd.api.types.is_datetime64_any_dtype(column):
            times = pd.to_datetime(column)
            if times.dt.tz is not None:
                times = times.dt.tz_convert("UTC").dt.tz_localize(None)
            digest.update(b"t" + times.astype("datetime64[ns]").to_numpy().view("int64").tobytes())
        elif pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            values = column.to_numpy(dtype=float, na_value=np.nan) + 0.0  # + 0.0 turns -0.0 into 0.0
            values[np.isnan(values)] = np.nan
            digest.update(b"f" + values.astype("<f8").tobytes())
        else:
            text = ["\x00" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in column]
            digest.update(b"s" + "\x1f".join(text).encode())
    return digest.hexdigest()


def keep_scoring_run(
    con: duckdb.DuckDBPyConnection,
    shift_start: datetime,
    inputs: Mapping[str, pd.DataFrame],
    outputs: Mapping[str, pd.DataFrame],
    champions: Mapping[str, Mapping[str, str]],
    actor: str = "forecast",
) -> dict:
    """Save a scoring run's inputs and outputs as Parquet files and append their digests to the audit log."""
    folder = paths.artifacts_dir() / "scoring" / f"{shift_start:%Y%m%dT%H%M}"
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for kind, frames in (("input", inputs), ("output", outputs)):
        for name, frame in frames.items():
            path = folder / f"{kind}_{name}.parquet"
            frame.to_parquet(path, index=False)
            files[f"{kind}/{name}"] = {
                "path": paths.in_home(path),
                "rows": len(frame),
                "sha256": frame_digest(frame),
                **artifacts.keep(path),  # the readable path is rewritten by reruns; the address is not
            }
    payload = {"shift_start": shift_start.isoformat(), "champions": dict(champions), "files": files,
               "frame_digest": FRAME_DIGEST}
    record = audit.append(con, "scoring", actor, f"risk_surfaces/{shift_start:%Y-%m-%dT%H:%M}", payload)
    return {**payload, "audit_seq": record.seq}
