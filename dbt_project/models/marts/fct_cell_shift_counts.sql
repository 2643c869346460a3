-- Sparse counts: one row per crime type, cell and shift with at least one incident.
select
    crime_type,
    cell_id,
    shift_start,
    {{ shift_number('shift_start') }} as shift_number,
    min(cell_col) as cell_col,
    min(cell_row) as cell_row,
    count(*) as incident_count,
    max(occurred_at) as last_occurred_at
from {{ ref('int_incidents') }}
where crime_type is not null
group by crime_type, cell_id, shift_start
