"""What beatwise refuses to do, enforced in code.

- Only serious, community-reported crime types are modelled; an enforcement-driven offence (one whose
  recorded volume mostly measures where police chose to look) may never feed a modelled crime type, nor
  enter the features as a signal offence.
- No personal data and no race, ethnicity, education or home-ownership fields are ever stored, nor any
  other protected characteristic (nationality, religion, sexual orientation, disability, ...).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

ALLOWED_CRIME_TYPES = (
    "gunfire", "homicide", "aggravated_assault", "robbery", "burglary", "motor_vehicle_theft", "theft",
)

RULE_ENFORCEMENT = "policy.enforcement_driven_offence"
RULE_CRIME_TYPE = "policy.only_serious_community_reported_crime"
RULE_PERSONAL_DATA = "policy.no_personal_data"
RULE_PROTECTED_FIELDS = "policy.no_race_ethnicity_education_or_home_ownership"
RULE_PROTECTED_CHARACTERISTICS = "policy.no_protected_characteristics"

# Offence names (matched as words, case-insensitive) whose recorded counts are driven by enforcement.
ENFORCEMENT_DRIVEN_OFFENCES = (
    "narcotics", "narcotic", "drug", "drugs", "controlled substance", "cannabis", "marijuana",
    "prostitution", "solicitation", "soliciting", "gambling", "liquor law", "liquor", "weapons violation",
    "weapons possession", "weapon", "weapons", "concealed carry", "unlawful possession", "trespass",
    "criminal trespass", "loitering", "loiter", "public peace", "interference with public officer",
    "interference", "resisting", "obstruction", "disorderly conduct", "disorderly", "vagrancy", "curfew",
    "obscenity", "public indecency", "public intoxication", "drunkenness",
)

# UCR/NIBRS summary codes (the "FBI code" of many US feeds) that are enforcement-driven:
# 15 weapons, 16 prostitution, 18 drug abuse, 19 gambling, 22 liquor laws, 24 disorderly conduct,
# 26 all other offences (mostly trespass, narcotics paraphernalia, interference).
ENFORCEMENT_DRIVEN_GROUP_CODES = ("15", "16", "18", "19", "22", "24", "26")

PERSONAL_DATA_PATTERNS = (
    r"(first|last|middle|full|given|family|sur)_?name", r"^name$", r"offender", r"suspect", r"victim",
    r"arrestee", r"birth", r"\bdob\b", r"^dob$", r"^age$", r"person_?id", r"ssn", r"social_?security",
    r"driver_?licen[cs]e", r"phone", r"e_?mail", r"home_?address", r"plate", r"\bvin\b", r"^vin$",
    r"passport", r"gender", r"^sex$",
    # the people in a report who are not its subject: complainants, witnesses, callers
    r"complainant", r"witness", r"informant", r"reporting_?(party|person)", r"caller_?(name|id|number)",
    r"reportee", r"next_?of_?kin", r"national_?id",
)
PROTECTED_FIELD_PATTERNS = (
    r"race", r"racial", r"ethnic", r"hispanic", r"latino", r"education", r"school_?years", r"degree",
    r"diploma", r"home_?owner", r"owner_?occupied", r"tenure", r"renter",
)
# Never stored either, and likewise not to be declared away.
PROTECTED_CHARACTERISTIC_PATTERNS = (
    r"nationality", r"citizenship", r"immigration", r"religio", r"sexual_?orientation",
    r"disabilit", r"marital", r"pregnan",
)


# The incident fields a crime type may be matched on, and the columns of the rule table (one row per
# accepted or excluded value; see offence_rules).
MATCH_FIELDS = ("offence_code", "offence_name", "offence_description", "offence_group", "location_description")
RULE_COLUMNS = ["crime_type", "rule_number", "field", "value", "negated"]
OFFENCE_FIELDS = ("offence_code", "offence_name", "offence_description", "offence_group")


def _code(value: object) -> str:
    from beatwise.contracts import normalise_offence_code

    return normalise_offence_code(value) or ""


def match_key(field: str, values: pd.Series) -> pd.Series:
    """The text a field's values are matched by: trimmed, in capitals (offence codes as ingest keys them).
    dbt's int_incidents compares upper(trim(...)) of the same stored values."""
    text = values.astype("string").str.strip().str.upper()
    if field == "offence_code":
        text = text.map(_code, na_action="ignore").astype("string")
    return text


