"""Write the agency configuration into the warehouse, so that dbt maps incidents to crime types from it.

Tables (replaced on each load): raw.crime_type_offences(crime_type, rule_number, field, value, negated)
(the matching rule as data: beatwise.policy.offence_rules), raw.signal_offences (the same rule for the
offences counted as features only),
raw.crime_types(crime_type, source, severity, priority), raw.district_priorities(district, crime_type,
weight), raw.shifts(shift_name, start_hour, hours). One audit record carries the config's digest.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from beatwise import audit
from beatwise.config import AgencyConfig
from beatwise.contracts import normalise_district
from beatwise.policy import offence_rules


def config_tables(config: AgencyConfig) -> dict[str, pd.DataFrame]:
    """The configuration as the rows of each raw table."""
    priorities = [
        (normalise_district(d), ct, float(w))
        for d, weights in config.district_priorities.items()
        for ct, w in weights.items()
    ]
    return {
        "crime_type_offences": offence_rules(config.crime_types),
        "signal_offences": offence_rules(config.signal_offences),
        "crime_types": pd.DataFrame(
            [(n, ct.source, float(ct.severity), float(ct.priority)) for n, ct in config.crime_types.items()],
            columns=["crime_type", "source", "severity", "priority"],
        ),
        "district_priorities": pd.DataFrame(priorities, columns=["district", "crime_type", "weight"]).astype(
            {"district": "object", "crime_type": "object", "weight": "float64"}
        ),
        "shifts": pd.DataFrame(
            {
                "shift_name": [s.name for s in config.shifts],
                "start_hour": config.shift_start_hours,
                "hours": config.shift_hours,
            }
        ),
    }


DDL = {
    "crime_type_offences": "crime_type varchar, rule_number integer, field varchar, value varchar, negated integer",
    "signal_offences": "crime_type varchar, rule_number integer, field varchar, value varchar, negated integer",
    "crime_types": "crime_type varchar, source varchar, severity double, priority double",
    "district_priorities": "district varchar, crime_type varchar, weight double",
    "shifts": "shift_name varchar, start_hour integer, hours integer",
}


def load_agency_config(con: duckdb.DuckDBPyConnection, config: AgencyConfig, actor: str = "ingest") -> dict:
    """Replace the config tables and append an audit record; returns the row counts and the digest."""
    digest = audit.config_digest(config)
    counts: dict = {}
    con.execute("create schema if not exists raw")
    con.execute("begin")
    try:
        for table, frame in config_tables(config).items():
            con.execute(f"create or replace table raw.{table} ({DDL[table]})")
            if not frame.empty:
                con.register("_config_rows", frame)
                con.execute(f"insert into raw.{table} select * from _config_rows")
                con.unregister("_config_rows")
            counts[table] = len(frame)
        audit.append(
            con, "agency_config", actor, config.agency.slug, {"config_sha256": digest, "rows": counts}
        )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return {"config_sha256": digest, **counts}
