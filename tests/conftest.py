"""Shared fixtures: every test session gets its own BEATWISE_HOME, so nothing touches var/."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def own_home(path: Path) -> Iterator[Path]:
    """Run with a state folder of its own (landing files, MLflow store, artifacts, Dagster instance),
    for tests whose outcome depends on what other tests left in the session's folder."""
    saved = {key: os.environ.get(key) for key in ("BEATWISE_HOME", "DAGSTER_HOME")}
    (path / "dagster").mkdir(parents=True, exist_ok=True)
    os.environ["BEATWISE_HOME"], os.environ["DAGSTER_HOME"] = str(path), str(path / "dagster")
    try:
        yield path
    finally:
        for key, value in saved.items():
            os.environ[key] = value  # always set by the session fixture


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
