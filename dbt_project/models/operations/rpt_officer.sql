{{ config(schema='marts', materialized='table') }}
-- Officer report: per pseudonymous officer and tactic, activities and minutes; with the officer's
-- missions worked and completed (full dose) over the same period. Officer ids are pseudonyms: no names.
with tactics as (
    select officer_id, tactic,
           count(*) as activities,
           sum(minutes) as minutes,
           count(distinct mission_id) as missions_logged,
           min(activity.shift_start) as first_shift,
           max(activity.shift_start) as last_shift,
           max(case when s.simulated = 1 then 1 else 0 end) as simulated
    from {{ ref('int_patrol_activity') }} as activity
    left join {{ ref('int_simulated_shifts') }} as s on s.shift_start = activity.shift_start
    where activity.flag_reason is null
    group by officer_id, tactic
),

-- The missions each officer logged activity for (in a two-officer unit, each is credited with their own).
worked as (
    select distinct officer_id, mission_id
    from {{ ref('int_patrol_activity') }}
    where flag_reason is null and mission_id is not null
),

missions as (
    select worked.officer_id,
           count(*) as missions_worked,
           sum(case when dosage.dose_status = 'full' then 1 else 0 end) as missions_completed,
           sum(dosage.delivered_minutes) as mission_minutes_delivered,
           sum(dosage.planned_minutes) as mission_minutes_planned,
           sum(dosage.credited_minutes) as credited_minutes
    from worked
    inner join {{ ref('fct_mission_dosage') }} as dosage on dosage.mission_id = worked.mission_id
    group by worked.officer_id
)

select
    tactics.officer_id,
    tactics.tactic,
    tactics.activities,
    tactics.minutes,
    tactics.missions_logged,
    tactics.first_shift,
    tactics.last_shift,
    coalesce(missions.missions_worked, 0) as officer_missions_worked,
    coalesce(missions.missions_completed, 0) as officer_missions_completed,
    coalesce(missions.mission_minutes_delivered, 0) as officer_mission_minutes_delivered,
    -- compliance: the planned dose of the officer's missions that was delivered (each capped at its plan)
    case when missions.mission_minutes_planned > 0
        then missions.credited_minutes / missions.mission_minutes_planned end as officer_compliance,
    tactics.simulated = 1 as simulated_operations
from tactics
left join missions on missions.officer_id = tactics.officer_id
