"""MLflow glue: an experiment per agency, a run per crime type and method, a registered model per crime
type whose `champion` alias follows the champion gate.

The tracking store is SQLite under `beatwise.paths.mlflow_dir()` and artifacts go beside it (MLflow
3.17 would otherwise write `./mlruns` in the current folder). SQLite has one writer: callers serialise
MLflow writes (the Dagster assets share the warehouse pool).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from datetime import date
from functools import cached_property
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.data.dataset_source_registry import resolve_dataset_source
from mlflow.data.digest_utils import MAX_ROWS, get_normalized_md5_digest
from mlflow.data.pandas_dataset import PandasDataset
from mlflow.models import infer_signature
from mlflow.types import ColSpec, Schema
from mlflow.types.utils import _infer_pandas_column

from beatwise import paths
from beatwise.audit import artifacts
from beatwise.config.schema import AgencyConfig
from models.forecasting.baselines import Forecaster, ScoreBaseline, expected_counts
from models.forecasting.champion import CANDIDATE, ChampionDecision
from models.forecasting.evaluate import Backtest
from models.forecasting.gbm import GradientBoostedPoisson

ALIAS = "champion"
LIGHTGBM_REQUIREMENTS = ["lightgbm==4.7.0", "numpy", "pandas"]


def tracking_uri() -> str:
    return f"sqlite:///{(paths.mlflow_dir() / 'mlflow.db').as_posix()}"


def experiment_name(config: AgencyConfig) -> str:
    return f"beatwise-{config.agency.slug}"


def registered_name(config: AgencyConfig, crime_type: str) -> str:
    return f"{config.agency.slug}.{crime_type}"


def use_experiment(config: AgencyConfig) -> str:
    """Point MLflow at beatwise's store and the agency's experiment (created with explicit artifacts)."""
    mlflow.set_tracking_uri(tracking_uri())
    name = experiment_name(config)
    experiment = mlflow.get_experiment_by_name(name)
    if experiment is None:
        location = (paths.mlflow_dir() / "artifacts" / config.agency.slug).resolve().as_uri()
        experiment_id = mlflow.create_experiment(name, artifact_location=location)
    else:
        experiment_id = experiment.experiment_id
    mlflow.set_experiment(experiment_id=experiment_id)
    return experiment_id


class BaselineModel(mlflow.pyfunc.PythonModel):
    """A calibrated baseline as an MLflow model: (score, shift_of_day) per cell -> expected count."""

    def __init__(self, method: str, alpha: list[float], beta: list[float]):
        self.method, self.alpha, self.beta = method, alpha, beta

    def predict(self, context, model_input: pd.DataFrame, params=None) -> np.ndarray:
        k = model_input["shift_of_day"].to_numpy(dtype=int)
        score = model_input["score"].to_numpy(dtype=float)
        return expected_counts(score, np.asarray(self.alpha)[k], np.asarray(self.beta)[k])


def model_card(
    config: AgencyConfig,
    crime_type: str,
    forecaster: Forecaster,
    backtest: Backtest,
    train_until: date,
    features: list[str],
) -> str:
    """A short model card: what it predicts, data window, features, metrics against baselines, limits."""
    metrics = backtest.metrics[crime_type]
    decision = backtest.decisions[crime_type]
    lines = [
        f"# {crime_type}: {forecaster.method} ({config.agency.name})",
        "",
        f"**Predicts** the expected number of {crime_type.replace('_', ' ')} incidents in each "
        f"{config.grid.cell_size:g}-unit grid cell of the jurisdiction during one shift, from what was known "
        "at the shift's start.",
        f"**Trained on** incidents up to {train_until}; **backtested** on {len(backtest.shifts)} later "
        "shifts "
        f"({backtest.shifts[0]:%Y-%m-%d} .. {backtest.shifts[-1]:%Y-%m-%d}).",
        f"**Features**: {', '.join(features) if features else 'none (a baseline: past events only)'}.",
        "",
        "| method | PAI@1% | PAI@5% | hit@1% | PEI*@1% | deviance | calibration |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for method, m in metrics.items():
        lines.append(
            f"| {method} | {m['pai_1']:.2f} | {m['pai_5']:.2f} | {m['hit_rate_1']:.3f} | "
            f"{m['pei_star_1']:.3f} | {m['deviance']:.5f} | {m['calibration']:.2f} |"
        )
    lines += [
        "",
        f"**Champion gate**: {decision.reason}. Champion: `{decision.champion}`.",
        "",
        "**Known limits**: recorded crime measures where crime was reported and recorded, not all crime; "
        "only serious, community-reported types are modelled, to limit feedback from enforcement. "
        "Expected counts are calibrated on average, not per cell; rare types (homicide) have few events "
        "per cell and their surfaces are mostly a ranking of long-run risk. Coordinates are snapped to the "
        "block, so a cell on a street edge may carry its neighbour's incidents.",
    ]
    return "\n".join(lines)


def log_method(
    config: AgencyConfig,
    crime_type: str,
    forecaster: Forecaster,
    backtest: Backtest,
    train_until: date,
    training_frame: pd.DataFrame | None = None,
    data_until: date | None = None,
) -> tuple[str, str]:
    """One run for one crime type and method; returns (run id, model URI). `data_until`: the last day of
    incidents the model or its champion gate saw (default: the last backtest shift's day)."""
    metrics = backtest.metrics[crime_type][forecaster.method]
    features = getattr(forecaster, "features", [])
    with mlflow.start_run(run_name=f"{crime_type}/{forecaster.method}") as run:
        mlflow.set_tags(
            {
                "crime_type": crime_type,
                "method": forecaster.method,
                "agency": config.agency.slug,
                "train_until": str(train_until),
                # it scores later shifts only
                "data_until": f"{data_until or backtest.shifts[-1]:%Y-%m-%d}",
                "kind": "model" if features else "baseline",
            }
        )
        mlflow.log_params(
            {k: json.dumps(v) if isinstance(v, list) else v for k, v in forecaster.params().items()}
        )
        mlflow.log_metrics({k: float(v) for k, v in metrics.items() if np.isfinite(v)})
        mlflow.log_text(
            model_card(config, crime_type, forecaster, backtest, train_until, features), "model_card.md"
        )
        if isinstance(forecaster, GradientBoostedPoisson):
            mlflow.log_dict({"features": features}, "features.json")
            if training_frame is not None:
                log_training_data(config, crime_type, training_frame)
            sample = training_frame[features].head(200) if training_frame is not None else None
            signature = (
                infer_signature(sample, forecaster.booster.predict(sample.to_numpy()))
                if sample is not None
                else None
            )
            info = mlflow.lightgbm.log_model(
                forecaster.booster, name="model", signature=signature, pip_requirements=LIGHTGBM_REQUIREMENTS
            )
        elif isinstance(forecaster, ScoreBaseline):
            example = pd.DataFrame({"score": [0.0, 1.0], "shift_of_day": [0, 0]})
            model = BaselineModel(forecaster.method, forecaster.alpha, forecaster.beta)
            info = mlflow.pyfunc.log_model(
                name="model",
                python_model=model,
                signature=infer_signature(example, model.predict(None, example)),
                pip_requirements=["mlflow", "numpy", "pandas"],
            )
        else:
            raise TypeError(f"cannot log a {type(forecaster).__name__}")
        return run.info.run_id, info.model_uri


def log_training_data(config: AgencyConfig, crime_type: str, frame: pd.DataFrame) -> str:
    """Keep the training frame as a Parquet file and record it as the run's training input."""
    folder = paths.artifacts_dir() / "training" / config.agency.slug
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{crime_type}.parquet"
    frame.to_parquet(path, index=False)
    kept = artifacts.keep(path)
    digest = kept["file_sha256"]
    mlflow.log_input(training_dataset(frame, str(path), f"{crime_type}_training"), context="training")
    mlflow.set_tags({"training_data_sha256": digest, "training_data_address": kept["address"]})
    return digest


class NumericFrameDataset(PandasDataset):
    """MLflow's pandas dataset with the same digest and schema, computed column-wise for an all-numeric frame:
    MLflow's own checks every value in Python (minutes for a training frame of a million rows)."""

    def _compute_digest(self) -> str:
        # compute_pandas_digest's formula, whose string columns are none here (so its union keeps the order).
        trimmed = self._df.head(MAX_ROWS).select_dtypes(include=[np.number])
        return get_normalized_md5_digest(
            [pd.util.hash_pandas_object(trimmed).values, np.int64(len(self._df))]
            + [str(x).encode() for x in self._df.columns]
        )

    @cached_property
    def schema(self) -> Schema:
        # _infer_schema's column specs: the type from the dtype, required where no value is missing.
        return Schema([ColSpec(type=_infer_pandas_column(self._df[c].head(1)), name=c,
                               required=not bool(self._df[c].isna().any())) for c in self._df.columns])


def training_dataset(frame: pd.DataFrame, source: str, name: str) -> PandasDataset:
    """The training frame as an MLflow dataset (the fast twin of mlflow.data.from_pandas for numeric frames)."""
    if not all(pd.api.types.is_numeric_dtype(dtype) for dtype in frame.dtypes):
        return mlflow.data.from_pandas(frame, source=source, name=name, targets="incident_count")
    return NumericFrameDataset(frame, resolve_dataset_source(source), targets="incident_count", name=name)


def model_digest(config: AgencyConfig, crime_type: str, version: str) -> str:
    """The digest of a registered model version's files (MLmodel, weights, environment), each kept under
    its content address: what the audit chain names as the model."""
    uri = f"models:/{registered_name(config, crime_type)}/{version}"
    with tempfile.TemporaryDirectory() as folder:
        return artifacts.keep_tree(Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=folder)))


