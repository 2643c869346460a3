"""The policy guard: personal and protected columns are caught; Chicago's real columns are not."""

from __future__ import annotations

from pathlib import Path

import pytest

from beatwise import policy
from beatwise.ingest import feed_files, read


def test_personal_data_columns_are_forbidden():
    found = policy.forbidden_columns(
        ["ID", "Victim Name", "Date of Birth", "offender_age", "Person ID", "Block"]
    )
    assert found == {
        "Victim Name": policy.RULE_PERSONAL_DATA,
        "Date of Birth": policy.RULE_PERSONAL_DATA,
        "offender_age": policy.RULE_PERSONAL_DATA,
        "Person ID": policy.RULE_PERSONAL_DATA,
    }


def test_census_race_ethnicity_education_and_tenure_fields_are_forbidden():
    found = policy.forbidden_columns(
        ["pct_hispanic", "Race", "median_income", "education_attainment", "owner_occupied"]
    )
    assert set(found) == {"pct_hispanic", "Race", "education_attainment", "owner_occupied"}
    assert set(found.values()) == {policy.RULE_PROTECTED_FIELDS}


def test_a_declared_station_name_is_not_personal_but_protected_fields_cannot_be_declared_away():
    assert policy.forbidden_columns(["NAME"]) == {"NAME": policy.RULE_PERSONAL_DATA}
    assert policy.forbidden_columns(["NAME"], not_personal=["NAME"]) == {}
    assert policy.forbidden_columns(["pct_black"], not_personal=["pct_black"]) == {}  # not a race field name
    assert policy.forbidden_columns(["race"], not_personal=["race"]) == {"race": policy.RULE_PROTECTED_FIELDS}


def test_no_column_of_chicagos_real_feeds_is_flagged(chicago_config):
    for feed, spec in chicago_config.feeds.items():
        for path, _ in feed_files(chicago_config, feed):
            columns = read.source_columns(path, spec.format, feed, spec.encoding)
            assert policy.forbidden_columns(columns, spec.not_personal) == {}, (feed, path.name)


def test_the_portal_export_columns_are_not_flagged(chicago_config):
    path = chicago_config.data_path() / "sample_portal_export_district011_2016-06.csv"
    assert policy.forbidden_columns(read.source_columns(path, "csv", "incidents")) == {}


def test_enforcement_driven_groups_and_offences_are_refused():
    crime_types = {
        "aggravated_assault": {"offences": [{"field": "offence_group", "values": ["04A", "18"]}]},
        "theft": {"offences": [{"field": "offence_name", "values": ["THEFT", "GAMBLING"]}]},
        "narcotics": {"offences": [{"field": "offence_name", "values": ["NARCOTICS"]}]},
    }
    violations = policy.check_crime_type_mappings(crime_types)
    where = {v.where: v.rule for v in violations}
    assert where["crime_types.aggravated_assault.offences[0].values[1]"] == policy.RULE_ENFORCEMENT
    assert where["crime_types.theft.offences[0].values[1]"] == policy.RULE_ENFORCEMENT
    assert where["crime_types.narcotics"] == policy.RULE_CRIME_TYPE
    assert "crime_types.aggravated_assault.offences[0].values[0]" not in where


def _crime_types(yaml_text: str):
    import yaml

    from beatwise.config.schema import CrimeType

    return {name: CrimeType.model_validate(spec) for name, spec in yaml.safe_load(yaml_text).items()}


def test_crime_types_match_several_fields_case_insensitively():
    """A theft in a detention centre is left out; an assault counts only on the street; case and outer
    spaces never matter; an incident met by two types is the more severe one."""
    import pandas as pd

    crime_types = _crime_types("""
        theft:
          severity: 1
          offences: [{field: offence_name, values: [Theft], unless: {location_description: [jail / lock-up facility]}}]
        aggravated_assault:
          severity: 5
          offences:
            - {field: offence_name, values: [ASSAULT], where: {location_description: [street, sidewalk]}}
            - {field: offence_code, values: ["0420"]}
    """)
    incidents = pd.DataFrame({
        "offence_name": ["THEFT", " theft ", "THEFT", "ASSAULT", "ASSAULT", "THEFT", None],
        "offence_code": ["0810", "0810", "0810", "0560", "0560", "420", None],
        "location_description": ["STREET", None, "JAIL / LOCK-UP FACILITY", "Sidewalk", "RESIDENCE", "X", None],
    })
    rules = policy.offence_rules(crime_types)
    assert set(rules.columns) == set(policy.RULE_COLUMNS)
    found = policy.match_crime_types(incidents, rules, {"theft": 1, "aggravated_assault": 5})
    assert found.tolist() == ["theft", "theft", None, "aggravated_assault", None, "aggravated_assault", None]


def test_premises_values_are_not_read_as_offences():
    """'LIQUOR STORE' names a place: a rule may require or exclude it without the enforcement refusal."""
    spec = {"theft": {"offences": [{"field": "offence_name", "values": ["THEFT"],
                                    "where": {"location_description": ["LIQUOR STORE"]}}]}}
    assert policy.check_crime_type_mappings(spec) == []
    spec["theft"]["offences"][0]["where"] = {"offence_description": ["POSSESSION OF CANNABIS"]}
    (violation,) = policy.check_crime_type_mappings(spec)
    assert violation.where == "crime_types.theft.offences[0].where.offence_description[0]"


def test_enforcement_driven_signal_offences_are_refused_as_crime_types_are():
    """Signal offences enter the features, so the enforcement refusal applies to them, with the same
    rule and message as for a crime type; a community-reported signal offence passes."""
    from beatwise.config import ConfigError, parse_config

    signal = {
        "simple_assault_battery": {"offences": [{"field": "offence_group", "values": ["08A", "08B"]}]},
        "stops": {"offences": [{"field": "offence_group", "values": ["18"]},
                               {"field": "offence_name", "values": ["CRIMINAL TRESPASS"]}]},
    }
    crime_types = {"theft": {"offences": [{"field": "offence_group", "values": ["18"]}]}}
    violations = policy.check_crime_type_mappings(crime_types, signal_offences=signal)
    by_where = {v.where: v for v in violations}
    assert set(by_where) == {"crime_types.theft.offences[0].values[0]", "signal_offences.stops.offences[0].values[0]",
                             "signal_offences.stops.offences[1].values[0]"}
    as_type, as_signal = by_where["crime_types.theft.offences[0].values[0]"], \
        by_where["signal_offences.stops.offences[0].values[0]"]
    assert as_type.rule == as_signal.rule == policy.RULE_ENFORCEMENT
    assert as_signal.message == as_type.message.replace("'theft'", "'stops'")

    text = (Path(__file__).resolve().parents[2] / "config" / "chicago.yaml").read_text()
    text = text.replace("signal_offences:\n", "signal_offences:\n  narcotics_stops:\n"
                        "    offences: [{field: offence_name, values: [NARCOTICS]}]\n")
    with pytest.raises(ConfigError) as refused:
        parse_config(text, "chicago.yaml", Path(__file__).resolve().parents[2] / "config")
    assert "signal_offences.narcotics_stops.offences[0].values[0]" in str(refused.value)
    assert policy.RULE_ENFORCEMENT in str(refused.value)
