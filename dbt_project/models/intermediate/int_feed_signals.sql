-- Each call for service and gunfire detection in a cell of the jurisdiction, with its cell and the shift it
-- fell in: records the features count (shift_features, var('signal_feeds')) and nothing models. A feed the
-- agency does not load stages empty, and so adds no rows. Incremental, like int_incidents (macros/refresh.sql).
{{ config(
    materialized='incremental',
    unique_key='shift_date',
    incremental_strategy=refresh_strategy(),
    partition_by=refresh_partition(),
) }}
{%- set size = var('cell_size') %}

with records as (
    select 'calls_for_service' as feed, call_id as record_id, received_at as occurred_at, x, y
    from {{ ref('stg_calls_for_service') }}
    union all
    select 'gunfire_detections', detection_id, detected_at, x, y
    from {{ ref('stg_gunfire_detections') }}
),

located as (
    select
        feed, record_id, occurred_at,
        cast(floor(x / {{ size }}) as {{ dbt.type_int() }}) as cell_col,
        cast(floor(y / {{ size }}) as {{ dbt.type_int() }}) as cell_row
    from records
    where occurred_at is not null and x is not null and y is not null
    {%- if is_incremental() %}
        and occurred_at >= {{ refresh_cutoff() }}
    {%- endif %}
),

shifted as (
    select located.*, {{ shift_start_of('located.occurred_at') }} as shift_start
    from located
)

select
    shifted.feed,
    shifted.record_id,
    shifted.occurred_at,
    shifted.shift_start,
    shifted.cell_col,
    shifted.cell_row,
    cells.cell_id,
    cast(shifted.shift_start as date) as shift_date
from shifted
inner join {{ source('raw', 'cells') }} as cells
    on cells.cell_id = {{ dbt.concat([dbt.cast('shifted.cell_col', dbt.type_string()), "'_'",
                                      dbt.cast('shifted.cell_row', dbt.type_string())]) }}
{%- if is_incremental() %}
where cast(shifted.shift_start as date) >= {{ refresh_cutoff() }}
{%- endif %}
