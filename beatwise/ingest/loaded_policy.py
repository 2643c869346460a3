"""The crime-type policy checked again against the offence codes actually loaded.

`config check` resolves the codes a crime type names through the offence-code feed's file, when the
config lists one. A config without it (or a lookup that arrives later, in the landing folder) would let an
offence code recorded as narcotics feed a modelled crime type unchecked: so after every load of incidents
or offence codes, each code is resolved again through raw.offence_codes and the names the incidents
themselves carry, and a breach stops the run.
"""

from __future__ import annotations

import duckdb

from beatwise import policy
from beatwise.config import AgencyConfig
from beatwise.contracts import normalise_offence_code
from beatwise.ingest.read import FeedError
from beatwise.warehouse import table_exists


class PolicyBreach(FeedError):
    """A crime type that, by the codes loaded, is fed by an enforcement-driven offence."""

    def __init__(self, feed: str, violations: list[policy.PolicyViolation]):
        self.violations = violations
        super().__init__(
            feed, "", "; ".join(f"{v.where}: {v.message}" for v in violations) + ", by the offence codes loaded",
            violations[0].rule,
        )

    def __str__(self) -> str:
        return f"feed {self.feed!r}: {self.message} [{self.rule}]"


def _named_codes(config: AgencyConfig) -> set[str]:
    return {
        normalise_offence_code(v) or ""
        for spec in [*config.crime_types.values(), *config.signal_offences.values()]
        for match in spec.offences
        for field, values in ((match.field, match.values), *match.where.items())
        if field == "offence_code"
        for v in values
    }


def loaded_offence_names(con: duckdb.DuckDBPyConnection, codes: set[str]) -> dict[str, str]:
    """Each code -> every offence name it is loaded under (raw.offence_codes and the incidents' own)."""
    names: dict[str, set[str]] = {}
    codes = sorted(c for c in codes if c)
    if not codes:
        return {}
    marks = ", ".join("?" * len(codes))
    queries = []
    if table_exists(con, "raw", "offence_codes"):
        queries.append(f"select offence_code, offence_name from raw.offence_codes where offence_code in ({marks})")
    if table_exists(con, "raw", "incidents"):
        # Names only, as config check resolves codes: a description ("ARMED: OTHER DANGEROUS WEAPON", a
        # robbery) tells how, not what the offence is.
        queries.append(f"select distinct offence_code, offence_name from raw.incidents "
                       f"where offence_code in ({marks}) and offence_name is not null")
    for query in queries:
        for code, name in con.execute(query, codes).fetchall():
            names.setdefault(code, set()).add(str(name))
    return {code: " / ".join(sorted(found)) for code, found in names.items()}


def check_loaded_policy(con: duckdb.DuckDBPyConnection, config: AgencyConfig, feed: str) -> None:
    """Raise PolicyBreach if a crime type's offence code is, as loaded, an enforcement-driven offence."""
    lookup = loaded_offence_names(con, _named_codes(config))
    if not lookup:
        return
    crime_types = {name: ct.model_dump() for name, ct in config.crime_types.items()}
    signal = {name: s.model_dump() for name, s in config.signal_offences.items()}
    violations = [
        v for v in policy.check_crime_type_mappings(crime_types, lookup, signal) if v.rule == policy.RULE_ENFORCEMENT
    ]
    if violations:
        raise PolicyBreach(feed, violations)
