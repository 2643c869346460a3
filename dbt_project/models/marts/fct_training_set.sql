-- Training rows per crime type: every cell-shift with an incident (incident_count > 0, weight 1) plus a
-- deterministic pseudo-random sample of about var('negatives_per_crime_type') cell-shifts without one,
-- weighted so that the weights of the sampled zeros add up to the number of zero cell-shifts. The dense
-- cell x shift panel is never enumerated: each draw picks a cell number and a shift number directly.
{%- set modulus = 2147483647 %}
{%- set draws = var('negatives_per_crime_type') | int %}

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

-- Integer hashing that every SQL engine computes alike: products stay below 2^63.
seeded as (
    select
        crime_types.crime_type,
        mod(cast(numbers.generated_number as {{ dbt.type_bigint() }}) * 7919
            + crime_types.type_number * 104729 + {{ var('sample_seed') | int % modulus }}, {{ modulus }}) as x0
    from crime_types
    cross join ({{ dbt.generate_series(draws) }}) as numbers
),

mixed as (
    select crime_type, x0, x1, mod(x1 * x1 + x0, {{ modulus }}) as x2
    from (select crime_type, x0, mod(x0 * 48271, {{ modulus }}) as x1 from seeded) as stepped
),

drawn as (
    select distinct
        mixed.crime_type,
        mod(mixed.x2, cell_total.cell_count) as cell_number,
        history.first_shift
            + mod(mod(mod(mixed.x2 * 69621, {{ modulus }}) * mod(mixed.x2 * 69621, {{ modulus }}) + mixed.x1,
                      {{ modulus }}), history.shift_count) as shift_number
    from mixed
    cross join cell_total
    cross join history
),

zeros as (
    select drawn.crime_type, cells.cell_id, shifts.shift_start
    from drawn
    inner join {{ ref('dim_cells') }} as cells on cells.cell_number = drawn.cell_number
    inner join {{ ref('dim_shifts') }} as shifts on shifts.shift_number = drawn.shift_number
    left join positives
        on positives.crime_type = drawn.crime_type and positives.cell_id = cells.cell_id
        and positives.shift_start = shifts.shift_start
    where positives.crime_type is null
),

zero_totals as (
    select
        crime_types.crime_type,
        cell_total.cell_count * history.shift_count
            - (select count(*) from positives where positives.crime_type = crime_types.crime_type) as zero_count,
        (select count(*) from zeros where zeros.crime_type = crime_types.crime_type) as sampled_count
    from crime_types
    cross join cell_total
    cross join history
)

select crime_type, cell_id, shift_start, incident_count, cast(1 as double precision) as sample_weight
from positives

union all
select zeros.crime_type, zeros.cell_id, zeros.shift_start, 0,
       cast(zero_totals.zero_count as double precision) / zero_totals.sampled_count
from zeros
inner join zero_totals on zero_totals.crime_type = zeros.crime_type
{% endset %}

{{ shift_features(requests, passthrough=['incident_count', 'sample_weight']) }}
