"""Kubernetes on paper: deploy/helm/values.yaml gives an instance config that Dagster accepts, and a run of
the `main` job, launched by the K8sRunLauncher configured from it, becomes the Kubernetes Job it should.

There is no cluster here. What these tests prove: the instance config the chart renders from our values
(mirrored below from the chart's templates, 1.13.27) passes Dagster's schema and every configured class's
own schema; the real launcher, built from it, and the real definitions loaded as the code location are
loaded with it, turn a run of `main` into a Job manifest that the real Kubernetes client sends, over HTTP,
to an API server; that manifest has the image, environment, secrets, volumes and resources the region
needs; and the spark_k8s dbt target renders and is accepted by dbt-spark. The API server is a recorder on
127.0.0.1. What they cannot prove: that the chart itself renders (no helm here), that a cluster accepts the
Job, that the pod starts, that the Spark driver reaches its executors, or that PostgreSQL storage connects
(the launch test stores runs in SQLite).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
VALUES = ROOT / "deploy" / "helm" / "values.yaml"
CONFIG_MAP = ROOT / "deploy" / "kubernetes" / "config.yaml"
NAMESPACE = "beatwise"
RELEASE = "beatwise"


def _names(entries) -> list[str]:
    return [entry["name"] for entry in entries or [] if "name" in entry]


def _snake(run_k8s_config: dict) -> dict:
    keys = {"containerConfig": "container_config", "podSpecConfig": "pod_spec_config",
            "podTemplateSpecMetadata": "pod_template_spec_metadata", "jobSpecConfig": "job_spec_config",
            "jobMetadata": "job_metadata"}
    return {keys[key]: value for key, value in run_k8s_config.items() if value}


def chart_instance_config(values: dict) -> dict:
    """dagster.yaml as the chart's instance ConfigMap renders it from `values` (K8sRunLauncher, PostgreSQL
    storage, queued runs, pools)."""
    launcher = values["runLauncher"]["config"]["k8sRunLauncher"]
    chart_global = values.get("global", {})
    postgres = values["postgresql"]
    storage = {"postgres_db": {
        "username": postgres["postgresqlUsername"], "password": {"env": "DAGSTER_PG_PASSWORD"},
        "hostname": postgres["postgresqlHost"], "db_name": postgres["postgresqlDatabase"],
        "port": postgres["service"]["port"],
    }}
    k8s = {
        "load_incluster_config": launcher["loadInclusterConfig"],
        "job_namespace": launcher.get("jobNamespace") or NAMESPACE,
        "image_pull_policy": launcher.get("imagePullPolicy"),
        "service_account_name": chart_global.get("serviceAccountName") or f"{RELEASE}-dagster",
        "dagster_home": chart_global.get("dagsterHome", "/opt/dagster/dagster_home"),
        "instance_config_map": f"{RELEASE}-dagster-instance",
        "postgres_password_secret": chart_global.get("postgresqlSecretName", "dagster-postgresql-secret"),
        "env_config_maps": _names(launcher.get("envConfigMaps")),
        "env_secrets": _names(launcher.get("envSecrets")),
        "env_vars": launcher.get("envVars"),
        "volume_mounts": launcher.get("volumeMounts"),
        "volumes": launcher.get("volumes"),
        "labels": launcher.get("labels"),
        "resources": launcher.get("resources"),
        "fail_pod_on_run_failure": True if launcher.get("failPodOnRunFailure") else None,
        "run_k8s_config": _snake(launcher.get("runK8sConfig") or {}),
    }
    pools = values.get("concurrency", {}).get("pools", {})
    return {
        "run_launcher": {"module": "dagster_k8s", "class": "K8sRunLauncher",
                         "config": {key: value for key, value in k8s.items() if value not in (None, [], {})}},
        "run_storage": {"module": "dagster_postgres.run_storage", "class": "PostgresRunStorage", "config": storage},
        "event_log_storage": {"module": "dagster_postgres.event_log", "class": "PostgresEventLogStorage",
                              "config": storage},
        "schedule_storage": {"module": "dagster_postgres.schedule_storage", "class": "PostgresScheduleStorage",
                             "config": storage},
        # (dagster 1.13 has no `dagster.core` alias any more: the classes' own modules)
        "run_coordinator": {"module": "dagster._core.run_coordinator", "class": "QueuedRunCoordinator", "config": {}},
        "scheduler": {"module": "dagster._core.scheduler", "class": "DagsterDaemonScheduler", "config": {}},
        "concurrency": {"pools": {"default_limit": pools["defaultLimit"]}},
        "telemetry": {"enabled": values.get("telemetry", {}).get("enabled", True)},
    }


def code_location_container_context(values: dict) -> dict:
    """What a user deployment with includeConfigInLaunchedRuns hands to the runs it launches."""
    deployment = values["dagster-user-deployments"]["deployments"][0]
    assert deployment["includeConfigInLaunchedRuns"]["enabled"]
    return {"k8s": {
        "namespace": NAMESPACE,
        "image_pull_policy": deployment["image"]["pullPolicy"],
        "env_config_maps": _names(deployment.get("envConfigMaps")),
        "env_secrets": _names(deployment.get("envSecrets")),
        "volumes": deployment.get("volumes", []),
        "volume_mounts": deployment.get("volumeMounts", []),
    }}


@pytest.fixture(scope="module")
def values() -> dict:
    return yaml.safe_load(VALUES.read_text())


def test_the_chart_values_give_an_instance_config_dagster_accepts(values, tmp_path):
    from dagster._config import validate_config
    from dagster._core.instance.config import dagster_instance_config
    from dagster._serdes.config_class import class_from_code_pointer

    rendered = chart_instance_config(values)
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(rendered))
    accepted, _ = dagster_instance_config(str(tmp_path))  # the instance schema, as a deployment loads it
    for section in ("run_launcher", "run_storage", "event_log_storage", "schedule_storage", "run_coordinator"):
        configured = accepted[section]
        cls = class_from_code_pointer(configured["module"], configured["class"])
        checked = validate_config(cls.config_type(), configured["config"])
        assert checked.success, (section, [error.message for error in checked.errors])
    launcher = accepted["run_launcher"]["config"]
    assert launcher["env_secrets"] == ["beatwise-spark"] and launcher["env_config_maps"] == ["beatwise-config"]
    assert accepted["concurrency"]["pools"]["default_limit"] == 1  # the warehouse's one writer, across runs


class _KubernetesApiRecorder(BaseHTTPRequestHandler):
    """Answers the one call a launch makes (create a Job) and keeps what was sent."""

    received: list[tuple[str, dict]] = []

    def do_POST(self):  # noqa: N802 - the http.server API
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.received.append((self.path, body))
        payload = json.dumps({**body, "status": {}}).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def api_server():
    _KubernetesApiRecorder.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _KubernetesApiRecorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _KubernetesApiRecorder.received
    server.shutdown()
    server.server_close()


def _kubeconfig(path: Path, server: str) -> Path:
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "test",
        "clusters": [{"name": "test", "cluster": {"server": server}}],
        "users": [{"name": "test", "user": {"token": "not-a-secret"}}],
        "contexts": [{"name": "test", "context": {"cluster": "test", "user": "test"}}],
    }))
    return path


def test_a_run_of_main_becomes_the_kubernetes_job_the_region_needs(values, tmp_path, api_server, monkeypatch):
    import dagster as dg
    from dagster._core.launcher import LaunchRunContext
    from dagster._core.remote_origin import InProcessCodeLocationOrigin
    from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
    from dagster._core.workspace.context import WorkspaceProcessContext
    from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget

    server, received = api_server
    for key, value in yaml.safe_load(CONFIG_MAP.read_text())["data"].items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("BEATWISE_HOME", str(tmp_path / "home"))
    # The region's own agency file lives on its volume; here the sample stands in for it.
    monkeypatch.setenv("BEATWISE_CONFIG", str(ROOT / "config" / "chicago_sample.yaml"))
    # The rendered instance, but out of a cluster: the API server from a kubeconfig, runs kept in SQLite.
    rendered = chart_instance_config(values)
    launcher = {**rendered["run_launcher"]["config"], "load_incluster_config": False,
                "kubeconfig_file": str(_kubeconfig(tmp_path / "kubeconfig", server))}
    instance_dir = tmp_path / "dagster"
    instance_dir.mkdir()
    (instance_dir / "dagster.yaml").write_text(yaml.safe_dump({
        "run_launcher": {**rendered["run_launcher"], "config": launcher},
        "storage": {"sqlite": {"base_dir": str(instance_dir)}},
        "concurrency": rendered["concurrency"], "telemetry": {"enabled": False},
    }))
    image = "registry.example.org/beatwise/beatwise:0.1.0"
    values_image = values["dagster-user-deployments"]["deployments"][0]["image"]
    assert f"{values_image['repository']}:{values_image['tag']}" == image
    origin = InProcessCodeLocationOrigin(
        LoadableTargetOrigin(module_name="orchestration.definitions", working_directory=str(ROOT),
                             executable_path=sys.executable),
        container_image=image, container_context=code_location_container_context(values), location_name="beatwise")
    with dg.DagsterInstance.from_config(str(instance_dir)) as instance:
        assert type(instance.run_launcher).__name__ == "K8sRunLauncher"
        with WorkspaceProcessContext(instance, InProcessWorkspaceLoadTarget(origin)) as process:
            workspace = process.create_request_context()
            location = workspace.get_code_location("beatwise")
            repository = next(iter(location.get_repositories().values()))
            remote_job = repository.get_full_job("main")
            from orchestration.definitions import defs
            run = instance.create_run_for_job(
                job_def=defs.resolve_job_def("main"),
                remote_job_origin=remote_job.get_remote_origin(),
                job_code_origin=remote_job.get_python_origin(),
            )
            instance.run_launcher.launch_run(LaunchRunContext(dagster_run=run, workspace=workspace))

    [(path, job)] = received
    assert path == f"/apis/batch/v1/namespaces/{NAMESPACE}/jobs" and job["kind"] == "Job"
    assert job["metadata"]["labels"]["dagster/job"] == "main"
    assert job["spec"]["backoffLimit"] == 0 and job["spec"]["ttlSecondsAfterFinished"] == 604800
    pod = job["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "beatwise-dagster"  # the account Spark's driver role is bound to
    [container] = pod["containers"]
    assert container["image"] == image
    assert container["args"][:3] == ["dagster", "api", "execute_run"]
    sources = {(kind, entry[kind]["name"]) for entry in container["envFrom"] for kind in entry}
    assert {("configMapRef", "beatwise-config"), ("secretRef", "beatwise-spark")} <= sources
    env = {entry["name"]: entry for entry in container["env"]}
    assert env["BEATWISE_AUDIT_KEY"]["value"].startswith("/var/run/beatwise/audit/")
    assert env["POD_IP"]["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP"
    mounts = {mount["mountPath"]: mount for mount in container["volumeMounts"]}
    assert "/data" in mounts and mounts["/var/run/beatwise/audit"]["readOnly"] is True
    claims = {v["name"]: v for v in pod["volumes"]}
    assert claims["state"]["persistentVolumeClaim"]["claimName"] == "beatwise-state"
    assert claims["audit-key"]["secret"]["secretName"] == "beatwise-audit-key"
    assert container["resources"]["requests"] == {"cpu": "2", "memory": "6Gi"}


def test_the_spark_k8s_dbt_target_renders_and_dbt_spark_accepts_it(tmp_path):
    # dbt parse loads the profile (dbt-spark validates its credentials) without opening a Spark session.
    env = {**os.environ, **yaml.safe_load(CONFIG_MAP.read_text())["data"], "POD_IP": "10.0.0.7",
           "BEATWISE_DBT_TARGET": "spark_k8s"}
    done = subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), "parse", "--project-dir", str(ROOT / "dbt_project"),
         "--profiles-dir", str(ROOT / "dbt_project"), "--target-path", str(tmp_path / "target"),
         "--log-path", str(tmp_path / "logs"), "--no-use-colors"],
        env=env, capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-2000:]
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    assert manifest["metadata"]["adapter_type"] == "spark"
