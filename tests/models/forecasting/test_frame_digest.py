"""The digest a kept scoring frame is logged with: the same rows give the same digest whatever the Parquet
round trip or the column dtypes, and any changed value, name or order gives another."""

import hashlib

import numpy as np
import pandas as pd

from models.forecasting.surfaces import frame_digest


def frame() -> pd.DataFrame:
    return pd.DataFrame({
        "shift_start": pd.to_datetime(["2017-01-01 06:00", "2017-01-01 06:00", "2017-01-01 06:00"]),
        "cell_id": ["c1", "c2", None],
        "rank": np.array([1, 2, 3], dtype="int32"),
        "contribution": [0.25, -0.0, np.nan],
    })


def test_the_same_rows_digest_alike_through_parquet_and_other_dtypes(tmp_path):
    original = frame()
    original.to_parquet(tmp_path / "kept.parquet", index=False)
    kept = pd.read_parquet(tmp_path / "kept.parquet")
    widened = original.astype({"rank": "int64"}).assign(contribution=[0.25, 0.0, float("nan")])
    assert frame_digest(kept) == frame_digest(original) == frame_digest(widened)


def test_a_changed_value_name_or_order_digests_differently():
    original = frame_digest(frame())
    assert frame_digest(frame().assign(contribution=[0.25000000001, 0.0, np.nan])) != original
    assert frame_digest(frame().assign(cell_id=["c1", "c2", "None"])) != original  # missing is not text
    assert frame_digest(frame().rename(columns={"rank": "position"})) != original
    assert frame_digest(frame().iloc[[1, 0, 2]]) != original
    assert frame_digest(frame()[["cell_id", "shift_start", "rank", "contribution"]]) != original


def test_runs_logged_with_the_csv_digest_still_verify():
    # What scoring runs logged before the column digest: sha256 of the frame's canonical CSV text.
    csv = hashlib.sha256(frame().to_csv(index=False, float_format="%.12g").encode()).hexdigest()
    assert frame_digest(frame(), "csv") == csv != frame_digest(frame())
