"""The deployment file: each agency's slug, config and state folder; a clear error for a malformed file."""

from __future__ import annotations

from pathlib import Path

import pytest

from beatwise.deployment import DEFAULT_HOME, DeploymentError, load_deployment, workspace_yaml

ROOT = Path(__file__).resolve().parents[2]


def test_the_project_deployment_names_each_agency_its_config_and_home():
    deployment = load_deployment(ROOT / "config" / "deployment.yaml")
    assert [a.slug for a in deployment.agencies] == ["chicago_sample", "synthetic"]
    sample = deployment.agency("chicago_sample")
    assert sample.config == ROOT / "config" / "chicago_sample.yaml" and sample.home == DEFAULT_HOME / "chicago_sample"
    assert sample.environment()["BEATWISE_WAREHOUSE"] == str(DEFAULT_HOME / "chicago_sample" / "warehouse.duckdb")
    assert "attribute: synthetic" in workspace_yaml(deployment)
    with pytest.raises(DeploymentError, match="no agency 'elsewhere'"):
        deployment.agency("elsewhere")


@pytest.mark.parametrize(("text", "message"), [
    ("agencies: []\n", "`agencies` must map"),
    ("agencies: {Bad-Slug: a.yaml}\n", "agencies.Bad-Slug: a slug is"),
    ("agencies: {good: }\n", "agencies.good: the value must be"),
    ("agencies: {good: a.yaml}\nhomes: x\n", "unknown key 'homes'"),
    ("agencies: {good: [a.yaml\n", "not valid YAML"),
])
def test_a_malformed_deployment_file_is_refused_naming_the_key(tmp_path: Path, text: str, message: str):
    file = tmp_path / "deployment.yaml"
    file.write_text(text, encoding="utf-8")
    with pytest.raises(DeploymentError, match=message) as caught:
        load_deployment(file)
    assert str(file) in str(caught.value)


def test_home_is_relative_to_the_deployment_file(tmp_path: Path):
    file = tmp_path / "deployment.yaml"
    file.write_text("home: state\nagencies: {one: configs/one.yaml}\n", encoding="utf-8")
    (agency,) = load_deployment(file).agencies
    assert agency.home == tmp_path / "state" / "one" and agency.config == tmp_path / "configs" / "one.yaml"
