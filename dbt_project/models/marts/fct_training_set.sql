-- Training rows per crime type: every cell-shift with an incident (incident_count > 0, weight 1) plus a
-- deterministic pseudo-random sample of the cell-shifts without one, drawn per cell: every cell gets
-- var('negatives_per_crime_type') / cells draws, plus var('negatives_per_positive') per cell-shift with an
-- incident there, uniform over the history's shifts with replacement (busy cells keep enough zeros). A zero
-- of a cell with m draws is in the sample with probability 1 - (1 - 1/shifts)^m; weights are the inverse,
-- scaled so that the sampled zeros' weights add up to the number of zero cell-shifts. The dense cell x
-- shift panel is never enumerated. A cell draws at most var('max_draws_per_cell') times (the size of the
-- draw-number series). Same scheme, and cap, as models/forecasting/gbm.py sample_zeros.
{%- set modulus = 2147483647 %}
{%- set base_draws = var('negatives_per_crime_type') | int %}
{%- set per_positive = var('negatives_per_positive', 2) | int %}
{%- set max_draws = var('max_draws_per_cell', 16384) | int %}

{% set requests %}
with history as (
    select min(shift_number) as first_shift, count(*) as shift_count
    from {{ ref('dim_shifts') }}
    where is_history
),

cell_total as (
    select count(*) as cell_count from {{ ref('dim_cells') }}
),

crime_types as (
    select crime_type, row_number() over (order by crime_type) as type_number
    from {{ source('raw', 'crime_types') }}
),

positives as (
    select counts.crime_type, counts.cell_id, counts.shift_start, counts.incident_count
    from {{ ref('fct_cell_shift_counts') }} as counts
    inner join {{ ref('dim_shifts') }} as shifts on shifts.shift_start = counts.shift_start and shifts.is_history
),

cell_draws as (
    select
        crime_types.crime_type,
        crime_types.type_number,
        cells.cell_id,
        cells.cell_number,
        least(
            cast(ceiling({{ as_double(base_draws) }} / cell_total.cell_count) as {{ dbt.type_bigint() }})
                + {{ per_positive }} * coalesce(busy.positive_shifts, 0),
            {{ max_draws }}
        ) as draw_count
    from crime_types
    cross join {{ ref('dim_cells') }} as cells
    cross join cell_total
    left join (
        select crime_type, cell_id, count(*) as positive_shifts from positives group by crime_type, cell_id
    ) as busy on busy.crime_type = crime_types.crime_type and busy.cell_id = cells.cell_id
),

numbered as (
    {{ repeat_rows('cell_draws', 'draw_count', max_draws) }}
),

-- Integer hashing that every SQL engine computes alike: products stay below 2^63.
seeded as (
    select
        crime_type,
        cell_id,
        draw_count,
        mod(cast(generated_number as {{ dbt.type_bigint() }}) * 7919
            + cell_number * 15485863 + type_number * 104729
            + {{ var('sample_seed') | int % modulus }}, {{ modulus }}) as x0
    from numbered
),

mixed as (
    select crime_type, cell_id, draw_count, x0, x1, mod(x1 * x1 + x0, {{ modulus }}) as x2
    from (select crime_type, cell_id, draw_count, x0, mod(x0 * 48271, {{ modulus }}) as x1 from seeded) as stepped
),

drawn as (
    select distinct
        mixed.crime_type,
        mixed.cell_id,
        mixed.draw_count,
        history.first_shift
            + mod(mod(mod(mixed.x2 * 69621, {{ modulus }}) * mod(mixed.x2 * 69621, {{ modulus }}) + mixed.x1,
                      {{ modulus }}), history.shift_count) as shift_number
    from mixed
    cross join history
),

zeros as (
    select
        drawn.crime_type, drawn.cell_id, shifts.shift_start,
        1 / (1 - power(1 - {{ as_double(1) }} / history.shift_count, drawn.draw_count)) as inverse_probability
    from drawn
    cross join history
    inner join {{ ref('dim_shifts') }} as shifts on shifts.shift_number = drawn.shift_number
    left join positives
        on positives.crime_type = drawn.crime_type and positives.cell_id = drawn.cell_id
        and positives.shift_start = shifts.shift_start
    where positives.crime_type is null
),

zero_totals as (
    select
        crime_types.crime_type,
        cell_total.cell_count * history.shift_count
            - (select count(*) from positives where positives.crime_type = crime_types.crime_type) as zero_count,
        (select sum(inverse_probability) from zeros where zeros.crime_type = crime_types.crime_type)
            as sampled_weight
    from crime_types
    cross join cell_total
    cross join history
)

select crime_type, cell_id, shift_start, incident_count, {{ as_double(1) }} as sample_weight
from positives

union all
select zeros.crime_type, zeros.cell_id, zeros.shift_start, 0,
       {{ as_double('zeros.inverse_probability * zero_totals.zero_count / zero_totals.sampled_weight') }}
from zeros
inner join zero_totals on zero_totals.crime_type = zeros.crime_type
{% endset %}

{{ shift_features(requests, passthrough=['incident_count', 'sample_weight']) }}
