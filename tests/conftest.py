"""Shared fixtures: every test session gets its own BEATWISE_HOME, so nothing touches var/."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from beatwise.config import AgencyConfig, load_config

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_CONFIG = ROOT / "config" / "chicago_sample.yaml"
CHICAGO_CONFIG = ROOT / "config" / "chicago.yaml"


@pytest.fixture(scope="session", autouse=True)
def beatwise_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("beatwise_home")
    os.environ["BEATWISE_HOME"] = str(home)
    os.environ["DAGSTER_HOME"] = str(home / "dagster")
    (home / "dagster").mkdir()
    return home


@pytest.fixture(scope="session")
def sample_config() -> AgencyConfig:
    return load_config(SAMPLE_CONFIG)


@pytest.fixture(scope="session")
def chicago_config() -> AgencyConfig:
    return load_config(CHICAGO_CONFIG)
