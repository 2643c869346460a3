{{ config(schema='marts', materialized='table') }}
-- Tactic report: which tactics were used, how often and how long, per day, shift, district, beat, unit,
-- officer and the crime type driving the mission they were logged for ('none' outside missions).
-- activity_group keeps directed-patrol tactics apart from other time (roll call, reports, stops, calls).
select
    cast(activity.shift_start as date) as date,
    activity.shift_start,
    shifts.shift_name,
    coalesce(activity.mission_district, units.district) as district,
    missions.beat,
    activity.unit_id,
    activity.officer_id,
    coalesce(activity.primary_crime_type, 'none') as crime_type,
    activity.tactic,
    activity.activity_group,
    activity.activity_kind,
    count(*) as activities,
    sum(activity.minutes) as minutes,
    avg(activity.minutes) as average_minutes,
    count(distinct activity.mission_id) as missions,
    count(distinct activity.officer_id) as officers,
    max(case when s.simulated = 1 then 1 else 0 end) = 1 as simulated_operations
from {{ ref('int_patrol_activity') }} as activity
left join {{ ref('fct_unit_shift_dosage') }} as units
    on units.unit_id = activity.unit_id and units.shift_start = activity.shift_start
left join {{ ref('int_missions') }} as missions on missions.mission_id = activity.mission_id
left join {{ ref('dim_shifts') }} as shifts on shifts.shift_start = activity.shift_start
left join {{ ref('int_simulated_shifts') }} as s on s.shift_start = activity.shift_start
where activity.flag_reason is null
group by cast(activity.shift_start as date), activity.shift_start, shifts.shift_name,
         coalesce(activity.mission_district, units.district), missions.beat, activity.unit_id,
         activity.officer_id, coalesce(activity.primary_crime_type, 'none'), activity.tactic,
         activity.activity_group, activity.activity_kind
