"""Reproduce a logged scoring run: re-derive its risk surface from what the audit log names (the kept
scoring features, the model in MLflow, the training data) and say which digest differs, if any."""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import mlflow
import numpy as np
import pandas as pd

from beatwise import audit
from beatwise.audit.artifacts import ArtifactError, resolve
from beatwise.config.schema import AgencyConfig
from models.forecasting import tracking
from models.forecasting.baselines import expected_counts
from models.forecasting.gbm import GradientBoostedPoisson
from models.forecasting.shifts import shift_of_day
from models.forecasting.surfaces import frame_digest, surface_frame


@dataclass
class Reproduction:
    seq: int
    checked: list[str] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)

    @property
    def equal(self) -> bool:
        return not self.differences


def scoring_record(con: duckdb.DuckDBPyConnection, seq: int) -> audit.AuditRecord:
    found = [r for r in audit.records(con, kind="scoring") if r.seq == seq]
    if not found:
        raise ValueError(f"audit record {seq} is not a scoring run (see `beatwise audit show --kind scoring`)")
    return found[0]


def reproduce_scoring(con: duckdb.DuckDBPyConnection, config: AgencyConfig, seq: int) -> Reproduction:
    """Check every kept artifact and the models against their logged digests, then recompute the surfaces."""
    record = scoring_record(con, seq)
    payload, result = record.data, Reproduction(seq)
    digest_method = payload.get("frame_digest", "csv")  # runs logged before the column digest used CSV
    frames = {}
    for name, entry in payload["files"].items():
        try:
            frame = pd.read_parquet(resolve(entry))
        except ArtifactError as err:
            result.differences.append(f"{name}: {err}")
            continue
        if frame_digest(frame, digest_method) != entry["sha256"]:
            result.differences.append(f"{name}: its rows hash differently from the logged sha256")
            continue
        frames[name] = frame
        result.checked.append(f"{name} sha256 {entry['sha256'][:16]}")
    _check_training(con, record, result)
    mlflow.set_tracking_uri(tracking.tracking_uri())
    shift_start = pd.Timestamp(payload["shift_start"]).to_pydatetime()
    surfaces = []
    logged_order = frames["output/risk_surfaces"]["crime_type"].unique() if "output/risk_surfaces" in frames else []
    for crime_type in [t for t in logged_order if t in payload["champions"]]:
        champ = payload["champions"][crime_type]
        actual = tracking.model_digest(config, crime_type, champ["version"])
        if actual != champ.get("model_sha256"):
            result.differences.append(
                f"model {crime_type} v{champ['version']}: its files hash to {actual[:16]}, "
                f"not the logged {str(champ.get('model_sha256'))[:16]}"
            )
            continue
        result.checked.append(f"model {crime_type} v{champ['version']} sha256 {actual[:16]}")
        surface = _surface(config, crime_type, champ, frames, shift_start)
        if surface is not None:
            surfaces.append(surface)
    logged = frames.get("output/risk_surfaces")
    if logged is not None and len(surfaces) == len(payload["champions"]):
        derived = pd.concat(surfaces, ignore_index=True)
        if frame_digest(derived, digest_method) != payload["files"]["output/risk_surfaces"]["sha256"]:
            result.differences.append("output/risk_surfaces: the surface re-derived from the logged inputs differs")
        else:
            result.checked.append("output/risk_surfaces re-derived: equal")
    elif not result.differences:
        result.differences.append("output/risk_surfaces: could not be re-derived (inputs missing)")
    return result


def _surface(config, crime_type, champ, frames, shift_start) -> pd.DataFrame | None:
    logged = frames.get("output/risk_surfaces")
    if logged is None:
        return None
    cells = logged.loc[logged["crime_type"] == crime_type, "cell_id"].to_numpy()
    uri = f"models:/{tracking.registered_name(config, crime_type)}/{champ['version']}"
    if champ["method"] == GradientBoostedPoisson.method:
        features = frames.get("input/scoring_features")
        if features is None:
            return None
        booster = mlflow.lightgbm.load_model(uri)
        rows = features[features["crime_type"] == crime_type].set_index("cell_id").reindex(cells)
        expected = booster.predict(rows[booster.feature_name()].to_numpy(dtype=float))
    else:
        kept = frames.get(f"input/{crime_type}_baseline_score")
        if kept is None:
            return None
        score = kept.set_index("cell_id").reindex(cells)["score"]
        stored = mlflow.pyfunc.load_model(uri, suppress_warnings=True).unwrap_python_model()
        k = shift_of_day(config, shift_start)
        alpha, beta = np.asarray(stored.alpha)[k], np.asarray(stored.beta)[k]
        expected = expected_counts(score.to_numpy(dtype=float), alpha, beta)
    return surface_frame(crime_type, cells, shift_start, expected, champ["method"], champ["version"])


def _check_training(con, scoring: audit.AuditRecord, result: Reproduction) -> None:
    """The training data the champions were trained on still has the digest the training record logged."""
    trainings = [r for r in audit.records(con, kind="training") if r.seq < scoring.seq]
    if not trainings:
        result.differences.append("no training record precedes this scoring run")
        return
    for crime_type, entry in trainings[-1].data["crime_types"].items():
        if not entry.get("training_data_address"):
            continue  # a baseline-only training keeps no frame
        try:
            resolve({"file_sha256": entry["training_data_sha256"], "address": entry["training_data_address"]})
        except ArtifactError as err:
            result.differences.append(f"training data {crime_type}: {err}")
            continue
        result.checked.append(f"training data {crime_type} sha256 {entry['training_data_sha256'][:16]}")
