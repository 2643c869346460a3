-- Each call for service and gunfire detection in a cell of the jurisdiction, with its cell and the shift it
-- fell in: records the features count (shift_features, var('signal_feeds')) and nothing models. A feed the
-- agency does not load stages empty, and so adds no rows.
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
)

select
    located.feed,
    located.record_id,
    located.occurred_at,
    {{ shift_start_of('located.occurred_at') }} as shift_start,
    located.cell_col,
    located.cell_row,
    cells.cell_id
from located
inner join {{ source('raw', 'cells') }} as cells
    on cells.cell_id = {{ dbt.concat([dbt.cast('located.cell_col', dbt.type_string()), "'_'",
                                      dbt.cast('located.cell_row', dbt.type_string())]) }}
