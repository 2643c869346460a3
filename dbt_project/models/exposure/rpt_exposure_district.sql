{{ config(schema='marts', materialized='table') }}
-- Exposure by district over the window (int_exposure_window): directed-patrol minutes planned and
-- delivered against the modelled crime recorded there, each as a share of the jurisdiction's total.
-- A district whose share of patrol minutes runs far above its share of crime is what auditors look for.

with window_ as (select * from {{ ref('int_exposure_window') }}),

districts as (
    select distinct district from {{ ref('dim_cells') }} where district is not null
),

patrol as (
    select m.district, count(*) as missions, sum(m.planned_minutes) as planned_minutes,
           sum(m.delivered_minutes) as delivered_minutes,
           max(case when m.simulated_operations then 1 else 0 end) as simulated
    from {{ ref('fct_mission_dosage') }} as m
    inner join {{ ref('dim_shifts') }} as shifts on shifts.shift_start = m.shift_start
    cross join window_
    where m.status in ('planned', 'added')
      and shifts.shift_number between window_.first_shift and window_.last_shift
    group by m.district
),

crime as (
    select cells.district, sum(counts.incident_count) as crime_count
    from {{ ref('fct_cell_shift_counts') }} as counts
    inner join {{ ref('dim_cells') }} as cells on cells.cell_id = counts.cell_id
    cross join window_
    where counts.shift_number between window_.first_shift and window_.last_shift
    group by cells.district
),

joined as (
    select
        districts.district,
        coalesce(patrol.missions, 0) as missions,
        cast(coalesce(patrol.planned_minutes, 0) as {{ type_double() }}) as planned_minutes,
        cast(coalesce(patrol.delivered_minutes, 0) as {{ type_double() }}) as delivered_minutes,
        cast(coalesce(crime.crime_count, 0) as {{ type_double() }}) as crime_count,
        coalesce(patrol.simulated, 0) = 1 as simulated_operations
    from districts
    left join patrol on patrol.district = districts.district
    left join crime on crime.district = districts.district
)

select
    joined.district,
    window_.window_start,
    window_.window_end,
    joined.missions,
    joined.planned_minutes,
    joined.delivered_minutes,
    joined.delivered_minutes / nullif(sum(joined.delivered_minutes) over (), 0) as minutes_share,
    joined.crime_count,
    joined.crime_count / nullif(sum(joined.crime_count) over (), 0) as crime_share,
    joined.simulated_operations
from joined
cross join window_
where window_.last_shift is not null
