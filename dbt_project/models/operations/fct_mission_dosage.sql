{{ config(schema='marts', materialized='table') }}
-- Dose delivered against planned, per mission: minutes inside the (buffered) cell by any unit during the
-- shift, visits, the activity logged for it, credited_minutes = delivered capped at the plan (what every
-- report sums for its compliance), and compliance = credited / planned.
-- dose_status: full (at least var('dose_complete_share') of the plan), partial, none.
{%- set complete = var('dose_complete_share', 0.9) %}

with visits as (
    select
        mission_id,
        sum(minutes_inside) as delivered_minutes,
        count(*) as delivered_visits,
        count(distinct unit_id) as units_present,
        min(arrived_at) as first_arrival,
        max(departed_at) as last_departure
    from {{ ref('fct_mission_visits') }}
    group by mission_id
),

logged as (
    select
        mission_id,
        sum(minutes) as logged_minutes,
        count(*) as logged_activities,
        count(distinct officer_id) as officers_logged
    from {{ ref('int_patrol_activity') }}
    where flag_reason is null and mission_id is not null
    group by mission_id
)

select
    m.mission_id,
    m.plan_id,
    m.shift_start,
    m.district,
    m.beat,
    m.cell_id,
    m.primary_crime_type as crime_type,
    m.crime_types,
    m.inclusion_probability,
    m.stratum,
    m.status,
    m.dose_minutes,
    m.planned_visits,
    m.planned_minutes,
    coalesce(v.delivered_minutes, 0) as delivered_minutes,
    coalesce(v.delivered_visits, 0) as delivered_visits,
    coalesce(v.units_present, 0) as units_present,
    v.first_arrival,
    v.last_departure,
    coalesce(l.logged_minutes, 0) as logged_minutes,
    coalesce(l.logged_activities, 0) as logged_activities,
    coalesce(l.officers_logged, 0) as officers_logged,
    least(coalesce(v.delivered_minutes, 0), m.planned_minutes) as credited_minutes,
    case when m.planned_minutes > 0
        then least(coalesce(v.delivered_minutes, 0), m.planned_minutes) / m.planned_minutes end as compliance,
    case
        when coalesce(v.delivered_minutes, 0) >= {{ complete }} * m.planned_minutes then 'full'
        when coalesce(v.delivered_minutes, 0) > 0 then 'partial'
        else 'none'
    end as dose_status,
    coalesce(s.simulated, 0) = 1 as simulated_operations
from {{ ref('int_missions') }} as m
left join visits as v on v.mission_id = m.mission_id
left join logged as l on l.mission_id = m.mission_id
left join {{ ref('int_simulated_shifts') }} as s on s.shift_start = m.shift_start
where m.active
