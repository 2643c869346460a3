"""The training data's MLflow dataset: the fast digest and schema equal MLflow's own."""

import mlflow
import numpy as np
import pandas as pd

from models.forecasting.tracking import NumericFrameDataset, training_dataset


def test_numeric_dataset_matches_mlflow_from_pandas():
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({
        "n_cell_7d": rng.poisson(1.0, 12_000).astype(float),
        "days_since_last": np.where(rng.random(12_000) < 0.1, np.nan, rng.random(12_000)),
        "incident_count": rng.poisson(0.3, 12_000).astype(float),
    })
    fast = training_dataset(frame, "/data/theft.parquet", "theft_training")
    reference = mlflow.data.from_pandas(frame, source="/data/theft.parquet", name="theft_training",
                                        targets="incident_count")
    assert isinstance(fast, NumericFrameDataset)
    assert fast.to_dict() == reference.to_dict()
    assert [c.required for c in fast.schema.inputs] == [True, False, True]
    changed = frame.assign(n_cell_7d=frame["n_cell_7d"] + 1)
    assert training_dataset(changed, "/data/theft.parquet", "theft_training").digest != fast.digest


def test_non_numeric_frame_falls_back_to_mlflow():
    frame = pd.DataFrame({"cell_id": ["a", "b"], "incident_count": [0.0, 1.0]})
    dataset = training_dataset(frame, "/data/x.parquet", "x")
    assert not isinstance(dataset, NumericFrameDataset)
