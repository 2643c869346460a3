"""`beatwise config check` refuses enforcement-driven offences, naming the offence, the rule and the line."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from beatwise.cli import cli

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_DATA = ROOT / "data" / "chicago_sample"  # holds the IUCR lookup the check resolves codes with

CONFIG = """\
agency: {{name: Test PD, slug: test}}
crs: EPSG:3435
data_root: {data}
feeds:
  incidents:
    files: [incidents.parquet]
    columns: {{incident_id: ID, occurred_at: Date, offence_code: IUCR, offence_name: Primary Type,
              offence_group: FBI Code, x: X Coordinate, y: Y Coordinate}}
  offence_codes:
    files: [iucr_codes.csv]
    columns: {{offence_code: IUCR, offence_name: PRIMARY DESCRIPTION}}
crime_types:
  robbery:
    offences: [{{field: offence_name, values: [ROBBERY]}}]
    severity: 4
  burglary:
    offences: [{{field: {field}, values: [BURGLARY, {value}]}}]
    severity: 2
"""


def _check(tmp_path: Path, field: str, value: str):
    path = tmp_path / "agency.yaml"
    path.write_text(CONFIG.format(data=SAMPLE_DATA, field=field, value=value))
    return CliRunner().invoke(cli, ["config", "check", str(path)])


def test_the_sample_config_passes():
    result = CliRunner().invoke(cli, ["config", "check", str(ROOT / "config" / "chicago_sample.yaml")])
    assert result.exit_code == 0, result.output
    assert "ok" in result.output


def test_a_config_mapping_narcotics_into_burglary_is_refused_with_offence_rule_and_line(tmp_path):
    result = _check(tmp_path, "offence_name", "NARCOTICS")
    assert result.exit_code == 1
    assert "NARCOTICS" in result.output
    assert "policy.enforcement_driven_offence" in result.output
    line = next(i for i, text in enumerate(CONFIG.splitlines(), 1) if "{value}" in text)
    assert f"line {line}," in result.output and "crime_types.burglary.offences[0].values[1]" in result.output


def test_an_iucr_code_of_a_narcotics_offence_is_refused(tmp_path):
    result = _check(tmp_path, "offence_code", '"1811"')
    assert result.exit_code == 1
    assert "1811 (NARCOTICS)" in result.output
    assert "policy.enforcement_driven_offence" in result.output


def test_a_code_of_a_community_reported_offence_passes(tmp_path):
    result = _check(tmp_path, "offence_code", '"0610"')  # burglary, forcible entry
    assert result.exit_code == 0, result.output
