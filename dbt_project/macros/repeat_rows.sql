{#-
  Each row of `relation` (a CTE or table name) repeated `count_column` times, numbered 1..count in
  `generated_number` (count at most `max_count`). Portable default: a join on a number series, which
  Spark can only plan as a nested loop (a non-equi join); on Spark the row's own sequence is exploded.
-#}
{% macro repeat_rows(relation, count_column, max_count) -%}
    {{ return(adapter.dispatch('repeat_rows')(relation, count_column, max_count)) }}
{%- endmacro %}

{% macro default__repeat_rows(relation, count_column, max_count) -%}
    select repeated.*, numbers.generated_number
    from {{ relation }} as repeated
    inner join ({{ dbt.generate_series(max_count) }}) as numbers
        on numbers.generated_number <= repeated.{{ count_column }}
{%- endmacro %}

{% macro spark__repeat_rows(relation, count_column, max_count) -%}
    select repeated.*, generated_number
    from {{ relation }} as repeated
    lateral view explode(sequence(1, cast(repeated.{{ count_column }} as int))) numbers as generated_number
{%- endmacro %}