def register_champion(
    config: AgencyConfig, decision: ChampionDecision, model_uris: Mapping[str, str]
) -> dict:
    """Register the candidate and, when it loses, the best baseline; point `champion` at the winner.

    The alias moves only to a version that won the gate: a losing candidate is registered (so its
    evaluation is on record) but never aliased.
    """
    client = MlflowClient()
    name = registered_name(config, decision.crime_type)
    versions = {}
    for method in dict.fromkeys([CANDIDATE, decision.champion]):
        if method in model_uris:
            version = mlflow.register_model(model_uris[method], name)
            client.set_model_version_tag(name, version.version, "method", method)
            client.set_model_version_tag(name, version.version, "champion_gate", decision.reason[:4000])
            versions[method] = version.version
    for version in versions.values():
        digest = model_digest(config, decision.crime_type, version)
        client.set_model_version_tag(name, version, "model_sha256", digest)
    client.set_registered_model_alias(name, ALIAS, versions[decision.champion])
    client.set_registered_model_tag(name, "champion_method", decision.champion)
    return {
        "registered_model": name,
        "champion": decision.champion,
        "version": versions[decision.champion],
        "model_sha256": client.get_model_version(name, versions[decision.champion]).tags["model_sha256"],
        "candidate_wins": decision.candidate_wins,
    }


def champion(config: AgencyConfig, crime_type: str) -> tuple[str, str]:
    """(method, version) that the `champion` alias points at for a crime type."""
    mlflow.set_tracking_uri(tracking_uri())
    version = MlflowClient().get_model_version_by_alias(registered_name(config, crime_type), ALIAS)
    return version.tags.get("method", ""), version.version


def champion_data_until(config: AgencyConfig, crime_type: str) -> tuple[str, date | None]:
    """(version, last day of incidents its training or its champion gate saw) of a crime type's champion;
    None where the run does not say."""
    mlflow.set_tracking_uri(tracking_uri())
    client = MlflowClient()
    version = client.get_model_version_by_alias(registered_name(config, crime_type), ALIAS)
    tags = client.get_run(version.run_id).data.tags if version.run_id else {}
    day = tags.get("data_until") or tags.get("train_until")
    return version.version, date.fromisoformat(day) if day else None


def version_tags(config: AgencyConfig, crime_type: str, version: str) -> dict[str, str]:
    mlflow.set_tracking_uri(tracking_uri())
    return dict(MlflowClient().get_model_version(registered_name(config, crime_type), version).tags)
