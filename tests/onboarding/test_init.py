"""`beatwise init` drafts configs that `config check` accepts, the crime-type choices at most edited."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from beatwise.cli import cli
from tests.onboarding.conftest import FOREIGN_CONFIG

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "chicago_sample"


def _init(*args: str) -> None:
    result = CliRunner().invoke(cli, ["init", *args])
    assert result.exit_code == 0, result.output


def _check(path: Path) -> str:
    result = CliRunner().invoke(cli, ["config", "check", str(path)])
    assert result.exit_code == 0, result.output
    return result.output


def _with_crime_types(draft: Path, crime_types: str) -> Path:
    """The draft with its crime_types block replaced: the one edit the agency makes."""
    text = draft.read_text(encoding="utf-8")
    edited = draft.with_name("edited.yaml")
    edited.write_text(text[: text.index("\ncrime_types:")] + "\n" + crime_types, encoding="utf-8")
    return edited


def test_init_drafts_the_foreign_export_and_the_draft_passes(tmp_path, foreign_data):
    draft = tmp_path / "harbour.yaml"
    _init(str(foreign_data / "occurrences.csv.gz"), "--boundary", f"districts={foreign_data / 'divisions.gpkg'}",
          "--out", str(draft), "--timezone", "America/Toronto", "--country", "CA")
    text = draft.read_text(encoding="utf-8")
    assert "crs: EPSG:32616" in text  # the UTM zone of the lon/lat
    assert 'occurred_at: {date: OCC_DATE, date_format: "%d/%m/%Y", hour: OCC_HOUR}' in text
    assert "incident_id: {digest: [" in text and "identical_rows:" in text
    assert "Drug Possession" in text and "REFUSED (drug)" in text
    assert re.search(r"files: \[divisions.gpkg\]\n    columns: \{district: DIVISION_NAME\}", text)
    _check(draft)
    # The agency's own choices: thefts in the detention centre left out.
    crime_types = FOREIGN_CONFIG.read_text(encoding="utf-8")
    crime_types = crime_types[crime_types.index("crime_types:"): crime_types.index("\ncapacity:")]
    _check(_with_crime_types(draft, crime_types))


def test_init_drafts_the_chicago_slice_and_the_draft_passes(tmp_path):
    draft = tmp_path / "chicago.yaml"
    _init(str(SAMPLE / "incidents.parquet"), "--boundary", str(SAMPLE / "police_districts_2012.geojson"),
          "--boundary", f"beats={SAMPLE / 'police_beats_2012.geojson'}", "--out", str(draft),
          "--slug", "chicago_draft", "--timezone", "America/Chicago", "--country", "US")
    text = draft.read_text(encoding="utf-8")
    assert "incident_id: ID" in text and "occurred_at: Date" in text and "NARCOTICS" in text
    assert "columns: {district: DIST_NUM}" in text  # the column whose values the incidents' districts share
    _check(draft)
    _check(_with_crime_types(draft, """crime_types:
  aggravated_assault:
    offences: [{field: offence_group, values: ["04A", "04B"]}]
    severity: 5
  theft:
    offences: [{field: offence_name, values: [THEFT]}]
    severity: 1
"""))


def test_init_drops_personal_columns_by_policy(tmp_path):
    rows = pd.read_parquet(SAMPLE / "incidents.parquet").head(500)
    export = rows.assign(**{"Suspect Name": "x"})
    path = tmp_path / "export.csv"
    export.to_csv(path, index=False)
    draft = tmp_path / "draft.yaml"
    _init(str(path), "--out", str(draft), "--country", "US")
    text = draft.read_text(encoding="utf-8")
    assert "on_personal_data: drop" in text and "Suspect Name (policy.no_personal_data)" in text
    assert "jurisdiction is derived from the incidents" in text
    output = _check(draft)
    assert "derived from the incidents" in output
