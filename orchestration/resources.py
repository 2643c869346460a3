"""Dagster resources: the agency configuration and the warehouse. Thin wrappers over beatwise."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import duckdb

from beatwise import paths, warehouse
from beatwise.config import AgencyConfig, load_config

DEFAULT_CONFIG = paths.PROJECT_ROOT / "config" / "chicago_sample.yaml"

# Every asset that writes the warehouse (dbt included) runs in this pool of size 1: DuckDB has one writer.
WAREHOUSE_POOL = "warehouse"


def agency_named(name: str) -> str:
    """A schedule's or sensor's name, prefixed with the agency's slug in a deployment's per-agency code
    location ($BEATWISE_AGENCY), so that the Dagster UI tells the agencies' automations apart."""
    slug = os.environ.get("BEATWISE_AGENCY")
    return f"{slug}__{name}" if slug else name


class AgencyResource(dg.ConfigurableResource):
    """The agency configuration file the pipeline runs for: set, else $BEATWISE_CONFIG, else the sample."""

    config_path: str = ""

    @property
    def file(self) -> str:
        return self.config_path or os.environ.get("BEATWISE_CONFIG") or str(DEFAULT_CONFIG)

    def load(self) -> AgencyConfig:
        return load_config(self.file)


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse file (BEATWISE_HOME/warehouse.duckdb unless set)."""

    path: str = ""

    @property
    def file(self) -> str:
        return self.path or str(paths.warehouse_path())

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with warehouse.connect(self.file) as con:
            yield con
