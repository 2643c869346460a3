"""`beatwise run` (the whole pipeline once, in process) and `beatwise ui` (every UI on localhost)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime
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


QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def execute(job_name: str, command: str, run_config: dict | None = None):
    """Run a job of the code location in this process; on failure, print each failed step and exit 1 with
    the first cause (which key, file or column) on the last line."""
    import dagster as dg

    from orchestration.definitions import defs

    job = defs.resolve_job_def(job_name)
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False,
                                        run_config={**QUIET, **(run_config or {})})
    if result.success:
        return result
    causes = []
    for event in result.all_events:
        if event.is_failure and event.event_specific_data is not None:
            error = getattr(event.event_specific_data, "error", None)
            cause = root_cause(error) if error else event.message or "failed"
            click.echo(f"FAILED {event.step_key}: {cause}", err=True)
            causes.append((event.step_key, cause))
    step, cause = causes[0] if causes else (job_name, "the run failed (see the messages above)")
    click.echo(f"beatwise {command} failed at {step}: {cause}", err=True)
    sys.exit(1)


def root_cause(error) -> str:
    """The innermost error of a Dagster error chain as one line: `Class: message` (the message alone for a
    dg.Failure, whose description is written for the user)."""
    while getattr(error, "cause", None) is not None:
        error = error.cause
    cls = error.cls_name or ""
    message = re.sub(rf"^[\w.]*{re.escape(cls)}: ", "", " ".join(error.message.split())) if cls else error.message
    return message if cls in ("", "Failure") else f"{cls}: {message}"


def pipeline_job(config_file: str | None) -> str:
    """`demo` for a config with a `demo:` block (simulated field operations), else `main`."""
    from orchestration.resources import AgencyResource

    return "demo" if AgencyResource(config_path=config_file or "").load().is_demo else "main"


@click.command()
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False),
              help="agency configuration (default: $BEATWISE_CONFIG, else config/chicago_sample.yaml)")
@click.option("--deployment", "deployment_file", type=click.Path(exists=True, dir_okay=False),
              help="run every agency of this deployment file, each in a process and state folder of its own")
@click.option("--agency", "slugs", multiple=True, help="with --deployment: only this agency (repeatable)")
@click.option("--jobs", default=1, show_default=True, type=click.IntRange(1),
              help="with --deployment: agencies run at the same time")
@click.option("--reload", is_flag=True,
              help="read every feed file again (by default a feed's files that would load unchanged are skipped)")
def run(config_file: str | None, deployment_file: str | None, slugs: tuple[str, ...], jobs: int,
        reload: bool) -> None:
    """Materialize every asset once, in this process, and print what was built (the demo job for a config
    with a `demo:` block, else the main job, which never writes simulated rows)."""
    if deployment_file:
        if config_file:
            raise click.UsageError("--config and --deployment exclude each other: the deployment names the configs")
        run_deployment(deployment_file, slugs, jobs, reload)
        return
    if slugs or jobs != 1:
        raise click.UsageError("--agency and --jobs need --deployment")
    prepare_environment(config_file)
    from orchestration.recovery import checkpoint_after_run, recover_before_run
    from orchestration.summary import print_summary

    recover_before_run()

    started = time.perf_counter()
    job_name = pipeline_job(os.environ.get("BEATWISE_CONFIG"))
    click.echo(f"running the {job_name} job for "
               f"{os.environ.get('BEATWISE_CONFIG', 'config/chicago_sample.yaml')} ...")
    try:
        result = execute(job_name, "run", reload_run_config(job_name) if reload else None)
    finally:  # a failed run's records are signed too
        checkpoint_after_run()
    elapsed = time.perf_counter() - started
    step_seconds = {
        event.step_key: event.event_specific_data.duration_ms / 1000
        for event in result.all_events
        if event.is_step_success and event.step_key
    }
    print_summary(elapsed, step_seconds)


def reload_run_config(job_name: str) -> dict:
    """Run config that has every feed asset of the job read all its files again."""
    from orchestration.definitions import defs
    from orchestration.defs.ingest import feed_assets

    graph = defs.resolve_job_def(job_name).graph
    names = [asset.op.name for asset in feed_assets if graph.has_node_named(asset.op.name)]
    return {"ops": {name: {"config": {"reload": True}} for name in names}}


def run_deployment(file: str, slugs: tuple[str, ...], jobs: int, reload: bool = False) -> None:
    """`beatwise run` for each agency of the deployment (up to `jobs` at once), each in its own process with
    its own state folder; one agency's failure is reported and the others still run; exit 1 if any failed."""
    from beatwise.deployment import beatwise_command, load_deployment, run_each

    command = beatwise_command("run", "--config", "{config}", *(["--reload"] if reload else []))
    outcomes = run_each(load_deployment(file), command, slugs, jobs, click.echo)
    click.echo("\nagency                   outcome   seconds")
    for o in outcomes:
        click.echo(f"{o.slug:<24} {'ok' if o.ok else 'FAILED':<9} {o.seconds:>7.1f}"
                   + ("" if o.ok else f"  {o.last_line}"))
    failed = [o.slug for o in outcomes if not o.ok]
    if failed:
        click.echo(f"beatwise run failed for {len(failed)} of {len(outcomes)} agencies: {', '.join(failed)}", err=True)
        sys.exit(1)


