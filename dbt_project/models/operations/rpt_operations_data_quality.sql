{{ config(schema='marts', materialized='table') }}
-- Nothing silently dropped: every AVL ping and activity record, counted by what became of it. Rows
-- rejected at ingest (raw.quarantine) are counted by the first part of their reason; rows that passed
-- the contracts are counted by their dosage flag ('used' when usable); unit-shifts that logged activity
-- but sent no usable ping are counted too.
{%- set quarantine = source('ingest', 'quarantine') %}

with pings as (
    select 'avl_pings' as feed, 'dosage' as stage, coalesce(flag_reason, 'used') as reason, count(*) as rows_counted
    from {{ ref('int_avl_pings') }}
    group by coalesce(flag_reason, 'used')
),

activity as (
    select 'patrol_activity' as feed, 'dosage' as stage, coalesce(flag_reason, 'used') as reason,
           count(*) as rows_counted
    from {{ ref('int_patrol_activity') }}
    group by coalesce(flag_reason, 'used')
),

silent_units as (
    select 'avl_pings' as feed, 'dosage' as stage, 'unit_shift_without_pings' as reason, count(*) as rows_counted
    from {{ ref('fct_unit_shift_dosage') }}
    where not has_pings
)
{%- if source_exists(quarantine) %},

rejected as (
    select feed, 'ingest' as stage,
           {{ dbt.split_part('reason', "':'", 1) }} as reason, count(*) as rows_counted
    from {{ quarantine }}
    where feed in ('avl_pings', 'patrol_activity')
    group by feed, {{ dbt.split_part('reason', "':'", 1) }}
)
{%- endif %}

select * from pings
union all
select * from activity
union all
select * from silent_units where rows_counted > 0
{%- if source_exists(quarantine) %}
union all
select * from rejected
{%- endif %}
