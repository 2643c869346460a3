"""Where beatwise keeps its state: one folder, `var/` in the project root unless BEATWISE_HOME says otherwise."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]

# A state folder for the current thread only: the dashboards serve several agencies' users from one process,
# so the agency a session has open cannot live in the process's environment.
_CONTEXT_HOME: ContextVar[Path | None] = ContextVar("beatwise_home", default=None)


def set_context_home(path: Path | None) -> None:
    """Use `path` as the state folder in this thread (its context) until set again; None: back to the
    environment's."""
    _CONTEXT_HOME.set(path)


def home() -> Path:
    """The state folder (warehouse, serving snapshot, landing files, Dagster home, MLflow store)."""
    chosen = _CONTEXT_HOME.get()
    path = (chosen or Path(os.environ.get("BEATWISE_HOME", PROJECT_ROOT / "var"))).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def in_home(path: Path) -> str:
    """A path as records keep it: relative to the state folder, so that a record reads the same wherever
    the folder lives (and names no machine's directories); absolute only for a path outside it."""
    path = Path(path).resolve()
    return str(path.relative_to(home())) if path.is_relative_to(home()) else str(path)


def warehouse_path() -> Path:
    return home() / "warehouse.duckdb"


def serving_path() -> Path:
    return home() / "serving.duckdb"


def landing_dir() -> Path:
    return _sub("landing")


def dagster_home() -> Path:
    return _sub("dagster")


def mlflow_dir() -> Path:
    return _sub("mlflow")


def artifacts_dir() -> Path:
    return _sub("artifacts")


def inbox_dir() -> Path:
    """Durable inbox for analyst overrides; the pipeline is the only reader that writes the warehouse."""
    return _sub("inbox")


def keys_dir() -> Path:
    """Secret keys (owner-only files): outside the warehouse, so that write access to it forges nothing."""
    path = _sub("keys")
    path.chmod(0o700)
    return path


def closed_loop_result(slug: str) -> Path:
    """The last `beatwise simulate closed-loop` result of an agency (read by the Exposure page and report)."""
    return _sub("closed_loop") / f"{slug}.json"


def tuned_settings(slug: str) -> Path:
    """The forecasting settings the last `tune` job chose for an agency (read by its next training)."""
    return _sub("tuning") / f"{slug}.json"


def _sub(name: str) -> Path:
    path = home() / name
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextmanager
def using_home(path: Path) -> Iterator[Path]:
    """Run with `path` as the state folder (and its Dagster home), then restore the previous ones."""
    saved = {key: os.environ.get(key) for key in ("BEATWISE_HOME", "DAGSTER_HOME")}
    (path / "dagster").mkdir(parents=True, exist_ok=True)
    os.environ["BEATWISE_HOME"], os.environ["DAGSTER_HOME"] = str(path), str(path / "dagster")
    try:
        yield path
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
