"""The dbt SQL stays portable: no DuckDB-only syntax or functions outside an adapter's own dispatch macro.

A quick guard in front of the Spark parity test (tests/dbt/test_spark_parity.py), which proves the same
thing by building everything on Spark but takes minutes; this one names the file and the construct.
"""

from __future__ import annotations

import re
from pathlib import Path

DBT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"

# construct -> why it does not port (what to write instead)
FORBIDDEN = {
    r"::": "a DuckDB/Postgres cast: use cast(x as ...) or dbt.cast",
    r"\bqualify\b": "QUALIFY: filter a row_number() in an outer select",
    r"\bexclude\s*\(": "SELECT * EXCLUDE: list the columns",
    r"\blist_\w+\s*\(|\bstruct_\w+\s*\(|\bepoch\s*\(|\bstrftime\s*\(|\bstrptime\s*\(": "a DuckDB function",
    r"\bregexp_\w+\s*\(": "regexp functions differ by engine: an adapter.dispatch macro",
    r"\bilike\b": "ILIKE: lower() both sides",
    r"dbt\.type_float\(\)": "a 4-byte float on DuckDB and Spark: type_double() (macros/types.sql)",
    r"/\s*\d+\.\d+": "a decimal literal divisor is a decimal on Spark: as_double(x) / n (macros/types.sql)",
    r"\bdouble\s+precision\b": "not a Spark type: type_double()",
}


def portable_text(sql: str) -> str:
    """The SQL that every engine runs: comments and adapter-specific dispatch implementations removed."""
    sql = re.sub(r"\{#.*?#\}", "", sql, flags=re.S)
    sql = re.sub(r"\{%-?\s*macro\s+(duckdb|spark|postgres|databricks|bigquery|snowflake)__.*?endmacro\s*-?%\}", "",
                 sql, flags=re.S)
    sql = re.sub(r"\{%-?\s*macro\s+default__type_double.*?endmacro\s*-?%\}", "", sql, flags=re.S)
    sql = re.sub(r"\{%.*?%\}", "", sql, flags=re.S)  # Jinja statements compute in Python, not in SQL
    return re.sub(r"--[^\n]*", "", sql)


def test_no_model_or_macro_uses_duckdb_only_sql():
    found = []
    for path in sorted(DBT_DIR.glob("models/**/*.sql")) + sorted(DBT_DIR.glob("macros/**/*.sql")):
        text = portable_text(path.read_text()).lower()
        for pattern, why in FORBIDDEN.items():
            for match in re.finditer(pattern, text):
                found.append(f"{path.relative_to(DBT_DIR)}: {match.group(0)!r}: {why}")
    assert not found, "\n".join(found)


def test_the_guard_catches_what_it_names():
    sample = "select x::int, list_sum(y), a / 60.0, cast(z as {{ dbt.type_float() }}) -- :: fine in a comment"
    text = portable_text(sample).lower()
    hits = [pattern for pattern in FORBIDDEN if re.search(pattern, text)]
    assert len(hits) == 4
    assert not re.search(r"::", portable_text("{% macro duckdb__x() %} a::int {% endmacro %}"))
