"""Many agencies, one deployment: a deployment file names each agency's configuration, and each agency runs
with a state folder of its own (warehouse, serving snapshot, MLflow, audit log, keys, Dagster home).

    # config/deployment.yaml (or $BEATWISE_DEPLOYMENT)
    home: ../var/agencies        # optional, relative to this file; agency `<slug>` keeps its state in home/<slug>
    agencies:
      chicago_sample: chicago_sample.yaml
      synthetic: synthetic.yaml

Agencies are kept apart by process: every agency's pipeline runs in a process of its own with its own
environment (`Agency.environment`), and the Dagster deployment serves one code location per agency. The file
itself is read without loading any agency's configuration, so that one broken configuration fails alone.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from threading import Thread

import yaml

from beatwise import paths

DEFAULT_FILE = paths.PROJECT_ROOT / "config" / "deployment.yaml"
DEFAULT_HOME = paths.PROJECT_ROOT / "var" / "agencies"
SLUG = re.compile(r"^[a-z][a-z0-9_]*$")
# Set in an agency's process: the slug it serves (names its schedules and sensors in the Dagster UI).
AGENCY_VARIABLE = "BEATWISE_AGENCY"
# Variables naming one agency's state or config: never inherited by another agency's process.
AGENCY_STATE = ("BEATWISE_AGENCY", "BEATWISE_CONFIG", "BEATWISE_HOME", "BEATWISE_WAREHOUSE", "DAGSTER_HOME")


class DeploymentError(ValueError):
    """The deployment file is missing or malformed, or names an agency it does not have."""


class AgencyRefused(PermissionError):
    """A dashboard user asked for an agency they do not belong to."""


@dataclass(frozen=True)
class Agency:
    slug: str
    config: Path
    home: Path

    def environment(self) -> dict[str, str]:
        """The variables that point beatwise at this agency's configuration and state folder."""
        return {"BEATWISE_AGENCY": self.slug, "BEATWISE_CONFIG": str(self.config),
                "BEATWISE_HOME": str(self.home), "BEATWISE_WAREHOUSE": str(self.home / "warehouse.duckdb")}

    @property
    def serving_file(self) -> Path:
        return self.home / "serving.duckdb"


@dataclass(frozen=True)
class Deployment:
    file: Path
    agencies: tuple[Agency, ...]

    def agency(self, slug: str) -> Agency:
        for agency in self.agencies:
            if agency.slug == slug:
                return agency
        raise DeploymentError(f"{self.file}: no agency {slug!r} (agencies: "
                              f"{', '.join(a.slug for a in self.agencies)})")

    def open_for(self, username: str) -> tuple[Agency, ...]:
        """The agencies of this deployment that `username` belongs to (beatwise.users), in file order."""
        from beatwise.users import agencies_of

        theirs = set(agencies_of(username))
        return tuple(a for a in self.agencies if a.slug in theirs)

    def agency_for(self, username: str, requested: str | None = None) -> Agency:
        """The agency whose dashboards `username` opens: `requested`, else their first; refused for an
        agency they do not belong to, so a user of one agency never reads another's snapshot."""
        theirs = self.open_for(username)
        if not theirs:
            raise AgencyRefused(f"user {username!r} belongs to no agency of this deployment")
        if requested is None:
            return theirs[0]
        for agency in theirs:
            if agency.slug == requested:
                return agency
        raise AgencyRefused(f"user {username!r} does not belong to agency {requested!r}")


def deployment_file() -> Path | None:
    """$BEATWISE_DEPLOYMENT, else None: without it, the install serves one agency."""
    value = os.environ.get("BEATWISE_DEPLOYMENT")
    return Path(value) if value else None


