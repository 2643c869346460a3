from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from tests.models.planning.warehouse_sample import build_warehouse


@pytest.fixture(scope="session")
def sample_warehouse_template(tmp_path_factory, sample_config) -> Path:
    return build_warehouse(tmp_path_factory.mktemp("planning") / "template.duckdb", sample_config)


@pytest.fixture
def sample_warehouse(tmp_path, sample_warehouse_template) -> Path:
    """A fresh copy per test: tests that plan or override write into it."""
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(sample_warehouse_template, path)
    return path


@pytest.fixture
def con(sample_warehouse):
    with duckdb.connect(str(sample_warehouse)) as connection:
        yield connection
