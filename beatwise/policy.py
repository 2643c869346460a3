"""What beatwise refuses to do, enforced in code.

- Only serious, community-reported crime types are modelled; an enforcement-driven offence (one whose
  recorded volume mostly measures where police chose to look) may never feed a modelled crime type.
- No personal data and no race, ethnicity, education or home-ownership fields are ever stored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

ALLOWED_CRIME_TYPES = (
    "gunfire", "homicide", "aggravated_assault", "robbery", "burglary", "motor_vehicle_theft", "theft",
)

RULE_ENFORCEMENT = "policy.enforcement_driven_offence"
RULE_CRIME_TYPE = "policy.only_serious_community_reported_crime"
RULE_PERSONAL_DATA = "policy.no_personal_data"
RULE_PROTECTED_FIELDS = "policy.no_race_ethnicity_education_or_home_ownership"

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
)
PROTECTED_FIELD_PATTERNS = (
    r"race", r"racial", r"ethnic", r"hispanic", r"latino", r"education", r"school_?years", r"degree",
    r"diploma", r"home_?owner", r"owner_?occupied", r"tenure", r"renter",
)


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
) -> list[PolicyViolation]:
    """Refuse crime types outside the allowed set and any enforcement-driven offence mapped into one.

    `crime_types` is the config's raw mapping (name -> {offences: [{field, values}]}); `offence_lookup`
    resolves offence codes to their names (e.g. IUCR 1811 -> "NARCOTICS").
    """
    violations: list[PolicyViolation] = []
    lookup = {_normalise(k): v for k, v in (offence_lookup or {}).items()}
    for name, spec in crime_types.items():
        if name not in ALLOWED_CRIME_TYPES:
            violations.append(PolicyViolation(
                RULE_CRIME_TYPE, f"crime_types.{name}",
                f"{name!r} is not a serious, community-reported crime type; allowed: {', '.join(ALLOWED_CRIME_TYPES)}",
            ))
        for i, match in enumerate((spec or {}).get("offences") or []):
            field = match.get("field")
            for j, value in enumerate(match.get("values") or []):
                where = f"crime_types.{name}.offences[{i}].values[{j}]"
                value = str(value)
                if field == "offence_group" and value.strip().upper().lstrip("0") in {
                    c.lstrip("0") for c in ENFORCEMENT_DRIVEN_GROUP_CODES
                }:
                    violations.append(PolicyViolation(
                        RULE_ENFORCEMENT, where,
                        f"offence group {value!r} is enforcement-driven and may not feed {name!r}",
                    ))
                    continue
                resolved = lookup.get(_normalise(value), "") if field == "offence_code" else value
                offence = enforcement_offence_in(value) or enforcement_offence_in(resolved)
                if offence:
                    shown = value if not resolved or resolved == value else f"{value} ({resolved})"
                    violations.append(PolicyViolation(
                        RULE_ENFORCEMENT, where,
                        f"offence {shown!r} is enforcement-driven ({offence}) and may not feed {name!r}",
                    ))
    return violations


def forbidden_columns(columns: Iterable[str], not_personal: Iterable[str] = ()) -> dict[str, str]:
    """Columns that must never be stored, each with the rule that forbids it.

    `not_personal` names columns that look personal but are declared (in the agency config, with a
    reason) not to be, such as a weather station's NAME. Race, ethnicity, education and home-ownership
    fields cannot be declared away.
    """
    found: dict[str, str] = {}
    exempt = set(not_personal)
    for column in columns:
        key = _normalise(column).replace(" ", "_")
        if any(re.search(p, key) for p in PROTECTED_FIELD_PATTERNS):
            found[column] = RULE_PROTECTED_FIELDS
        elif column not in exempt and any(re.search(p, key) for p in PERSONAL_DATA_PATTERNS):
            found[column] = RULE_PERSONAL_DATA
    return found
