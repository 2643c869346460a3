{{ config(schema='marts', materialized='table') }}
-- Exposure by district over the window (int_exposure_window): directed-patrol minutes planned and
-- delivered against the modelled crime recorded there, each as a share of the jurisdiction's total.
-- A district whose share of patrol minutes runs far above its share of crime is what auditors look for.

with window_ as (select * from {{ ref('int_exposure_window') }}),

districts as (
    select distinct district from {{ ref('dim_cells') }} where district is not null
),

by_district as (
    select district, cast(sum(missions) as {{ dbt.type_bigint() }}) as missions,
           sum(planned_minutes) as planned_minutes,
           sum(delivered_minutes) as delivered_minutes, sum(crime_count) as crime_count,
           max(case when simulated_operations then 1 else 0 end) as simulated
    from {{ ref('int_exposure_cells') }}
    group by district
),

joined as (
    select
        districts.district,
        coalesce(by_district.missions, 0) as missions,
        coalesce(by_district.planned_minutes, 0) as planned_minutes,
        coalesce(by_district.delivered_minutes, 0) as delivered_minutes,
        coalesce(by_district.crime_count, 0) as crime_count,
        coalesce(by_district.simulated, 0) = 1 as simulated_operations
    from districts
    left join by_district on by_district.district = districts.district
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
