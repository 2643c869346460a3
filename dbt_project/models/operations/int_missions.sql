{{ config(schema='intermediate', materialized='table') }}
-- Every mission of every plan (any status), with its cell's bounds and its shift's end; `active` marks
-- the missions units were asked to run (planned or added, in a published plan). Empty until a plan exists.
{%- set missions = source('plans', 'missions') %}
{%- set plans = source('plans', 'plans') %}
{%- if source_exists(missions) and source_exists(plans) %}
select
    m.mission_id,
    m.plan_id,
    m.shift_start,
    shifts.shift_end,
    m.district,
    m.beat,
    m.cell_id,
    cells.cell_col,
    cells.cell_row,
    cells.x_min,
    cells.y_min,
    cells.x_max,
    cells.y_max,
    m.crime_types,
    -- The shares are written largest first: the first key is the crime type driving the mission most.
    coalesce(nullif({{ dbt.split_part('m.crime_types', "'\"'", 2) }}, ''), 'none') as primary_crime_type,
    cast(m.dose_minutes as {{ type_double() }}) as dose_minutes,
    cast(m.visits as {{ dbt.type_int() }}) as planned_visits,
    cast(m.dose_minutes * m.visits as {{ type_double() }}) as planned_minutes,
    m.tactics,
    m.inclusion_probability,
    m.stratum,
    m.status,
    plans.status as plan_status,
    m.status in ('planned', 'added') and plans.status = 'published' as active
from {{ missions }} as m
inner join {{ plans }} as plans on plans.plan_id = m.plan_id
left join {{ ref('dim_cells') }} as cells on cells.cell_id = m.cell_id
left join {{ ref('dim_shifts') }} as shifts on shifts.shift_start = m.shift_start
{%- else %}
select
    cast(null as {{ dbt.type_string() }}) as mission_id,
    cast(null as {{ dbt.type_string() }}) as plan_id,
    cast(null as {{ dbt.type_timestamp() }}) as shift_start,
    cast(null as {{ dbt.type_timestamp() }}) as shift_end,
    cast(null as {{ dbt.type_string() }}) as district,
    cast(null as {{ dbt.type_string() }}) as beat,
    cast(null as {{ dbt.type_string() }}) as cell_id,
    cast(null as {{ dbt.type_int() }}) as cell_col,
    cast(null as {{ dbt.type_int() }}) as cell_row,
    cast(null as {{ type_double() }}) as x_min,
    cast(null as {{ type_double() }}) as y_min,
    cast(null as {{ type_double() }}) as x_max,
    cast(null as {{ type_double() }}) as y_max,
    cast(null as {{ dbt.type_string() }}) as crime_types,
    cast(null as {{ dbt.type_string() }}) as primary_crime_type,
    cast(null as {{ type_double() }}) as dose_minutes,
    cast(null as {{ dbt.type_int() }}) as planned_visits,
    cast(null as {{ type_double() }}) as planned_minutes,
    cast(null as {{ dbt.type_string() }}) as tactics,
    cast(null as {{ type_double() }}) as inclusion_probability,
    cast(null as {{ dbt.type_string() }}) as stratum,
    cast(null as {{ dbt.type_string() }}) as status,
    cast(null as {{ dbt.type_string() }}) as plan_status,
    cast(null as {{ dbt.type_boolean() }}) as active
where 1 = 0
{%- endif %}
