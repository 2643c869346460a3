"""Many agencies, one deployment: the embedded slice and the synthetic city side by side, plus a third agency
whose incidents feed is broken.

`beatwise run --deployment` runs each agency in a process and state folder of its own: the broken agency
fails alone and the others complete; their warehouses, snapshots and MLflow stores are separate, each with
its own rows. Dagster serves one code location per agency (each in its own code server, as `dagster dev`
and the webserver load a workspace): every agency's jobs, schedules and sensors, named by its slug, and a
location whose configuration cannot load fails alone. The dashboards open the signed-in user's agency only.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml
from streamlit.testing.v1 import AppTest

from beatwise.deployment import AgencyRefused, load_deployment, workspace_yaml

ROOT = Path(__file__).resolve().parents[2]
BEATWISE = [sys.executable, "-c", "from beatwise.cli import main; main()"]
SYNTHETIC_INCIDENTS = 20_000
# The forecasting set-up lightened for tests (as in test_production): the same code paths, a fraction of the cost.
LIGHT = {"forecasting": {"windows_days": [7, 28, 91], "negatives_per_crime_type": 15000, "negatives_per_positive": 1,
                         "train_start": "2016-06-01", "backtest_days": 42, "backtest_every_days": 14}}


def beatwise(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items()
             if k not in ("BEATWISE_CONFIG", "BEATWISE_WAREHOUSE", "BEATWISE_HOME", "DAGSTER_HOME", "BEATWISE_AGENCY")}
    return subprocess.run([*BEATWISE, *args], cwd=ROOT, capture_output=True, text=True, timeout=2400,
                          env={**clean, **(env or {})})


def write_yaml(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def sample_config(folder: Path, file: str, data_root: Path, **agency) -> Path:
    """config/chicago_sample.yaml as a file elsewhere (extends and data_root made absolute), lighter."""
    raw = yaml.safe_load((ROOT / "config" / "chicago_sample.yaml").read_text(encoding="utf-8"))
    raw.update({"extends": str(ROOT / "config" / "chicago.yaml"), "data_root": str(data_root), **LIGHT})
    raw["agency"].update(agency)
    return write_yaml(folder / file, raw)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A deployment file of three agencies: the slice, the synthetic city and the slice with a corrupt
    incidents file (every other file the slice's own); configs are YAML only, with a lighter forecasting set-up."""
    folder = tmp_path_factory.mktemp("deployment")
    synthetic_data = folder / "synthetic_data"
    result = beatwise("simulate", "city", "--config", str(ROOT / "config" / "synthetic.yaml"),
                      "--incidents", str(SYNTHETIC_INCIDENTS), "--seed", "1", "--out", str(synthetic_data))
    assert result.returncode == 0, result.stderr[-3000:]
    sample_data = ROOT / "data" / "chicago_sample"
    sample_config(folder, "sample.yaml", sample_data)
    write_yaml(folder / "synthetic.yaml", {"extends": str(ROOT / "config" / "synthetic.yaml"),
                                           "data_root": str(synthetic_data), **LIGHT})
    broken_data = folder / "broken_data"
    broken_data.mkdir()
    for file in sample_data.iterdir():  # copies: a feed file may not be a link out of data_root
        if file.name != "incidents.parquet":
            shutil.copy(file, broken_data / file.name)
    (broken_data / "incidents.parquet").write_text("this is not a Parquet file\n", encoding="utf-8")
    sample_config(folder, "broken.yaml", broken_data, slug="broken_feed", name="Broken Feed Police Department")
    write_yaml(folder / "deployment.yaml", {"home": "homes", "agencies": {
        "chicago_sample": "sample.yaml", "broken_feed": "broken.yaml", "synthetic": "synthetic.yaml"}})
    return folder


@pytest.fixture(scope="module")
def ran(folder: Path) -> subprocess.CompletedProcess:
    return beatwise("run", "--deployment", str(folder / "deployment.yaml"), "--jobs", "2")


def summary(result: subprocess.CompletedProcess) -> dict[str, str]:
    """agency -> outcome, from the table `beatwise run --deployment` ends with."""
    lines = result.stdout.split("agency                   outcome")[-1].strip().splitlines()[1:]
    return {line.split()[0]: line.split()[1] for line in lines if line.strip()}


