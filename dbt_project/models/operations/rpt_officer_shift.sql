{{ config(schema='marts', materialized='table') }}
-- Officer and unit report: per pseudonymous officer and shift worked, the unit they rode in, its planned
-- and delivered mission minutes and compliance (each officer of a unit is credited with the unit's dose),
-- and the officer's logged time split into directed-patrol tactics and other time (never mixed).
with officer_shifts as (
    select officer_id, unit_id, shift_start,
           sum(case when activity_group = 'directed_patrol' then minutes else 0 end) as directed_patrol_minutes,
           sum(case when activity_group = 'other' then minutes else 0 end) as other_minutes
    from {{ ref('int_patrol_activity') }}
    where flag_reason is null
    group by officer_id, unit_id, shift_start
)

select
    o.officer_id,
    o.unit_id,
    o.shift_start,
    cast(o.shift_start as date) as date,
    shifts.shift_name,
    units.district,
    o.directed_patrol_minutes,
    o.other_minutes,
    coalesce(units.planned_minutes, 0) as planned_minutes,
    coalesce(units.mission_minutes, 0) as delivered_minutes,
    coalesce(units.compliance * units.planned_minutes, 0) as credited_minutes,
    units.compliance,
    coalesce(units.simulated_operations, false) as simulated_operations
from officer_shifts as o
left join {{ ref('fct_unit_shift_dosage') }} as units
    on units.unit_id = o.unit_id and units.shift_start = o.shift_start
left join {{ ref('dim_shifts') }} as shifts on shifts.shift_start = o.shift_start
