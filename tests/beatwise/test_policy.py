"""The policy guard: personal and protected columns are caught; Chicago's real columns are not."""

from __future__ import annotations

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
