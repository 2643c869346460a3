"""Risk drivers on demand: the cells a scoring run did not explain (it explains each district's highest-risk
cells, `surfaces.explained_cells`), such as a mission drawn from a district's low-risk stratum.

They are derived from exactly what the scoring run logged: its kept scoring features (found by content
address, checked against their digest) and the model versions it names. The rows join
`forecast.risk_drivers`, and the audit log gets a `drivers` record naming the scoring run they extend.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import duckdb
import mlflow
import pandas as pd

from beatwise import audit
from beatwise.audit.artifacts import resolve
from beatwise.config.schema import AgencyConfig
from beatwise.warehouse import table_exists
from models.forecasting import tracking
from models.forecasting.gbm import GradientBoostedPoisson, tree_contributions
from models.forecasting.surfaces import FRAME_DIGEST, frame_digest, top_drivers


def scoring_run(con: duckdb.DuckDBPyConnection, shift_start: datetime) -> audit.AuditRecord | None:
    """The newest logged scoring run of a shift, if any."""
    subject = f"risk_surfaces/{pd.Timestamp(shift_start):%Y-%m-%dT%H:%M}"
    runs = [r for r in audit.records(con, kind="scoring") if r.subject == subject]
    return runs[-1] if runs else None


def unexplained(con: duckdb.DuckDBPyConnection, shift_start: datetime, crime_type: str,
                cell_ids: Iterable[str]) -> list[str]:
    """The cells among `cell_ids` without a driver row of the crime type for the shift, sorted."""
    explained = {
        row[0]
        for row in con.execute(
            "select distinct cell_id from forecast.risk_drivers where shift_start = ? and crime_type = ?",
            [shift_start, crime_type],
        ).fetchall()
    }
    return sorted(set(cell_ids) - explained)


def explain_cells(
    con: duckdb.DuckDBPyConnection,
    config: AgencyConfig,
    shift_start: datetime,
    cell_ids: Iterable[str],
    actor: str = "planning",
) -> int:
    """Add the drivers of `cell_ids` that the shift's scoring run left out, for every crime type a learned
    model scored; the number of driver rows added. Nothing is added for a shift without a logged scoring
    run (a replayed demo shift) or for cells outside its scoring features."""
    cell_ids = list(cell_ids)
    run = scoring_run(con, shift_start) if cell_ids and table_exists(con, "forecast", "risk_drivers") else None
    if run is None:
        return 0
    payload = run.data
    wanted = {
        t: missing
        for t, champ in payload["champions"].items()
        if champ["method"] == GradientBoostedPoisson.method
        and (missing := unexplained(con, shift_start, t, cell_ids))
    }
    if not wanted:
        return 0
    features = pd.read_parquet(resolve(payload["files"]["input/scoring_features"]))
    mlflow.set_tracking_uri(tracking.tracking_uri())
    added, logged = [], {}
    for t, missing in wanted.items():
        rows = features[(features["crime_type"] == t) & features["cell_id"].isin(missing)].sort_values("cell_id")
        if rows.empty:
            continue
        champ = payload["champions"][t]
        booster = mlflow.lightgbm.load_model(f"models:/{tracking.registered_name(config, t)}/{champ['version']}")
        added.append(top_drivers(t, rows["cell_id"].to_numpy(), shift_start, tree_contributions(booster, rows),
                                 booster.feature_name()))
        logged[t] = {"version": champ["version"], "model_sha256": champ.get("model_sha256", ""),
                     "cells": rows["cell_id"].tolist()}
    if not added:
        return 0
    frame = pd.concat(added, ignore_index=True)
    con.execute("begin")
    try:
        con.register("added_drivers", frame)
        con.execute("insert into forecast.risk_drivers by name select * from added_drivers")
        con.unregister("added_drivers")
        audit.append(con, "drivers", actor, f"risk_drivers/{pd.Timestamp(shift_start):%Y-%m-%dT%H:%M}", {
            "shift_start": pd.Timestamp(shift_start).isoformat(),
            "scoring_seq": run.seq,
            "crime_types": logged,
            "rows": len(frame),
            "sha256": frame_digest(frame),
            "frame_digest": FRAME_DIGEST,
        })
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return len(frame)