def score_shift(shift: datetime) -> None:
    """Score one shift in process (the environment prepared): its features, then every risk surface."""
    execute("score_shift", "score", {"ops": {"raw__scoring_shifts": {"config": {"shift": f"{shift:%Y-%m-%d %H:%M}"}}}})


@click.command()
@click.option("--config", "config_file", required=True, type=click.Path(exists=True, dir_okay=False),
              help="agency configuration file")
@click.option("--shift", required=True, type=click.DateTime(["%Y-%m-%d %H:%M"]),
              help='shift start, "YYYY-MM-DD HH:MM" (agency local time)')
def score(config_file: str, shift: datetime) -> None:
    """Score a shift: risk surfaces per crime type by the champions, which must be trained as of the shift
    (refused otherwise: no look-ahead)."""
    prepare_environment(config_file)
    score_shift(shift)
    from beatwise import warehouse

    with warehouse.connect(paths.warehouse_path(), read_only=True) as con:
        rows = con.execute("select crime_type, count(*), sum(expected_count) from forecast.risk_surfaces "
                           "where shift_start = ? group by 1 order by 1", [shift]).fetchall()
    click.echo(f"risk surfaces for the shift {shift:%Y-%m-%d %H:%M}:")
    for crime_type, cells, expected in rows:
        click.echo(f"  {crime_type:<24} {cells:>7,} cells  {expected:>9.2f} expected incidents")


# dagster dev gives up on a code server that takes longer than this to load (its default is 180 s); on a
# busy machine loading the definitions can take longer, so the UI waits as long as it takes.
CODE_SERVER_TIMEOUT = "code_servers:\n  local_startup_timeout: 3600\n"


def _stop(signum, frame) -> None:
    raise KeyboardInterrupt  # SIGTERM stops every child as Ctrl-C does


@click.command()
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dagster-port", default=3000, show_default=True)
@click.option("--mlflow-port", default=5000, show_default=True)
@click.option("--streamlit-port", default=8501, show_default=True)
def ui(config_file: str | None, dagster_port: int, mlflow_port: int, streamlit_port: int) -> None:
    """Start the Dagster UI, the MLflow UI and the dashboards on 127.0.0.1 only; Ctrl-C or SIGTERM stops them all."""
    prepare_environment(config_file)
    instance_file = paths.dagster_home() / "dagster.yaml"
    if "code_servers:" not in instance_file.read_text(encoding="utf-8"):
        with instance_file.open("a", encoding="utf-8") as fh:
            fh.write(CODE_SERVER_TIMEOUT)
    from models.forecasting.tracking import tracking_uri

    root = paths.PROJECT_ROOT
    commands = {
        "Dagster": ["dagster", "dev", "-w", str(root / "workspace.yaml"), "-h", "127.0.0.1", "-p", str(dagster_port)],
        "MLflow": ["mlflow", "ui", "--backend-store-uri", tracking_uri(), "--host", "127.0.0.1",
                   "--port", str(mlflow_port), "--workers", "1"],
        "Dashboards": ["streamlit", "run", str(root / "dashboards" / "app.py"), "--server.address", "127.0.0.1",
                       "--server.port", str(streamlit_port), "--server.headless", "true",
                       "--browser.gatherUsageStats", "false", "--client.toolbarMode", "viewer"],
    }
    urls = {"Dagster": dagster_port, "MLflow": mlflow_port, "Dashboards": streamlit_port}
    signal.signal(signal.SIGTERM, _stop)
    processes = []
    try:
        for name, command in commands.items():
            # Each in its own process group, so that one signal stops a service and all its children.
            processes.append(subprocess.Popen(command, cwd=root, start_new_session=True))
            click.echo(f"{name:<11} http://127.0.0.1:{urls[name]}")
        click.echo(
            "All three listen on 127.0.0.1 only: reachable from this machine, not the network. Dagster and MLflow\n"
            "have no login of their own; to share them, put an authenticating reverse proxy in front "
            "(docs/deploy.md)."
        )
        _wait_for_dagster(processes[0], dagster_port)
        click.echo("Ctrl-C stops them all.")
        while all(p.poll() is None for p in processes):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        # A second Ctrl-C (uv forwards the first one again) must not cut the clean-up short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
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


def _wait_for_dagster(process: subprocess.Popen, port: int) -> None:
    """Wait, as long as it takes while dagster dev runs, until its code location has loaded."""
    import json
    import urllib.request

    query = json.dumps({"query": "{ workspaceOrError { ... on Workspace { locationEntries { name "
                                 "locationOrLoadError { __typename } } } } }"}).encode()
    said = False
    while process.poll() is None:
        try:
            request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", query,
                                             {"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=5) as response:
                entries = json.load(response)["data"]["workspaceOrError"]["locationEntries"]
            kinds = {e["locationOrLoadError"]["__typename"] for e in entries if e["locationOrLoadError"]}
            if entries and kinds == {"RepositoryLocation"}:
                click.echo("Dagster's code server is up.")
                return
            if "PythonError" in kinds:
                click.echo("Dagster could not load the definitions: see the Dagster UI's code locations.", err=True)
                return
        except (OSError, ValueError, KeyError, TypeError):
            pass
        if not said:
            click.echo("waiting for Dagster's code server to load the definitions (may take minutes) ...")
            said = True
        time.sleep(2)


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
