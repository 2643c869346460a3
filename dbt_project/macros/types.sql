{#-
  Types that dbt's cross-database macros do not name. dbt.type_float() is a 4-byte float on DuckDB
  (FLOAT = REAL) and on Spark (FLOAT): coordinates of a state-plane CRS (~10^6 ft) lose their decimals in
  it, so every real number here is a double.
-#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double')()) }}
{%- endmacro %}

{% macro default__type_double() -%} double precision {%- endmacro %}

{% macro spark__type_double() -%} double {%- endmacro %}


{#- `expression` as a double. A literal such as 60.0 is a decimal on Spark (and 1 / 60.0 a rounded one):
    divide a double instead, e.g. as_double('sum(seconds)') ~ ' / 60'. -#}
{% macro as_double(expression) -%}
    cast({{ expression }} as {{ type_double() }})
{%- endmacro %}
