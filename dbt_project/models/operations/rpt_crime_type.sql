{{ config(schema='marts', materialized='table') }}
-- Crime type report: per day and modelled crime type, the missions it drove (listed among the mission's
-- crime types) and the average directed-patrol minutes delivered per such mission; `primary_missions`
-- counts those where it was the leading type, `weighted_minutes` splits each mission's minutes by share.
with types as (
    select crime_type from {{ source('raw', 'crime_types') }}
),

driven as (
    select
        dosage.*,
        types.crime_type as driving_type,
        -- crime_types is JSON written as {"type": share, ...}: read this type's share portably.
        cast({{ dbt.split_part(dbt.split_part("replace(dosage.crime_types, '}', ',')",
                                              dbt.concat(["'\"'", 'types.crime_type', "'\": '"]), 2),
                               "','", 1) }} as {{ type_double() }}) as share
    from {{ ref('fct_mission_dosage') }} as dosage
    inner join types
        on dosage.crime_types like {{ dbt.concat(["'%\"'", 'types.crime_type', "'\"%'"]) }}
)

select
    cast(shift_start as date) as date,
    driving_type as crime_type,
    count(*) as missions,
    sum(case when crime_type = driving_type then 1 else 0 end) as primary_missions,
    sum(planned_minutes) as planned_minutes,
    sum(delivered_minutes) as delivered_minutes,
    avg(delivered_minutes) as average_directed_minutes,
    sum(delivered_minutes * share) as weighted_minutes,
    avg(compliance) as average_compliance,
    max(case when simulated_operations then 1 else 0 end) = 1 as simulated_operations
from driven
group by cast(shift_start as date), driving_type
