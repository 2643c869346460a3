"""Shared fixtures: every test session gets its own BEATWISE_HOME, so nothing touches var/."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from beatwise import paths
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


def own_home(path: Path):
    """A state folder of its own (landing files, MLflow store, artifacts, Dagster instance), for tests whose
    outcome depends on what other tests left in the session's folder."""
    return paths.using_home(path)


@pytest.fixture
def fresh_home(tmp_path: Path) -> Iterator[Path]:
    with own_home(tmp_path / "home") as home:
        yield home


@pytest.fixture(scope="session")
def sample_config() -> AgencyConfig:
    return load_config(SAMPLE_CONFIG)


@pytest.fixture(scope="session")
def chicago_config() -> AgencyConfig:
    return load_config(CHICAGO_CONFIG)
