{#- Shifts repeat daily and start on the hour at var('shift_start_hours'); the last one runs past midnight. -#}

{% macro shift_start_of(ts) -%}
{#- The start of the shift that `ts` falls in: with starts 6/14/22, 02:00 on Jan 2 -> Jan 1 22:00. -#}
{%- set hours = var('shift_start_hours') | sort -%}
{%- set day = dbt.date_trunc('day', ts) -%}
case
{%- for h in hours | reverse %}
    when extract(hour from {{ ts }}) >= {{ h }} then {{ dbt.dateadd('hour', h, day) }}
{%- endfor %}
    else {{ dbt.dateadd('hour', hours[-1] - 24, day) }}
end
{%- endmacro %}


{% macro shift_of_day(shift_start) -%}
{#- 0 for the first shift of the day, 1 for the next, ... -#}
{%- set hours = var('shift_start_hours') | sort -%}
case extract(hour from {{ shift_start }})
{%- for h in hours %} when {{ h }} then {{ loop.index0 }}{% endfor %}
end
{%- endmacro %}


{% macro shift_number(shift_start) -%}
{#- Consecutive integers for consecutive shifts: a window of w days is w * shifts_per_day shifts. -#}
({{ dbt.datediff("cast('1970-01-01' as date)", "cast(" ~ shift_start ~ " as date)", 'day') }})
    * {{ var('shift_start_hours') | length }} + {{ shift_of_day(shift_start) }}
{%- endmacro %}


{% macro date_literal(value) -%}
{%- if value is none or value == '' -%} cast(null as date) {%- else -%} cast('{{ value }}' as date) {%- endif -%}
{%- endmacro %}
