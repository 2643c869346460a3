{{ config(schema='intermediate', materialized='table') }}
-- Time inside each active mission's cell, as the intervals between consecutive usable pings of a unit
-- that both lie inside the cell grown by var('dosage_buffer') (CRS units) on every side, during the
-- mission's shift. A gap of up to var('dosage_bridge_seconds') between the two pings counts as inside
-- (a lost ping does not cut the dose); a longer gap counts as nothing.
{%- set size = var('cell_size') %}
{%- set buffer = var('dosage_buffer', 50) %}
{%- set bridge = var('dosage_bridge_seconds', 120) %}
{%- if buffer >= size %}
{{ exceptions.raise_compiler_error("dosage_buffer (" ~ buffer ~ ") must be smaller than cell_size (" ~ size ~ ")") }}
{%- endif %}

with missions as (
    select mission_id, shift_start, shift_end, cell_col, cell_row, x_min, y_min, x_max, y_max
    from {{ ref('int_missions') }}
    where active
),

-- A ping within the buffer of a mission's cell lies in that cell or one of its eight neighbours: an
-- equality join on the ping's own cell finds every candidate without a range join.
offsets as (
    select -1 as step union all select 0 union all select 1
),

mission_keys as (
    select missions.*, missions.cell_col + dc.step as key_col, missions.cell_row + dr.step as key_row
    from missions
    cross join offsets as dc
    cross join offsets as dr
)

select
    k.mission_id,
    p.unit_id,
    p.shift_start,
    p.pinged_at as entered_at,
    {{ dbt.dateadd('second', 'p.interval_seconds', 'p.pinged_at') }} as left_at,
    p.epoch_second as from_second,
    p.next_second as to_second,
    p.interval_seconds
from {{ ref('int_avl_pings') }} as p
inner join mission_keys as k
    on k.shift_start = p.shift_start and k.key_col = p.cell_col and k.key_row = p.cell_row
where p.flag_reason is null
    and p.interval_seconds <= {{ bridge }}
    and p.x >= k.x_min - {{ buffer }} and p.x <= k.x_max + {{ buffer }}
    and p.y >= k.y_min - {{ buffer }} and p.y <= k.y_max + {{ buffer }}
    and p.next_x >= k.x_min - {{ buffer }} and p.next_x <= k.x_max + {{ buffer }}
    and p.next_y >= k.y_min - {{ buffer }} and p.next_y <= k.y_max + {{ buffer }}
