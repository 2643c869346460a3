{#- Staging for a feed: the raw table's canonical columns, cast to their types. A feed this agency does
    not load (calls for service, gunfire detections, ...) stages as an empty table of the same shape. -#}

{% macro column_type(kind) -%}
    {%- if kind == 'string' -%} {{ dbt.type_string() }}
    {%- elif kind == 'timestamp' -%} {{ dbt.type_timestamp() }}
    {%- elif kind == 'float' -%} {{ type_double() }}
    {%- elif kind == 'int' -%} {{ dbt.type_int() }}
    {%- elif kind == 'date' -%} date
    {%- else -%} {{ exceptions.raise_compiler_error("unknown column kind " ~ kind) }}
    {%- endif -%}
{%- endmacro %}


{% macro source_exists(relation) -%}
    {%- if not execute -%} {{ return(true) }} {%- endif -%}
    {%- set found = adapter.get_relation(database=relation.database, schema=relation.schema,
                                          identifier=relation.identifier) -%}
    {{ return(found is not none) }}
{%- endmacro %}


{% macro staged_feed(feed, columns, cleaned={}) -%}
{#- columns: canonical name -> kind; cleaned: canonical name -> SQL expression over the raw column. -#}
{%- set relation = source('raw', feed) -%}
{%- if source_exists(relation) %}
select
{%- for name, kind in columns.items() %}
    cast({{ cleaned.get(name, name) }} as {{ column_type(kind) }}) as {{ name }},
{%- endfor %}
    cast(_loaded_at as {{ dbt.type_timestamp() }}) as loaded_at
from {{ relation }}
{%- else %}
select
{%- for name, kind in columns.items() %}
    cast(null as {{ column_type(kind) }}) as {{ name }},
{%- endfor %}
    cast(null as {{ dbt.type_timestamp() }}) as loaded_at
where 1 = 0
{%- endif %}
{%- endmacro %}
