{{ config(schema='marts', materialized='table') }}
-- Visits: a unit's stretches of time inside a mission's cell; two stretches less than
-- var('dosage_visit_gap_seconds') apart are one visit (a car that pulls out and back in has not left).
{%- set visit_gap = var('dosage_visit_gap_seconds', 300) %}

with ordered as (
    select
        presence.*,
        case
            when from_second - lag(to_second) over (
                partition by mission_id, unit_id order by from_second
            ) <= {{ visit_gap }} then 0
            else 1
        end as starts_visit
    from {{ ref('int_mission_presence') }} as presence
),

numbered as (
    select
        ordered.*,
        sum(starts_visit) over (
            partition by mission_id, unit_id order by from_second rows between unbounded preceding and current row
        ) as visit_number
    from ordered
)

select
    mission_id,
    unit_id,
    cast(visit_number as {{ dbt.type_int() }}) as visit_number,
    min(shift_start) as shift_start,
    min(entered_at) as arrived_at,
    max(left_at) as departed_at,
    {{ as_double('sum(interval_seconds)') }} / 60 as minutes_inside,
    count(*) as intervals
from numbered
group by mission_id, unit_id, visit_number
