"""Every error `beatwise config check` gives on a broken foreign-city config, with its message and line.

docs/onboarding.md lists these messages: each case here changes one line of config/foreign_city.yaml
(run against the generated foreign export) and checks the message and the line it names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from beatwise.cli import cli
from tests.onboarding.conftest import FOREIGN_CONFIG

# (case, text replaced, its replacement, what the error says)
CASES = [
    ("geographic CRS", "crs: EPSG:32616 ", "crs: EPSG:4326 ", "'EPSG:4326' is not a projected CRS"),
    ("distance without unit", "cell_size: 150 m", "cell_size: 150", "a distance needs its unit"),
    ("unknown unit", "cell_size: 150 m", "cell_size: 150 metres", "is not a distance"),
    ("speed without unit", "max_speed: 160 km/h", "max_speed: 160", "a speed needs its unit"),
    ("digest id, identical rows undecided", "    identical_rows: distinct\n", "",
     "set identical_rows to 'distinct'"),
    ("source column missing", "offence_name: OFFENCE", "offence_name: OFFENCE_TYPE",
     "column(s) 'OFFENCE_TYPE' (for offence_name) not found"),
    ("date format wrong", 'date_format: "%d/%m/%Y"', 'date_format: "%Y-%m-%d"', "unparseable date in occurred_at"),
    ("longitude and latitude swapped", "longitude: LONG_WGS84\n      latitude: LAT_WGS84",
     "longitude: LAT_WGS84\n      latitude: LONG_WGS84", "outside the area of use of EPSG:32616"),
    ("degrees mapped as x/y", "longitude: LONG_WGS84\n      latitude: LAT_WGS84",
     "x: LONG_WGS84\n      y: LAT_WGS84", "x/y look like longitude/latitude"),
    ("wrong source CRS", "    crs: EPSG:4326\n", "    crs: EPSG:3435\n", "outside the area of use of EPSG:32616"),
    ("enforcement-driven offence", "values: [Break and Enter]", "values: [Break and Enter, Drug Possession]",
     "is enforcement-driven (drug) and may not feed 'burglary' [policy.enforcement_driven_offence]"),
    ("dosage buffer as large as a cell", "buffer: 15 m", "buffer: 150 m", "must be smaller than the cell size"),
    ("unknown district", "history_start:", "districts: [Uptown]\nhistory_start:",
     "lists ['Uptown'], which raw.districts does not have"),
    ("GeoPackage layer missing", "layer: police_divisions", "layer: divisions",
     "has no layer 'divisions'; its layers: police_divisions"),
    ("no holiday calendar", "country: CA", "country: XX", "the holidays package has no calendar for 'XX'"),
    ("no incident maps to a crime type", None, None, "nothing would be modelled"),
]


def _variant(tmp_path: Path, data: Path, old: str | None, new: str | None) -> Path:
    text = FOREIGN_CONFIG.read_text(encoding="utf-8")
    text = re.sub(r"^data_root: .*$", f"data_root: {data}", text, flags=re.M)
    if old is None:  # every crime type's values replaced by one that no incident has
        text = re.sub(r"values: \[[^\]]*\]", "values: [Nothing Of The Sort]", text)
    else:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / "agency.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("case", "old", "new", "message"), CASES, ids=[c[0] for c in CASES])
def test_config_check_names_the_problem_and_its_line(tmp_path, foreign_data, case, old, new, message):
    path = _variant(tmp_path, foreign_data, old, new)
    result = CliRunner().invoke(cli, ["config", "check", str(path)])
    assert result.exit_code == 1, result.output
    assert message in result.output, result.output
    # Every error names the config's line (load errors as "line N", data errors as "file:N").
    errors = [line for line in result.output.splitlines() if message in line]
    assert any(re.search(rf"(line \d+|{re.escape(str(path))}:\d+)", line) for line in errors), errors


def test_the_unedited_config_passes(tmp_path, foreign_data):
    result = CliRunner().invoke(cli, ["config", "check", str(_variant(tmp_path, foreign_data, "", ""))])
    assert result.exit_code == 0, result.output
