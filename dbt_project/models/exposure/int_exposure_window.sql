{{ config(schema='intermediate', materialized='table') }}
-- The exposure report's window: the last var('exposure_window_days') days of missions, as shift numbers
-- (the newest mission's shift and the shifts before it). Empty while there is no mission.
{%- set span = (var('exposure_window_days', 90) * (var('shift_start_hours') | length)) %}

with newest as (
    select max(shifts.shift_number) as last_shift
    from {{ ref('fct_mission_dosage') }} as m
    inner join {{ ref('dim_shifts') }} as shifts on shifts.shift_start = m.shift_start
)

select
    newest.last_shift - {{ span }} + 1 as first_shift,
    newest.last_shift,
    min(shifts.shift_start) as window_start,
    max(shifts.shift_start) as window_end
from newest
inner join {{ ref('dim_shifts') }} as shifts
    on shifts.shift_number between newest.last_shift - {{ span }} + 1 and newest.last_shift
group by newest.last_shift
