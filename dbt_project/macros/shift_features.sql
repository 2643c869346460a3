{#-
  The feature rows of requests (crime_type, cell_id, shift_start): the single definition that both
  fct_training_set and fct_scoring_features use, so training and scoring cannot drift apart.

  Everything is as of the shift start and counts only incidents with occurred_at < shift_start. Shifts
  repeat daily, so a window of w days before a shift start is exactly w * shifts_per_day whole shifts and
  the sparse fct_cell_shift_counts suffices: an incident is before a shift start iff its shift is.

  Counting is cumulative, not a range join (which explodes on hot cells). A series is one crime type in
  one cell. Every incident lands in its own series (cell count), in the series of the 8 cells around it
  (neighbourhood count) and in every crime type's series of its cell (all-types count). The query points
  (each request's shift, and its shift minus every window) are sorted with the events of their series
  under one running sum; a window's count is the running sum at the shift minus the running sum at its
  start. A query sorts before an event of the same shift, so an event never counts toward its own shift.
  Events before the earliest query point cancel out of every difference and are left out, except for one
  summary row per series that carries the time of the last event (days_since_last).

  Same-shift counts (events in the same shift of the day as the request) use a second family of series,
  one per crime type, cell and shift of the day (same_shift_key), fed by the same events and 3x3 spread.
  Signal offences (int_incidents.signal_offence: community-reported, never modelled) are one more series
  per cell (type number 0), with the same 3x3 spread and the crime types' own windows; so is each reporting
  feed of var('signal_feeds') (calls for service, gunfire detections: int_feed_signals), type number 1001 on.
  Their running totals share the 21-bit packing: a 3x3 block stays below 2^21 records over the history.
-#}
{% macro shift_features(requests, passthrough=[]) -%}
{%- set windows = var('windows_days') | map('int') | sort -%}
{%- set all_type_windows = var('all_types_windows_days', [28, 364]) | map('int') | sort -%}
{%- set same_shift_windows = var('same_shift_windows_days', [364]) | map('int') | sort -%}
{%- set query_windows = ([0] + windows + all_type_windows) | unique | list -%}
{%- set same_shift_query_windows = ([0] + same_shift_windows) | unique | list -%}
{%- set pivot_windows = (query_windows + same_shift_windows) | unique | list -%}
{%- set per_day = var('shift_start_hours') | length -%}
{%- set longest = (windows + all_type_windows + same_shift_windows) | max -%}
{%- set feed_names = {'calls_for_service': 'calls', 'gunfire_detections': 'detections'} -%}
{%- set signals = [{'name': 'signal', 'number': 0}] -%}
{%- for feed in var('signal_feeds', []) -%}
{%- do signals.append({'name': feed_names[feed], 'number': 1001 + loop.index0, 'feed': feed}) -%}
{%- endfor %}
-- depends_on: {{ ref('int_feed_signals') }}

with requests as (
    select
        r.crime_type,
        r.cell_id,
        r.shift_start,
        {%- for column in passthrough %}
        r.{{ column }},
        {%- endfor %}
        cells.cell_col,
        cells.cell_row,
        {{ shift_number('r.shift_start') }} as shift_number
    from ({{ requests }}) as r
    inner join {{ ref('dim_cells') }} as cells on cells.cell_id = r.cell_id
),

bounds as (
    select
        min(shift_number) - {{ longest * per_day }} as first_shift,
        max(shift_number) as last_shift
    from requests
),

crime_type_numbers as (
    select crime_type, row_number() over (order by crime_type) as type_number
    from {{ source('raw', 'crime_types') }}
),

counts as (
    select
        numbers.type_number, counts.cell_col, counts.cell_row, counts.shift_number,
        cast(counts.incident_count as {{ dbt.type_int() }}) as incident_count, counts.last_occurred_at
    from {{ ref('fct_cell_shift_counts') }} as counts
    inner join crime_type_numbers as numbers on numbers.crime_type = counts.crime_type
),

in_range as (
    select counts.*
    from counts
    cross join bounds
    where counts.shift_number >= bounds.first_shift and counts.shift_number < bounds.last_shift
),

signal_in_range as (
    select signal_events.cell_col, signal_events.cell_row, signal_events.shift_number, count(*) as incident_count
    from (
        select cell_col, cell_row, {{ shift_number('shift_start') }} as shift_number
        from {{ ref('int_incidents') }}
        where signal_offence is not null
    ) as signal_events
    cross join bounds
    where signal_events.shift_number >= bounds.first_shift and signal_events.shift_number < bounds.last_shift
    group by signal_events.cell_col, signal_events.cell_row, signal_events.shift_number
),
{%- for signal in signals[1:] %}

{{ signal.name }}_in_range as (
    select records.cell_col, records.cell_row, records.shift_number, count(*) as incident_count
    from (
        select cell_col, cell_row, {{ shift_number('shift_start') }} as shift_number
        from {{ ref('int_feed_signals') }}
        where feed = '{{ signal.feed }}'
    ) as records
    cross join bounds
    where records.shift_number >= bounds.first_shift and records.shift_number < bounds.last_shift
    group by records.cell_col, records.cell_row, records.shift_number
),
{%- endfor %}

keyed_requests as (
    select
        requests.*,
        {{ series_key('numbers.type_number', 'requests.cell_col', 'requests.cell_row') }} as series_key,
        {{ same_shift_key(series_key('numbers.type_number', 'requests.cell_col', 'requests.cell_row'),
                          'requests.shift_number') }} as same_shift_series_key,
        {%- for signal in signals %}
        {{ series_key(signal.number, 'requests.cell_col', 'requests.cell_row') }} as {{ signal.name }}_series_key
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from requests
    inner join crime_type_numbers as numbers on numbers.crime_type = requests.crime_type
),

neighbour_offsets as (
    select steps_col.step as d_col, steps_row.step as d_row
    from (select -1 as step union all select 0 union all select 1) as steps_col
    cross join (select -1 as step union all select 0 union all select 1) as steps_row
),

query_windows as (
    {%- for w in query_windows %}
    select {{ w }} as window_days{% if not loop.last %} union all{% endif %}
    {%- endfor %}
),

signal_query_windows as (
    {%- for w in ([0] + windows) | unique | list %}
    select {{ w }} as window_days{% if not loop.last %} union all{% endif %}
    {%- endfor %}
),

same_shift_query_windows as (
    {%- for w in same_shift_query_windows %}
    select {{ w }} as window_days{% if not loop.last %} union all{% endif %}
    {%- endfor %}
),

-- sort_order = 2 * shift for a query point and 2 * shift + 1 for events, so a shift's events follow
-- its query points and never count toward it.
points as (
    -- Own series and the 8 around it (counted in the cell only at offset 0, in all types and the
    -- neighbourhood everywhere), then the series of the other crime types in the same cell (all types).
    select
        {{ series_key('e.type_number', 'e.cell_col + o.d_col', 'e.cell_row + o.d_row') }} as series_key,
        2 * e.shift_number + 1 as sort_order,
        case when o.d_col = 0 and o.d_row = 0 then e.incident_count else 0 end as n_cell,
        {{ pack_counts('case when o.d_col = 0 and o.d_row = 0 then e.incident_count else 0 end',
                       'e.incident_count',
                       'case when o.d_col = 0 and o.d_row = 0 then e.incident_count else 0 end') }} as packed,
        case when o.d_col = 0 and o.d_row = 0 then e.last_occurred_at end as last_at,
        cast(null as {{ dbt.type_int() }}) as window_days,
        cast(null as {{ dbt.type_int() }}) as request_shift
    from in_range as e
    cross join neighbour_offsets as o

    union all
    select {{ series_key('other.type_number', 'e.cell_col', 'e.cell_row') }}, 2 * e.shift_number + 1, 0,
           {{ pack_counts('0', '0', 'e.incident_count') }}, cast(null as {{ dbt.type_timestamp() }}), null, null
    from in_range as e
    inner join crime_type_numbers as other on other.type_number <> e.type_number

    -- Events before the range: one row per key for the time of the last one. Its count of 1 precedes
    -- every query point, so it cancels from every window, and keeps own-event running sums distinct.
    union all
    select {{ series_key('counts.type_number', 'counts.cell_col', 'counts.cell_row') }},
           2 * min(bounds.first_shift) - 1, 1, {{ pack_counts('1', '0', '0') }}, max(counts.last_occurred_at),
           null, null
    from counts
    cross join bounds
    where counts.shift_number < bounds.first_shift
    group by counts.type_number, counts.cell_col, counts.cell_row

    union all
    select r.series_key, 2 * (r.shift_number - w.window_days * {{ per_day }}), 0, {{ pack_counts('0', '0', '0') }},
           cast(null as {{ dbt.type_timestamp() }}), w.window_days, r.shift_number
    from keyed_requests as r
    cross join query_windows as w

    -- The same events in the series of their shift of the day (n_cell stays 0: not an own-cell event row).
    union all
    select
        {{ same_shift_key(series_key('e.type_number', 'e.cell_col + o.d_col', 'e.cell_row + o.d_row'),
                          'e.shift_number') }},
        2 * e.shift_number + 1,
        0,
        {{ pack_counts('case when o.d_col = 0 and o.d_row = 0 then e.incident_count else 0 end',
                       'e.incident_count', '0') }},
        cast(null as {{ dbt.type_timestamp() }}), null, null
    from in_range as e
    cross join neighbour_offsets as o

    union all
    select r.same_shift_series_key, 2 * (r.shift_number - w.window_days * {{ per_day }}), 0,
           {{ pack_counts('0', '0', '0') }}, cast(null as {{ dbt.type_timestamp() }}), w.window_days, r.shift_number
    from keyed_requests as r
    cross join same_shift_query_windows as w

    -- Signal offences and feed records in their signal's series of their cell and the 8 around it.
    {%- for signal in signals %}
    union all
    select
        {{ series_key(signal.number, 'e.cell_col + o.d_col', 'e.cell_row + o.d_row') }},
        2 * e.shift_number + 1,
        0,
        {{ pack_counts('case when o.d_col = 0 and o.d_row = 0 then e.incident_count else 0 end',
                       'e.incident_count', '0') }},
        cast(null as {{ dbt.type_timestamp() }}), null, null
    from {{ signal.name }}_in_range as e
    cross join neighbour_offsets as o

    union all
    select r.{{ signal.name }}_series_key, 2 * (r.shift_number - w.window_days * {{ per_day }}), 0,
           {{ pack_counts('0', '0', '0') }}, cast(null as {{ dbt.type_timestamp() }}), w.window_days, r.shift_number
    from (select distinct {{ signal.name }}_series_key, shift_number from keyed_requests) as r
    cross join signal_query_windows as w
    {%- endfor %}
),

-- One sort and one running sum per series, the three counts packed in one integer (see pack_counts).
running as (
    select
        series_key, n_cell, last_at, window_days, request_shift,
        cast(sum(packed) over (
            partition by series_key
            order by sort_order rows between unbounded preceding and current row
        ) as {{ dbt.type_bigint() }}) as packed_before
    from points
),

pivoted as (
    select
        series_key, request_shift,
        {%- for w in pivot_windows %}
        max(case when window_days = {{ w }} then packed_before end) as packed_{{ w }}d{% if not loop.last %},{% endif %}
        {%- endfor %}
    from running
    where window_days is not null
    group by series_key, request_shift
),

features as (
    select
        series_key, request_shift,
        {%- for name, part, ws in [('cell', 'cell', windows), ('nbhd', 'nbhd', windows), ('all_cell', 'all', all_type_windows)] %}
        {%- for w in ws %}
        {{ unpack_count('packed_0d - packed_' ~ w ~ 'd', part) }} as n_{{ name }}_{{ w }}d,
        {%- endfor %}
        {%- endfor %}
        {%- for w in same_shift_windows %}
        {%- if w not in windows %}
        {{ unpack_count('packed_0d - packed_' ~ w ~ 'd', 'cell') }} as n_cell_{{ w }}d,
        {{ unpack_count('packed_0d - packed_' ~ w ~ 'd', 'nbhd') }} as n_nbhd_{{ w }}d,
        {%- endif %}
        {%- endfor %}
        packed_0d
    from pivoted
),

-- The last event before a shift is the own-cell event row whose running sum equals the query's.
last_events as (
    select series_key, {{ unpack_count('packed_before', 'cell') }} as cell_before, last_at
    from running
    where n_cell > 0
)

select
    r.crime_type,
    r.cell_id,
    r.shift_start,
    {%- for column in passthrough %}
    r.{{ column }},
    {%- endfor %}
    {%- for name in ['cell', 'nbhd'] %}
    {%- for w in windows %}
    coalesce(features.n_{{ name }}_{{ w }}d, 0) as n_{{ name }}_{{ w }}d,
    {%- endfor %}
    {%- endfor %}
    {{ as_double(dbt.datediff('last_events.last_at', 'r.shift_start', 'minute')) }} / 1440 as days_since_last,
    {%- for w in all_type_windows %}
    coalesce(features.n_all_cell_{{ w }}d, 0) as n_all_cell_{{ w }}d,
    {%- endfor %}
    {%- for w in same_shift_windows %}
    coalesce(same_shift.n_cell_{{ w }}d, 0) as n_cell_same_shift_{{ w }}d,
    coalesce(same_shift.n_nbhd_{{ w }}d, 0) as n_nbhd_same_shift_{{ w }}d,
    {%- endfor %}
    {%- for signal in signals %}
    {%- for name in ['cell', 'nbhd'] %}
    {%- for w in windows %}
    coalesce({{ signal.name }}_features.n_{{ name }}_{{ w }}d, 0) as n_{{ signal.name }}_{{ name }}_{{ w }}d,
    {%- endfor %}
    {%- endfor %}
    {%- endfor %}
    shifts.shift_of_day,
    shifts.day_of_week,
    shifts.month,
    shifts.is_holiday,
    shifts.events_that_day,
    shifts.precipitation,
    shifts.snowfall,
    shifts.temperature_max
    {%- for column in environment_columns() %},
    cells.{{ column }}
    {%- endfor %}
from keyed_requests as r
left join features
    on features.series_key = r.series_key and features.request_shift = r.shift_number
left join features as same_shift
    on same_shift.series_key = r.same_shift_series_key and same_shift.request_shift = r.shift_number
{%- for signal in signals %}
left join features as {{ signal.name }}_features
    on {{ signal.name }}_features.series_key = r.{{ signal.name }}_series_key
    and {{ signal.name }}_features.request_shift = r.shift_number
{%- endfor %}
left join last_events
    on last_events.series_key = r.series_key
    and last_events.cell_before = {{ unpack_count('features.packed_0d', 'cell') }}
left join {{ ref('dim_shifts') }} as shifts on shifts.shift_start = r.shift_start
left join {{ ref('dim_cells') }} as cells on cells.cell_id = r.cell_id
{%- endmacro %}


{% macro series_key(type_number, cell_col, cell_row) -%}
{#- One integer per (crime type, cell): sorting on one key is much faster than on three. -#}
(cast({{ type_number }} as {{ dbt.type_bigint() }}) * 1000000000000
    + (cast({{ cell_col }} as {{ dbt.type_bigint() }}) + 500000) * 1000000
    + (cast({{ cell_row }} as {{ dbt.type_bigint() }}) + 500000))
{%- endmacro %}


{% macro same_shift_key(series_key, shift_number) -%}
{#- The series of one (crime type, cell) restricted to one shift of the day: negative, so it never meets a
    series_key. -#}
(-1 - ({{ series_key }}) * {{ var('shift_start_hours') | length }} - mod({{ shift_number }}, {{ var('shift_start_hours') | length }}))
{%- endmacro %}


{% macro pack_counts(n_cell, n_nbhd, n_all) -%}
{#- Three counts in one integer, 21 bits each (running totals per series stay far below 2^21), so one
    running sum computes all three: cell * 2^42 + nbhd * 2^21 + all. -#}
(cast({{ n_cell }} as {{ dbt.type_bigint() }}) * 4398046511104
    + cast({{ n_nbhd }} as {{ dbt.type_bigint() }}) * 2097152 + cast({{ n_all }} as {{ dbt.type_bigint() }}))
{%- endmacro %}


{% macro unpack_count(packed, part) -%}
{#- One of the counts of pack_counts; the divisions are exact (multiples of powers of two). -#}
{%- if part == 'all' -%}
mod({{ packed }}, 2097152)
{%- elif part == 'nbhd' -%}
cast((mod({{ packed }}, 4398046511104) - mod({{ packed }}, 2097152)) / 2097152 as {{ dbt.type_bigint() }})
{%- else -%}
cast(({{ packed }} - mod({{ packed }}, 4398046511104)) / 4398046511104 as {{ dbt.type_bigint() }})
{%- endif -%}
{%- endmacro %}
