-- Sparse counts: one row per crime type, cell and shift with at least one incident. A crime type whose
-- source is a feed of its own (gunfire from the acoustic detections) counts that feed's records.
-- Incremental: a refresh recounts the shifts of the lookback days (macros/refresh.sql).
{{ config(
    materialized='incremental',
    unique_key='shift_date',
    incremental_strategy=refresh_strategy(),
    partition_by=refresh_partition(),
) }}

with events as (
    select crime_type, cell_id, shift_start, shift_date, cell_col, cell_row, occurred_at
    from {{ ref('int_incidents') }}
    where crime_type is not null
    {%- if is_incremental() %}
        and shift_date >= {{ refresh_cutoff() }}
    {%- endif %}

    union all
    select crime_types.crime_type, records.cell_id, records.shift_start, records.shift_date, records.cell_col,
           records.cell_row, records.occurred_at
    from {{ ref('int_feed_signals') }} as records
    inner join {{ source('raw', 'crime_types') }} as crime_types on crime_types.source = records.feed
    {%- if is_incremental() %}
    where records.shift_date >= {{ refresh_cutoff() }}
    {%- endif %}
)

select
    crime_type,
    cell_id,
    shift_start,
    {{ shift_number('shift_start') }} as shift_number,
    min(cell_col) as cell_col,
    min(cell_row) as cell_row,
    count(*) as incident_count,
    max(occurred_at) as last_occurred_at,
    shift_date
from events
group by crime_type, cell_id, shift_start, shift_date