def offence_rules(crime_types: Mapping) -> pd.DataFrame:
    """The crime-type matching rule as data, the one definition both consumers read (dbt's int_incidents
    through raw.crime_type_offences, and `match_crime_types` in Python). One row per value: an incident
    meets rule (crime_type, rule_number) when, for every field of the rule with negated = 0, its value is
    one of that field's values, and for no field with negated = 1 is it one of them."""
    rows = []
    for name, crime_type in crime_types.items():
        if getattr(crime_type, "source", "incidents") != "incidents":
            continue
        for number, match in enumerate(crime_type.offences):
            accepted = {match.field: list(match.values), **{f: list(v) for f, v in match.where.items()}}
            if match.field in match.where:
                accepted[match.field] = [v for v in match.values if v in set(match.where[match.field])]
            for negated, fields in ((0, accepted), (1, match.unless)):
                for field, values in fields.items():
                    keys = match_key(field, pd.Series(values, dtype="string")).dropna().unique()
                    rows += [(name, number, field, str(k), negated) for k in keys]
    return pd.DataFrame(rows, columns=RULE_COLUMNS).astype({"rule_number": "int64", "negated": "int64"})


def match_crime_types(incidents: pd.DataFrame, rules: pd.DataFrame, severity: Mapping[str, float]) -> pd.Series:
    """The crime type of each incident under `rules` (offence_rules), None when it matches none; an
    incident met by several crime types counts as the most severe, then the first by name (as in dbt)."""
    best = np.full(len(incidents), None, dtype=object)
    keys = {f: match_key(f, incidents[f]) for f in rules["field"].unique() if f in incidents}
    ranked = sorted(rules["crime_type"].unique(), key=lambda t: (-severity.get(t, 0.0), t))
    for crime_type in ranked:
        of_type = rules[rules["crime_type"] == crime_type]
        met = np.zeros(len(incidents), dtype=bool)
        for _, rule in of_type.groupby("rule_number"):
            ok = np.ones(len(incidents), dtype=bool)
            for (field, negated), values in rule.groupby(["field", "negated"])["value"]:
                wanted = set(match_key(field, values).dropna())  # as dbt's upper(trim(value))
                hit = keys[field].isin(wanted).fillna(False).to_numpy(dtype=bool) if field in keys \
                    else np.zeros(len(incidents), dtype=bool)
                ok &= ~hit if negated else hit
            met |= ok
        best[met & pd.isna(best)] = crime_type
    return pd.Series(best, index=incidents.index, dtype=object)


@dataclass(frozen=True)
class PolicyViolation:
    rule: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message} [{self.rule}]"


