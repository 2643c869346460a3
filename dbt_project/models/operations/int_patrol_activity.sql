{{ config(schema='intermediate', materialized='table') }}
-- Built after the field feeds of simulated shifts have landed (the replay writes them):
-- depends_on: {{ ref('int_simulated_shifts') }}
-- Every logged activity with its length, shift, kind and the mission it names; `flag_reason` says why it
-- cannot be credited to a mission (null when it can, or when it names none):
--   duplicate        a second record with the same activity id (the first is kept)
--   unknown_mission  it names a mission no plan has
--   activity_group   'directed_patrol' for the patrol tactics (var patrol_tactics), 'other' for the rest of
--                    the time (roll call, report writing, traffic stops, calls, area checks): never mixed
{%- set call_tactics = var('call_tactics', ['call_for_service']) %}
{%- set patrol_tactics = var('patrol_tactics') %}

with staged as (
    select
        activity.*,
        row_number() over (partition by activity_id order by loaded_at, started_at) as copy_number
    from {{ ref('stg_patrol_activity') }} as activity
)

select
    staged.activity_id,
    staged.unit_id,
    staged.officer_id,
    staged.mission_id,
    staged.started_at,
    staged.ended_at,
    {{ shift_start_of('staged.started_at') }} as shift_start,
    {{ as_double(dbt.datediff('staged.started_at', 'staged.ended_at', 'second')) }} / 60 as minutes,
    staged.tactic,
    case
        when staged.tactic in ({% for t in call_tactics %}'{{ t }}'{% if not loop.last %}, {% endif %}{% endfor %})
            then 'call'
        when staged.mission_id is not null
             and staged.tactic in ({% for t in patrol_tactics %}'{{ t }}'{% if not loop.last %}, {% endif %}{% endfor %})
            then 'mission'
        else 'other'
    end as activity_kind,
    case
        when staged.tactic in ({% for t in patrol_tactics %}'{{ t }}'{% if not loop.last %}, {% endif %}{% endfor %})
            then 'directed_patrol'
        else 'other'
    end as activity_group,
    missions.primary_crime_type,
    missions.district as mission_district,
    case
        when staged.copy_number > 1 then 'duplicate'
        when staged.mission_id is not null and missions.mission_id is null then 'unknown_mission'
    end as flag_reason
from staged
left join {{ ref('int_missions') }} as missions on missions.mission_id = staged.mission_id
