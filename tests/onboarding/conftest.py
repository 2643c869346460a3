"""The second city: the synthetic city exported as a foreign police service would (config/foreign_city.yaml).

Its files are generated once per session by the real command (`beatwise simulate city --layout foreign`);
commands run as a user runs them, in a process of their own, with a state folder of their own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FOREIGN_CONFIG = ROOT / "config" / "foreign_city.yaml"
INCIDENTS = 20_000


def beatwise(*args: str, env: dict[str, str], check: bool = True, timeout: int = 1800) -> subprocess.CompletedProcess:
    """Run the `beatwise` command line in a process of its own; fail with its output."""
    clean = {k: v for k, v in os.environ.items() if k not in ("BEATWISE_CONFIG", "BEATWISE_WAREHOUSE")}
    result = subprocess.run([sys.executable, "-c", "from beatwise.cli import main; main()", *args],
                            env={**clean, **env}, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"beatwise {' '.join(args)} exited {result.returncode}:\n"
                             f"{result.stdout[-4000:]}\n{result.stderr[-6000:]}")
    return result


@pytest.fixture(scope="session")
def foreign_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("foreign_city")
    beatwise("simulate", "city", "--config", str(FOREIGN_CONFIG), "--layout", "foreign",
             "--incidents", str(INCIDENTS), "--out", str(data), env={})
    return data


@pytest.fixture(scope="session")
def foreign_fast_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """config/foreign_city.yaml with a lighter forecasting set-up (fewer sampled negatives, a shorter
    training window and backtest), so that the end-to-end run fits a normal test run. Still only YAML."""
    path = tmp_path_factory.mktemp("foreign_config") / "foreign_fast.yaml"
    path.write_text(
        f"extends: {FOREIGN_CONFIG}\n"
        "forecasting:\n"
        "  windows_days: [7, 28, 91]\n"
        "  negatives_per_crime_type: 15000\n"
        "  negatives_per_positive: 1\n"
        "  train_start: 2016-06-01\n"
        "  backtest_days: 42\n"
        "  backtest_every_days: 14\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="session")
def foreign_env(foreign_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("foreign_home")
    return {"BEATWISE_FOREIGN_DATA": str(foreign_data), "BEATWISE_HOME": str(home),
            "DAGSTER_HOME": str(home / "dagster")}
