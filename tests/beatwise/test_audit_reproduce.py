"""`beatwise audit reproduce`: a logged scoring run re-derived from its kept inputs, the model in MLflow and
the training data is equal; an altered kept artifact or model is named. On a real run of a small city."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from beatwise import audit, paths
from beatwise.cli import cli

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "tests" / "orchestration" / "crash_city.yaml"


@pytest.fixture(scope="module")
def scored_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("scored")
    env = {**os.environ, "BEATWISE_HOME": str(home), "DAGSTER_HOME": str(home / "dagster"),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run([str(Path(sys.executable).parent / "beatwise"), "run", "--config", str(CONFIG)],
                          env=env, cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return home


def reproduce(home: Path) -> tuple[int, str]:
    with paths.using_home(home):
        with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
            seq = audit.records(con, kind="scoring")[-1].seq
        result = CliRunner().invoke(cli, ["audit", "reproduce", str(seq), "--config", str(CONFIG)])
    return result.exit_code, result.output


def last_scoring(home: Path) -> dict:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return audit.records(con, kind="scoring")[-1].data


def test_a_logged_scoring_run_reproduces_and_a_tampered_artifact_is_named(scored_home):
    code, output = reproduce(scored_home)
    assert code == 0, output
    assert "reproduced, every digest equal" in output and "output/risk_surfaces re-derived: equal" in output
    assert all(len(c["model_sha256"]) == 64 for c in last_scoring(scored_home)["champions"].values())

    kept = scored_home / last_scoring(scored_home)["files"]["input/scoring_features"]["address"]
    original = kept.read_bytes()
    kept.chmod(0o644)
    kept.write_bytes(original[:-8] + b"\0" * 8)
    try:
        code, output = reproduce(scored_home)
    finally:
        kept.write_bytes(original)
    assert code == 1 and "input/scoring_features" in output and "altered" in output


def test_a_changed_model_is_named(scored_home):
    payload = last_scoring(scored_home)
    crime_type, champion = next(iter(payload["champions"].items()))
    with duckdb.connect(str(scored_home / "warehouse.duckdb")) as con:
        # The forger edits the logged digest instead of the model: the chain breaks, and reproduce says so.
        chain = audit.records(con, kind="scoring")
        tampered = json.loads(chain[-1].payload)
        tampered["champions"][crime_type]["model_sha256"] = "0" * 64
        con.execute("update raw.audit_log set payload = ? where seq = ?",
                    [audit.canonical_json(tampered), chain[-1].seq])
    code, output = reproduce(scored_home)
    assert code == 1 and f"model {crime_type} v{champion['version']}" in output
