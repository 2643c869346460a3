{{ config(schema='marts', materialized='table') }}
-- Per unit and shift: where the unit was (home district: where it spent most tracked time), tracked
-- time, time inside mission cells, on calls and on other logged activity, the missions it worked (those
-- it logged or was present in) and its compliance = minutes it delivered on them, each capped at its
-- plan, / their planned minutes.
-- has_pings is false for a unit that logged activity in a shift but sent no usable ping.
{%- set bridge = var('dosage_bridge_seconds', 120) %}

with pings as (
    select unit_id, shift_start, district,
           count(*) as usable_pings,
           {{ as_double('sum(case when interval_seconds <= ' ~ bridge ~ ' then interval_seconds else 0 end)') }} / 60
               as tracked_minutes,
           {{ as_double('sum(case when interval_seconds > ' ~ bridge ~ ' then interval_seconds else 0 end)') }} / 60
               as gap_minutes
    from {{ ref('int_avl_pings') }}
    where flag_reason is null
    group by unit_id, shift_start, district
),

districts as (
    select pings.*,
           row_number() over (partition by unit_id, shift_start order by tracked_minutes desc, district) as rank_in_unit
    from pings
),

tracked as (
    select unit_id, shift_start,
           max(case when rank_in_unit = 1 then district end) as home_district,
           sum(usable_pings) as usable_pings,
           sum(tracked_minutes) as tracked_minutes,
           sum(gap_minutes) as untracked_gap_minutes,
           sum(case when rank_in_unit > 1 then tracked_minutes else 0 end) as minutes_outside_home_district
    from districts
    group by unit_id, shift_start
),

activity as (
    select unit_id, shift_start,
           min(officer_id) as officer_id,
           count(distinct officer_id) as officers,
           sum(case when activity_kind = 'call' then minutes else 0 end) as call_minutes,
           sum(case when activity_kind = 'mission' then minutes else 0 end) as mission_activity_minutes,
           sum(case when activity_kind = 'other' then minutes else 0 end) as other_activity_minutes,
           count(distinct case when activity_kind = 'mission' and flag_reason is null then mission_id end)
               as missions_logged
    from {{ ref('int_patrol_activity') }}
    where flag_reason is null or flag_reason <> 'duplicate'
    group by unit_id, shift_start
),

presence as (
    select unit_id, shift_start, mission_id, {{ as_double('sum(interval_seconds)') }} / 60 as minutes
    from {{ ref('int_mission_presence') }}
    group by unit_id, shift_start, mission_id
),

worked as (
    select unit_id, shift_start, mission_id from presence
    union
    select unit_id, shift_start, mission_id from {{ ref('int_patrol_activity') }}
    where flag_reason is null and mission_id is not null
),

credited as (
    select worked.unit_id, worked.shift_start,
           count(*) as missions_worked,
           sum(case when presence.minutes > 0 then 1 else 0 end) as missions_visited,
           sum(missions.planned_minutes) as planned_minutes,
           sum(coalesce(presence.minutes, 0)) as delivered_minutes,
           -- each mission capped at its plan, as in fct_mission_dosage: a long stay cannot make up for a skip
           sum(least(coalesce(presence.minutes, 0), missions.planned_minutes)) as credited_minutes
    from worked
    inner join {{ ref('int_missions') }} as missions on missions.mission_id = worked.mission_id
    left join presence
        on presence.unit_id = worked.unit_id and presence.shift_start = worked.shift_start
        and presence.mission_id = worked.mission_id
    group by worked.unit_id, worked.shift_start
),

unit_shifts as (
    select unit_id, shift_start from tracked
    union
    select unit_id, shift_start from activity
)

select
    u.unit_id,
    u.shift_start,
    a.officer_id,
    coalesce(a.officers, 0) as officers,
    t.home_district as district,
    t.usable_pings is not null as has_pings,
    coalesce(t.usable_pings, 0) as usable_pings,
    coalesce(t.tracked_minutes, 0) as tracked_minutes,
    coalesce(t.untracked_gap_minutes, 0) as untracked_gap_minutes,
    coalesce(t.minutes_outside_home_district, 0) as minutes_outside_home_district,
    coalesce(c.delivered_minutes, 0) as mission_minutes,
    coalesce(a.call_minutes, 0) as call_minutes,
    coalesce(a.mission_activity_minutes, 0) as mission_activity_minutes,
    coalesce(a.other_activity_minutes, 0) as other_activity_minutes,
    case when coalesce(t.tracked_minutes, 0) - coalesce(c.delivered_minutes, 0) - coalesce(a.call_minutes, 0) > 0
        then coalesce(t.tracked_minutes, 0) - coalesce(c.delivered_minutes, 0) - coalesce(a.call_minutes, 0)
        else 0 end as elsewhere_minutes,
    coalesce(a.missions_logged, 0) as missions_logged,
    coalesce(c.missions_worked, 0) as missions_worked,
    coalesce(c.missions_visited, 0) as missions_visited,
    coalesce(c.planned_minutes, 0) as planned_minutes,
    case when c.planned_minutes > 0 then c.credited_minutes / c.planned_minutes end as compliance,
    coalesce(s.simulated, 0) = 1 as simulated_operations
from unit_shifts as u
left join tracked as t on t.unit_id = u.unit_id and t.shift_start = u.shift_start
left join activity as a on a.unit_id = u.unit_id and a.shift_start = u.shift_start
left join credited as c on c.unit_id = u.unit_id and c.shift_start = u.shift_start
left join {{ ref('int_simulated_shifts') }} as s on s.shift_start = u.shift_start
