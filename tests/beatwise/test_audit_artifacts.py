"""Content-addressed artifacts: a logged file's bytes stay verifiable after its readable name is rewritten."""

from __future__ import annotations

import pandas as pd
import pytest

from beatwise import audit, paths
from beatwise.audit import artifacts


def test_a_kept_file_survives_its_readable_name_being_rewritten(fresh_home):
    readable = paths.artifacts_dir() / "scoring" / "20170101T0600" / "output_risk_surfaces.parquet"
    readable.parent.mkdir(parents=True)
    pd.DataFrame({"cell_id": ["a", "b"], "expected_count": [0.5, 1.5]}).to_parquet(readable, index=False)
    first = artifacts.keep(readable)
    pd.DataFrame({"cell_id": ["a", "b"], "expected_count": [9.0, 9.0]}).to_parquet(readable, index=False)
    second = artifacts.keep(readable)

    assert first["file_sha256"] != second["file_sha256"]
    old = artifacts.resolve(first)
    assert audit.file_digest(old) == first["file_sha256"]
    assert pd.read_parquet(old)["expected_count"].tolist() == [0.5, 1.5]
    assert artifacts.keep(readable) == second  # kept once


def test_an_altered_or_missing_artifact_is_named(fresh_home):
    readable = paths.artifacts_dir() / "inputs.parquet"
    pd.DataFrame({"x": [1]}).to_parquet(readable)
    entry = artifacts.keep(readable)
    kept = paths.home() / entry["address"]
    kept.chmod(0o644)
    kept.write_bytes(kept.read_bytes() + b"x")
    with pytest.raises(artifacts.ArtifactError, match="was altered"):
        artifacts.resolve(entry)
    kept.unlink()
    with pytest.raises(artifacts.ArtifactError, match="is missing"):
        artifacts.resolve(entry)


def test_a_folder_digest_changes_with_any_file(fresh_home, tmp_path):
    model = tmp_path / "model"
    (model / "sub").mkdir(parents=True)
    (model / "MLmodel").write_text("flavors: {}\n")
    (model / "sub" / "weights.txt").write_text("tree 1\n")
    before = artifacts.keep_tree(model)
    assert artifacts.keep_tree(model) == before
    (model / "sub" / "weights.txt").write_text("tree 2\n")
    assert artifacts.keep_tree(model) != before