def _normalise(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def enforcement_offence_in(value: str) -> str | None:
    """The enforcement-driven offence that an offence name contains, if any."""
    words = f" {_normalise(value)} "
    for offence in ENFORCEMENT_DRIVEN_OFFENCES:
        if f" {offence} " in words:
            return offence
    return None


def check_crime_type_mappings(
    crime_types: Mapping[str, Mapping],
    offence_lookup: Mapping[str, str] | None = None,
    signal_offences: Mapping[str, Mapping] | None = None,
) -> list[PolicyViolation]:
    """Refuse crime types outside the allowed set and any enforcement-driven offence mapped into one, or
    named as signal (`signal_offences`: counted as features, so the same refusal holds).

    `crime_types` is the config's raw mapping (name -> {offences: [{field, values}]}); `offence_lookup`
    resolves offence codes to their names (e.g. IUCR 1811 -> "NARCOTICS").
    """
    violations: list[PolicyViolation] = []
    lookup = {_normalise(k): v for k, v in (offence_lookup or {}).items()}
    for name in crime_types:
        if name not in ALLOWED_CRIME_TYPES:
            violations.append(PolicyViolation(
                RULE_CRIME_TYPE, f"crime_types.{name}",
                f"{name!r} is not a serious, community-reported crime type; allowed: {', '.join(ALLOWED_CRIME_TYPES)}",
            ))
    for section, specs in (("crime_types", crime_types), ("signal_offences", signal_offences or {})):
        for name, spec in specs.items():
            violations += _enforcement_offences(section, name, spec, lookup)
    return violations


def _enforcement_offences(section: str, name: str, spec: Mapping | None, lookup: Mapping[str, str]) -> list:
    """The enforcement-driven offences that `section.name`'s offence matches accept."""
    violations = []
    for i, match in enumerate((spec or {}).get("offences") or []):
        accepted = [(match.get("field"), f"{section}.{name}.offences[{i}].values[{j}]", v)
                    for j, v in enumerate(match.get("values") or [])]
        for other, values in (match.get("where") or {}).items():
            accepted += [(other, f"{section}.{name}.offences[{i}].where.{other}[{j}]", v)
                         for j, v in enumerate(values or [])]
        for field, where, value in accepted:
            if field not in OFFENCE_FIELDS:
                continue  # a premises type ("LIQUOR STORE") names a place, not an offence
            value = str(value)
            if field == "offence_group" and value.strip().upper().lstrip("0") in {
                c.lstrip("0") for c in ENFORCEMENT_DRIVEN_GROUP_CODES
            }:
                violations.append(PolicyViolation(
                    RULE_ENFORCEMENT, where,
                    f"offence group {value!r} is enforcement-driven and may not feed {name!r}",
                ))
                continue
            resolved = lookup.get(_normalise(_code(value)), "") if field == "offence_code" else value
            offence = enforcement_offence_in(value) or enforcement_offence_in(resolved)
            if offence:
                shown = value if not resolved or resolved == value else f"{value} ({resolved})"
                violations.append(PolicyViolation(
                    RULE_ENFORCEMENT, where,
                    f"offence {shown!r} is enforcement-driven ({offence}) and may not feed {name!r}",
                ))
    return violations


# Feeds whose rows are places (polygons, venues): a bare NAME column there names the place, not a person.
PLACE_FEEDS = ("jurisdiction", "districts", "beats", "neighbourhoods", "land_use", "venues")


def forbidden_columns(columns: Iterable[str], not_personal: Iterable[str] = (), places: bool = False) -> dict[str, str]:
    """Columns that must never be stored, each with the rule that forbids it.

    `not_personal` names columns that look personal but are declared (in the agency config, with a
    reason) not to be, such as a weather station's NAME. In a feed of places (`places`, see PLACE_FEEDS)
    a bare NAME is the place's. Race, ethnicity, education, home-ownership fields and other protected
    characteristics cannot be declared away.
    """
    found: dict[str, str] = {}
    exempt = set(not_personal)
    patterns = [p for p in PERSONAL_DATA_PATTERNS if not (places and p == r"^name$")]
    for column in columns:
        key = _normalise(column).replace(" ", "_")
        if any(re.search(p, key) for p in PROTECTED_FIELD_PATTERNS):
            found[column] = RULE_PROTECTED_FIELDS
        elif any(re.search(p, key) for p in PROTECTED_CHARACTERISTIC_PATTERNS):
            found[column] = RULE_PROTECTED_CHARACTERISTICS
        elif column not in exempt and any(re.search(p, key) for p in patterns):
            found[column] = RULE_PERSONAL_DATA
    return found
