{{ config(schema='intermediate', materialized='table') }}
-- Shifts whose AVL pings and activity logs came from the simulator (beatwise.simulate), not from a real
-- AVL / activity system: every report carries `simulated_operations` from here. Empty when none.
{%- set simulated = source('operations', 'simulated_shifts') %}
{%- if source_exists(simulated) %}
select distinct shift_start, cast(1 as {{ dbt.type_int() }}) as simulated
from {{ simulated }}
{%- else %}
select cast(null as {{ dbt.type_timestamp() }}) as shift_start, cast(null as {{ dbt.type_int() }}) as simulated
where 1 = 0
{%- endif %}