def load_deployment(file: str | Path | None = None) -> Deployment:
    """The deployment of `file` (default: $BEATWISE_DEPLOYMENT, else config/deployment.yaml)."""
    path = Path(file or deployment_file() or DEFAULT_FILE).resolve()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DeploymentError(f"{path}: cannot read the deployment file: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise DeploymentError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("agencies"), dict) or not raw["agencies"]:
        raise DeploymentError(f"{path}: `agencies` must map each agency's slug to its configuration file")
    unknown = set(raw) - {"home", "agencies"}
    if unknown:
        raise DeploymentError(f"{path}: unknown key {sorted(unknown)[0]!r} (keys: home, agencies)")
    home = (path.parent / raw["home"]).resolve() if raw.get("home") else DEFAULT_HOME
    agencies = []
    for slug, config in raw["agencies"].items():
        if not isinstance(slug, str) or not SLUG.match(slug):
            raise DeploymentError(f"{path}: agencies.{slug}: a slug is lower case letters, digits and _, "
                                  "starting with a letter")
        if not isinstance(config, str) or not config:
            raise DeploymentError(f"{path}: agencies.{slug}: the value must be the agency's configuration file")
        agencies.append(Agency(slug, (path.parent / config).resolve(), home / slug))
    return Deployment(path, tuple(agencies))


@dataclass(frozen=True)
class Outcome:
    slug: str
    returncode: int
    seconds: float
    last_line: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def run_each(deployment: Deployment, command: list[str], slugs: Iterable[str] = (), jobs: int = 1,
             echo: Callable[[str], None] = print) -> list[Outcome]:
    """Run `command` (an argv; `{config}` is replaced by the agency's configuration file) once per agency,
    up to `jobs` at a time, each in a process of its own with that agency's environment only. A failing
    agency is reported and the others still run. Outcomes in the deployment's order."""
    chosen = [deployment.agency(s) for s in slugs] if slugs else list(deployment.agencies)
    prefix = jobs > 1 and len(chosen) > 1  # interleaved output: each line says whose it is
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(lambda agency: _run_one(agency, command, echo, prefix), chosen))


def _run_one(agency: Agency, command: list[str], echo: Callable[[str], None], prefix: bool) -> Outcome:
    inherited = {k: v for k, v in os.environ.items() if k not in AGENCY_STATE}
    echo(f"== {agency.slug} ({agency.config}) ==")
    agency.home.mkdir(parents=True, exist_ok=True)
    argv = [part.replace("{config}", str(agency.config)) for part in command]
    started = time.perf_counter()
    causes: list[str] = []
    # Both streams as they come; a failed command's cause is the last line of its stderr (beatwise.cli).
    with subprocess.Popen(argv, env={**inherited, **agency.environment()}, cwd=paths.PROJECT_ROOT,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        errors = Thread(target=_relay, args=(process.stderr, agency.slug if prefix else "", echo, causes))
        errors.start()
        _relay(process.stdout, agency.slug if prefix else "", echo, [])
        errors.join()
    return Outcome(agency.slug, process.returncode, time.perf_counter() - started, causes[-1] if causes else "")


def _relay(stream, slug: str, echo: Callable[[str], None], lines: list[str]) -> None:
    """Echo each line of `stream` (prefixed with the agency's slug if given); keep the non-empty ones."""
    for line in stream:
        echo(f"[{slug}] {line.rstrip()}" if slug else line.rstrip("\n"))
        if line.strip():
            lines.append(line.strip())


def beatwise_command(*args: str) -> list[str]:
    """An argv that runs the `beatwise` command line with this interpreter."""
    return [sys.executable, "-c", "from beatwise.cli import main; main()", *args]


def workspace_yaml(deployment: Deployment) -> str:
    """A Dagster workspace with one code location per agency (`orchestration.agencies:<slug>`). Dagster runs
    each location in a code server of its own, so an agency whose definitions fail to load fails alone."""
    entries = [{"python_module": {"module_name": "orchestration.agencies", "attribute": agency.slug,
                                  "location_name": agency.slug, "working_directory": str(paths.PROJECT_ROOT)}}
               for agency in deployment.agencies]
    return yaml.safe_dump({"load_from": entries}, sort_keys=False)
