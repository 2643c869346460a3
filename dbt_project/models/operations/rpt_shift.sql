{{ config(schema='marts', materialized='table') }}
-- Shift report: per shift and district, where the units were and what they did (minutes tracked, inside
-- mission cells, on calls, elsewhere), against the missions planned there and the dose delivered.
with units as (
    select shift_start, district,
           count(*) as units_on_duty,
           sum(case when has_pings then 0 else 1 end) as units_without_pings,
           sum(tracked_minutes) as tracked_minutes,
           sum(mission_minutes) as mission_minutes,
           sum(call_minutes) as call_minutes,
           sum(other_activity_minutes) as other_activity_minutes,
           sum(elsewhere_minutes) as elsewhere_minutes,
           sum(minutes_outside_home_district) as minutes_outside_home_district,
           max(case when simulated_operations then 1 else 0 end) as simulated
    from {{ ref('fct_unit_shift_dosage') }}
    group by shift_start, district
),

missions as (
    select shift_start, district,
           count(*) as missions_planned,
           sum(case when dose_status <> 'none' then 1 else 0 end) as missions_dosed,
           sum(case when dose_status = 'full' then 1 else 0 end) as missions_full_dose,
           sum(planned_minutes) as planned_minutes,
           sum(delivered_minutes) as delivered_minutes,
           sum(credited_minutes) as credited_minutes,
           max(case when simulated_operations then 1 else 0 end) as simulated
    from {{ ref('fct_mission_dosage') }}
    group by shift_start, district
),

keys as (
    select shift_start, district from units
    union
    select shift_start, district from missions
)

select
    keys.shift_start,
    shifts.shift_name,
    keys.district,
    coalesce(units.units_on_duty, 0) as units_on_duty,
    coalesce(units.units_without_pings, 0) as units_without_pings,
    coalesce(missions.missions_planned, 0) as missions_planned,
    coalesce(missions.missions_dosed, 0) as missions_dosed,
    coalesce(missions.missions_full_dose, 0) as missions_full_dose,
    coalesce(missions.planned_minutes, 0) as planned_minutes,
    coalesce(missions.delivered_minutes, 0) as delivered_minutes,
    case when missions.planned_minutes > 0
        then missions.delivered_minutes / missions.planned_minutes end as dose_ratio,
    -- compliance: the share of the planned dose delivered, each mission capped at its plan
    case when missions.planned_minutes > 0
        then missions.credited_minutes / missions.planned_minutes end as compliance,
    coalesce(units.tracked_minutes, 0) as tracked_minutes,
    coalesce(units.mission_minutes, 0) as mission_minutes,
    coalesce(units.call_minutes, 0) as call_minutes,
    coalesce(units.other_activity_minutes, 0) as other_activity_minutes,
    coalesce(units.elsewhere_minutes, 0) as elsewhere_minutes,
    coalesce(units.minutes_outside_home_district, 0) as minutes_outside_home_district,
    coalesce(units.simulated, missions.simulated, 0) = 1 as simulated_operations
from keys
left join units on units.shift_start = keys.shift_start and units.district = keys.district
left join missions on missions.shift_start = keys.shift_start and missions.district = keys.district
left join {{ ref('dim_shifts') }} as shifts on shifts.shift_start = keys.shift_start
