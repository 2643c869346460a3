"""`beatwise run` (the whole pipeline once, in process) and `beatwise ui` (every UI on localhost)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import click

from beatwise import paths

# One writer at a time on the DuckDB warehouse, across runs too (STACK.md).
DAGSTER_YAML = """\
concurrency:
  pools:
    default_limit: 1
telemetry:
  enabled: false
"""


def prepare_environment(config_file: str | None) -> None:
    """Point Dagster, dbt and the resources at this install's state folder and config."""
    dagster_home = paths.dagster_home()
    instance_file = dagster_home / "dagster.yaml"
    if not instance_file.exists():
        instance_file.write_text(DAGSTER_YAML, encoding="utf-8")
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    os.environ.setdefault("BEATWISE_WAREHOUSE", str(paths.warehouse_path()))
    if config_file:
        os.environ["BEATWISE_CONFIG"] = str(Path(config_file).resolve())


@click.command()
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False),
              help="agency configuration (default: $BEATWISE_CONFIG, else config/chicago_sample.yaml)")
def run(config_file: str | None) -> None:
    """Materialize every asset once, in this process, and print what was built."""
    prepare_environment(config_file)
    import dagster as dg

    from orchestration.definitions import defs
    from orchestration.recovery import checkpoint_after_run, recover_before_run
    from orchestration.summary import print_summary

    recover_before_run()

    started = time.perf_counter()
    job = defs.resolve_job_def("main")
    click.echo(f"running the pipeline for {os.environ.get('BEATWISE_CONFIG', 'config/chicago_sample.yaml')} ...")
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False, run_config=quiet)
    elapsed = time.perf_counter() - started
    checkpoint_after_run()
    if not result.success:
        for event in result.all_events:
            if event.is_failure and event.event_specific_data is not None:
                error = getattr(event.event_specific_data, "error", None)
                click.echo(f"FAILED {event.step_key}: {error.message.strip() if error else event.message}", err=True)
        sys.exit(1)
    step_seconds = {
        event.step_key: event.event_specific_data.duration_ms / 1000
        for event in result.all_events
        if event.is_step_success and event.step_key
    }
    print_summary(elapsed, step_seconds)


@click.command()
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dagster-port", default=3000, show_default=True)
@click.option("--mlflow-port", default=5000, show_default=True)
@click.option("--streamlit-port", default=8501, show_default=True)
def ui(config_file: str | None, dagster_port: int, mlflow_port: int, streamlit_port: int) -> None:
    """Start the Dagster UI, the MLflow UI and the dashboards on localhost; Ctrl-C stops them all."""
    prepare_environment(config_file)
    from models.forecasting.tracking import tracking_uri

    root = paths.PROJECT_ROOT
    commands = {
        "Dagster": ["dagster", "dev", "-w", str(root / "workspace.yaml"), "-h", "127.0.0.1", "-p", str(dagster_port)],
        "MLflow": ["mlflow", "ui", "--backend-store-uri", tracking_uri(), "--host", "127.0.0.1",
                   "--port", str(mlflow_port), "--workers", "1"],
        "Dashboards": ["streamlit", "run", str(root / "dashboards" / "app.py"), "--server.address", "127.0.0.1",
                       "--server.port", str(streamlit_port), "--server.headless", "true",
                       "--browser.gatherUsageStats", "false"],
    }
    urls = {"Dagster": dagster_port, "MLflow": mlflow_port, "Dashboards": streamlit_port}
    processes = []
    for name, command in commands.items():
        # Each in its own process group, so that one signal stops a service and all its children.
        processes.append(subprocess.Popen(command, cwd=root, start_new_session=True))
        click.echo(f"{name:<11} http://127.0.0.1:{urls[name]}")
    click.echo("Ctrl-C stops them all.")
    try:
        while all(p.poll() is None for p in processes):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        # A second Ctrl-C (uv forwards the first one again) must not cut the clean-up short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        # dagster dev starts its code servers in sessions of their own: collect every descendant first.
        family = {child for p in processes for child in _descendants(p.pid)}
        for p in processes:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        _signal(family, signal.SIGTERM)
        deadline = time.time() + 15
        for p in processes:
            try:
                p.wait(max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
        while family and time.time() < deadline:
            family = {pid for pid in family if Path(f"/proc/{pid}").exists()}
            time.sleep(0.2)
        _signal(family, signal.SIGKILL)
        click.echo("stopped.")


def _descendants(pid: int) -> set[int]:
    """Every process below `pid` (from /proc; empty where there is none)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _signal(pids: set[int], sig: signal.Signals) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass
