{{ config(schema='intermediate', materialized='table') }}
-- Built after the field feeds of simulated shifts have landed (the replay writes them):
-- depends_on: {{ ref('int_simulated_shifts') }}
-- Every staged AVL ping, per unit in time order, with why it cannot be used (`flag_reason`, null when it
-- can) and, for usable pings, the unit's next usable ping: the interval between the two is what dosage
-- and the shift report attribute. Nothing is dropped: flagged pings stay, with their reason.
--   missing_value        a key or coordinate is missing
--   duplicate            a second ping of the unit at the same time (the first by position is kept)
--   unknown_unit         the unit never appears in the activity log (not a known patrol unit)
--   outside_jurisdiction its cell is not a jurisdiction cell
--   impossible_speed     reaching it and leaving it both need more than var('dosage_max_speed_mph')
-- One sorted pass per unit (lag, lead, lead 2): a flagged neighbour is skipped by taking the ping after it.
-- Two bad pings in a row are rare enough that the second is then not skipped (its interval leads away).
{%- set size = var('cell_size') %}
{%- set max_speed = var('dosage_max_speed_mph', 100) * var('crs_units_per_mile', 5280) / 3600.0 %}
{%- set origin = "cast('2000-01-01 00:00:00' as " ~ dbt.type_timestamp() ~ ")" %}

with known_units as (
    select distinct unit_id from {{ ref('stg_patrol_activity') }} where unit_id is not null
),

located as (
    select
        pings.unit_id,
        pings.pinged_at,
        pings.x,
        pings.y,
        cells.cell_col,
        cells.cell_row,
        cells.district,
        case
            when pings.unit_id is null or pings.pinged_at is null or pings.x is null or pings.y is null
                then 'missing_value'
            when known_units.unit_id is null then 'unknown_unit'
            when cells.cell_id is null then 'outside_jurisdiction'
        end as early_reason
    from {{ ref('stg_avl_pings') }} as pings
    left join known_units on known_units.unit_id = pings.unit_id
    left join {{ ref('dim_cells') }} as cells
        on cells.cell_col = cast(floor(pings.x / {{ size }}) as {{ dbt.type_int() }})
        and cells.cell_row = cast(floor(pings.y / {{ size }}) as {{ dbt.type_int() }})
),

timed as (
    select
        unit_id, pinged_at, x, y, cell_col, cell_row, district,
        {{ dbt.datediff(origin, 'pinged_at', 'second') }} as t
    from located
    where early_reason is null
),

{%- set w = "over (partition by unit_id order by t, x, y)" %}
neighbours as (
    select
        timed.*,
        lag(t) {{ w }} as t_prev, lag(x) {{ w }} as x_prev, lag(y) {{ w }} as y_prev,
        lead(t) {{ w }} as t_next, lead(x) {{ w }} as x_next, lead(y) {{ w }} as y_next,
        lead(t, 2) {{ w }} as t_next2, lead(x, 2) {{ w }} as x_next2, lead(y, 2) {{ w }} as y_next2
    from timed
),


legs as (
    select
        neighbours.*,
        t_prev = t as is_duplicate,
        t_next = t as next_is_duplicate,
        sqrt((x - x_prev) * (x - x_prev) + (y - y_prev) * (y - y_prev)) / nullif(t - t_prev, 0) > {{ max_speed }} as fast_in,
        sqrt((x_next - x) * (x_next - x) + (y_next - y) * (y_next - y)) / nullif(t_next - t, 0) > {{ max_speed }} as fast_out,
        sqrt((x_next2 - x_next) * (x_next2 - x_next) + (y_next2 - y_next) * (y_next2 - y_next)) / nullif(t_next2 - t_next, 0) > {{ max_speed }} as fast_after
    from neighbours
),

flagged as (
    select
        legs.*,
        case
            when is_duplicate then 'duplicate'
            when coalesce(fast_in and fast_out, false) then 'impossible_speed'
        end as reason,
        -- the next ping is skipped when it is a duplicate of this one or a spike
        coalesce(next_is_duplicate or (fast_out and fast_after), false) as skip_next
    from legs
)

select
    unit_id, pinged_at, t as epoch_second, {{ shift_start_of('pinged_at') }} as shift_start, x, y,
    cell_col, cell_row, district,
    case when reason is null then (case when skip_next then t_next2 else t_next end) end as next_second,
    case when reason is null then (case when skip_next then x_next2 else x_next end) end as next_x,
    case when reason is null then (case when skip_next then y_next2 else y_next end) end as next_y,
    case when reason is null then (case when skip_next then t_next2 else t_next end) - t end as interval_seconds,
    reason as flag_reason
from flagged

union all
select
    unit_id, pinged_at, null, {{ shift_start_of('pinged_at') }}, x, y, cell_col, cell_row, district,
    null, null, null, null, early_reason
from located
where early_reason is not null
