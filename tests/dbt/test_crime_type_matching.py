"""dbt's int_incidents and Python's match_crime_types apply one crime-type rule (beatwise.policy.offence_rules)
and must agree on every incident: the forecast command reads files with the Python twin."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import pandas as pd

from beatwise.policy import RULE_COLUMNS, match_crime_types
from tests.dbt.conftest import run_dbt


def _compare(warehouse: Path) -> int:
    with duckdb.connect(str(warehouse)) as con:
        rules = con.execute(f"select {', '.join(RULE_COLUMNS)} from raw.crime_type_offences").df()
        severity = dict(con.execute("select crime_type, severity from raw.crime_types").fetchall())
        incidents = con.execute("""
            select i.incident_id, i.offence_code, i.offence_name, i.offence_description, i.offence_group,
                   i.location_description, m.crime_type as dbt_crime_type
            from raw.incidents i join intermediate.int_incidents m using (incident_id)""").df()
    python = match_crime_types(incidents, rules, severity)
    pd.testing.assert_series_equal(python.rename("crime_type"), incidents["dbt_crime_type"].rename("crime_type"),
                                   check_dtype=False)
    return int(python.notna().sum())


def test_dbt_and_python_match_every_incident_of_the_slice_alike(built_warehouse: Path) -> None:
    assert _compare(built_warehouse) > 1000


def test_dbt_and_python_agree_on_rules_of_several_fields(built_warehouse: Path, tmp_path: Path) -> None:
    """Exclusions and extra fields, with values in other letter cases: thefts in a residence left out,
    robberies only on the street or sidewalk, 'battery' with an aggravated description as assault."""
    copy = tmp_path / "w.duckdb"
    shutil.copy(built_warehouse, copy)
    with duckdb.connect(str(copy)) as con:
        before = dict(con.execute(
            "select crime_type, count(*) from intermediate.int_incidents group by 1").fetchall())
        con.execute("delete from raw.crime_type_offences where crime_type in ('theft', 'robbery')")
        con.execute("""insert into raw.crime_type_offences values
            ('theft', 0, 'offence_name', 'Theft', 0), ('theft', 0, 'location_description', 'residence', 1),
            ('robbery', 0, 'offence_name', 'robbery', 0), ('robbery', 0, 'location_description', 'STREET', 0),
            ('robbery', 0, 'location_description', 'sidewalk', 0),
            ('aggravated_assault', 7, 'offence_name', 'battery', 0),
            ('aggravated_assault', 7, 'offence_description', 'aggravated: handgun', 0)""")
    previous = os.environ["BEATWISE_WAREHOUSE"]
    os.environ["BEATWISE_WAREHOUSE"] = str(copy)
    try:
        run_dbt("run", "--full-refresh", "--select", "int_incidents")  # a rule change reaches every row
    finally:
        os.environ["BEATWISE_WAREHOUSE"] = previous
    _compare(copy)
    with duckdb.connect(str(copy)) as con:
        after = dict(con.execute(
            "select crime_type, count(*) from intermediate.int_incidents group by 1").fetchall())
    assert after["theft"] < before["theft"] and after["robbery"] < before["robbery"]
