{{ config(schema='marts', materialized='table') }}
-- Crime & dosage report: per shift, district and crime type, the directed-patrol dose delivered in the
-- district and the crime counted there, in all cells and in the shift's mission cells; from four weeks
-- before the first mission to the last. Descriptive: the causal estimate is the impact model's.
{%- set per_day = var('shift_start_hours') | length %}

with dosed as (
    select shift_start, district, count(*) as missions, sum(planned_minutes) as planned_minutes,
           sum(delivered_minutes) as delivered_minutes,
           max(case when simulated_operations then 1 else 0 end) as simulated
    from {{ ref('fct_mission_dosage') }}
    group by shift_start, district
),

span as (
    select min(shifts.shift_number) - {{ 28 * per_day }} as first_shift, max(shifts.shift_number) as last_shift
    from dosed
    inner join {{ ref('dim_shifts') }} as shifts on shifts.shift_start = dosed.shift_start
),

crime as (
    select counts.shift_start, cells.district, counts.crime_type,
           sum(counts.incident_count) as crime_count,
           sum(case when missions.mission_id is not null then counts.incident_count else 0 end)
               as crime_in_mission_cells
    from {{ ref('fct_cell_shift_counts') }} as counts
    cross join span
    inner join {{ ref('dim_cells') }} as cells on cells.cell_id = counts.cell_id
    left join {{ ref('int_missions') }} as missions
        on missions.active and missions.cell_id = counts.cell_id and missions.shift_start = counts.shift_start
    where counts.shift_number >= span.first_shift and counts.shift_number <= span.last_shift
    group by counts.shift_start, cells.district, counts.crime_type
),

types as (
    select crime_type from {{ source('raw', 'crime_types') }}
),

grid as (
    select shifts.shift_start, districts.district, types.crime_type
    from {{ ref('dim_shifts') }} as shifts
    cross join span
    cross join (select distinct district from {{ ref('dim_cells') }} where district is not null) as districts
    cross join types
    where shifts.shift_number >= span.first_shift and shifts.shift_number <= span.last_shift
)

select
    grid.shift_start,
    cast(grid.shift_start as date) as date,
    shifts.shift_name,
    grid.district,
    grid.crime_type,
    coalesce(dosed.missions, 0) as missions,
    coalesce(dosed.planned_minutes, 0) as planned_minutes,
    coalesce(dosed.delivered_minutes, 0) as delivered_minutes,
    coalesce(crime.crime_count, 0) as crime_count,
    coalesce(crime.crime_in_mission_cells, 0) as crime_in_mission_cells,
    coalesce(dosed.simulated, 0) = 1 as simulated_operations
from grid
left join dosed on dosed.shift_start = grid.shift_start and dosed.district = grid.district
left join {{ ref('dim_shifts') }} as shifts on shifts.shift_start = grid.shift_start
left join crime
    on crime.shift_start = grid.shift_start and crime.district = grid.district
    and crime.crime_type = grid.crime_type