def rows(database: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_a_broken_feed_fails_its_agency_alone(ran: subprocess.CompletedProcess, folder: Path):
    assert ran.returncode == 1, ran.stdout[-3000:] + ran.stderr[-3000:]
    assert summary(ran) == {"chicago_sample": "ok", "broken_feed": "FAILED", "synthetic": "ok"}, ran.stdout[-3000:]
    assert ran.stderr.strip().splitlines()[-1] == "beatwise run failed for 1 of 3 agencies: broken_feed"
    failed_line = next(line for line in ran.stdout.splitlines() if line.startswith("broken_feed"))
    assert "incidents.parquet" in failed_line  # the cause, naming the file
    assert not (folder / "homes" / "broken_feed" / "serving.duckdb").exists()


def test_each_agency_has_its_own_state_and_rows(ran: subprocess.CompletedProcess, folder: Path):
    homes = folder / "homes"
    for slug in ("chicago_sample", "synthetic"):
        for part in ("warehouse.duckdb", "serving.duckdb", "mlflow/mlflow.db", "dagster/dagster.yaml"):
            assert (homes / slug / part).exists(), f"{slug}: no {part}"
    sample, synthetic = homes / "chicago_sample" / "warehouse.duckdb", homes / "synthetic" / "warehouse.duckdb"
    # Each warehouse holds its own agency's configuration and incidents only.
    for database, slug in ((sample, "chicago_sample"), (synthetic, "synthetic")):
        recorded = rows(database, "select distinct subject from raw.audit_log where kind = 'agency_config'")
        assert {r[0] for r in recorded} == {slug}
    sample_ids = {r[0] for r in rows(sample, "select incident_id from raw.incidents")}
    synthetic_ids = {r[0] for r in rows(synthetic, "select incident_id from raw.incidents")}
    assert len(sample_ids) > 80_000 and 0 < len(synthetic_ids) <= SYNTHETIC_INCIDENTS
    # Districts: the slice's are Chicago's 10-12; the synthetic city's are its own six.
    sample_districts = {r[0] for r in rows(sample, "select distinct district from marts.dim_cells")}
    synthetic_districts = {r[0] for r in rows(synthetic, "select distinct district from marts.dim_cells")}
    assert sample_districts and synthetic_districts and not sample_districts & synthetic_districts
    for slug in ("chicago_sample", "synthetic"):
        assert rows(homes / slug / "serving.duckdb", "select count(*) from plans.missions")[0][0] > 0


def test_the_workspace_serves_one_location_per_agency(folder: Path, tmp_path: Path):
    """As the Dagster webserver loads it: each location in its own code server. A fourth agency whose
    configuration is not even YAML fails to load; the others load all the same."""
    import dagster as dg
    from dagster._core.workspace.context import WorkspaceProcessContext
    from dagster._core.workspace.load_target import WorkspaceFileTarget

    (tmp_path / "unloadable.yaml").write_text("agency: [this is not: a config\n", encoding="utf-8")
    deployment = write_yaml(tmp_path / "deployment.yaml", {"home": str(tmp_path / "homes"), "agencies": {
        "chicago_sample": str(folder / "sample.yaml"), "synthetic": str(folder / "synthetic.yaml"),
        "unloadable": "unloadable.yaml"}})
    workspace = tmp_path / "workspace.yaml"
    workspace.write_text(workspace_yaml(load_deployment(deployment)), encoding="utf-8")
    saved = os.environ.get("BEATWISE_DEPLOYMENT")
    os.environ["BEATWISE_DEPLOYMENT"] = str(deployment)  # the code servers read it
    try:
        with dg.instance_for_test() as instance, WorkspaceProcessContext(
            instance, WorkspaceFileTarget(paths=[str(workspace)])
        ) as context:
            entries = context.create_request_context().get_code_location_entries()
            assert set(entries) == {"chicago_sample", "synthetic", "unloadable"}
            assert entries["unloadable"].load_error is not None
            assert "unloadable.yaml" in str(entries["unloadable"].load_error)
            for slug, demo in (("chicago_sample", True), ("synthetic", False)):
                assert entries[slug].load_error is None, entries[slug].load_error
                (repository,) = entries[slug].code_location.get_repositories().values()
                jobs = {job.name for job in repository.get_all_jobs()}
                assert {"main", "plan_missions", "apply_overrides", "field_operations"} <= jobs
                assert ("demo" in jobs) is demo  # the demo's simulated operations only in the demo config
                assert {s.name for s in repository.get_schedules()} == {f"{slug}__plan_each_shift"}
                assert {s.name for s in repository.get_sensors()} == {
                    f"{slug}__override_inbox", f"{slug}__new_feed_files", f"{slug}__new_field_files"}
    finally:
        os.environ.pop("BEATWISE_DEPLOYMENT") if saved is None else os.environ.update(BEATWISE_DEPLOYMENT=saved)


# The default install's users and their published demo passwords (README).
PASSWORDS = {name: f"{name}-demo" for name in ("analyst", "supervisor", "auditor", "admin")}


def users_file(path: Path) -> Path:
    """The default install's users (their demo passwords), each given agencies of the deployment."""
    store = yaml.safe_load((ROOT / "config" / "users.yaml").read_text(encoding="utf-8"))
    members = {"analyst": ["chicago_sample"], "supervisor": ["synthetic"], "admin": ["chicago_sample", "synthetic"],
               "auditor": []}
    for username, agencies in members.items():
        store["credentials"]["usernames"][username]["agencies"] = agencies
    return write_yaml(path, store)


def test_users_open_their_own_agency_only(ran: subprocess.CompletedProcess, folder: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("BEATWISE_DEPLOYMENT", str(folder / "deployment.yaml"))
    monkeypatch.setenv("BEATWISE_USERS", str(users_file(tmp_path / "users.yaml")))
    monkeypatch.setenv("BEATWISE_COOKIE_KEY", "a-test-cookie-key-of-this-deployment")
    deployment = load_deployment()
    assert deployment.agency_for("analyst").slug == "chicago_sample"
    with pytest.raises(AgencyRefused, match="does not belong to agency 'synthetic'"):
        deployment.agency_for("analyst", "synthetic")
    with pytest.raises(AgencyRefused, match="belongs to no agency"):
        deployment.agency_for("auditor")

    def signed_in(username: str) -> AppTest:
        at = AppTest.from_file(str(ROOT / "dashboards" / "app.py"), default_timeout=120)
        at.run()
        at.text_input[0].input(username)
        at.text_input[1].input(PASSWORDS[username])
        at.button[0].click()
        at.run()
        return at

    def agency_shown(at: AppTest) -> str:
        return next(c.value for c in at.sidebar.caption if c.value.startswith("Agency:"))

    def districts_shown(at: AppTest) -> set[str]:  # the Missions page's table: read from the open snapshot
        return set(at.dataframe[0].value["district"].astype(str))

    planned = {slug: {str(r[0]) for r in rows(folder / "homes" / slug / "serving.duckdb",
                                              "select distinct district from plans.missions")}
               for slug in ("chicago_sample", "synthetic")}
    assert planned["chicago_sample"] and planned["synthetic"] and not planned["chicago_sample"] & planned["synthetic"]

    analyst = signed_in("analyst")
    assert not analyst.exception, analyst.exception
    assert "Chicago" in agency_shown(analyst) and not analyst.sidebar.selectbox
    assert districts_shown(analyst) <= planned["chicago_sample"]
    analyst.session_state["agency"] = "synthetic"  # asked for another agency's dashboards: not given
    analyst.run()
    assert "Chicago" in agency_shown(analyst) and districts_shown(analyst) <= planned["chicago_sample"]

    supervisor = signed_in("supervisor")
    assert "Synthetic City" in agency_shown(supervisor) and districts_shown(supervisor) <= planned["synthetic"]

    admin = signed_in("admin")  # a member of both chooses between them
    assert admin.sidebar.selectbox[0].options == ["chicago_sample", "synthetic"]
    admin.sidebar.selectbox[0].select("synthetic").run()
    assert "Synthetic City" in agency_shown(admin) and districts_shown(admin) <= planned["synthetic"]

    auditor = signed_in("auditor")
    assert any("belongs to no agency" in e.value for e in auditor.error)
