{#- The environment columns of a cell: whatever raw.cell_environment holds besides cell_id. The list is
    declared once, in Python (beatwise.geography.environment.ENVIRONMENT_COLUMNS), which writes that
    table; dbt reads it from the table at run time, so the two cannot drift apart. The relation is looked
    up by name, not through source(), so that unit tests of the models using it need no fixture for it. -#}
{% macro environment_columns() -%}
    {%- if not execute -%} {{ return([]) }} {%- endif -%}
    {%- set found = adapter.get_relation(database=target.database, schema='raw', identifier='cell_environment') -%}
    {%- if found is none -%}
        {{ exceptions.raise_compiler_error("raw.cell_environment is missing: build the geography first") }}
    {%- endif -%}
    {{ return(adapter.get_columns_in_relation(found) | map(attribute='name') | reject('equalto', 'cell_id') | list) }}
{%- endmacro %}
