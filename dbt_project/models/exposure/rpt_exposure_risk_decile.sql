{{ config(schema='marts', materialized='table') }}
-- Exposure by risk decile over the window: cells ranked by their mean planning priority in the window's
-- published plans (decile 1 = the riskiest tenth), with the directed-patrol minutes they received and the
-- modelled crime recorded in them, each as a share of the total. Shows whether patrol follows risk and
-- crime, or piles onto a few cells beyond what either supports.
{%- set candidates = source('plans', 'plan_candidates') %}
{%- set plans = source('plans', 'plans') %}

with window_ as (select * from {{ ref('int_exposure_window') }}),

{%- if source_exists(candidates) and source_exists(plans) %}
risk as (
    select c.cell_id, avg(c.priority) as mean_priority
    from {{ candidates }} as c
    inner join {{ plans }} as p on p.plan_id = c.plan_id
    inner join {{ ref('dim_shifts') }} as shifts on shifts.shift_start = p.shift_start
    cross join window_
    where p.status = 'published' and c.draw = 0
      and shifts.shift_number between window_.first_shift and window_.last_shift
    group by c.cell_id
),
{%- else %}
risk as (
    select cast(null as {{ dbt.type_string() }}) as cell_id, cast(null as {{ type_double() }}) as mean_priority
    where 1 = 0
),
{%- endif %}

ranked as (
    select cell_id, mean_priority, ntile(10) over (order by mean_priority desc, cell_id) as risk_decile
    from risk
),

deciles as (
    select
        ranked.risk_decile,
        count(*) as cells,
        avg(ranked.mean_priority) as mean_priority,
        cast(sum(coalesce(exposure.missions, 0)) as {{ dbt.type_bigint() }}) as missions,
        sum(coalesce(exposure.delivered_minutes, 0)) as delivered_minutes,
        sum(coalesce(exposure.crime_count, 0)) as crime_count
    from ranked
    left join {{ ref('int_exposure_cells') }} as exposure on exposure.cell_id = ranked.cell_id
    group by ranked.risk_decile
)

select
    deciles.risk_decile,
    window_.window_start,
    window_.window_end,
    deciles.cells,
    deciles.mean_priority,
    deciles.missions,
    deciles.delivered_minutes,
    deciles.delivered_minutes / nullif(sum(deciles.delivered_minutes) over (), 0) as minutes_share,
    deciles.crime_count,
    deciles.crime_count / nullif(sum(deciles.crime_count) over (), 0) as crime_share
from deciles
cross join window_
