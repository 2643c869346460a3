{{ config(schema='intermediate', materialized='table') }}
-- Each cell's exposure over the window (int_exposure_window): its directed-patrol missions, the minutes
-- planned and delivered there, and the modelled crime recorded there. Cells with neither are left out;
-- the district and risk-decile reports both read this one grain.

with window_ as (select * from {{ ref('int_exposure_window') }}),

patrol as (
    select m.cell_id, count(*) as missions, sum(m.planned_minutes) as planned_minutes,
           sum(m.delivered_minutes) as delivered_minutes,
           max(case when m.simulated_operations then 1 else 0 end) as simulated,
           0 as crime_count
    from {{ ref('fct_mission_dosage') }} as m
    inner join {{ ref('dim_shifts') }} as shifts on shifts.shift_start = m.shift_start
    cross join window_
    where m.status in ('planned', 'added')
      and shifts.shift_number between window_.first_shift and window_.last_shift
    group by m.cell_id
),

crime as (
    select counts.cell_id, 0 as missions, 0 as planned_minutes, 0 as delivered_minutes, 0 as simulated,
           sum(counts.incident_count) as crime_count
    from {{ ref('fct_cell_shift_counts') }} as counts
    cross join window_
    where counts.shift_number between window_.first_shift and window_.last_shift
    group by counts.cell_id
),

both_ as (
    select * from patrol
    union all
    select * from crime
)

select
    both_.cell_id,
    cells.district,
    cast(sum(both_.missions) as {{ dbt.type_bigint() }}) as missions,
    cast(sum(both_.planned_minutes) as {{ type_double() }}) as planned_minutes,
    cast(sum(both_.delivered_minutes) as {{ type_double() }}) as delivered_minutes,
    cast(sum(both_.crime_count) as {{ type_double() }}) as crime_count,
    max(both_.simulated) = 1 as simulated_operations
from both_
inner join {{ ref('dim_cells') }} as cells on cells.cell_id = both_.cell_id
group by both_.cell_id, cells.district
